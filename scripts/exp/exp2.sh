#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Experiment 2 (paper figure 5): client I/O, then server I/O: where
# hosted pages join the LRU (hosted_lru=inactive, then full) decides how
# fast the server gets its memory back (Documentation/experiments.rst).
# Nothing is asserted beyond a clean run.
#
#   exp2.sh [--kdir DIR] [--debug] [--outdir DIR] [--io SEC] [--lru LIST]
#           [--no-assert] [--report-only] [--verbose]
#
#   --io SEC       the server's random reads (default 120)
#   --lru LIST     placements to run (default inactive,full)
#
# Outputs in OUTDIR/report/: server-io-{reference,PLACEMENT}.csv,
# server-memory-PLACEMENT.csv, exp2-PLACEMENT.png, summary.txt.
# Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

io=120
lru=inactive,full
exp_parse "io= lru=" "$@"
rig_num io
[[ "$lru" =~ ^(inactive|full)(,(inactive|full))?$ ]] || die "bad --lru '$lru'"
nlru=$(echo "$lru" | tr , '\n' | wc -l)

# The server's own file and the client's pages must not fit together:
# KASAN (--debug) takes about 110 MiB of a 384 MiB VM, so its MemTotal
# is close to a 256 MiB VM's without.
exp_server_mem 256M 384M
exp_run --server-mem "$server_mem" --client-mem 256M --server-blocks 24576 --server-iops 400 \
	--server-params "detector=off max_hosted_pct=90" \
	--timeout $(( (1 + nlru) * io + nlru * 600 + 600 )) \
	ex_io="$io" ex_lru="$lru"
exp_results
if [ -n "$report_only" ]; then
	# the placements the server ran, and their I/O time
	lru=$(exp_runs)
	d=$(exp_param ex_io)
	io=${d:-$io}
fi
runs="reference ${lru//,/ }"
files=$outdir/server/files
for r in $runs; do
	[ -r "$files/io-$r.csv" ] &&
		awk -F, 'NR == 1 { print "t_s,iops"; next } { print $1 "," $2 }' \
			"$files/io-$r.csv" >"$rep/server-io-$r.csv"
	put "$r.iops" "$(get "server.$r.iops")"
	put "$r.hosted_before" "$(get "server.$r.hosted_before")"
	put "$r.hosted_after" "$(get "server.$r.hosted_after")"
	put "$r.reclaimed" "$(( $(num "server.$r.reclaimed_after") - $(num "server.$r.reclaimed_before") ))"
done
ref_end=$(awk -F, 'NR > 1 { v[NR] = $2; n = NR } END {
	for (i = n - 9; i <= n; i++) if (i > 1) { s += v[i]; c++ }
	printf "%.0f", c ? s / c : 0 }' "$rep/server-io-reference.csv" 2>/dev/null || echo 0)
put reference.iops_end "$ref_end"
# t90 CSV: first second whose 5 s moving average reaches 90 % of ref_end
t90() {
	awk -F, -v r="$ref_end" 'NR > 1 { v[++n] = $2; t[n] = $1 } END {
		for (i = 5; i <= n; i++) {
			s = 0; for (j = i - 4; j <= i; j++) s += v[j]
			if (s / 5 >= 0.9 * r) { print t[i]; exit }
		}
		print "never" }' "$1"
}
for r in $runs; do
	[ -s "$rep/server-io-$r.csv" ] && put "$r.t90_s" "$(t90 "$rep/server-io-$r.csv")"
done
mem=$files/mem.csv
for l in ${lru//,/ }; do
	ts=$(num "server.$l.t_start")
	te=$(num "server.$l.t_end")
	# Hosted pages count as hosted wherever they sit: with hosted_lru=full
	# some are on the active list, and "local" inactive is a lower bound.
	[ -r "$mem" ] && awk -F, -v a="$ts" -v b="$te" '
		NR == 1 { print "t_s,active_file_mib,local_inactive_file_mib,hosted_mib"; next }
		$1 + 0 >= a - 20 && $1 + 0 <= b + 0 {
			h = $5 * 4; li = $4 - h; if (li < 0) li = 0
			printf "%.1f,%.1f,%.1f,%.1f\n", $1 - a, $3 / 1024, li / 1024, h / 1024 }' \
		"$mem" >"$rep/server-memory-$l.csv"
done

row() { printf '%-46s' "$1"; shift; printf ' %14s' "$@"; echo; }
# shellcheck disable=SC2046,SC2086 # one column per run
{
	echo "Experiment 2: client I/O, then server I/O (hosted pages: ${lru//,/ then })"
	row "" $runs
	row "pages hosted at the server's I/O start" $(for r in $runs; do s "$r.hosted_before"; done)
	row "pages hosted at its end" $(for r in $runs; do s "$r.hosted_after"; done)
	row "server IOPS, mean over ${io} s" $(for r in $runs; do s "$r.iops"; done)
	row "time to 90 % of the reference's end IOPS ($ref_end)" $(for r in $runs; do echo "$(s "$r.t90_s")s"; done)
} >"$rep/table.txt"
cat "$rep/table.txt"

if command -v gnuplot >/dev/null; then
	for l in ${lru//,/ }; do
		[ -s "$rep/server-memory-$l.csv" ] || continue
		rig_plot "$rep/exp2-$l.png" 1000,900 <<EOF
set multiplot layout 2,1
set xlabel 'seconds since the server''s I/O started'
set key left top
set title 'Server memory: client I/O, then server I/O (hosted_lru=$l)'
set ylabel 'MiB'
set yrange [0:*]
plot for [c=2:4] '$rep/server-memory-$l.csv' using 1:c every ::1 with lines lw 2 title columnhead(c)
set title 'Server IOPS'
set ylabel 'IOPS'
plot '$rep/server-io-reference.csv' using 1:2 every ::1 with lines lw 1 dt 2 title 'reference (nothing hosted)', \
     '$rep/server-io-$l.csv' using 1:2 every ::1 with lines lw 2 title 'after hosting ($l)'
unset multiplot
EOF
	done
fi

exp_checks '(client|server)'
exp_verdict "report/exp2-*.png, CSVs"
