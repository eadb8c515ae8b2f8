# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC2034,SC2154 # globals of the guests
#
# The guest library (busybox sh), sourced by /init and by /guest/test.sh:
#   . /guest/lib.sh
# busybox sh does not scope variables: helpers use _-prefixed globals.
#
# Result protocol:
#   puma_result KEY VALUE       print "PUMA-RESULT KEY=VALUE" (spaces -> _)
#   puma_fail MESSAGE           print "PUMA-FAIL MESSAGE"; the run fails
#   puma_failed                 true if anything failed so far
#   puma_step NAME CMD...       run CMD; report step.NAME.s and fail on error
#   puma_bc NAME ARGS...        run blockcheck ARGS, report its summary
#                               fields as NAME.key=value, fail on error
#   puma_kv PREFIX LINE         a summary's key=value words as results
#   puma_export FILE [NAME]     send a small text file to the host: each
#                               line as "PUMA-FILE NAME <line>"; the host
#                               writes it to $OUTDIR/files/NAME
# System:
#   puma_uptime, puma_elapsed T0   seconds since boot / since T0
#   puma_drop_caches            sync and drop page cache, dentries, inodes
#   puma_meminfo FIELD          a /proc/meminfo value in kB
#   puma_mem_report PREFIX      report MemFree/Cached/... as PREFIX.*_kb
#   pstat KEY [FILE]            one counter of FILE (default $stats), 0 if absent
#   pstats PREFIX [FILE]        every counter of FILE as PREFIX.key=value
#   watch_stats LABEL           $stats on the console every 20 s ($watcher)
#   wait_for WHAT SEC CMD...    poll CMD once a second, at most SEC s
#   settle                      wait until puts_sent is stable for 2 s
#   cg_limit NAME LIMIT         memory cgroup NAME with memory.max LIMIT
#   remount [OPTS]              unmount $mnt, mount $dev there again
#   net_up ADDR MTU             eth0 (ADDR/24, MTU) and lo up
#   srv CMD...                  client: the server runs CMD, answers "done"
#   srv_send CMD..., srv_wait   the same in two halves
#   reply                       server: answer "done" to the client
#   insmod_refused NAME KO ARGS...  KO must not load, saying $refuse_re
# Workloads on the small file $S ($small blocks):
#   verify_all NAME             verify warm, [evicted and back: $via], cold
#   mutations [partial] [ow_all] [mid]   every mutation, each verified
#   incl_mutations              the inclusive strategy's mutations

PUMA_FAILFILE=/run/puma.failures

puma_result() {
	_k=$1
	shift
	_v=$(printf '%s' "$*" | tr ' \t\n' '___')
	echo "PUMA-RESULT $_k=$_v"
}

puma_fail() {
	echo "PUMA-FAIL $*"
	echo "$*" >>"$PUMA_FAILFILE"
}

puma_failed() {
	[ -s "$PUMA_FAILFILE" ]
}

puma_uptime() {
	cut -d' ' -f1 /proc/uptime
}

puma_elapsed() {
	awk -v t0="$1" -v t1="$(puma_uptime)" 'BEGIN { printf "%.2f", t1 - t0 }'
}

puma_step() {
	_name=$1
	shift
	echo "PUMA-STEP $_name: $*"
	_t0=$(puma_uptime)
	if "$@"; then
		_rc=0
	else
		_rc=$?
		puma_fail "step $_name failed (exit $_rc): $*"
	fi
	puma_result "step.$_name.s" "$(puma_elapsed "$_t0")"
	return $_rc
}

puma_bc() {
	_name=$1
	shift
	echo "PUMA-STEP $_name: blockcheck $*"
	_t0=$(puma_uptime)
	_out=/run/puma-bc.out
	if blockcheck "$@" >"$_out" 2>&1; then
		_rc=0
	else
		_rc=$?
	fi
	cat "$_out"
	_sum=$(grep '^BLOCKCHECK [a-z]* ' "$_out" | tail -1)
	[ -n "$_sum" ] || puma_result "$_name.failures" error
	puma_kv "$_name" "$_sum"
	puma_result "$_name.s" "$(puma_elapsed "$_t0")"
	[ "$_rc" -eq 0 ] || puma_fail "$_name: blockcheck $* exited with status $_rc"
	return $_rc
}

# puma_kv PREFIX LINE: the KEY=VALUE words of a tool's summary LINE as
# results PREFIX.KEY (but its file=)
puma_kv() {
	for _kv in $2; do
		case "$_kv" in
		file=*) ;;
		*=*) echo "PUMA-RESULT $1.$_kv" ;;
		esac
	done
}

puma_drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

puma_meminfo() {
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}

puma_mem_report() {
	for _f in MemFree Cached Active\(file\) Inactive\(file\); do
		_n=$(echo "$_f" | tr -d '()' | tr '[:upper:]' '[:lower:]')
		puma_result "$1.${_n}_kb" "$(puma_meminfo "$_f")"
	done
}

puma_export() {
	_name=${2:-$(basename "$1")}
	case "$_name" in
	*[!A-Za-z0-9_.-]*) puma_fail "puma_export: bad name '$_name'"; return 1 ;;
	esac
	if [ ! -r "$1" ]; then
		puma_fail "puma_export: cannot read $1"
		return 1
	fi
	sed "s/^/PUMA-FILE $_name /" "$1"
	echo "PUMA-RESULT file.$_name=$(wc -l <"$1")"
}

# Defaults shared by the guests.
dev=/dev/vda
mnt=/mnt/test
stats=/sys/kernel/debug/puma/stats
tstats=/sys/kernel/debug/puma_tcp/stats
vstats=/sys/kernel/debug/puma_virtio/stats

pstat() {
	_v=$(sed -n "s/^$1 //p" "${2:-$stats}" 2>/dev/null)
	echo "${_v:-0}"
}

pstats() {
	[ -r "${2:-$stats}" ] || return 0
	awk -v p="$1" 'NF > 1 { v = $2; for (i = 3; i <= NF; i++) v = v "_" $i
		print "PUMA-RESULT " p "." $1 "=" v }' "${2:-$stats}"
}

# For whoever reads a slow run.
watch_stats() {
	(
		while sleep 20; do
			[ -r "$stats" ] && echo "$1: $(tr '\n' ' ' <"$stats")"
		done
	) &
	watcher=$!
}

wait_for() {
	_what=$1
	_max=$2
	shift 2
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		if [ "$_i" -ge "$_max" ]; then
			puma_fail "no $_what after ${_max}s"
			return 1
		fi
		sleep 1
	done
	puma_result "wait.$_what" "$_i"
}

# settle: the client has sent what it staged (puts_sent stable for two
# seconds, at most 60 s)
settle() {
	_last=-1
	_same=0
	_i=0
	while [ "$_same" -lt 2 ] && [ "$_i" -lt 60 ]; do
		_now=$(pstat puts_sent)
		if [ "$_now" = "$_last" ]; then
			_same=$((_same + 1))
		else
			_same=0
		fi
		_last=$_now
		_i=$((_i + 1))
		sleep 1
	done
}

# The workload's cgroup keeps its page cache below its files, so reclaim
# evicts their clean pages; hosted pages are charged to the root group.
cg_limit() {
	mkdir -p /sys/fs/cgroup
	grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts ||
		mount -t cgroup2 none /sys/fs/cgroup ||
		{ puma_fail "cannot mount cgroup2"; return 1; }
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	mkdir -p "/sys/fs/cgroup/$1"
	echo "$2" >"/sys/fs/cgroup/$1/memory.max"
}

# remount: none of the file system's pages stay cached, nor hosted (the
# pool is new).  No global drop_caches: it would put every clean page.
remount() {
	umount "$mnt" && mount -t ext4 "$@" "$dev" "$mnt"
}

net_up() {
	ip link set lo up
	ip addr add "$1/24" dev eth0 || { puma_fail "cannot set $1"; return 1; }
	ip link set eth0 mtu "$2" || puma_fail "cannot set MTU $2"
	ip link set eth0 up
}

# The client/server channel: commands to the server's port 7079, one
# connection each; "done" back to the client's port 7078 when finished.
# nc_send HOST PORT WHAT MESSAGE: MESSAGE to HOST:PORT, retried for 60 s
nc_send() {
	_i=0
	until echo "$4" | nc "$1" "$2" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ "$_i" -lt 60 ] || { puma_fail "cannot $3"; return 1; }
		sleep 1
	done
}

srv_send() {
	nc_send "$server" 7079 "reach the server" "$*"
}

srv_wait() {
	_a=$(nc -l -p 7078 2>/dev/null)
	[ "$_a" = "done" ] || { puma_fail "server answered '$_a' to '$*'"; return 1; }
}

srv() {
	echo "PUMA-STEP srv: $*"
	_st0=$(puma_uptime)
	srv_send "$@" && srv_wait "$@" || return 1
	puma_result "srv.$(echo "$1.$2" | tr -c 'A-Za-z0-9_.\n-' _).s" "$(puma_elapsed "$_st0")"
}

reply() {
	nc_send "$client" 7078 "answer the client" "done"
}

# insmod_refused NAME KO ARGS...: KO must not load, and the kernel log
# must say why (a line matching $refuse_re)
insmod_refused() {
	_name=$1
	shift
	if insmod "$@" 2>/run/insmod.err; then
		puma_fail "$_name: insmod $* succeeded"
		_ko=${1##*/}
		rmmod "${_ko%.ko}"
		return 1
	fi
	puma_result "$_name.insmod_error" "$(cat /run/insmod.err)"
	if ! dmesg | grep -q "$refuse_re"; then
		puma_fail "$_name: no kernel message matching '$refuse_re'"
		return 1
	fi
	puma_result "$_name" refused
}

# verify_all NAME: verify $S through the page cache as the mutation left
# it; with $via set (remote, victim), evict its pages into the cache and
# verify what comes back from it (or the disk); then drop every cache and
# verify cold.
verify_all() {
	puma_bc "$1.warm" verify "$S"
	if [ -n "${via:-}" ]; then
		puma_bc "$1.evict" evict "$S"
		_h0=$(pstat hits)
		puma_bc "$1.$via" verify "$S"
		[ "$via" = victim ] &&
			puma_result "$1.victim_hits" $(($(pstat hits) - _h0))
	fi
	puma_drop_caches
	puma_bc "$1.cold" verify "$S"
}

# mutations [partial] [ow_all] [mid]: every mutating command on $S, each
# followed by verify_all; block ranges scale with the file.
#   partial  truncate to a partial block and grow again
#   ow_all   every page hosted, then rewritten without being read: one
#            invalidate_folio per page, with interrupts off
#   mid      truncate inside the last block, extend as a hole
mutations() {
	_x=" $* "
	q=$((small / 4))
	e=$((small / 64))
	g=1
	puma_bc small.create create "$S" --blocks "$small" --id 2 --gen $g
	verify_all small.v_create
	puma_bc small.ow_buffered overwrite "$S" --random --count 256 --seed 11 \
		--gen $((g += 1)) --mode buffered
	verify_all small.v_buffered
	# Read first so the page cache holds the old blocks the direct write
	# must invalidate.
	puma_bc small.preread read "$S" --blocks "0:$e,$q:$((q + 2 * e))"
	puma_bc small.ow_direct overwrite "$S" --blocks "0:$e,$q:$((q + 2 * e))" \
		--gen $((g += 1)) --mode direct
	verify_all small.v_direct
	puma_bc small.ow_mmap overwrite "$S" \
		--blocks "$((e / 2)):$((3 * e / 2)),$((2 * q)):$((2 * q + 3 * e))" \
		--gen $((g += 1)) --mode mmap
	verify_all small.v_mmap
	if [ -z "${_x##* ow_all *}" ]; then
		puma_bc small.evict_all evict "$S"
		puma_bc small.ow_all overwrite "$S" --blocks "0:$small" \
			--gen $((g += 1)) --mode buffered
		verify_all small.v_ow_all
	fi
	puma_bc small.truncate truncate "$S" --blocks "$((small / 2))"
	verify_all small.v_truncate
	puma_bc small.extend_hole extend "$S" --blocks "$small"
	verify_all small.v_extend_hole
	if [ -z "${_x##* partial *}" ]; then
		puma_bc small.truncate_partial truncate "$S" --bytes "$((q * 4096 + 1000))"
		puma_bc small.extend_partial truncate "$S" --blocks "$((small / 2))"
		verify_all small.v_partial
		puma_bc small.extend_stamped extend "$S" --blocks "$small" --gen $((g += 1))
	else
		puma_bc small.extend_stamped truncate "$S" --blocks "$((small / 2))"
		puma_bc small.extend_stamped2 extend "$S" --blocks "$small" --gen $((g += 1))
	fi
	verify_all small.v_extend_stamped
	if [ -z "${_x##* mid *}" ]; then
		puma_bc small.truncate_mid truncate "$S" --bytes "$((small * 4096 - 6000))"
		verify_all small.v_truncate_mid
		puma_bc small.extend_mid extend "$S" --blocks "$small"
		verify_all small.v_extend_mid
	fi
	puma_bc small.preread2 read "$S" --blocks "$e:$((4 * e))"
	puma_bc small.punch punch "$S" --range "$e:$((4 * e))"
	verify_all small.v_punch
	# ext4 usually re-uses the inode number.
	puma_result small.inode_old "$(stat -c %i "$S")"
	puma_step small.unlink rm -f "$S"
	sync
	puma_bc small.recreate create "$S" --blocks "$small" --id 3 --gen $((g += 1))
	puma_result small.inode_new "$(stat -c %i "$S")"
	verify_all small.v_recreate
}

# incl_mutations: with the inclusive strategy served pages stay hosted, so
# every change must be invalidated in the cache.
incl_mutations() {
	q=$((small / 4))
	e=$((small / 64))
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
}
