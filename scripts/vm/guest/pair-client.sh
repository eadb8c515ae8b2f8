#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the client VM of scripts/vm/pair.sh and of the paper's
# experiments (scripts/vm/pair.sh --exp).  The disk holds a stamped file
# larger than this VM's page cache (made on the host; its blockcheck
# state is /etc/puma/big.state); blockcheck verifies every block read.
# puma.ko and puma_tcp.ko are loaded by /init, puma_backend.ko here.
#
# Without ex_name, the base scenario: the same random-read benchmark once
# without PUMA and once with it, each after a sequential warm-up pass over
# the whole file (with PUMA, the warm-up's evictions go to the server).
#   pc_ip=A pc_server=A  our and the server's addresses (10.0.0.2, .1)
#   pc_mtu=N         MTU of eth0 (default 1500)
#   pc_phases=LIST   "nopuma,puma" (default), "puma" or "nopuma"
#   pc_dur=S         seconds of each measured random-read pass (60)
#   pc_seed=N        seed of the random reads (default 1; same each pass)
#   pc_get_timeout_us=N  the backend's get_timeout_us (default 200000)
#   pc_tcp_max=N     most pages of the plain-TCP baseline (0: none)
#   pc_hostile_server=1  at the end, the backend against tools/hostile as
#                    its server in this VM: serve, tampered-get-response
#   pc_sec_bench=N   N pages through the PUMA transport benchmark with
#                    each security mode (none, auth, encrypt; 0: none)
#   pc_transport=T   the backend's transport: tcp (default) or virtio
#                    (the ivshmem region, "ivshmem0")
#   pc_bench=N       N pages through the PUMA transport benchmark over
#                    TCP and over virtio, one after the other (results
#                    bench_tcp.*, bench_virtio.*; the server swaps sinks)
#   pc_kill=1        print "PUMA-MARK measured-start" as the measured PUMA
#                    pass starts (the host kills the server, boots another),
#                    wait for the reconnection, drop the caches (which puts
#                    them to the new server), a pass of pc_after_dur s
#   pc_warmed=HOST   send "warmed" to HOST:7077 once the first PUMA
#                    pass's warm-up is over; pc_await_warmed=1: wait for
#                    it before anything (two clients, pair.sh
#                    --client2-blocks), and tell the server when each
#                    measured pass starts and ends (its "mark" command)
# Results: per phase P, P.warm.* and P.run.* (blockcheck summaries),
# stats.P.{before,warm,run}.* (counters) and the round trips of the GETs
# answered during the measured reads, P.rtt_{gets,p50_us,p99_us}; CSVs
# warm-P.csv and run-P.csv.
#
# With ex_name, one experiment (Documentation/design.rst), the server
# (pair-server.sh) running what this client tells it over srv:
#   exp1  allocation latency on the server: mallocbench while the server
#         hosts nothing, then the client fills it and mallocbench again
#         (ex_malloc_total=SIZE ex_malloc_chunk=SIZE ex_malloc_dur=S)
#   exp2  the server's random reads alone (reference); then for each
#         hosted-page placement (ex_lru=inactive,full) the client fills
#         the server, which reads at random for ex_io s
#   exp3  for each deactivation policy (off, on), the server reads its
#         file twice (its pages become active), the client fills it and
#         reads its file in sequential passes for ex_run s
#   exp4  the server's random reads alone (ex_ref=1), then for each
#         detector mode (ex_modes=off,shadow,deactivation,combined): fill
#         the server, start the client's random reads, after ex_pre s the
#         server's random reads for ex_io s, the client on for ex_post s
# Results: fill.NAME.* (the fill pass, puts), NAME.run.*; client-NAME.csv.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

server=${pc_server:-10.0.0.1}
phases=$(echo "${pc_phases:-nopuma,puma}" | tr , ' ')
dur=${pc_dur:-60}
seed=${pc_seed:-1}
tcp_max=${pc_tcp_max:-0}
F=$mnt/big
state=/etc/puma/big.state
put_pages=0
transport=${pc_transport:-tcp}
# addr PORT: the server's address on $transport
addr() {
	case "$transport" in
	virtio) echo "ivshmem0:$1" ;;
	*) echo "$server:$1" ;;
	esac
}

snap() {
	pstats "$1"
	[ -n "${ex_name:-}" ] || pstats "$1.tcp" "$tstats"
	[ "$transport" != virtio ] || pstats "$1.virtio" "$vstats"
}

server_up() { ping -c 1 -W 1 "$server" >/dev/null 2>&1; }

# mark NAME: with two clients, the server records NAME at its own time
marks=${pc_warmed:+1}
[ "${pc_await_warmed:-0}" = 0 ] || marks=1
mark() {
	[ -z "$marks" ] || srv_send mark "c${pc_ip##*.}.$1"
}

connected_n() {
	[ "$(dmesg | grep -c 'puma_backend: connected to')" -ge "$1" ]
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

cold() {
	remount -o noatime && puma_drop_caches
}

# The backend's GET round trips, "FROM_US COUNT" per bucket, ascending.
rtt=/sys/kernel/debug/puma/get_rtt_us

# rtt_report NAME BEFORE: how many GETs were answered since the copy
# BEFORE of $rtt was taken, and their median and 99th percentile round
# trips (the floor of the bucket: 25 % resolution)
rtt_report() {
	[ -r "$rtt" ] || return 0
	awk -v n="$1" 'FNR == NR { b[$1] = $2; next }
		{ d = $2 - b[$1]; if (d > 0) { m++; f[m] = $1; c[m] = d; t += d } }
		END {
			if (!t) exit
			for (i = 1; i <= m; i++) {
				s += c[i]
				if (!h50 && s >= t * 0.5) { h50 = 1; p50 = f[i] }
				if (!h99 && s >= t * 0.99) { h99 = 1; p99 = f[i] }
			}
			printf "PUMA-RESULT %s.rtt_gets=%d\n", n, t
			printf "PUMA-RESULT %s.rtt_p50_us=%d\n", n, p50
			printf "PUMA-RESULT %s.rtt_p99_us=%d\n", n, p99
		}' "$2" "$rtt"
}

# randread NAME SEC SEED: random reads for SEC s (--count far above what
# they can read: the time ends them), per-second CSV and latency histogram
randread() {
	puma_bc "$1.run" --state "$state" read "$F" --random --seed "$3" \
		--count 100000000 --seconds "$2" --csv "/run/run-$1.csv" \
		--lat-log /run/lat.log
	_rrc=$?
	lat_hist "$1.run" /run/lat.log
	return $_rrc
}

# hostile_run ATTACK [OPTIONS]: one attack of tools/hostile on the
# server; its HOSTILE lines become results hostile.ATTACK.*
hostile_run() {
	_a=$1
	shift
	hostile --server "$server:7070" --key-file /etc/puma/psk \
		--attack "$_a" "$@" >"/run/hostile-$_a.out" 2>&1 &
	_hp=$!
	# At the lowest priority (busybox has renice, not nice): it shares
	# this VM's CPUs with the client whose hit ratio is measured, and
	# should cost the server, not it.
	renice -n 19 -p "$_hp" >/dev/null 2>&1
	wait "$_hp"
	puma_result "hostile.$_a.rc" "$?"
	sed -n 's/^HOSTILE /PUMA-RESULT hostile./p' "/run/hostile-$_a.out"
}

# hostile_attacks: with the right key where the attack needs one
# (Documentation/security.rst, "Testing"), during the measured reads
# (about 55 s): the attacks on the protocol one after the other, the
# floods beside them (GETs of keys never PUT: the server's work, not
# bandwidth).  hostile_after, once the reads are over: a GET flood of
# hits and 1,000 connections.  The attacker shares this VM: its hits
# would fill this VM's own emulated NIC, and its connections this VM's
# CPU, which measures TCG, not the server.
hostile_attacks() {
	hostile_run good
	(
		hostile_run put-flood --count 20000 --seconds 20
		hostile_run never-read --seconds 10
		hostile_run get-flood --miss --seconds 5
	) &
	_fl=$!
	for _a in nokey wrongkey replay-handshake tampered-put replay-msg \
		oversized; do
		hostile_run "$_a" --seconds 3
	done
	hostile_run truncated --seconds 14
	hostile_run slowloris --count 4 --interval-ms 500 --seconds 20
	wait "$_fl"
}

hostile_after() {
	hostile_run get-flood --seconds 5
	hostile_run connections --count 1000 --handshake --seconds 12
	hostile_run good
}

# hostile_server ATTACK: this VM's backend reconnected to tools/hostile
# serving ATTACK on 127.0.0.1:7070 (the same key): the file's first 4,096
# blocks read, dropped from the cache (put to the tool), read again (got
# from it, or refused), every block verified; results stats.ATTACK.*
# (the backend's counters start at its insmod) and hostile.ATTACK.*
hostile_server() {
	_ko=/lib/modules/puma/puma_backend.ko
	if [ -d /sys/module/puma_backend ]; then
		puma_step "$1.rmmod" rmmod puma_backend || return 1
	fi
	hostile --listen 127.0.0.1:7070 --key-file /etc/puma/psk --attack "$1" \
		--seconds 300 >"/run/hostile-$1.out" 2>&1 &
	_hs=$!
	_n=$(($(dmesg | grep -c 'puma_backend: connected to') + 1))
	puma_step "$1.insmod" insmod "$_ko" role=client transport=tcp \
		server_addr=127.0.0.1:7070 get_timeout_us=1000000 &&
		wait_for "$1.connected" 60 connected_n "$_n" || return 1
	puma_step "$1.cold" cold || return 1
	puma_bc "$1.fill" --state "$state" read "$F" --seq --count 4096
	puma_drop_caches
	settle
	snap "stats.$1.filled"
	puma_bc "$1.back" --state "$state" read "$F" --seq --count 4096
	snap "stats.$1.back"
	puma_step "$1.rmmod2" rmmod puma_backend
	kill "$_hs" 2>/dev/null
	wait "$_hs"
	sed -n 's/^HOSTILE /PUMA-RESULT hostile./p' "/run/hostile-$1.out" |
		grep -v '\.conn[0-9]'
}

# phase NAME: cold cache, sequential warm-up over the whole file, then the
# measured random reads for $dur seconds (phase hostile: for 60 s, while
# hostile_attacks runs, then hostile_after)
phase() {
	puma_step "$1.cold" cold || return 1
	snap "stats.$1.before"
	put_base=$(pstat puts_sent)
	puma_mem_report "$1.mem_before"
	_pt0=$(puma_uptime)
	puma_result "$1.t_warm" "$_pt0"
	puma_bc "$1.warm" --state "$state" read "$F" --seq \
		--csv "/run/warm-$1.csv" || return 1
	if [ "$1" != nopuma ]; then
		settle
		put_pages=$(($(pstat puts_sent) - put_base))
		puma_result "$1.put_phase_s" "$(puma_elapsed "$_pt0")"
		puma_result "$1.put_pages" "$put_pages"
		if [ -n "${pc_warmed:-}" ]; then
			nc_send "$pc_warmed" 7077 "tell $pc_warmed" warmed
			pc_warmed=
		fi
	fi
	snap "stats.$1.warm"
	puma_mem_report "$1.mem_warm"
	puma_result "$1.t_run" "$(puma_uptime)"
	[ "${pc_kill:-0}" = 1 ] && echo "PUMA-MARK measured-start"
	_hpid=
	if [ "$1" = hostile ]; then
		hostile_attacks &
		_hpid=$!
	fi
	mark "$1.run_start"
	# A first line, so that awk never takes an empty copy for none.
	{ echo "- 0"; cat "$rtt" 2>/dev/null; } >/run/rtt.before
	_rd=$dur
	[ "$1" != hostile ] || _rd=60
	randread "$1" "$_rd" "$seed"
	_prc=$?
	mark "$1.run_end"
	rtt_report "$1" /run/rtt.before
	puma_mem_report "$1.mem_run"
	if [ -n "$_hpid" ]; then
		wait "$_hpid"
		snap "stats.$1.run"
		hostile_after
		snap "stats.$1.after"
	else
		snap "stats.$1.run"
	fi
	puma_export "/run/warm-$1.csv"
	puma_export "/run/run-$1.csv"
	return $_prc
}

# tcp_baseline PAGES: PAGES pages of plain user-space TCP to the server's
# tcpbench (port 7071), in 32-page messages behind a header the size of a
# full PUMA PUT's, timed until the server has acknowledged the last page.
tcp_baseline() {
	_out=/run/tcpbench.out
	tcpbench client --host "$server" --port 7071 --pages "$1" \
		--batch 32 --header 816 >"$_out" 2>&1 ||
		puma_fail "plain TCP baseline to $server:7071 failed"
	cat "$_out"
	puma_kv tcp "$(grep '^TCPBENCH client ' "$_out" | tail -1)"
}

# kernel_tcp PAGES [NAME]: the same transfer through PUMA's transport
# ($transport), from the transport benchmark module to its sink on the
# server (port 7072); results NAME.* (default tcpk)
kernel_tcp() {
	_ko=/lib/modules/puma/puma_transport_bench.ko
	[ -e "$_ko" ] || return 0
	if insmod "$_ko" role=source transport="$transport" \
		addr="$(addr 7072)" pages="$1"; then
		puma_kv "${2:-tcpk}" "$(dmesg | grep 'puma_transport_bench: source ' | tail -1)"
		rmmod puma_transport_bench
	else
		dmesg | grep puma_transport_bench | tail -3
		puma_fail "PUMA transport benchmark to $(addr 7072) failed"
	fi
}

# sec_bench PAGES: kernel_tcp PAGES with each security mode on both ends
# (new connections take the mode set now), results tcpk_MODE.*
sec_bench() {
	_sp=/sys/module/puma_tcp/parameters/security
	_was=$(cat "$_sp")
	for _m in none auth encrypt; do
		srv security "$_m" || return 1
		echo "$_m" >"$_sp" || { puma_fail "cannot set security=$_m"; return 1; }
		kernel_tcp "$1" "tcpk_$_m"
	done
	srv security "$_was"
	echo "$_was" >"$_sp"
}

# bench PAGES: kernel_tcp PAGES over TCP, then over virtio, on this same
# pair of VMs (the server loads the sink of each in turn)
bench() {
	_was=$transport
	for transport in tcp virtio; do
		srv sink "$transport" || break
		kernel_tcp "$1" "bench_$transport"
	done
	transport=$_was
}

insmod_backend() {
	puma_step insmod.backend insmod /lib/modules/puma/puma_backend.ko \
		role=client transport="$transport" server_addr="$(addr 7070)" \
		get_timeout_us="${pc_get_timeout_us:-200000}" &&
		wait_for connected 60 connected_n 1 &&
		puma_result node "$(dmesg | sed -n 's/.*connected to .* as node //p' | tail -n 1)"
}

base() {
	puma_result file.blocks "$(blockcheck --state "$state" state "$F" |
		sed -n 's/.* blocks=\([0-9]*\).*/\1/p')"
	for p in $phases; do
		if [ "$p" != nopuma ] && ! connected_n 1; then
			insmod_backend || return 1
		fi
		phase "$p" || return 1
	done
	if [ "${pc_kill:-0}" = 1 ]; then
		# The host killed the server during the measured pass and booted
		# a new one: the client must find it on its own.
		wait_for reconnect 180 connected_n 2
		snap stats.reconnected
		# Hand the new server this VM's cache (dropping clean pages puts
		# them, as reclaim does), so the pass below reads from it: with
		# memory to spare after the kill, the pass itself may evict
		# nothing and the new server would never be used.
		puma_drop_caches
		snap stats.handed
		randread after "${pc_after_dur:-30}" "$((seed + 1))"
		snap stats.after
		puma_export /run/run-after.csv
	fi
	# The plain-TCP baseline moves as many pages as PUMA's put phase did
	# (at most pc_tcp_max).
	if [ "$tcp_max" -gt 0 ]; then
		n=$put_pages
		[ "$n" -gt 0 ] || n=$tcp_max
		[ "$n" -le "$tcp_max" ] || n=$tcp_max
		tcp_baseline "$n"
		kernel_tcp "$n"
		snap stats.end
	fi
	[ "${pc_sec_bench:-0}" = 0 ] || sec_bench "$pc_sec_bench"
	[ "${pc_bench:-0}" = 0 ] || bench "$pc_bench"
	if [ "${pc_hostile_server:-0}" = 1 ]; then
		hostile_server serve || return 1
		hostile_server tampered-get-response || return 1
	fi
	puma_result connects "$(dmesg | grep -c 'puma_backend: connected to')"
}

# fill NAME: cold cache (a new pool on the server), a sequential pass over
# the whole file: what the client's cache cannot keep goes to the server
fill() {
	puma_step "fill.$1.cold" cold || return 1
	_fb=$(pstat puts_sent)
	_ft0=$(puma_uptime)
	puma_result "fill.$1.t_start" "$_ft0"
	puma_bc "fill.$1" --state "$state" read "$F" --seq || return 1
	settle
	puma_result "fill.$1.s" "$(puma_elapsed "$_ft0")"
	puma_result "fill.$1.puts" "$(($(pstat puts_sent) - _fb))"
}

exp1() {
	set -- "${ex_malloc_total:-256M}" "${ex_malloc_chunk:-1M}" "${ex_malloc_dur:-60}"
	srv malloc nohost "$@" || return 1
	fill host || return 1
	snap stats.filled
	srv malloc host "$@" || return 1
	snap stats.end
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
		# put too little to turn them over in minutes).
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
		puma_result "$_m.t_run" "$(puma_uptime)"
		puma_bc "$_m.run" --state "$state" read "$F" --random --seed 1 \
			--count 100000000 --seconds "$((_pre + _io + _post))" \
			--csv "/run/client-$_m.csv" &
		_bc=$!
		sleep "$_pre"
		puma_result "$_m.t_io" "$(puma_uptime)"
		srv_send io "$_m" "$_io" || return 1
		srv_wait || return 1
		puma_result "$_m.t_io_end" "$(puma_uptime)"
		wait "$_bc"
		snap "stats.$_m.after"
		puma_export "/run/client-$_m.csv"
	done
}

net_up "${pc_ip:-10.0.0.2}" "${pc_mtu:-1500}" || exit 1
mkdir -p "$mnt"
mount -t ext4 -o noatime "$dev" "$mnt" || { puma_fail "cannot mount $dev"; exit 1; }
[ -r "$state" ] || { puma_fail "no blockcheck state $state"; exit 1; }
wait_for server 180 server_up || exit 1
if [ "${pc_await_warmed:-0}" = 1 ]; then
	echo "PUMA-STEP waiting for the other client's warm-up"
	_w=$(timeout 1200 nc -l -p 7077 2>/dev/null)
	[ "$_w" = warmed ] || puma_fail "the other client said '$_w', not warmed"
	puma_result t_warmed "$(puma_uptime)"
fi

case "${ex_name:-}" in
'') base ;;
exp[1-4]) insmod_backend && "$ex_name" ;;
*) puma_fail "unknown experiment '$ex_name'" ;;
esac
dmesg | grep 'puma' | tail -n 20
grep -i ivshmem /proc/interrupts
cat /sys/kernel/debug/puma_virtio/media 2>/dev/null | head -n 6

# Tell the server that we are done (it exports its samples and stops).
srv_send stop || puma_fail "cannot tell the server to stop"
umount "$mnt"
