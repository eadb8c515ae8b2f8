#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the client VM of scripts/exp/exp-pair.sh: drives one of
# the paper's experiments (Documentation/design.rst) and tells the server VM
# (guest/exp-server.sh) what to run, waiting for its "done" on port 7078.
#
#   ex_name=exp3   server I/O, then client I/O: for each deactivation
#                  policy setting (off, then on), the server reads its own
#                  file twice (its pages become active) and goes idle, the
#                  client fills it and reads its file in sequential passes
#                  for ex_run s; the share of the server's file cache that
#                  is hosted is sampled
#   ex_name=exp2   client I/O, then server I/O: the server's random reads
#                  alone (reference); then for each placement of ex_lru
#                  the client fills the server and stays idle while the
#                  server reads at random for ex_io s
#   ex_name=exp1   allocation latency on the server: mallocbench while the
#                  server hosts nothing, then the client fills the server
#                  (cold cache, sequential pass over its file: the
#                  evictions become hosted pages) and mallocbench again
#   ex_name=exp4   concurrent client and server I/O: the server's random
#                  reads alone (reference), then for each detector mode:
#                  fill the server, start the client's random reads, after
#                  ex_pre s the server's random reads for ex_io s, the
#                  client reading on for ex_post s more
#
# Parameters (kernel command line):
#   pc_ip=A, pc_server=A, pc_mtu=N   as in scripts/vm/guest/pair-client.sh
#   pc_get_timeout_us=N              the backend's get_timeout_us
#   ex_name=exp1|exp4
#   ex_malloc_total=SIZE ex_malloc_chunk=SIZE ex_malloc_dur=S   (exp1)
#   ex_modes=LIST  comma-separated detector modes (exp4; default
#                  off,shadow,deactivation,combined)
#   ex_ref=1       run the no-client reference first (exp4; default 1)
#   ex_pre=S ex_io=S ex_post=S                                   (exp4)
#   ex_run=S                                                     (exp3)
#   ex_lru=LIST    hosted-page placements, inactive and/or full  (exp2)
#
# Results: fill.NAME.* (warm-up pass, puts), NAME.run.* (client random
# reads of mode NAME); exported client-NAME.csv (per-second IOPS).

# shellcheck source-path=SCRIPTDIR source=../../vm/guest/lib.sh
. /guest/lib.sh

my_ip=${pc_ip:-10.0.0.2}
server=${pc_server:-10.0.0.1}
get_timeout_us=${pc_get_timeout_us:-200000}
dev=/dev/vda
mnt=/mnt/test
F=$mnt/big
state=/etc/puma/big.state
stats=/sys/kernel/debug/puma/stats
ko=/lib/modules/puma/puma_backend.ko

pstat() {
	awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$stats" 2>/dev/null
}

snap() {
	[ -r "$stats" ] && while read -r _k _v; do
		puma_result "$1.$_k" "$_v"
	done <"$stats"
}

# srv COMMAND...: send a command to the server and wait for its "done"
srv() {
	echo "PUMA-STEP srv: $*"
	_t0=$(puma_uptime)
	_i=0
	until echo "$*" | nc "$server" 7079 >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ "$_i" -lt 60 ] || { puma_fail "cannot reach the server"; return 1; }
		sleep 1
	done
	_a=$(nc -l -p 7078 2>/dev/null)
	[ "$_a" = "done" ] || { puma_fail "server answered '$_a' to '$*'"; return 1; }
	puma_result "srv.$(echo "$1.$2" | tr -c 'A-Za-z0-9_.\n-' _).s" "$(puma_elapsed "$_t0")"
}

# srv_send COMMAND...: send without waiting (srv_wait collects the answer)
srv_send() {
	_i=0
	until echo "$*" | nc "$server" 7079 >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ "$_i" -lt 60 ] || { puma_fail "cannot reach the server"; return 1; }
		sleep 1
	done
}

srv_wait() {
	_a=$(nc -l -p 7078 2>/dev/null)
	[ "$_a" = "done" ] || { puma_fail "server answered '$_a'"; return 1; }
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

server_up() { ping -c 1 -W 1 "$server" >/dev/null 2>&1; }
connected() { dmesg | grep -q 'puma_backend: connected to'; }

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

cold() {
	umount "$mnt" 2>/dev/null
	puma_drop_caches
	mount -t ext4 -o noatime "$dev" "$mnt"
}

# fill NAME: cold cache (a new pool on the server), a sequential pass over
# the whole file: what the client's cache cannot keep goes to the server
fill() {
	puma_step "fill.$1.cold" cold || return 1
	xb=$(pstat puts_sent)
	xf0=$(puma_uptime)
	puma_result "fill.$1.t_start" "$xf0"
	puma_bc "fill.$1" --state "$state" read "$F" --seq || return 1
	settle
	puma_result "fill.$1.s" "$(puma_elapsed "$xf0")"
	puma_result "fill.$1.puts" "$(($(pstat puts_sent) - xb))"
}

exp1() {
	_tot=${ex_malloc_total:-256M}
	_chunk=${ex_malloc_chunk:-1M}
	_dur=${ex_malloc_dur:-60}
	srv malloc nohost "$_tot" "$_chunk" "$_dur" || return 1
	fill host || return 1
	snap stats.filled
	srv malloc host "$_tot" "$_chunk" "$_dur" || return 1
	snap stats.end
}

exp4() {
	_pre=${ex_pre:-20}
	_io=${ex_io:-60}
	_post=${ex_post:-10}
	if [ "${ex_ref:-1}" = 1 ]; then
		# No client pages on the server: the client's pool is empty.
		srv mode off || return 1
		srv io reference "$_io" || return 1
	fi
	for _m in $(echo "${ex_modes:-off,shadow,deactivation,combined}" | tr , ' '); do
		srv mode "$_m" warm || return 1
		fill "$_m" || return 1
		snap "stats.$_m.before"
		_t0=$(puma_uptime)
		puma_result "$_m.t_run" "$_t0"
		blockcheck --state "$state" read "$F" --random --seed 1 \
			--count 100000000 --seconds "$((_pre + _io + _post))" \
			--csv "/run/client-$_m.csv" >"/run/client-$_m.out" 2>&1 &
		_bc=$!
		sleep "$_pre"
		puma_result "$_m.t_io" "$(puma_uptime)"
		srv_send io "$_m" "$_io" || return 1
		srv_wait || return 1
		puma_result "$_m.t_io_end" "$(puma_uptime)"
		if wait "$_bc"; then _rc=0; else _rc=$?; fi
		cat "/run/client-$_m.out"
		_sum=$(grep '^BLOCKCHECK [a-z]* ' "/run/client-$_m.out" | tail -1)
		if [ -z "$_sum" ]; then
			puma_result "$_m.run.failures" error
		else
			for _kv in $_sum; do
				case "$_kv" in
				file=*|BLOCKCHECK) ;;
				*=*) echo "PUMA-RESULT $_m.run.$_kv" ;;
				esac
			done
		fi
		[ "$_rc" -eq 0 ] || puma_fail "$_m: client blockcheck exited with status $_rc"
		snap "stats.$_m.after"
		puma_export "/run/client-$_m.csv"
	done
}

exp2() {
	_io=${ex_io:-120}
	srv mode off || return 1
	srv io reference "$_io" || return 1
	for _l in $(echo "${ex_lru:-inactive,full}" | tr , ' '); do
		srv lru "$_l" || return 1
		srv mode off || return 1
		fill "$_l" || return 1
		srv snap "filled.$_l" || return 1
		srv io "$_l" "$_io" || return 1
	done
}

exp3() {
	_run=${ex_run:-180}
	for _p in off on; do
		srv policy "$_p" || return 1
		srv seq "own.$_p" 2 || return 1
		fill "$_p" || return 1
		srv snap "filled.$_p" || return 1
		snap "stats.$_p.filled"
		# Sequential passes until RUN s are up: each block not in the
		# client's cache comes from the server or the disk and pushes
		# one out, which is put, so the server's lists turn over as fast
		# as this rig moves pages (random reads on the throttled disk
		# put about 1 MiB/s, too slow to turn them over in minutes).
		_r0=$(puma_uptime)
		_i=0
		while _left=$(awk -v a="$_r0" -v b="$(puma_uptime)" -v r="$_run" \
			'BEGIN { l = r - (b - a); if (l < 1) exit 1; printf "%d", l }'); do
			_i=$((_i + 1))
			puma_bc "$_p.pass$_i" --state "$state" read "$F" --seq \
				--seconds "$_left" || return 1
		done
		puma_result "$_p.run.passes" "$_i"
		puma_result "$_p.run.s" "$(puma_elapsed "$_r0")"
		srv snap "end.$_p" || return 1
		snap "stats.$_p.end"
	done
}

ip link set lo up
ip addr add "$my_ip/24" dev eth0 || { puma_fail "cannot set $my_ip"; exit 1; }
ip link set eth0 mtu "${pc_mtu:-1500}" || puma_fail "cannot set MTU ${pc_mtu:-1500}"
ip link set eth0 up
mkdir -p "$mnt"
mount -t ext4 -o noatime "$dev" "$mnt" || { puma_fail "cannot mount $dev"; exit 1; }
[ -r "$state" ] || { puma_fail "no blockcheck state $state"; exit 1; }
wait_for server 180 server_up || exit 1
puma_step insmod.backend insmod "$ko" role=client transport=tcp \
	server_addr="$server:7070" get_timeout_us="$get_timeout_us" || exit 1
wait_for connected 60 connected || exit 1

case "${ex_name:-}" in
exp1) exp1 ;;
exp2) exp2 ;;
exp3) exp3 ;;
exp4) exp4 ;;
*) puma_fail "unknown experiment '${ex_name:-}'" ;;
esac
dmesg | grep 'puma' | tail -n 20

i=0
until echo stop | nc "$server" 7079 >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 30 ] || { puma_fail "cannot tell the server to stop"; break; }
	sleep 1
done
umount "$mnt"
