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
#   smoke.sh [--kdir DIR] [--modules "A.ko B.ko"] [--mem SIZE]
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
#
# Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

modules=()
mem=256M
disk_size=512M
big=98304
small=4096
reads=20000
iops=
timeout=900
rig_parse "kdir= modules+ mem= disk-size= big= small= reads= iops= timeout= outdir= verbose" "$@"
rig_num big small reads timeout
for n in "$big" "$small" "$reads"; do
	[ "$n" -ge 256 ] || die "bad block or read count '$n' (minimum 256)"
done
rig_kdir
rig_outdir

present=()
for m in ${modules[@]+${modules[*]}}; do
	if [ -e "$m" ]; then
		present+=("$m")
	else
		log "note: module $m not found (not built yet?), skipped"
	fi
done
initrd=$("$rig/mkinitramfs.sh" --guest "$rig/guest/smoke.sh" \
	--bin "$(rig_tool blockcheck)" ${present[@]+--modules "${present[*]}"})
disk=$outdir/disk.img
"$rig/mkdisk.sh" --size "$disk_size" "$disk" >/dev/null

rig_vm --initrd "$initrd" --mem "$mem" --disk "$disk${iops:+,iops=$iops}" \
	--timeout "$timeout" \
	--append "smoke_big=$big smoke_small=$small smoke_reads=$reads"
if [ "$rc" -eq 0 ]; then
	rig_clean_runs 30
	[ "$(get big.verify_final.blocks)" = "$big" ] ||
		fail "final verify did not read $big blocks"
	for m in ${present[@]+"${present[@]}"}; do
		rig_loaded "$(basename "$m" .ko)"
	done
	rig_e2fsck "$disk"
fi
rm -f "$disk"

echo "$name: timings (guest seconds; absolute TCG times only compare within a run):"
for k in boot_s clocksource big.create.s big.create.mbps step.big.remount.s \
	 big.read_random.s big.read_random.iops big.read_random.p50_us \
	 big.read_random.p99_us big.read_random_direct.iops \
	 big.verify.s big.verify.iops big.overwrite_direct.s \
	 small.v_create.cold.s small.v_create.warm.s big.verify_final.s \
	 test_s total_s vm_wall_s; do
	printf '  %-32s %s\n' "$k" "$(get "$k")"
done
echo "$name: memory (kB): boot free $(get mem.boot.memfree_kb)," \
	"after create cached $(get mem.after_create.cached_kb)," \
	"after verify cached $(get mem.after_verify.cached_kb)"
rig_verdict
