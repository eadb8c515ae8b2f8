#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/vm/puma-loop.sh: a whole PUMA in one kernel.  The
# backend runs both roles over the loopback transport (or TCP on
# 127.0.0.1); the workload runs in a memory cgroup, so its reclaim evicts
# clean pages into PUMA.  Every read is verified by blockcheck.
#
# Parameters (kernel command line):
#   pl_big=N      blocks of the big file (default 16384 = 64 MiB)
#   pl_small=N    blocks of the file every mutation is tried on
#   pl_reads=N    random reads per pass over the big file
#   pl_limit=S    memory.max of the workload's cgroup (default 24M)
#   pl_transport=loop|tcp, pl_tmod=MODULE, pl_get_timeout_us=N

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

big=${pl_big:-16384}
small=${pl_small:-2048}
reads=${pl_reads:-16384}
limit=${pl_limit:-24M}
F=$mnt/big
S=$mnt/small
via=remote

[ -r "$stats" ] || { puma_fail "no $stats: is puma_backend loaded?"; exit 1; }
cg_limit client "$limit" || exit 1
echo $$ >/sys/fs/cgroup/client/cgroup.procs
puma_result pl.limit "$limit"
puma_result pl.big_blocks "$big"

mkdir -p "$mnt"
puma_step mount mount -t ext4 "$dev" "$mnt" || exit 1
watch_stats puma-stats

# --- big file: two passes of the same random reads ------------------------
puma_bc big.create create "$F" --blocks "$big" --id 1 --gen 1 || exit 1
puma_step big.remount remount || exit 1
pstats stats.before
for p in pass1 pass2; do
	puma_bc $p read "$F" --random --seed 1 --count "$reads" --csv /run/$p.csv
	pstats stats.$p
	puma_export /run/$p.csv
done
puma_mem_report mem.after_passes

# shellcheck disable=SC2119 # no extra steps
mutations

# --- suspend and resume lending by hand -----------------------------------
# SUSPEND must reach the client, which then stops putting: pages evicted
# while suspended are skipped, and evicted again after RESUME are put.
# evict_counts NAME COUNTER: verify $S and evict it; true if COUNTER grew
evict_counts() {
	_c0=$(pstat "$2")
	puma_bc "$1.read" verify "$S"
	puma_bc "$1.evict" evict "$S"
	_d=$(($(pstat "$2") - _c0))
	puma_result "$1.$2" "$_d"
	[ "$_d" -gt 0 ]
}
lending=/sys/kernel/debug/puma/lending
echo suspend >"$lending" || puma_fail "cannot write $lending"
sleep 1
[ "$(cat "$lending")" = suspended ] || puma_fail "lending not suspended"
[ "$(pstat suspends)" -ge 1 ] || puma_fail "the client never saw SUSPEND"
evict_counts susp put_skips || puma_fail "no put skipped while suspended"
echo resume >"$lending"
sleep 1
[ "$(pstat resumes)" -ge 1 ] || puma_fail "the client never saw RESUME"
evict_counts resumed puts || puma_fail "no put after RESUME"
verify_all small.v_resumed

puma_step remount2 remount || exit 1
puma_bc small.v_remount verify "$S"
puma_bc big.verify_final verify "$F"
pstats stats.end
puma_step umount umount "$mnt"

# Teardown with pages still hosted: sessions, owners, transport, library.
kill "$watcher" 2>/dev/null
puma_step rmmod.backend rmmod puma_backend

# A parameter that does not parse is refused, with a message.
ko=/lib/modules/puma/puma_backend.ko
refuse_re='role=bogus: expected'
insmod_refused param.role_bogus "$ko" role=bogus

taddr=
[ "${pl_transport:-loop}" = tcp ] &&
	taddr="transport=tcp listen_addr=127.0.0.1:7070 server_addr=127.0.0.1:7070"
# shellcheck disable=SC2086 # taddr is split on purpose
puma_step insmod.inclusive insmod "$ko" role=both strategy=inclusive \
	get_timeout_us="${pl_get_timeout_us:-200000}" $taddr || exit 1
puma_step mount.inclusive mount -t ext4 "$dev" "$mnt" || exit 1
incl_mutations
pstats stats.inclusive
puma_step umount.inclusive umount "$mnt"
puma_step rmmod.backend2 rmmod puma_backend

puma_step rmmod.transport rmmod "${pl_tmod:-puma_loop}"
puma_step rmmod.lib rmmod puma
