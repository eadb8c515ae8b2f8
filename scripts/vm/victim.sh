#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Integration test of the local victim cache (examples/victim.c,
# puma_victim.ko): the patched x86_64 kernel boots in QEMU with puma.ko,
# an ext4 disk, and a workload confined to a memory cgroup smaller than
# its file (scripts/vm/guest/victim.sh).
#
# Asserts: the module refuses to load while puma_backend is the cleancache
# backend (EBUSY, with a message) and refuses bad parameters; victim-cache
# hits > 0 on the second pass over the big file; hits while verifying the
# mutations (buffered, O_DIRECT and mmap overwrites, a rewrite of every
# page, truncate then extend, hole punch, unlink and re-create, remount);
# zero verification failures; the detector suspends the cache during
# random reads that refault and puts are skipped meanwhile; reclaim takes
# hosted pages under memory pressure and reports them; the same mutations
# with inclusive hits, and a rewrite that runs out of invalidation items
# and makes the cache flush itself; the module unloading with pages
# hosted; no kernel splat (lockdep, KASAN, WARN, BUG); a clean e2fsck.
#
#   victim.sh [--big N] [--small N] [--reads N] [--limit SIZE]
#             [--mem SIZE] [--timeout SEC] [--outdir DIR] [--verbose]
#             [--disk-iops N]  (throttle the disk to N I/Os per second,
#                               as a real disk would be; default none)
#             [--kdir DIR]   (kernel build to use; default: the modtree)
#
# Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

big=16384
small=2048
reads=8192
limit=24M
mem=256M
timeout=2400
disk_iops=
rig_parse "big= small= reads= limit= mem= timeout= outdir= verbose kdir= disk-iops=" "$@"
rig_num big small reads timeout
rig_kdir
rig_modules puma puma_loop puma_backend puma_victim
rig_outdir

# Only the library is loaded by /init; the test loads the others itself.
files=()
for m in puma_loop puma_backend puma_victim; do
	files+=(--file "$root/$m.ko:/lib/modules/puma/$m.ko")
done
initrd=$("$rig/mkinitramfs.sh" --guest "$rig/guest/victim.sh" \
	--bin "$(rig_tool blockcheck)" --modules "$root/puma.ko" "${files[@]}")
disk=$outdir/disk.img
"$rig/mkdisk.sh" --size "$(( (big + small) * 4 / 1024 + 64 ))M" "$disk" >/dev/null

rig_vm --initrd "$initrd" --mem "$mem" --disk "$disk${disk_iops:+,iops=$disk_iops}" \
	--timeout "$timeout" \
	--append "vc_big=$big vc_small=$small vc_reads=$reads vc_limit=$limit"
delta() { echo $(( $(num "$2.$1") - $(num "$3.$1") )); }
if [ "$rc" -eq 0 ]; then
	rig_clean_runs 60
	runs=$(grep -c '\.failures=0$' "$res" || true)
	rig_loaded puma
	[ "$(get busy)" = refused ] ||
		fail "puma_victim loaded beside puma_backend"
	[ "$(get param.detector_bogus)" = refused ] ||
		fail "detector=bogus was not refused"
	[ "$(get param.staging_tiny)" = refused ] ||
		fail "staging_pages=1 was not refused"
	gets=$(delta gets stats.pass2 stats.pass1)
	hits=$(delta hits stats.pass2 stats.pass1)
	puts1=$(delta puts stats.pass1 stats.before)
	[ "$hits" -gt 0 ] || fail "no victim-cache hit on the second pass"
	mut_hits=$(delta hits stats.mutations stats.pass2)
	[ "$mut_hits" -gt 0 ] ||
		fail "the mutation checks never read a page back from the cache"
	det_susp=$(delta detector_suspend_count stats.det_after stats.det_before)
	det_skips=$(delta put_skips_suspended stats.det_after stats.det_before)
	det_hits=$(delta hits stats.det_after stats.det_before)
	[ "$det_susp" -gt 0 ] ||
		fail "the detector never suspended the cache during random reads"
	[ "$det_skips" -gt 0 ] || fail "no put skipped while suspended"
	[ "$(get det.off_state)" = taking ] ||
		fail "detector=off did not end the suspension"
	if [ "$(num det.off_puts)" -eq 0 ] || [ "$(num det.off_skips)" -ne 0 ]; then
		fail "with detector=off, puts were not taken"
	fi
	[ "$(num pressure.reclaimed)" -gt 0 ] ||
		fail "memory pressure reclaimed no hosted page"
	[ "$(num stats.inclusive.hits)" -gt 0 ] ||
		fail "the inclusive run never read a page back from the cache"
	[ "$(num incl.rewrite.inv_pool_empty)" -gt 0 ] ||
		fail "the rewrite never ran out of invalidation items"
	[ $(( $(num incl.rewrite.inv_overflows) + $(num incl.rewrite.flushes) )) -gt 0 ] ||
		fail "running out of invalidation items neither dropped a file nor flushed the cache"
	[ "$(num rmmod.hosted)" -gt 0 ] ||
		fail "no page was hosted when the module was unloaded"
	[ "$(get big.verify_final.blocks)" = "$big" ] ||
		fail "final verify did not read $big blocks"
	rig_e2fsck "$disk"
	echo "$name: pass 1 put $puts1 pages; pass 2: $gets page-cache misses," \
		"$hits served by the victim cache" \
		"($(( gets ? 100 * hits / gets : 0 ))% of misses)"
	echo "$name: IOPS pass1 $(get pass1.iops), pass2 $(get pass2.iops);" \
		"p50 $(get pass1.p50_us) -> $(get pass2.p50_us) us"
	echo "$name: mutation checks: $mut_hits hits; rewrite with 8" \
		"invalidation items ran out $(num incl.rewrite.inv_pool_empty) times: $(num incl.rewrite.inv_overflows) files dropped, $(num incl.rewrite.flushes) flushes"
	echo "$name: detector phase: $det_susp suspensions, $det_skips puts" \
		"skipped, $det_hits hits; state after the passes:" \
		"$(get det.state_after_pass1), $(get det.state_after_pass2)"
	echo "$name: pressure: $(num pressure.fill_mb) MiB filled," \
		"$(num pressure.reclaimed) hosted pages reclaimed" \
		"($(num pressure.hosted_before) -> $(num pressure.hosted_after))"
	echo "$name: $runs blockcheck runs, all clean; inclusive run" \
		"$(num stats.inclusive.hits) hits"
	echo "$name: end of run counters:"
	grep '^stats\.end\.' "$res" | sed 's/^stats\.end\./    /'
fi
rm -f "$disk"
rig_verdict
