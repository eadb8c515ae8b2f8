#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/vm/victim.sh: the local victim cache
# (examples/victim.c, puma_victim.ko) in one kernel.  The workload runs in
# a memory cgroup, so its reclaim evicts clean pages into the victim
# cache, whose hosted folios live in the node's spare memory.  Every read
# is verified by blockcheck.
#
# Parameters (kernel command line):
#   vc_big=N      blocks of the big file (default 16384 = 64 MiB)
#   vc_small=N    blocks of the file every mutation is tried on
#   vc_reads=N    random reads per pass of the detector phase
#   vc_limit=S    memory.max of the workload's cgroup (default 24M)

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

big=${vc_big:-16384}
small=${vc_small:-2048}
reads=${vc_reads:-8192}
limit=${vc_limit:-24M}
F=$mnt/big
S=$mnt/small
kos=/lib/modules/puma
stats=/sys/kernel/debug/puma_victim/stats
param=/sys/module/puma_victim/parameters
cg=/sys/fs/cgroup
via=victim

# --- one cleancache backend at a time --------------------------------------
puma_step insmod.puma_loop insmod "$kos/puma_loop.ko" || exit 1
puma_step insmod.puma_backend insmod "$kos/puma_backend.ko" role=server ||
	exit 1
refuse_re='puma_victim: cannot register with cleancache: -16 (another backend is registered)'
insmod_refused busy "$kos/puma_victim.ko"
grep -q 'busy' /run/insmod.err ||
	puma_fail "insmod did not report EBUSY: $(cat /run/insmod.err)"
puma_step rmmod.puma_backend rmmod puma_backend
puma_step rmmod.puma_loop rmmod puma_loop

# --- a parameter that does not parse is refused, with a message ----------
refuse_re='puma_victim: detector=bogus: expected'
insmod_refused param.detector_bogus "$kos/puma_victim.ko" detector=bogus
refuse_re='puma_victim: staging_pages=1: expected'
insmod_refused param.staging_tiny "$kos/puma_victim.ko" staging_pages=1

# --- the victim cache, defaults --------------------------------------------
puma_step insmod.victim insmod "$kos/puma_victim.ko" || exit 1
[ -r "$stats" ] || { puma_fail "no $stats"; exit 1; }
puma_result victim.detector "$(cat "$param/detector")"
puma_result victim.max_pages "$(cat "$param/max_pages")"

cg_limit work "$limit" || exit 1
echo $$ >"$cg/work/cgroup.procs"
puma_result vc.limit "$limit"
puma_result vc.big_blocks "$big"

mkdir -p "$mnt"
puma_step mount mount -t ext4 "$dev" "$mnt" || exit 1
watch_stats victim-stats

# --- big file: two sequential passes ---------------------------------------
# Sequential reads touch each page once: nothing is activated, nothing
# refaults (pass 2 re-reads pages evicted a whole cgroup ago), so the
# detector stays quiet and pass 1's evictions are all taken.
puma_bc big.create create "$F" --blocks "$big" --id 1 --gen 1 || exit 1
puma_step big.remount remount || exit 1
pstats stats.before
for p in pass1 pass2; do
	puma_bc $p read "$F" --seq --csv /run/$p.csv
	pstats stats.$p
	puma_export /run/$p.csv
done
puma_mem_report mem.after_passes

mutations ow_all mid

# --- unmount and mount again: a new pool, nothing old is served -----------
puma_bc small.evict_before_remount evict "$S"
puma_step remount2 remount || exit 1
puma_bc small.v_remount verify "$S"
puma_bc big.verify_final verify "$F"
pstats stats.mutations

# --- the detector: random reads make the cgroup's page cache refault -----
# Pages read twice while resident are activated; once evicted, re-reading
# them soon refaults, and reclaim rebalances the lists: both signals
# suspend the cache, which then skips puts but keeps serving hits.
pstats stats.det_before
puma_bc det.pass1 read "$F" --random --seed 2 --count "$reads"
puma_result det.state_after_pass1 "$(pstat detector_state)"
puma_bc det.pass2 read "$F" --random --seed 2 --count "$reads"
puma_result det.state_after_pass2 "$(pstat detector_state)"
pstats stats.det_after

# Mode off: the running suspension ends at its window, and puts resume.
echo off >"$param/detector" || puma_fail "cannot set detector=off"
sleep 4
puma_result det.off_state "$(pstat detector_state)"
puts0=$(pstat puts)
skips0=$(pstat put_skips_suspended)
puma_bc det.off_read verify "$S"
puma_bc det.off_evict evict "$S"
puma_result det.off_puts $(($(pstat puts) - puts0))
puma_result det.off_skips $(($(pstat put_skips_suspended) - skips0))
echo combined >"$param/detector" || puma_fail "cannot set detector=combined"

# --- memory pressure from outside the cgroup: reclaim takes hosted pages --
hosted_kb=$(($(pstat hosted) * 4))
free_kb=$(puma_meminfo MemFree)
fill_mb=$(((free_kb + hosted_kb / 2) / 1024))
puma_result pressure.hosted_before "$(pstat hosted)"
puma_result pressure.fill_mb "$fill_mb"
r0=$(pstat reclaimed)
mkdir -p /run/fill
mount -t tmpfs -o "size=$((fill_mb + 16))m" none /run/fill
# In the root group: only the node's limits apply.
puma_step pressure.fill sh -c "echo \$\$ >$cg/cgroup.procs &&
	exec dd if=/dev/zero of=/run/fill/f bs=1M count=$fill_mb 2>/dev/null"
puma_result pressure.reclaimed $(($(pstat reclaimed) - r0))
puma_result pressure.hosted_after "$(pstat hosted)"
rm -f /run/fill/f
umount /run/fill
pstats stats.pressure
puma_bc pressure.verify verify "$S"
puma_bc big.verify_end verify "$F"
pstats stats.end

# --- unload while the file system is mounted and pages are hosted --------
echo off >"$param/detector"
sleep 4
puma_bc unload.read verify "$S"
puma_bc unload.evict evict "$S"
puma_result rmmod.hosted "$(pstat hosted)"
kill "$watcher" 2>/dev/null
puma_step rmmod.victim rmmod puma_victim
puma_bc unload.verify verify "$S"

# --- inclusive: hits leave a copy, so every change must be invalidated ---
# Loaded with the file system mounted: registration gives it a pool.
# With only 8 invalidation items for atomic contexts, a burst of dirtied
# pages that the cache may hold runs them out, and the outbox must drop
# the file (or flush the cache) rather than lose an invalidation.
puma_step insmod.inclusive insmod "$kos/puma_victim.ko" exclusive=0 \
	detector=off inv_items=8 || exit 1
incl_mutations
puma_bc incl.truncate truncate "$S" --blocks "$((small / 2))"
puma_bc incl.extend extend "$S" --blocks "$small" --gen 5
verify_all incl.v_truncate_extend
# Every page hosted, then the file rewritten in runs of 256 blocks (the
# same inode, after a truncate): 256 invalidate_folio calls per write.
puma_bc incl.evict_all evict "$S"
e0=$(pstat inv_pool_empty)
o0=$(pstat inv_overflows)
f0=$(pstat flushes)
puma_bc incl.rewrite create "$S" --blocks "$small" --id 5 --gen 1
puma_result incl.rewrite.inv_pool_empty $(($(pstat inv_pool_empty) - e0))
puma_result incl.rewrite.inv_overflows $(($(pstat inv_overflows) - o0))
puma_result incl.rewrite.flushes $(($(pstat flushes) - f0))
verify_all incl.v_rewrite
pstats stats.inclusive
puma_step umount.inclusive umount "$mnt"
puma_step rmmod.victim2 rmmod puma_victim
puma_step rmmod.lib rmmod puma
