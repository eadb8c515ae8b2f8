#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end proof of the QEMU rig: one TCG VM with 256 MB of RAM and an
# ext4 disk runs scripts/vm/guest/smoke.sh (blockcheck create, cold random
# reads, full verifies, buffered/O_DIRECT/mmap overwrites, truncate,
# extend, punch, unlink + re-create, remounts), and the host asserts that
# every check passed, no verification failed, the console shows no kernel
# splat and e2fsck finds the file system clean afterwards.
#
#   smoke.sh [--kernel BZIMAGE] [--modules "A.ko B.ko"] [--mem SIZE]
#            [--disk-size SIZE] [--big N] [--small N] [--reads N]
#            [--iops N] [--timeout SEC] [--outdir DIR] [--verbose]
#
#   --modules LIST   .ko files to load first (insmod, in order); those that
#                    do not exist (not built yet) are skipped with a note
#   --big N          blocks of the big file (default 98304 = 384 MiB, more
#                    than the page cache of a 256 MB guest)
#   --small N        blocks of the file the mutations run on (default 4096)
#   --reads N        random reads of the big file (default 20000)
#   --iops N         throttle the disk to N I/O per second (default: none)
#   other options as for run-vm.sh
#
# Exit: 0 pass, 1 fail, 2 usage.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

die() { echo "smoke: error: $*" >&2; exit 2; }

kernel=
modules=
mem=256M
disk_size=512M
big=98304
small=4096
reads=20000
iops=
timeout=900
outdir=
verbose=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--modules) modules="$modules $2"; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--disk-size) disk_size=$2; shift 2 ;;
	--big) big=$2; shift 2 ;;
	--small) small=$2; shift 2 ;;
	--reads) reads=$2; shift 2 ;;
	--iops) iops=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--outdir) outdir=$2; shift 2 ;;
	--verbose) verbose=--verbose; shift ;;
	-h|--help) sed -n '3,25s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
for n in "$big" "$small" "$reads"; do
	if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 256 ]; then
		die "bad block or read count '$n' (minimum 256)"
	fi
done

if [ -z "$outdir" ]; then
	outdir=$(mktemp -d "${TMPDIR:-/tmp}/puma-smoke.XXXXXX")
fi
mkdir -p "$outdir"
t_start=$(date +%s)

# Tools and inputs.
make -s -C "$root/tools/blockcheck" O="$outdir/bin" >&2
present=()
for m in $modules; do
	if [ -e "$m" ]; then
		present+=("$m")
	else
		echo "smoke: note: module $m not found (not built yet?), skipped" >&2
	fi
done
initrd=$("$here/mkinitramfs.sh" --guest "$here/guest/smoke.sh" \
	--bin "$outdir/bin/blockcheck" \
	${present[@]+--modules "${present[*]}"})
disk=$outdir/disk.img
"$here/mkdisk.sh" --size "$disk_size" "$disk" >/dev/null
spec=$disk
[ -z "$iops" ] || spec+=",iops=$iops"

rc=0
"$here/run-vm.sh" ${kernel:+--kernel "$kernel"} --initrd "$initrd" \
	--mem "$mem" --disk "$spec" --timeout "$timeout" --outdir "$outdir" \
	--append "smoke_big=$big smoke_small=$small smoke_reads=$reads" \
	$verbose || rc=$?
results=$outdir/results.txt

# Host-side assertions on top of run-vm.sh's verdict.
get() { sed -n "s/^$1=//p" "$results" | tail -1; }
bad=0
if [ "$rc" -eq 0 ]; then
	nfail=$(grep -c '\.failures=' "$results" || true)
	nonzero=$(grep '\.failures=' "$results" | grep -v '\.failures=0$' || true)
	if [ -n "$nonzero" ]; then
		echo "smoke: FAIL: verification failures:" >&2
		printf '    %s\n' "$nonzero" >&2
		bad=1
	fi
	[ "$nfail" -ge 30 ] || { echo "smoke: FAIL: only $nfail blockcheck results (expected >= 30)" >&2; bad=1; }
	[ "$(get big.verify_final.blocks)" = "$big" ] ||
		{ echo "smoke: FAIL: final verify did not read $big blocks" >&2; bad=1; }
	for m in ${present[@]+"${present[@]}"}; do
		n=$(basename "$m" .ko)
		[ "$(get "insmod.$n")" = ok ] ||
			{ echo "smoke: FAIL: module $n did not load" >&2; bad=1; }
	done
	# The guest unmounted cleanly; the file system must be consistent.
	if e2fsck -fn "$disk" >"$outdir/e2fsck.log" 2>&1; then
		echo "e2fsck=clean" >>"$results"
	else
		echo "smoke: FAIL: e2fsck found errors (see $outdir/e2fsck.log)" >&2
		bad=1
	fi
fi
rm -f "$disk"

echo "smoke: timings (guest seconds; absolute TCG times only compare within a run):"
for k in boot_s clocksource big.create.s big.create.mbps step.big.remount.s \
	 big.read_random.s big.read_random.iops big.read_random.p50_us \
	 big.read_random.p99_us big.read_random_direct.iops \
	 big.verify.s big.verify.iops big.overwrite_direct.s \
	 small.v_create.cold.s small.v_create.warm.s big.verify_final.s \
	 test_s total_s vm_wall_s; do
	printf '  %-32s %s\n' "$k" "$(get "$k")"
done
echo "smoke: memory (kB): boot free $(get mem.boot.memfree_kb)," \
	"after create cached $(get mem.after_create.cached_kb)," \
	"after verify cached $(get mem.after_verify.cached_kb)"
echo "smoke: results in $results, console in $outdir/console.log," \
	"per-second read series in $outdir/files/big-read-random.csv"
echo "smoke: total host time $(($(date +%s) - t_start))s"
if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
	echo "smoke: FAIL" >&2
	exit 1
fi
echo "smoke: PASS ($(grep -c '\.failures=0$' "$results") blockcheck runs, 0 failures, no kernel splat, e2fsck clean)"
