#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the server VM of scripts/vm/pair.sh and of the paper's
# experiments (scripts/vm/pair.sh --exp).  puma_backend runs with
# role=server over TCP (loaded by /init).  This script brings the link
# up, samples the server's memory every second into mem.csv, and runs
# the commands the client (pair-client.sh) sends on port 7079, answering
# "done" on the client's port 7078 when one is finished:
#
#   malloc NAME TOTAL CHUNK SEC   mallocbench (allocation latency, exp. 1);
#                                 TOTAL may be N% of MemTotal
#   mode MODE [warm]              detector=MODE, the server's own file
#                                 cold (warm: then read once), wait until
#                                 lending is on (exp. 4)
#   io NAME SEC                   SEC s of random reads over the server's
#                                 own file (exp. 4), with the suspensions
#                                 and resumptions seen meanwhile
#   lru inactive|full             hosted_lru= (where hosted pages join
#                                 the LRU, exp. 2)
#   policy on|off                 deactivation_policy=Y|N, the server's own
#                                 file cold (exp. 3)
#   seq NAME PASSES               sequential passes over the server's own
#                                 file (exp. 3: two make its pages active)
#   snap NAME                     memory and hosted pages as results
#   mark NAME                     NAME=now (uptime) as a result; no answer
#   security MODE                 puma_tcp security=MODE for new links
#   sink TRANSPORT                the transport benchmark's sink on
#                                 port 7072 of TRANSPORT (tcp, virtio)
#   stop                          export the samples and end (once each
#                                 client has said it)
#
# Parameters (kernel command line):
#   ps_ip=A ps_client=A   our and the client's addresses (10.0.0.1, .2)
#   ps_mtu=N       MTU of eth0 (default 1500)
#   ps_name=N      name of this server in results (base scenario)
#   ps_clients=N   how many clients say "stop" (default 1)
#   ps_backend=0   no PUMA in this run (base scenario; default 1)
#   ps_transport=T the backend's transport, tcp (default) or virtio: its
#                  counters go in mem.csv's pages_received and end.T.*
#   ex_name=E, or ps_file=0|1: an experiment's server; ps_file=1: /dev/vda
#                  holds its own stamped file "srv" (/etc/puma/srv.state)
#
# The base scenario's server serves the plain-TCP baseline (tcpbench,
# port 7071).  An experiment's server times lending events with the
# backend's tracepoints puma_suspend and puma_resume, trace_clock "mono"
# (CLOCK_MONOTONIC, the clock of /proc/uptime in a VM that never sleeps).
#
# Exported: mem.csv (t_s,memfree_kb,active_file_kb,inactive_file_kb,
# hosted_pages,server_stored,server_hits, then pages_received (the TCP
# transport's) or, in an experiment, reclaimed,suspended,server_suspends
# and the cumulative cpu_busy_ticks,cpu_idle_ticks,cpu_iowait_ticks,
# pgsteal,pgscan), malloc-NAME.csv (mallocbench), io-NAME.csv
# (blockcheck), lending.csv (t_s,event,reason: every suspension and
# resumption of the run), with ps_clients=2 sessions.csv (t_s,node,pages,
# charged,taken,cap,total: each client's line of debugfs puma/sessions,
# every second).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

client=${ps_client:-10.0.0.2}
ps_ip=${ps_ip:-10.0.0.1}
[ "${ps_transport:-tcp}" != virtio ] || tstats=$vstats
ex=${ex_name:-${ps_file:+exp}}
own=${ps_file:-0}
det=/sys/kernel/debug/puma/detector
param=/sys/module/puma_backend/parameters
mnt=/mnt/srv
F=$mnt/srv
state=/etc/puma/srv.state
tr=/sys/kernel/tracing

# lending_events: every suspension/resumption so far as t_s,event,reason
lending_events() {
	[ -r "$tr/trace" ] || return 0
	awk '/puma_(suspend|resume):/ {
		for (i = 1; i <= NF; i++) if ($i ~ /^puma_(suspend|resume):$/) break
		t = $(i - 1); sub(/:$/, "", t)
		ev = $i; sub(/^puma_/, "", ev); sub(/:$/, "", ev)
		r = ""; for (j = i + 1; j <= NF; j++) if ($j ~ /^reason=/) r = substr($j, 8)
		if ($(i + 1) == "server") printf "%s,%s,%s\n", t, ev, r
	}' "$tr/trace"
}

# Variables of the command functions are x-prefixed: lib.sh's helpers
# use _-prefixed globals.

# cold_own: the server's own file out of its page cache
cold_own() {
	[ "$own" = 1 ] && remount -o noatime
}

# vmsnap PREFIX: reclaim counters and free blocks per order, to tell
# memory-pressure reclaim from high-order (kswapd order > 0) reclaim
vmsnap() {
	awk -v p="$1" '$1 ~ /^(pgsteal_kswapd|pgsteal_direct|pgscan_kswapd|pgscan_direct|allocstall_dma32|allocstall_normal|pageoutrun|kswapd_low_wmark_hit_quickly|kswapd_high_wmark_hit_quickly|workingset_refault_file|workingset_activate_file|compact_stall|compact_success|compact_migrate_scanned|pgmigrate_success|pgdeactivate|pgactivate)$/ {
		printf "PUMA-RESULT %s.vm.%s=%s\n", p, $1, $2 }' /proc/vmstat
	awk -v p="$1" '$4 == "DMA32" {
		s = $5; for (i = 6; i <= NF; i++) s = s ":" $i
		printf "PUMA-RESULT %s.buddy_dma32=%s\n", p, s }' /proc/buddyinfo
}

# hosted PREFIX SUFFIX: hosted, reclaimed and suspension counts
hosted() {
	puma_result "$1.hosted$2" "$(pstat hosted)"
	puma_result "$1.reclaimed$2" "$(pstat reclaimed)"
	puma_result "$1.suspends$2" "$(pstat server_suspends)"
}

# With ex_mtrace_thresh=US on the kernel command line (exp1.sh --trace),
# kernel calls slower than US on the allocation and reclaim paths are
# recorded with the function graph tracer (benchmark kernel): what a slow
# allocation spent its time in; ex_mtrace_graph=FUNC records every call
# under FUNC instead.  With ex_mtrace_thresh=sched, scheduler, interrupt
# and reclaim events instead (any kernel): who had the CPU while an
# allocation waited (scripts/exp/sched-breakdown.awk reads them).  Off by
# default: it slows what it watches.  Switching tracers empties the trace
# buffer, so this is for exp1, which reads no PUMA event from it
# afterwards.
malloc_trace_start() {
	[ -n "${ex_mtrace_thresh:-}" ] || return 0
	if [ "$ex_mtrace_thresh" = sched ]; then
		echo 0 >"$tr/tracing_on"
		: >"$tr/trace"
		echo 16384 >"$tr/buffer_size_kb"
		for _e in sched/sched_switch sched/sched_wakeup \
			  irq/softirq_entry irq/softirq_exit \
			  irq/irq_handler_entry irq/irq_handler_exit \
			  vmscan/mm_vmscan_direct_reclaim_begin \
			  vmscan/mm_vmscan_direct_reclaim_end \
			  vmscan/mm_vmscan_kswapd_wake vmscan/mm_vmscan_kswapd_sleep; do
			echo 1 >"$tr/events/$_e/enable"
		done
		echo 1 >"$tr/tracing_on"
		return 0
	fi
	grep -qw function_graph "$tr/available_tracers" 2>/dev/null || return 0
	: >"$tr/set_ftrace_filter"
	if [ -n "${ex_mtrace_graph:-}" ]; then
		echo "$ex_mtrace_graph" >"$tr/set_graph_function"
	else
		for _f in exc_page_fault handle_mm_fault '*alloc_pages*' \
			  try_to_free_pages 'shrink_*' '*compact*' '*drain*' \
			  '*kswapd*' __pte_alloc 'clear_page*' 'rmqueue*' \
			  get_page_from_freelist '__mem_cgroup_charge*' \
			  'folio_add_lru*' 'puma_*' 'free_unref*' '__folio_put*'; do
			echo "$_f" >>"$tr/set_ftrace_filter" 2>/dev/null
		done
	fi
	echo "$ex_mtrace_thresh" >"$tr/tracing_thresh"
	echo function_graph >"$tr/current_tracer" || return 0
	echo 1 >"$tr/options/funcgraph-abstime"
	echo 1 >"$tr/options/funcgraph-proc"
}

malloc_trace_stop() {
	if [ "${ex_mtrace_thresh:-}" = sched ]; then
		echo 0 >"$tr/tracing_on"
		for _e in sched irq vmscan; do
			echo 0 >"$tr/events/$_e/enable"
		done
		grep -E '^(entries|overrun|dropped)' "$tr/per_cpu/cpu0/stats" |
			sed "s/^/# stats: /" >"/run/slow-$1.txt"
		cat "$tr/trace" >>"/run/slow-$1.txt"
		: >"$tr/trace"
		echo 1 >"$tr/tracing_on"
		puma_export "/run/slow-$1.txt"
		return 0
	fi
	grep -qw function_graph "$tr/current_tracer" 2>/dev/null || return 0
	cp "$tr/trace" "/run/slow-$1.txt"
	echo nop >"$tr/current_tracer"
	echo 0 >"$tr/tracing_thresh"
	: >"$tr/set_ftrace_filter"
	: >"$tr/set_graph_function"
	puma_export "/run/slow-$1.txt"
}

cmd_malloc() {
	xn=$1
	xtot=$2
	case "$xtot" in
	*%)	# a share of MemTotal
		xtot="$(($(puma_meminfo MemTotal) * ${xtot%\%} / 100))K" ;;
	esac
	puma_result "$xn.total" "$xtot"
	hosted "$xn" _before
	puma_mem_report "$xn.mem_before"
	vmsnap "$xn.before"
	# Reclaim's throttling sleeps (reclaim_throttle(), up to HZ/10 each)
	xthr=$tr/events/vmscan/mm_vmscan_throttled/enable
	[ -w "$xthr" ] && echo 1 >"$xthr"
	malloc_trace_start
	xt0=$(puma_uptime)
	puma_result "$xn.t_start" "$xt0"
	echo "PUMA-STEP $xn: mallocbench --total $xtot --chunk $3 --duration $4"
	mallocbench --total "$xtot" --chunk "$3" --duration "$4" \
		--csv "/run/malloc-$xn.csv" >/run/mb.out 2>&1 ||
		puma_fail "$xn: mallocbench exited with status $?"
	cat /run/mb.out
	puma_kv "$xn" "$(grep '^MALLOCBENCH alloc ' /run/mb.out | tail -1)"
	xt1=$(puma_uptime)
	puma_result "$xn.t_end" "$xt1"
	[ -w "$xthr" ] && echo 0 >"$xthr"
	malloc_trace_stop "$xn"
	xtf=/run/slow-$xn.txt
	[ -r "$xtf" ] || xtf=$tr/trace
	# The timestamp is the last number before the event's name, in the
	# event tracer's and in the function graph tracer's formats.
	[ -r "$xtf" ] && awk -v t0="$xt0" -v t1="$xt1" -v n="$xn" '
		/mm_vmscan_throttled:/ {
			for (i = 1; i <= NF; i++) if ($i == "mm_vmscan_throttled:") break
			for (k = 1; k < i; k++) if ($k ~ /^[0-9]+\.[0-9]+:?$/) t = $k
			sub(/:$/, "", t)
			if (t + 0 < t0 + 0 || t + 0 > t1 + 0) next
			c++
			for (j = i + 1; j <= NF; j++) {
				# the format says "usect_delayed" in 6.12
				if ($j ~ /^usect?_delayed=/) { v = $j; sub(/^[^=]*=/, "", v); d += v }
				if ($j ~ /^reason=/) r[substr($j, 8)]++
			}
		}
		END {
			printf "PUMA-RESULT %s.throttled=%d\n", n, c
			printf "PUMA-RESULT %s.throttled_ms=%d\n", n, d / 1000
			for (k in r) printf "PUMA-RESULT %s.throttled.%s=%d\n", n, k, r[k]
		}' "$xtf"
	hosted "$xn" _after
	vmsnap "$xn.after"
	puma_export "/run/malloc-$xn.csv"
}

cmd_mode() {
	echo "$1" >"$param/detector" || puma_fail "cannot set detector=$1"
	cold_own
	# warm: the server has used its file before the client's pages come;
	# what they push out leaves shadow entries, as on a real server.
	if [ "${2:-}" = warm ] && [ "$own" = 1 ]; then
		puma_bc "mode.$1.warm" --state "$state" read "$F" --seq
	fi
	# A suspension of the previous run may still run its window.
	xi=0
	while [ "$(pstat state "$det")" != lending ] && [ "$xi" -lt 30 ]; do
		xi=$((xi + 1))
		sleep 1
	done
	puma_result "mode.$1.wait_lending_s" "$xi"
}

cmd_security() {
	echo "$1" >/sys/module/puma_tcp/parameters/security ||
		puma_fail "cannot set security=$1"
}

cmd_sink() {
	_ko=/lib/modules/puma/puma_transport_bench.ko
	[ ! -d /sys/module/puma_transport_bench ] || rmmod puma_transport_bench
	case "$1" in
	virtio) _a=ivshmem0:7072 ;;
	*) _a=$ps_ip:7072 ;;
	esac
	insmod "$_ko" role=sink transport="$1" addr="$_a" ||
		puma_fail "cannot start the $1 sink on $_a"
}

cmd_lru() {
	echo "$1" >"$param/hosted_lru" || puma_fail "cannot set hosted_lru=$1"
}

cmd_policy() {
	case "$1" in
	on) echo Y ;;
	*) echo N ;;
	esac >"$param/deactivation_policy" ||
		puma_fail "cannot set deactivation_policy"
	cold_own
}

cmd_seq() {
	xk=0
	while [ "$xk" -lt "$2" ]; do
		xk=$((xk + 1))
		puma_bc "$1.pass$xk" --state "$state" read "$F" --seq
	done
	cmd_snap "$1"
}

cmd_snap() {
	puma_result "$1.t" "$(puma_uptime)"
	hosted "$1"
	for _k in policy_low policy_not_low policy_at_floor policy_suspended; do
		puma_result "$1.$_k" "$(pstat "$_k" "$det")"
	done
	puma_mem_report "$1.mem"
}

cmd_io() {
	xn=$1
	[ "$own" = 1 ] || { puma_fail "io: no server file"; return 1; }
	hosted "$xn" _before
	puma_result "$xn.state_before" "$(pstat state "$det")"
	puma_result "$xn.mode" "$(cat "$param/detector")"
	vmsnap "$xn.before"
	xt0=$(puma_uptime)
	puma_result "$xn.t_start" "$xt0"
	puma_bc "$xn" --state "$state" read "$F" --random --seed 7 \
		--count 100000000 --seconds "$2" --csv "/run/io-$xn.csv"
	xt1=$(puma_uptime)
	puma_result "$xn.t_end" "$xt1"
	hosted "$xn" _after
	vmsnap "$xn.after"
	# Suspensions and resumptions while the server's I/O ran.
	lending_events | awk -F, -v t0="$xt0" -v t1="$xt1" -v n="$xn" '
		$1 + 0 >= t0 + 0 && $1 + 0 <= t1 + 0 {
			if ($2 == "suspend") {
				s++
				if (s == 1) { first = $1 - t0; why = $3 }
			} else if (s > 0) r++
		}
		END {
			printf "PUMA-RESULT %s.io_suspends=%d\n", n, s
			printf "PUMA-RESULT %s.io_resumes_after_first=%d\n", n, r
			if (s > 0) {
				printf "PUMA-RESULT %s.first_suspend_s=%.3f\n", n, first
				printf "PUMA-RESULT %s.first_suspend_reason=%s\n", n, why
			}
		}'
	puma_export "/run/io-$xn.csv"
}

# exp_setup: an experiment's server, before it says it is ready
exp_setup() {
	[ -r "$stats" ] || { puma_fail "no $stats: is puma_backend loaded?"; return 1; }
	if [ "$own" = 1 ]; then
		mkdir -p "$mnt"
		mount -t ext4 -o noatime "$dev" "$mnt" || { puma_fail "cannot mount $dev"; return 1; }
	fi
	mount -t tracefs nodev "$tr" 2>/dev/null
	if [ -w "$tr/trace_clock" ]; then
		echo mono >"$tr/trace_clock"
		echo 1 >"$tr/events/puma/puma_suspend/enable"
		echo 1 >"$tr/events/puma/puma_resume/enable"
		puma_result trace ok
	else
		puma_fail "no tracefs: cannot time the suspensions"
	fi
	# The root filesystem holds every program's code; compaction would
	# move it (kcompactd, once the server's memory is full), and under
	# TCG moved code is translated again: seconds of a slowed vCPU.  With
	# the rootfs on ramfs (pair.sh --exp boots with rootfstype=ramfs) its
	# pages are unevictable, and this keeps compaction off them.
	echo 0 >/proc/sys/vm/compact_unevictable_allowed 2>/dev/null
	# Under TCG, the first write to a guest page that once held translated
	# code (the kernel's init text, freed late in the boot, for one) makes
	# QEMU invalidate that code, charged to whichever allocation got those
	# pages first (QEMU's "info jit" counters).  Writing every free page
	# once, here, moves that to the boot.  Every zone, the DMA zone
	# included (allocations fall back to it before reclaim starts, and the
	# firmware ran there): mallocbench stops 1 MiB above the sum of the
	# zones' high watermarks and of what they keep for allocations from
	# higher zones: nothing is reclaimed (kswapd may wake once, and scans
	# nothing), let alone OOM-killed, which a fixed size did once (the
	# benchmark's page tables and the kernel allocate beside it).
	xkeep=$(awk '
		$1 == "high" { kb += 4 * $2 }
		$1 == "protection:" {
			gsub(/[(),]/, " ")
			m = 0
			for (i = 2; i <= NF; i++)
				if ($i + 0 > m)
					m = $i + 0
			kb += 4 * m
		}
		END { print kb + 1024 }' /proc/zoneinfo)
	xfree=$(puma_meminfo MemFree)
	if [ "${xfree:-0}" -gt $((xkeep + 65536)) ]; then
		mallocbench --total "${xfree}K" --chunk 1M --duration 0 \
			--keep-free "${xkeep}K" >/run/warmup.out 2>&1 ||
			echo "pair-server: warning: the warm-up allocation failed" >&2
		xbytes=$(sed -n 's/^bytes=//p' /run/warmup.out)
		puma_result warmup_kb "$((${xbytes:-0} / 1024))"
	fi
	# After the warm-up, which goes down to the high watermark this
	# raises.  ex_wsf: how far ahead of allocations kswapd frees memory,
	# in 1/10000 of it (the kernel's default 10).
	if [ -n "${ex_wsf:-}" ]; then
		echo "$ex_wsf" >/proc/sys/vm/watermark_scale_factor ||
			puma_fail "cannot set vm.watermark_scale_factor=$ex_wsf"
	fi
	puma_result wsf "$(cat /proc/sys/vm/watermark_scale_factor)"
}

net_up "$ps_ip" "${ps_mtu:-1500}" || exit 1
cols=t_s,memfree_kb,active_file_kb,inactive_file_kb,hosted_pages,server_stored,server_hits
if [ -n "$ex" ]; then
	exp_setup || exit 1
	cols=$cols,reclaimed,suspended,server_suspends,cpu_busy_ticks,cpu_idle_ticks,cpu_iowait_ticks,pgsteal,pgscan
else
	if [ "${ps_backend:-1}" = 1 ] && [ ! -r "$stats" ]; then
		puma_fail "no $stats: is puma_backend loaded?"
		exit 1
	fi
	puma_result name "${ps_name:-server}"
	cols=$cols,pages_received
	# The plain-TCP baseline's receiver: tcpbench serves one connection
	# at a time and checks every page it gets.
	tcpbench server --port 7071 >/run/tcpbench.out 2>&1 &
	sink=$!
fi
puma_result up_s "$(puma_uptime)"
echo "PUMA-MARK server-ready"

# One awk process a sample, the sampler the only writer of mem.csv: its
# own CPU time lands in what the experiments measure, and a fork per
# figure is slow under TCG.
csv=/run/mem.csv
echo "$cols" >"$csv"
scsv=/run/sessions.csv
echo t_s,node,pages,charged,taken,cap,total >"$scsv"
files=
for f in "$stats" "$tstats" "$det" "${stats%/*}/sessions"; do
	[ -r "$f" ] && files="$files $f"
done
(
	while :; do
		# shellcheck disable=SC2086 # files is split on purpose
		awk -v cols="$cols" -v st="$stats" -v ts="$tstats" -v dt="$det" \
			-v ss="${stats%/*}/sessions" -v scsv="$scsv" '
			FILENAME == "/proc/uptime" { v["t_s"] = $1 }
			FILENAME == ss && $1 == "cap" { cap = $2; total = $4 }
			FILENAME == ss && $1 == "session" {
				printf "%s,%s,%d,%d,%d,%d,%d\n", v["t_s"], $2, $4, $6,
					$8, cap, total >>scsv
			}
			FILENAME == "/proc/meminfo" {
				if ($1 == "MemFree:") v["memfree_kb"] = $2
				else if ($1 == "Active(file):") v["active_file_kb"] = $2
				else if ($1 == "Inactive(file):") v["inactive_file_kb"] = $2
			}
			FILENAME == st { v[$1] = $2 }
			FILENAME == ts && $1 == "pages_received" { v[$1] = $2 }
			FILENAME == dt && $1 == "state" { v["suspended"] = ($2 == "suspended") }
			# cumulative: busy (user+nice+system+irq+softirq), idle, iowait
			FILENAME == "/proc/stat" && $1 == "cpu" {
				v["cpu_busy_ticks"] = $2 + $3 + $4 + $7 + $8
				v["cpu_idle_ticks"] = $5
				v["cpu_iowait_ticks"] = $6
			}
			# by reclaimer, not the anon/file split of the same pages
			FILENAME == "/proc/vmstat" {
				if ($1 ~ /^pgsteal_(kswapd|direct|khugepaged)$/) v["pgsteal"] += $2
				else if ($1 ~ /^pgscan_(kswapd|direct|khugepaged)$/) v["pgscan"] += $2
			}
			END {
				v["hosted_pages"] = v["hosted"]
				n = split(cols, c, ",")
				printf "%s", v["t_s"]
				for (i = 2; i <= n; i++)
					printf ",%d", v[c[i]]
				print ""
			}' /proc/uptime /proc/meminfo $files /proc/stat /proc/vmstat \
			2>/dev/null >>"$csv"
		sleep 1
	done
) &
sampler=$!

stops=0
while :; do
	line=$(nc -l -p 7079 2>/dev/null)
	# shellcheck disable=SC2086 # split the command into words
	set -- $line
	case "${1:-}" in
	stop)
		stops=$((stops + 1))
		[ "$stops" -lt "${ps_clients:-1}" ] || break ;;
	mark) puma_result "${2:-mark}" "$(puma_uptime)" ;;
	malloc|mode|io|policy|lru|seq|snap|security|sink)
		xc=$1; shift; "cmd_$xc" "$@"; reply ;;
	"") ;;
	*) echo "pair-server: unknown command '$line'" ;;
	esac
done
kill "$sampler" ${sink:+"$sink"} 2>/dev/null
pstats end
if [ -n "$ex" ]; then
	pstats end.det "$det"
	echo t_s,event,reason >/run/lending.csv
	lending_events >>/run/lending.csv
	puma_export /run/lending.csv
else
	pstats "end.${ps_transport:-tcp}" "$tstats"
	cat /run/tcpbench.out
	grep -q 'TCPBENCH-FAIL' /run/tcpbench.out &&
		puma_fail "tcpbench server: a page was lost, duplicated or reordered"
fi
puma_mem_report end.mem
puma_result samples "$(($(wc -l <"$csv") - 1))"
puma_export "$csv" mem.csv
# Only with two clients: a hostile peer's thousand sessions would flood
# the console.
[ "${ps_clients:-1}" = 1 ] || puma_export "$scsv"
if [ "$own" = 1 ]; then
	umount "$mnt"
fi
