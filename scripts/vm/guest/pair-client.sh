#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the client VM of scripts/vm/pair.sh: the paper's base
# scenario.  The disk holds a stamped file larger than this VM's page
# cache (made on the host); the same random-read benchmark runs once
# without PUMA and once with it, each after a sequential warm-up pass over
# the whole file (with PUMA, the warm-up's evictions go to the server).
# blockcheck verifies every block read.
#
# Parameters (kernel command line, reach us as environment variables):
#   pc_ip=A          our address (default 10.0.0.2)
#   pc_server=A      the server's address (default 10.0.0.1)
#   pc_mtu=N         MTU of eth0 (default 1500; pair.sh passes 9000)
#   pc_phases=LIST   "nopuma,puma" (default), "puma" or "nopuma"
#   pc_dur=S         seconds of each measured random-read pass (default 60)
#   pc_seed=N        seed of the random reads (default 1; same each pass)
#   pc_get_timeout_us=N  the backend's get_timeout_us (default 200000)
#   pc_tcp_max=N     most pages of the plain-TCP baseline (0: none)
#   pc_kill=1        kill scenario: print "PUMA-MARK measured-start" when
#                    the measured PUMA pass starts (the host kills the
#                    server then boots another), then wait for the client
#                    to reconnect, drop its caches (which puts them to the
#                    new server) and run a pass of pc_after_dur seconds
#
# Modules: puma.ko and puma_tcp.ko are loaded by /init; puma_backend.ko is
# in /lib/modules/puma and loaded here, after the no-PUMA phase.  The
# file's blockcheck state is /etc/puma/big.state.
#
# Results: per phase P, P.warm.* and P.run.* (blockcheck summaries) and
# stats.P.{before,warm,run}.* (backend and transport counters); exported
# CSVs warm-P.csv and run-P.csv (per-second IOPS and latency).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

my_ip=${pc_ip:-10.0.0.2}
server=${pc_server:-10.0.0.1}
phases=$(echo "${pc_phases:-nopuma,puma}" | tr , ' ')
dur=${pc_dur:-60}
seed=${pc_seed:-1}
get_timeout_us=${pc_get_timeout_us:-200000}
tcp_max=${pc_tcp_max:-0}
kill_mode=${pc_kill:-0}
after_dur=${pc_after_dur:-30}
dev=/dev/vda
mnt=/mnt/test
F=$mnt/big
state=/etc/puma/big.state
stats=/sys/kernel/debug/puma/stats
tstats=/sys/kernel/debug/puma_tcp/stats
ko=/lib/modules/puma/puma_backend.ko
put_pages=0
put_base=0

# snap PREFIX: every backend and transport counter as PREFIX.key=value
snap() {
	if [ -r "$stats" ]; then
		while read -r _k _v; do
			puma_result "$1.$_k" "$_v"
		done <"$stats"
	fi
	if [ -r "$tstats" ]; then
		while read -r _k _v; do
			puma_result "$1.tcp.$_k" "$_v"
		done <"$tstats"
	fi
}

pstat() {
	awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$stats" 2>/dev/null
}

connects() {
	dmesg | grep -c 'puma_backend: connected to' || true
}

# wait_for WHAT SECONDS CMD...: poll CMD once a second, bounded
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
connected_n() { [ "$(connects)" -ge "$1" ]; }

# settle: wait until the client has sent what it staged (puts_sent stable
# for two seconds, at most 60 s)
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

# lat_hist NAME LOG: how many reads took < 0.1, 1, 2, 5, 10, 20, 50, 100
# ms, and more (blockcheck --lat-log: t_ns,block,lat_ns,ok)
lat_hist() {
	awk -F, -v n="$1" 'NR > 1 {
		ms = $3 / 1e6
		if (ms < 0.1) b = "lt0.1ms"; else if (ms < 1) b = "lt1ms"
		else if (ms < 2) b = "lt2ms"; else if (ms < 5) b = "lt5ms"
		else if (ms < 10) b = "lt10ms"; else if (ms < 20) b = "lt20ms"
		else if (ms < 50) b = "lt50ms"; else if (ms < 100) b = "lt100ms"
		else b = "ge100ms"
		c[b]++
	} END { for (b in c) printf "PUMA-RESULT %s.hist.%s=%d\n", n, b, c[b] }' "$2"
	rm -f "$2"
}

# cold: unmount and mount again, so that the file's pages are gone from
# the page cache (and, with PUMA, from the server: the pool is new)
cold() {
	umount "$mnt" 2>/dev/null
	puma_drop_caches
	mount -t ext4 -o noatime "$dev" "$mnt"
}

# phase NAME: cold cache, sequential warm-up over the whole file, then the
# measured random reads for $dur seconds
phase() {
	_p=$1
	puma_step "$_p.cold" cold || return 1
	snap "stats.$_p.before"
	put_base=$(pstat puts_sent)
	puma_mem_report "$_p.mem_before"
	_t0=$(puma_uptime)
	puma_result "$_p.t_warm" "$_t0"
	puma_bc "$_p.warm" --state "$state" read "$F" --seq \
		--csv "/run/warm-$_p.csv" || return 1
	if [ "$_p" != nopuma ]; then
		settle
		put_pages=$(($(pstat puts_sent) - put_base))
		puma_result "$_p.put_phase_s" "$(puma_elapsed "$_t0")"
		puma_result "$_p.put_pages" "$put_pages"
	fi
	snap "stats.$_p.warm"
	puma_mem_report "$_p.mem_warm"
	puma_result "$_p.t_run" "$(puma_uptime)"
	[ "$kill_mode" = 1 ] && echo "PUMA-MARK measured-start"
	# --count far above what $dur seconds can read: the time ends it
	puma_bc "$_p.run" --state "$state" read "$F" --random --seed "$seed" \
		--count 100000000 --seconds "$dur" --csv "/run/run-$_p.csv" \
		--lat-log /run/lat.log
	_rc=$?
	lat_hist "$_p.run" /run/lat.log
	snap "stats.$_p.run"
	puma_export "/run/warm-$_p.csv"
	puma_export "/run/run-$_p.csv"
	return $_rc
}

# tcp_baseline PAGES: PAGES pages of plain user-space TCP to the server's
# tcpbench (port 7071), in 32-page messages behind a header the size of a
# full PUMA PUT's, timed until the server has acknowledged the last page.
tcp_baseline() {
	_n=$1
	[ "$_n" -gt 0 ] || return 0
	_out=/run/tcpbench.out
	if tcpbench client --host "$server" --port 7071 --pages "$_n" \
	   --batch 32 --header 816 >"$_out" 2>&1; then
		cat "$_out"
		for _kv in $(grep '^TCPBENCH client ' "$_out" | tail -1); do
			case "$_kv" in
			*=*) echo "PUMA-RESULT tcp.$_kv" ;;
			esac
		done
	else
		cat "$_out"
		puma_fail "plain TCP baseline to $server:7071 failed"
	fi
}

# kernel_tcp PAGES: the same transfer through PUMA's TCP transport, from
# the transport benchmark module to its sink on the server (port 7072).
kernel_tcp() {
	_n=$1
	_ko=/lib/modules/puma/puma_transport_bench.ko
	[ "$_n" -gt 0 ] && [ -e "$_ko" ] || return 0
	if insmod "$_ko" role=source addr="$server:7072" pages="$_n"; then
		for _kv in $(dmesg | grep 'puma_transport_bench: source ' | tail -1); do
			case "$_kv" in
			*=*) echo "PUMA-RESULT tcpk.$_kv" ;;
			esac
		done
		rmmod puma_transport_bench
	else
		dmesg | grep puma_transport_bench | tail -3
		puma_fail "PUMA transport benchmark to $server:7072 failed"
	fi
}

ip link set lo up
ip addr add "$my_ip/24" dev eth0 || { puma_fail "cannot set $my_ip"; exit 1; }
ip link set eth0 mtu "${pc_mtu:-1500}" || puma_fail "cannot set MTU ${pc_mtu:-1500}"
ip link set eth0 up
mkdir -p "$mnt"
mount -t ext4 -o noatime "$dev" "$mnt" || { puma_fail "cannot mount $dev"; exit 1; }
[ -r "$state" ] || { puma_fail "no blockcheck state $state"; exit 1; }
puma_result file.blocks "$(blockcheck --state "$state" state "$F" |
	sed -n 's/.* blocks=\([0-9]*\).*/\1/p')"
wait_for server 180 server_up || exit 1

for p in $phases; do
	if [ "$p" = puma ]; then
		puma_step insmod.backend insmod "$ko" role=client transport=tcp \
			server_addr="$server:7070" \
			get_timeout_us="$get_timeout_us" || exit 1
		wait_for connected 60 connected_n 1 || exit 1
	fi
	phase "$p" || exit 1
done

if [ "$kill_mode" = 1 ]; then
	# The host killed the server during the measured pass and booted a
	# new one: the client must find it on its own.
	wait_for reconnect 180 connected_n 2
	snap stats.reconnected
	# Hand the new server this VM's cache (dropping clean pages puts
	# them, as reclaim does), so the pass below reads from it: with
	# memory to spare after the kill, the pass itself may evict nothing
	# and the new server would never be used.
	puma_drop_caches
	snap stats.handed
	puma_bc after.run --state "$state" read "$F" --random --seed "$((seed + 1))" \
		--count 100000000 --seconds "$after_dur" --csv /run/run-after.csv \
		--lat-log /run/lat.log
	lat_hist after.run /run/lat.log
	snap stats.after
	puma_export /run/run-after.csv
fi

# The plain-TCP baseline moves as many pages as PUMA's put phase did (at
# most pc_tcp_max).
if [ "$tcp_max" -gt 0 ]; then
	n=${put_pages:-0}
	[ "$n" -gt 0 ] || n=$tcp_max
	[ "$n" -le "$tcp_max" ] || n=$tcp_max
	tcp_baseline "$n"
	kernel_tcp "$n"
	snap stats.end
fi
puma_result connects "$(connects)"
dmesg | grep 'puma' | tail -n 20

# Tell the server that we are done (it exports its samples and stops).
i=0
until echo stop | nc "$server" 7079 >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 30 ] || { puma_fail "cannot tell the server to stop"; break; }
	sleep 1
done
umount "$mnt"
