#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/vm/victim.sh: the local victim cache
# (examples/victim.c, puma_victim.ko) in one kernel.  The workload runs in
# a memory cgroup whose limit keeps its page cache well below the big
# file, so its reclaim evicts clean pages into the victim cache, whose
# hosted folios are charged to the root group and live in the node's
# spare memory.
#
# Parameters (kernel command line, reach us as environment variables):
#   vc_big=N      blocks of the big file (default 16384 = 64 MiB)
#   vc_small=N    blocks of the file every mutation is tried on
#   vc_reads=N    random reads per pass of the detector phase
#   vc_limit=S    memory.max of the workload's cgroup (default 24M)
#
# Every read is verified by blockcheck against what the disk holds now.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

big=${vc_big:-16384}
small=${vc_small:-2048}
reads=${vc_reads:-8192}
limit=${vc_limit:-24M}
q=$((small / 4))
e=$((small / 64))
dev=/dev/vda
mnt=/mnt/test
F=$mnt/big
S=$mnt/small
kos=/lib/modules/puma
stats=/sys/kernel/debug/puma_victim/stats
param=/sys/module/puma_victim/parameters
cg=/sys/fs/cgroup
export BLOCKCHECK_STATE_DIR=/run/blockcheck

# vstat NAME: one counter of the victim cache
vstat() {
	sed -n "s/^$1 //p" "$stats"
}

# vc_stats PREFIX: every counter as PREFIX.name=value
vc_stats() {
	while read -r _k _v; do
		puma_result "$1.$_k" "$_v"
	done <"$stats"
}

# insmod_refused NAME KO ARGS...: KO must not load, and the kernel log
# must say why (a line matching NAME's pattern in $refuse_re)
insmod_refused() {
	_name=$1
	shift
	if insmod "$@" 2>/run/insmod.err; then
		puma_fail "$_name: insmod $* succeeded"
		rmmod puma_victim
		return 1
	fi
	puma_result "$_name.insmod_error" "$(cat /run/insmod.err)"
	if ! dmesg | grep -q "$refuse_re"; then
		puma_fail "$_name: no kernel message matching '$refuse_re'"
		return 1
	fi
	puma_result "$_name" refused
}

mkdir -p /sys/kernel/debug "$cg" "$mnt"
mount -t debugfs none /sys/kernel/debug 2>/dev/null

# --- one cleancache backend at a time --------------------------------------
puma_step insmod.puma_loop insmod "$kos/puma_loop.ko" || exit 1
puma_step insmod.puma_backend insmod "$kos/puma_backend.ko" role=server ||
	exit 1
refuse_re='puma_victim: another cleancache backend is registered'
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

mount -t cgroup2 none "$cg" || { puma_fail "cannot mount cgroup2"; exit 1; }
echo +memory >"$cg/cgroup.subtree_control"
mkdir -p "$cg/work"
echo "$limit" >"$cg/work/memory.max"
echo $$ >"$cg/work/cgroup.procs"
puma_result vc.limit "$limit"
puma_result vc.big_blocks "$big"

puma_step mount mount -t ext4 "$dev" "$mnt" || exit 1

# The counters every 20 s on the console, for whoever reads a slow run.
(
	while sleep 20; do
		echo "victim-stats: $(tr '\n' ' ' <"$stats")"
	done
) &
watcher=$!

remount() {
	umount "$mnt" && mount -t ext4 "$dev" "$mnt"
}

# verify_all NAME: verify through the page cache as the mutation left it;
# then evict the file's pages, which puts them into the victim cache, and
# verify what comes back from it (or the disk); then sync and drop the
# page cache, dentries and inodes (drop_caches puts clean pages like
# reclaim does; hosted pages are not in any file's page cache and stay)
# and verify again.
verify_all() {
	_n=$1
	shift
	puma_bc "$_n.warm" verify "$S" "$@"
	puma_bc "$_n.evict" evict "$S"
	_h0=$(vstat hits)
	puma_bc "$_n.victim" verify "$S" "$@"
	puma_result "$_n.victim_hits" $(($(vstat hits) - _h0))
	puma_drop_caches
	puma_bc "$_n.cold" verify "$S" "$@"
}

# --- big file: two sequential passes ---------------------------------------
# Sequential reads touch each page once: nothing is activated, nothing
# refaults (pass 2 re-reads pages evicted a whole cgroup ago), so the
# detector stays quiet and pass 1's evictions are all taken.
puma_bc big.create create "$F" --blocks "$big" --id 1 --gen 1 || exit 1
puma_step big.remount remount || exit 1
vc_stats stats.before
puma_bc pass1 read "$F" --seq --csv /run/pass1.csv
vc_stats stats.pass1
puma_bc pass2 read "$F" --seq --csv /run/pass2.csv
vc_stats stats.pass2
puma_export /run/pass1.csv
puma_export /run/pass2.csv
puma_mem_report mem.after_passes

# --- small file: every mutation, each verified warm, victim and cold ------
puma_bc small.create create "$S" --blocks "$small" --id 2 --gen 1
verify_all small.v_create

puma_bc small.ow_buffered overwrite "$S" --random --count 256 --seed 11 \
	--gen 2 --mode buffered
verify_all small.v_buffered

puma_bc small.preread read "$S" --blocks "0:$e,$q:$((q + 2 * e))"
puma_bc small.ow_direct overwrite "$S" --blocks "0:$e,$q:$((q + 2 * e))" \
	--gen 3 --mode direct
verify_all small.v_direct

puma_bc small.ow_mmap overwrite "$S" \
	--blocks "$((e / 2)):$((3 * e / 2)),$((2 * q)):$((2 * q + 3 * e))" \
	--gen 4 --mode mmap
verify_all small.v_mmap

# Every page hosted, then every page rewritten without being read: one
# invalidate_folio per page, with interrupts off.
puma_bc small.evict_all evict "$S"
puma_bc small.ow_all overwrite "$S" --blocks "0:$small" --gen 5 \
	--mode buffered
verify_all small.v_ow_all

puma_bc small.truncate truncate "$S" --blocks "$((small / 2))"
verify_all small.v_truncate
puma_bc small.extend_hole extend "$S" --blocks "$small"
verify_all small.v_extend_hole
puma_bc small.extend_stamped truncate "$S" --blocks "$((small / 2))"
puma_bc small.extend_stamped2 extend "$S" --blocks "$small" --gen 6
verify_all small.v_extend_stamped
puma_bc small.truncate_mid truncate "$S" --bytes "$((small * 4096 - 6000))"
verify_all small.v_truncate_mid
puma_bc small.extend_mid extend "$S" --blocks "$small"
verify_all small.v_extend_mid

puma_bc small.preread2 read "$S" --blocks "$e:$((4 * e))"
puma_bc small.punch punch "$S" --range "$e:$((4 * e))"
verify_all small.v_punch

ino_old=$(stat -c %i "$S")
puma_step small.unlink rm -f "$S"
sync
puma_bc small.recreate create "$S" --blocks "$small" --id 3 --gen 7
ino_new=$(stat -c %i "$S")
puma_result small.inode_old "$ino_old"
puma_result small.inode_new "$ino_new"
verify_all small.v_recreate

# --- unmount and mount again: a new pool, nothing old is served -----------
puma_bc small.evict_before_remount evict "$S"
puma_step remount2 remount || exit 1
puma_bc small.v_remount verify "$S"
puma_bc big.verify_final verify "$F"
vc_stats stats.mutations

# --- the detector: random reads make the cgroup's page cache refault -----
# Pages read twice while resident are activated; once evicted, re-reading
# them soon refaults, and reclaim rebalances the lists: both signals
# suspend the cache, which then skips puts but keeps serving hits.
vc_stats stats.det_before
puma_bc det.pass1 read "$F" --random --seed 2 --count "$reads"
puma_result det.state_after_pass1 "$(vstat detector_state)"
puma_bc det.pass2 read "$F" --random --seed 2 --count "$reads"
puma_result det.state_after_pass2 "$(vstat detector_state)"
vc_stats stats.det_after

# Mode off: the running suspension ends at its window, and puts resume.
echo off >"$param/detector" || puma_fail "cannot set detector=off"
sleep 4
puma_result det.off_state "$(vstat detector_state)"
puts0=$(vstat puts)
skips0=$(vstat put_skips_suspended)
puma_bc det.off_read verify "$S"
puma_bc det.off_evict evict "$S"
puma_result det.off_puts $(($(vstat puts) - puts0))
puma_result det.off_skips $(($(vstat put_skips_suspended) - skips0))
echo combined >"$param/detector" || puma_fail "cannot set detector=combined"

# --- memory pressure from outside the cgroup: reclaim takes hosted pages --
hosted_kb=$(($(vstat hosted) * 4))
free_kb=$(puma_meminfo MemFree)
fill_mb=$(((free_kb + hosted_kb / 2) / 1024))
puma_result pressure.hosted_before "$(vstat hosted)"
puma_result pressure.fill_mb "$fill_mb"
r0=$(vstat reclaimed)
mkdir -p /run/fill
mount -t tmpfs -o "size=$((fill_mb + 16))m" none /run/fill
# In the root group: only the node's limits apply.
puma_step pressure.fill sh -c "echo \$\$ >$cg/cgroup.procs &&
	exec dd if=/dev/zero of=/run/fill/f bs=1M count=$fill_mb 2>/dev/null"
puma_result pressure.reclaimed $(($(vstat reclaimed) - r0))
puma_result pressure.hosted_after "$(vstat hosted)"
rm -f /run/fill/f
umount /run/fill
vc_stats stats.pressure
puma_bc pressure.verify verify "$S"
puma_bc big.verify_end verify "$F"
vc_stats stats.end

# --- unload while the file system is mounted and pages are hosted --------
echo off >"$param/detector"
sleep 4
puma_bc unload.read verify "$S"
puma_bc unload.evict evict "$S"
puma_result rmmod.hosted "$(vstat hosted)"
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
puma_bc incl.create create "$S" --blocks "$small" --id 4 --gen 1
verify_all incl.v_create
verify_all incl.v_again
puma_bc incl.ow_buffered overwrite "$S" --random --count 256 --seed 21 \
	--gen 2 --mode buffered
verify_all incl.v_buffered
puma_bc incl.ow_mmap overwrite "$S" --blocks "0:$e,$q:$((q + e))" \
	--gen 3 --mode mmap
verify_all incl.v_mmap
puma_bc incl.ow_direct overwrite "$S" --blocks "$e:$((2 * e))" \
	--gen 4 --mode direct
verify_all incl.v_direct
puma_bc incl.punch punch "$S" --range "$((2 * e)):$((3 * e))"
verify_all incl.v_punch
puma_bc incl.truncate truncate "$S" --blocks "$((small / 2))"
puma_bc incl.extend extend "$S" --blocks "$small" --gen 5
verify_all incl.v_truncate_extend
# Every page hosted, then the file rewritten in runs of 256 blocks (the
# same inode, after a truncate): 256 invalidate_folio calls per write.
puma_bc incl.evict_all evict "$S"
e0=$(vstat inv_pool_empty)
o0=$(vstat inv_overflows)
f0=$(vstat flushes)
puma_bc incl.rewrite create "$S" --blocks "$small" --id 5 --gen 1
puma_result incl.rewrite.inv_pool_empty $(($(vstat inv_pool_empty) - e0))
puma_result incl.rewrite.inv_overflows $(($(vstat inv_overflows) - o0))
puma_result incl.rewrite.flushes $(($(vstat flushes) - f0))
verify_all incl.v_rewrite
vc_stats stats.inclusive
puma_step umount.inclusive umount "$mnt"
puma_step rmmod.victim2 rmmod puma_victim
puma_step rmmod.lib rmmod puma
