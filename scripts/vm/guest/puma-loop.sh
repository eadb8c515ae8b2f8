#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/vm/puma-loop.sh: a whole PUMA in one kernel.  The
# backend runs both roles over the loopback transport; the workload runs in
# a memory cgroup whose limit keeps its page cache well below the file, so
# its reclaim evicts clean pages into PUMA, while the pages PUMA hosts are
# charged to the root group, as they would be on a server.
#
# Parameters (kernel command line, reach us as environment variables):
#   pl_big=N      blocks of the big file (default 16384 = 64 MiB)
#   pl_small=N    blocks of the file every mutation is tried on
#   pl_reads=N    random reads per pass over the big file
#   pl_limit=S    memory.max of the workload's cgroup (default 24M)
#
# Every read is verified by blockcheck against what the disk holds now.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

big=${pl_big:-16384}
small=${pl_small:-2048}
reads=${pl_reads:-16384}
limit=${pl_limit:-24M}
q=$((small / 4))
e=$((small / 64))
dev=/dev/vda
mnt=/mnt/test
F=$mnt/big
S=$mnt/small
stats=/sys/kernel/debug/puma/stats
export BLOCKCHECK_STATE_DIR=/run/blockcheck

# puma_stats PREFIX: every PUMA counter as PREFIX.name=value
puma_stats() {
	while read -r _k _v; do
		puma_result "$1.$_k" "$_v"
	done <"$stats"
}

mkdir -p /sys/kernel/debug /sys/fs/cgroup "$mnt"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
[ -r "$stats" ] || { puma_fail "no $stats: is puma_backend loaded?"; exit 1; }
mount -t cgroup2 none /sys/fs/cgroup ||
	{ puma_fail "cannot mount cgroup2"; exit 1; }
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/client
echo "$limit" >/sys/fs/cgroup/client/memory.max
echo $$ >/sys/fs/cgroup/client/cgroup.procs
puma_result pl.limit "$limit"
puma_result pl.big_blocks "$big"

puma_step mount mount -t ext4 "$dev" "$mnt" || exit 1

# The counters every 20 s on the console, for whoever reads a slow run.
(
	while sleep 20; do
		echo "puma-stats: $(tr '\n' ' ' <"$stats")"
	done
) &
watcher=$!

remount() {
	umount "$mnt" && mount -t ext4 "$dev" "$mnt"
}

# verify_all NAME: verify through the page cache as the mutation left it;
# then evict the file's pages, which puts them into PUMA, and verify what
# comes back from PUMA (or the disk); then drop every cache, hosted pages
# included, and verify from the disk.
verify_all() {
	_n=$1
	shift
	puma_bc "$_n.warm" verify "$S" "$@"
	puma_bc "$_n.evict" evict "$S"
	puma_bc "$_n.remote" verify "$S" "$@"
	puma_drop_caches
	puma_bc "$_n.cold" verify "$S" "$@"
}

# --- big file: two passes of the same random reads ------------------------
puma_bc big.create create "$F" --blocks "$big" --id 1 --gen 1 || exit 1
puma_step big.remount remount || exit 1
puma_stats stats.before
puma_bc pass1 read "$F" --random --seed 1 --count "$reads" \
	--csv /run/pass1.csv
puma_stats stats.pass1
puma_bc pass2 read "$F" --random --seed 1 --count "$reads" \
	--csv /run/pass2.csv
puma_stats stats.pass2
puma_export /run/pass1.csv
puma_export /run/pass2.csv
puma_mem_report mem.after_passes

# --- small file: every mutation, each verified warm, remote and cold ----
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

puma_bc small.truncate truncate "$S" --blocks "$((small / 2))"
verify_all small.v_truncate
puma_bc small.extend_hole extend "$S" --blocks "$small"
verify_all small.v_extend_hole
puma_bc small.extend_stamped truncate "$S" --blocks "$((small / 2))"
puma_bc small.extend_stamped2 extend "$S" --blocks "$small" --gen 5
verify_all small.v_extend_stamped

puma_bc small.preread2 read "$S" --blocks "$e:$((4 * e))"
puma_bc small.punch punch "$S" --range "$e:$((4 * e))"
verify_all small.v_punch

ino_old=$(stat -c %i "$S")
puma_step small.unlink rm -f "$S"
sync
puma_bc small.recreate create "$S" --blocks "$small" --id 3 --gen 6
ino_new=$(stat -c %i "$S")
puma_result small.inode_old "$ino_old"
puma_result small.inode_new "$ino_new"
verify_all small.v_recreate

# --- suspend and resume lending by hand -----------------------------------
# SUSPEND must reach the client, which then stops putting: pages evicted
# while suspended are skipped, and evicted again after RESUME are put.
pstat() { sed -n "s/^$1 //p" "$stats"; }
lending=/sys/kernel/debug/puma/lending
echo suspend >"$lending" || puma_fail "cannot write $lending"
sleep 1
[ "$(cat "$lending")" = suspended ] || puma_fail "lending not suspended"
[ "$(pstat suspends)" -ge 1 ] || puma_fail "the client never saw SUSPEND"
skips0=$(pstat put_skips)
puma_bc susp.read verify "$S"
puma_bc susp.evict evict "$S"
skips1=$(pstat put_skips)
puma_result susp.put_skips $((skips1 - skips0))
[ $((skips1 - skips0)) -gt 0 ] || puma_fail "no put skipped while suspended"
echo resume >"$lending"
sleep 1
[ "$(pstat resumes)" -ge 1 ] || puma_fail "the client never saw RESUME"
puts0=$(pstat puts)
puma_bc resumed.read verify "$S"
puma_bc resumed.evict evict "$S"
puts1=$(pstat puts)
puma_result resumed.puts $((puts1 - puts0))
[ $((puts1 - puts0)) -gt 0 ] || puma_fail "no put after RESUME"
verify_all small.v_resumed

# --- unmount and mount again, then everything once more ------------------
puma_step remount2 remount || exit 1
puma_bc small.v_remount verify "$S"
puma_bc big.verify_final verify "$F"
puma_stats stats.end
puma_step umount umount "$mnt"

# Teardown with pages still hosted: sessions, owners, transport, library.
kill "$watcher" 2>/dev/null
puma_step rmmod.backend rmmod puma_backend

# A parameter that does not parse is refused, with a message.
ko=/lib/modules/puma/puma_backend.ko
if insmod "$ko" role=bogus 2>/dev/null; then
	puma_fail "puma_backend accepted role=bogus"
	rmmod puma_backend
elif ! dmesg | grep -q 'role=bogus: expected'; then
	puma_fail "no message for role=bogus"
else
	puma_result param.role_bogus refused
fi

# The inclusive strategy: served pages stay hosted, so every change must
# be invalidated on the server; the same mutations, verified the same way.
taddr=
[ "${pl_transport:-loop}" = tcp ] &&
	taddr="transport=tcp listen_addr=127.0.0.1:7070 server_addr=127.0.0.1:7070"
# shellcheck disable=SC2086 # taddr is split on purpose
puma_step insmod.inclusive insmod "$ko" role=both strategy=inclusive \
	get_timeout_us="${pl_get_timeout_us:-200000}" $taddr || exit 1
puma_step mount.inclusive mount -t ext4 "$dev" "$mnt" || exit 1
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
puma_stats stats.inclusive
puma_step umount.inclusive umount "$mnt"
puma_step rmmod.backend2 rmmod puma_backend

puma_step rmmod.transport rmmod "${pl_tmod:-puma_loop}"
puma_step rmmod.lib rmmod puma
