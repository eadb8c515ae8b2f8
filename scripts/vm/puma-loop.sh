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

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

big=16384
small=2048
reads=16384
limit=24M
mem=256M
timeout=1500
transport=loop
# A read waits this long for the loopback server before going to disk.
# Under TCG with lockdep and KASAN the default 1 ms is too short to ever
# see an answer; the default is for real machines.
get_timeout_us=200000
rig_parse "big= small= reads= limit= mem= timeout= outdir= verbose kdir= transport=" "$@"
rig_num big small reads timeout
case "$transport" in
loop) tmod=puma_loop; taddr= ;;
tcp) tmod=puma_tcp
     taddr="transport=tcp listen_addr=127.0.0.1:7070 server_addr=127.0.0.1:7070" ;;
*) die "--transport must be loop or tcp" ;;
esac
rig_kdir
rig_modules puma $tmod puma_backend
rig_outdir

initrd=$("$rig/mkinitramfs.sh" --guest "$rig/guest/puma-loop.sh" \
	--bin "$(rig_tool blockcheck)" --modules "$root/puma.ko $root/$tmod.ko" \
	--module "$root/puma_backend.ko role=both get_timeout_us=$get_timeout_us $taddr")
disk=$outdir/disk.img
"$rig/mkdisk.sh" --size "$(( (big + small) * 4 / 1024 + 64 ))M" "$disk" >/dev/null

rig_vm --initrd "$initrd" --mem "$mem" --disk "$disk" --timeout "$timeout" \
	--append "pl_big=$big pl_small=$small pl_reads=$reads pl_limit=$limit pl_get_timeout_us=$get_timeout_us pl_transport=$transport pl_tmod=$tmod"
if [ "$rc" -eq 0 ]; then
	rig_clean_runs 25
	rig_loaded puma $tmod puma_backend
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
	rig_e2fsck "$disk"
	echo "$name: second pass: $reads reads, $gets page-cache misses asked," \
		"$hits served by the server, $local_hits from the outbox;" \
		"hit ratio $(( gets ? 100 * (hits + local_hits) / gets : 0 ))% of misses"
	echo "$name: IOPS pass1 $(get pass1.iops), pass2 $(get pass2.iops);" \
		"p50 $(get pass1.p50_us) -> $(get pass2.p50_us) us"
	echo "$name: end of run counters:"
	grep '^stats\.end\.' "$res" | sed 's/^stats\.end\./    /'
fi
rm -f "$disk"
rig_verdict
