#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the server VM of scripts/vm/pair.sh.  puma_backend runs
# with role=server over TCP (loaded by /init).  This script brings the
# link up, samples the server's memory every second, serves the plain-TCP
# baseline, and waits until the client says the run is over.
#
# Parameters (kernel command line, reach us as environment variables):
#   ps_ip=A       our address (10.0.0.1)
#   ps_name=N     name of this server in results (server, server2, ...)
#   ps_mtu=N      MTU of eth0 (default 1500; pair.sh passes 9000)
#   ps_backend=0  no PUMA in this run (default 1: puma_backend is loaded)
#
# Ports: 7070 PUMA (the backend), 7071 plain-TCP baseline (tcpbench),
# 7079 stop message.
#
# Exported: mem.csv, one line a second:
#   t_s,memfree_kb,active_file_kb,inactive_file_kb,hosted_pages,
#   server_stored,server_hits,pages_received
# (t_s is this VM's uptime; hosted_pages is the backend's "hosted" count,
# server_* its counters, pages_received the TCP transport's).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

name=${ps_name:-server}
my_ip=${ps_ip:-10.0.0.1}
stats=/sys/kernel/debug/puma/stats
tstats=/sys/kernel/debug/puma_tcp/stats

# pstat FILE KEY: one "key value" counter (0 when absent)
pstat() {
	if [ -r "$1" ]; then
		awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1"
	else
		echo 0
	fi
}

# all_stats PREFIX: every backend and transport counter as a result
all_stats() {
	[ -r "$stats" ] && while read -r _k _v; do
		puma_result "$1.$_k" "$_v"
	done <"$stats"
	[ -r "$tstats" ] && while read -r _k _v; do
		puma_result "$1.tcp.$_k" "$_v"
	done <"$tstats"
	puma_mem_report "$1.mem"
}

ip link set lo up
ip addr add "$my_ip/24" dev eth0 || { puma_fail "cannot set $my_ip"; exit 1; }
ip link set eth0 mtu "${ps_mtu:-1500}" || puma_fail "cannot set MTU ${ps_mtu}"
ip link set eth0 up
if [ "${ps_backend:-1}" = 1 ] && [ ! -r "$stats" ]; then
	puma_fail "no $stats: is puma_backend loaded?"
	exit 1
fi
puma_result name "$name"
puma_result up_s "$(puma_uptime)"
echo "PUMA-MARK server-ready"

# One sample a second; the sampler is the only writer of mem.csv.
csv=/run/mem.csv
echo "t_s,memfree_kb,active_file_kb,inactive_file_kb,hosted_pages,server_stored,server_hits,pages_received" >"$csv"
(
	while :; do
		_t=$(puma_uptime)
		_m=$(awk '$1 == "MemFree:" { f = $2 }
			  $1 == "Active(file):" { a = $2 }
			  $1 == "Inactive(file):" { i = $2 }
			  END { printf "%d,%d,%d", f, a, i }' /proc/meminfo)
		_s=0,0,0
		[ -r "$stats" ] &&
			_s=$(awk '$1 == "hosted" { h = $2 }
				  $1 == "server_stored" { s = $2 }
				  $1 == "server_hits" { g = $2 }
				  END { printf "%d,%d,%d", h, s, g }' "$stats")
		echo "$_t,$_m,$_s,$(pstat "$tstats" pages_received)" >>"$csv"
		sleep 1
	done
) &
sampler=$!

# The plain-TCP baseline's receiver: tcpbench serves one connection at a
# time and checks every page it gets.
tcpbench server --port 7071 >/run/tcpbench.out 2>&1 &
sink=$!

# Wait for the client's stop message; another connection (a stray probe)
# only ends the wait if it says "stop".  The host's timeout bounds this.
until [ "$(nc -l -p 7079 2>/dev/null)" = stop ]; do
	:
done
kill "$sampler" "$sink" 2>/dev/null
all_stats end
cat /run/tcpbench.out
if grep -q 'TCPBENCH-FAIL' /run/tcpbench.out; then
	puma_fail "tcpbench server: a page was lost, duplicated or reordered"
fi
puma_result samples "$(($(wc -l <"$csv") - 1))"
puma_export "$csv" mem.csv
