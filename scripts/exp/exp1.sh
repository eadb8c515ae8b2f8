#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Experiment 1 (paper figures 3 and 4): allocation latency on a server
# that hosts a client's pages, against the same server hosting none
# (Documentation/experiments.rst says what runs, why, and what was
# measured).  Acceptance, asserted unless --no-assert: >= 10000 pages
# hosted when the second run starts and some reclaimed during it; p99
# with hosted pages <= 2.0x p99 without (a short run that misses only
# this runs once more, in OUTDIR/retry, and fails if it misses again).
#
#   exp1.sh [--short] [--kdir DIR] [--debug] [--outdir DIR] [--dur SEC]
#           [--chunk SIZE] [--wsf N|default] [--trace US|sched]
#           [--no-assert] [--report-only] [--verbose]
#
#   --short        60 s of allocations instead of 300
#   --chunk SIZE   mallocbench's chunk (default 1M)
#   --wsf N        the server's vm.watermark_scale_factor (default 100;
#                  "default": the kernel's)
#   --trace US     record the server's kernel calls slower than US
#                  microseconds (function graph; benchmark kernel only)
#   --trace sched  break every allocation of 20 ms or more down by what
#                  had the CPU (report/sched-{nohost,host}.txt)
#   --report-only  only the report of an earlier run in OUTDIR
#
# Outputs in OUTDIR/report/: malloc-{nohost,host}.csv, server-memory.csv,
# exp1.png, exp1-memory.png, table.txt, summary.txt.
# Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

orig_args=("$@")
short=
retried=
dur=
chunk=1M
trace=
wsf=100
exp_parse "short dur= chunk= retried trace= wsf=" "$@"
[ -n "$dur" ] || dur=$([ -n "$short" ] && echo 60 || echo 300)
trace=${trace:+ex_mtrace_thresh=$trace}
rig_num dur
[[ "$chunk" =~ ^[0-9]+[KM]$ ]] || die "bad --chunk '$chunk'"
[[ "${trace#*=}" =~ ^([0-9]*|sched)$ ]] || die "bad --trace '${trace#*=}'"
if [ "$wsf" = default ]; then
	wsf=
elif ! [[ "$wsf" =~ ^[1-9][0-9]{0,3}$ ]] || [ "$wsf" -gt 3000 ]; then
	die "bad --wsf '$wsf' (1-3000 or default)"
fi

# About the same MemTotal either way: KASAN (--debug) takes about 130 MiB
# of a 512 MiB VM.
exp_server_mem 384M 512M
exp_run --server-mem "$server_mem" --client-mem 256M --server-params max_hosted_pct=90 --timeout $((dur * 3 + 900)) \
	ex_malloc_total=70% ex_malloc_chunk="$chunk" ex_malloc_dur="$dur" ${wsf:+"ex_wsf=$wsf"} ${trace:+"$trace"}
exp_results
d=$(exp_param ex_malloc_dur)
dur=${d:-$dur}
c=$(exp_param ex_malloc_chunk)
chunk=${c:-$chunk}

for r in nohost host; do
	for k in count mean_us stddev_us p50_us p99_us max_us late failures total \
		 hosted_before hosted_after throttled throttled_ms; do
		put "$r.$k" "$(get "server.$r.$k")"
	done
	put "$r.reclaimed" "$(( $(num "server.$r.reclaimed_after") - $(num "server.$r.reclaimed_before") ))"
	put "$r.suspends" "$(( $(num "server.$r.suspends_after") - $(num "server.$r.suspends_before") ))"
	f=$outdir/server/files/malloc-$r.csv
	[ -r "$f" ] && awk -F, 'NR == 1 { print "t_s,latency_ms"; next }
		{ printf "%s,%.3f\n", $1, $4 / 1000 }' "$f" >"$rep/malloc-$r.csv"
	f=$outdir/server/files/slow-$r.txt
	if [ "$(exp_param ex_mtrace_thresh)" = sched ] && [ -r "$f" ]; then
		awk -v min_ms=20 -f "$root/scripts/exp/sched-breakdown.awk" "$f" >"$rep/sched-$r.txt"
	fi
done
put fill.puts "$(get client.fill.host.puts)"
put fill.s "$(get client.fill.host.s)"
p99n=$(num server.nohost.p99_us)
p99h=$(num server.host.p99_us)
ratio=$(awk -v a="$p99h" -v b="$p99n" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
put p99_ratio "$ratio"
mem=$outdir/server/files/mem.csv
if [ -r "$mem" ]; then
	awk -F, 'NR == 1 { print "t_s,free_mib,active_file_mib,local_inactive_file_mib,hosted_mib"; next }
		{ h = $5 * 4; li = $4 - h; if (li < 0) li = 0
		  printf "%s,%.1f,%.1f,%.1f,%.1f\n", $1, $2 / 1024, $3 / 1024, li / 1024, h / 1024 }' \
		"$mem" >"$rep/server-memory.csv"
fi

wsf_used=$(get server.wsf)
ms() { awk -v v="$1" 'BEGIN { printf "%.2f ms", v / 1000 }'; }
row() { printf '%-34s %16s %16s\n' "$1" "$2" "$3"; }
{
	echo "Experiment 1: allocation latency on the server (mallocbench, $(s nohost.total) in $chunk chunks over ${dur} s, vm.watermark_scale_factor ${wsf_used:-unknown})"
	row "" "hosting none" "hosting pages"
	row "pages hosted at start" "$(s nohost.hosted_before)" "$(s host.hosted_before)"
	row "pages reclaimed during the run" "$(s nohost.reclaimed)" "$(s host.reclaimed)"
	row "allocations" "$(s nohost.count)" "$(s host.count)"
	for k in mean stddev p50 p99 max; do
		row "latency $k" "$(ms "$(s "nohost.${k}_us")")" "$(ms "$(s "host.${k}_us")")"
	done
	row "p99 ratio (hosting / none)" "" "${ratio}x (limit 2.0x)"
	row "lending suspensions during run" "$(s nohost.suspends)" "$(s host.suspends)"
	row "reclaim throttle sleeps (count)" "$(s nohost.throttled)" "$(s host.throttled)"
	row "reclaim throttle sleeps (total)" "$(s nohost.throttled_ms) ms" "$(s host.throttled_ms) ms"
} >"$rep/table.txt"
cat "$rep/table.txt"

if command -v gnuplot >/dev/null && [ -s "$rep/malloc-host.csv" ]; then
	rig_plot "$rep/exp1.png" <<EOF
set title 'Server allocation latency ($chunk mmap + touch), hosting none vs hosting a client''s pages'
set xlabel 'seconds into the run'
set ylabel 'latency (ms)'
set logscale y
plot '$rep/malloc-nohost.csv' using 1:2 every ::1 with points pt 7 ps 0.5 title 'hosting none', \
     '$rep/malloc-host.csv' using 1:2 every ::1 with points pt 7 ps 0.5 title 'hosting pages'
EOF
	[ -s "$rep/server-memory.csv" ] && rig_plot "$rep/exp1-memory.png" <<EOF
set title 'Server memory during experiment 1, sampled every second'
set xlabel 'seconds since the server booted'
set ylabel 'MiB'
set yrange [0:*]
set key left top
plot for [c=2:5] '$rep/server-memory.csv' using 1:c every ::1 with lines lw 2 title columnhead(c)
EOF
fi

exp_checks client
if [ "$(num server.nohost.failures)" -ne 0 ] || [ "$(num server.host.failures)" -ne 0 ] ||
   [ -z "$(get server.nohost.p99_us)" ] || [ -z "$(get server.host.p99_us)" ]; then
	fail "mallocbench did not complete both runs"
fi
[ "$(num server.host.hosted_before)" -ge 10000 ] ||
	fail "only $(num server.host.hosted_before) pages hosted when the second run started (floor 10000)"
[ "$(s host.reclaimed)" -gt 0 ] || fail "no hosted page reclaimed during the second run"
if ! awk -v r="$ratio" 'BEGIN { exit !(r > 0 && r <= 2.0) }'; then
	# A short run's p99 is its third slowest allocation of 253: one
	# stall of a busy host decides it.  Everything else passed, so run
	# the pair once more; two misses in a row fail.
	if [ "$dur" -lt 300 ] && [ "$bad" = 0 ] && [ -z "$retried$report_only" ] &&
	   [ -z "$no_assert" ]; then
		echo "exp1: p99 ratio ${ratio}x over the 2.0x limit in a short run: running it once more (in $outdir/retry)" >&2
		exec "$0" "${orig_args[@]}" --retried --outdir "$outdir/retry"
	fi
	fail "p99 with hosted pages ${ratio}x the no-hosting p99 (limit 2.0x)"
fi
exp_verdict "report/, exp1.png"
