#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Integration test of PUMA in one kernel: the patched x86_64 kernel boots
# in QEMU with puma.ko, puma_loop.ko and puma_backend.ko (client and server
# roles joined by the loopback transport), an ext4 disk, and a workload
# confined to a memory cgroup smaller than its file
# (scripts/vm/guest/puma-loop.sh).
#
# Asserts: PUMA hits > 0 on the second pass, zero verification failures
# (before and after every mutation: buffered, O_DIRECT and mmap overwrites,
# truncate then extend, hole punch, unlink and re-create, remount), the
# same with the inclusive strategy, a bad module parameter refused, the
# modules unloading with pages hosted, no kernel splat (lockdep, KASAN,
# WARN, BUG), and a clean e2fsck afterwards.
#
#   puma-loop.sh [--big N] [--small N] [--reads N] [--limit SIZE]
#                [--mem SIZE] [--timeout SEC] [--outdir DIR] [--verbose]
#                [--transport loop|tcp]  (tcp: both roles over kernel TCP
#                               on 127.0.0.1 instead of the loopback one)
#                [--kdir DIR]   (kernel build to use; default: the modtree)
#
# Exit: 0 pass, 1 fail, 2 usage.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

die() { echo "puma-loop: error: $*" >&2; exit 2; }

big=16384
small=2048
reads=16384
limit=24M
mem=256M
timeout=1500
outdir=
verbose=
kdir=
transport=loop
# A read waits this long for the loopback server before going to disk.
# Under TCG with lockdep and KASAN the default 1 ms is too short to ever
# see an answer; the default is for real machines.
get_timeout_us=200000
while [ $# -gt 0 ]; do
	case "$1" in
	--big) big=$2; shift 2 ;;
	--small) small=$2; shift 2 ;;
	--reads) reads=$2; shift 2 ;;
	--limit) limit=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--outdir) outdir=$2; shift 2 ;;
	--verbose) verbose=--verbose; shift ;;
	--kdir) kdir=$2; shift 2 ;;
	--transport) transport=$2; shift 2 ;;
	-h|--help) sed -n '3,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

case "$transport" in
loop) tmod=puma_loop; taddr=() ;;
tcp) tmod=puma_tcp
     taddr=(transport=tcp listen_addr=127.0.0.1:7070 server_addr=127.0.0.1:7070) ;;
*) die "--transport must be loop or tcp" ;;
esac

[ -n "$kdir" ] || kdir=$("$root/scripts/puma-kernel.sh" modtree)
grep -q '^CONFIG_CLEANCACHE=y' "$kdir/.config" ||
	die "the VM kernel has no CONFIG_CLEANCACHE (hook series missing?)"
make -s -C "$kdir" M="$root" modules >&2
for m in puma $tmod puma_backend; do
	[ -e "$root/$m.ko" ] || die "$m.ko was not built"
done

if [ -z "$outdir" ]; then
	outdir=$(mktemp -d "${TMPDIR:-/tmp}/puma-loop.XXXXXX")
fi
mkdir -p "$outdir"
t_start=$(date +%s)

make -s -C "$root/tools/blockcheck" O="$outdir/bin" >&2
initrd=$("$here/mkinitramfs.sh" --guest "$here/guest/puma-loop.sh" \
	--bin "$outdir/bin/blockcheck" \
	--modules "$root/puma.ko $root/$tmod.ko" \
	--module "$root/puma_backend.ko role=both get_timeout_us=$get_timeout_us ${taddr[*]}")
disk=$outdir/disk.img
"$here/mkdisk.sh" --size "$(( (big + small) * 4 / 1024 + 64 ))M" "$disk" >/dev/null

rc=0
"$here/run-vm.sh" --kernel "$kdir/arch/x86/boot/bzImage" --initrd "$initrd" \
	--mem "$mem" --disk "$disk" --timeout "$timeout" --outdir "$outdir" \
	--append "pl_big=$big pl_small=$small pl_reads=$reads pl_limit=$limit pl_get_timeout_us=$get_timeout_us pl_transport=$transport pl_tmod=$tmod" \
	$verbose || rc=$?
results=$outdir/results.txt

get() { sed -n "s/^$1=//p" "$results" | tail -1; }
num() { local v; v=$(get "$1"); echo "${v:-0}"; }
bad=0
fail() { echo "puma-loop: FAIL: $*" >&2; bad=1; }
if [ "$rc" -eq 0 ]; then
	nonzero=$(grep '\.failures=' "$results" | grep -v '\.failures=0$' || true)
	[ -z "$nonzero" ] || fail "verification failures: $nonzero"
	n=$(grep -c '\.failures=0$' "$results" || true)
	[ "$n" -ge 25 ] || fail "only $n clean blockcheck runs (expected >= 25)"
	for m in puma $tmod puma_backend; do
		[ "$(get "insmod.$m")" = ok ] || fail "module $m did not load"
	done
	gets=$(( $(num stats.pass2.gets) - $(num stats.pass1.gets) ))
	hits=$(( $(num stats.pass2.hits) - $(num stats.pass1.hits) ))
	local_hits=$(( $(num stats.pass2.local_hits) - $(num stats.pass1.local_hits) ))
	[ "$hits" -gt 0 ] || fail "no PUMA hit on the second pass"
	remote_hits=$(( $(num stats.end.hits) + $(num stats.end.local_hits) -
			$(num stats.pass2.hits) - $(num stats.pass2.local_hits) ))
	[ "$remote_hits" -gt 0 ] ||
		fail "the mutation checks never read a page back from PUMA"
	[ "$(get param.role_bogus)" = refused ] ||
		fail "a bad module parameter was not refused"
	[ "$(num stats.inclusive.hits)" -gt 0 ] ||
		fail "the inclusive run never read a page back from PUMA"
	[ "$(get big.verify_final.blocks)" = "$big" ] ||
		fail "final verify did not read $big blocks"
	if e2fsck -fn "$disk" >"$outdir/e2fsck.log" 2>&1; then
		echo "e2fsck=clean" >>"$results"
	else
		fail "e2fsck found errors (see $outdir/e2fsck.log)"
	fi
	echo "puma-loop: second pass: $reads reads, $gets page-cache misses asked," \
		"$hits served by the server, $local_hits from the outbox;" \
		"hit ratio $(( gets ? 100 * (hits + local_hits) / gets : 0 ))% of misses"
	echo "puma-loop: IOPS pass1 $(get pass1.iops), pass2 $(get pass2.iops);" \
		"p50 $(get pass1.p50_us) -> $(get pass2.p50_us) us"
	echo "puma-loop: end of run counters:"
	grep '^stats\.end\.' "$results" | sed 's/^stats\.end\./    /'
fi
rm -f "$disk"
echo "puma-loop: results in $results, console in $outdir/console.log"
echo "puma-loop: total host time $(($(date +%s) - t_start))s"
if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
	echo "puma-loop: FAIL" >&2
	exit 1
fi
echo "puma-loop: PASS"
