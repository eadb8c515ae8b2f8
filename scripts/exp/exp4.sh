#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Experiment 4 (paper figures 7 to 10): concurrent client and server
# I/O, for each activity-detector mode of the server
# (Documentation/experiments.rst).  Acceptance for the combined detector,
# asserted unless --no-assert: server IOPS >= 0.90x its reference; first
# suspension <= 1.0 s after the server's I/O starts; no re-activation
# during it.
#
#   exp4.sh [--short] [--kdir DIR] [--debug] [--outdir DIR] [--modes LIST]
#           [--io SEC] [--no-assert] [--report-only] [--verbose]
#
#   --short        mode combined only, 60 s of server I/O
#   --modes LIST   detector modes (default off,shadow,deactivation,combined)
#   --io SEC       the server's random reads (default 90)
#
# Outputs in OUTDIR/report/: server-io-{reference,MODE}.csv,
# client-io-MODE.csv, lending-MODE.csv, exp4-MODE.png, exp4-server.png,
# summary.txt.
# Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

short=
modes=
io=
exp_parse "short modes= io=" "$@"
pre=20
post=10
if [ -n "$short" ]; then
	: "${modes:=combined}" "${io:=60}"
	pre=15
	post=5
fi
: "${modes:=off,shadow,deactivation,combined}" "${io:=90}"
rig_num io
[[ "$modes" =~ ^(off|shadow|deactivation|combined)(,(off|shadow|deactivation|combined))*$ ]] ||
	die "bad --modes '$modes'"
nmodes=$(echo "$modes" | tr , '\n' | wc -l)

# The server's own file and the client's pages must not fit together:
# KASAN (--debug) takes about 110 MiB of a 384 MiB VM, so its MemTotal
# is close to a 256 MiB VM's without.
exp_server_mem 256M 384M
exp_run --server-mem "$server_mem" --client-mem 256M --server-blocks 98304 --server-iops 400 --server-params max_hosted_pct=90 \
	--timeout $(( io + nmodes * (io + pre + post + 400) + 600 )) \
	ex_modes="$modes" ex_ref=1 ex_pre="$pre" ex_io="$io" ex_post="$post"
exp_results
if [ -n "$report_only" ]; then
	# the modes the server ran, and the timing of the earlier run
	modes=$(exp_runs)
	io=$(exp_param ex_io)
	pre=$(exp_param ex_pre)
	post=$(exp_param ex_post)
fi
calc() { awk "BEGIN { printf \"$1\", ($2) }"; }

files=$outdir/server/files
cfiles=$outdir/client/files
ref_iops=$(num server.reference.iops)
put reference.iops "$ref_iops"
put reference.blocks "$(get server.reference.blocks)"
# server_io RUN: the server's IOPS series of RUN
server_io() {
	[ ! -r "$files/io-$1.csv" ] ||
		cut -d, -f1,2 "$files/io-$1.csv" | sed '1s/.*/t_s,iops/' >"$rep/server-io-$1.csv"
}
server_io reference
for m in ${modes//,/ }; do
	put "$m.server_iops" "$(get "server.$m.iops")"
	put "$m.server_ratio" "$(calc '%.3f' "$ref_iops > 0 ? $(num "server.$m.iops") / $ref_iops : 0")"
	for k in first_suspend_s first_suspend_reason io_suspends state_before \
		 hosted_before hosted_after; do
		put "$m.$k" "$(get "server.$m.$k")"
	done
	put "$m.reactivations" "$(get "server.$m.io_resumes_after_first")"
	put "$m.reclaimed" "$(( $(num "server.$m.reclaimed_after") - $(num "server.$m.reclaimed_before") ))"
	put "$m.fill_puts" "$(get "client.fill.$m.puts")"
	# The client's series on the server's I/O clock.
	off=$(calc '%.2f' "$(num "client.$m.t_io") - $(num "client.$m.t_run")")
	if [ -r "$cfiles/client-$m.csv" ]; then
		awk -F, -v o="$off" 'NR == 1 { print "t_s,iops"; next }
			{ printf "%.2f,%s\n", $1 - o, $2 }' "$cfiles/client-$m.csv" >"$rep/client-io-$m.csv"
		put "$m.client_iops_before" "$(awk -F, -v o="$off" 'NR > 1 && $1 + 1 <= o { s += $2; n++ }
			END { printf "%.0f", n ? s / n : 0 }' "$cfiles/client-$m.csv")"
		put "$m.client_iops_during" "$(awk -F, -v o="$off" -v d="$io" 'NR > 1 && $1 >= o && $1 + 1 <= o + d { s += $2; n++ }
			END { printf "%.0f", n ? s / n : 0 }' "$cfiles/client-$m.csv")"
	fi
	server_io "$m"
	# Lending state as a step series on the same clock.
	ts=$(num "server.$m.t_start")
	if [ -r "$files/lending.csv" ]; then
		awk -F, -v t0="$ts" -v pre="$pre" -v io="$io" -v post="$post" -v st="$(get "server.$m.state_before")" '
			BEGIN { print "t_s,suspended"; s = (st == "suspended"); printf "%.3f,%d\n", -pre, s }
			NR > 1 { t = $1 - t0
				 if (t < -pre || t > io + post) next
				 printf "%.3f,%d\n", t, s; s = ($2 == "suspend"); printf "%.3f,%d\n", t, s }
			END { printf "%.3f,%d\n", io + post, s }' "$files/lending.csv" >"$rep/lending-$m.csv"
	fi
done

row() { printf '%-14s %9s %7s %9s %9s %11s %9s %13s\n' "$@"; }
{
	echo "Experiment 4: concurrent client and server I/O (server ${io} s of random reads over 384 MiB, 400 IOPS disk;"
	echo "client random reads over 384 MiB, 25 IOPS disk; server $server_mem, client 256 MiB)"
	echo "server reference (no client pages hosted): $(s reference.iops) IOPS"
	row detector "srv IOPS" "vs ref" "cli IOPS" "cli IOPS" "1st susp." suspends "re-activ." 
	row "" "" "" "before" "during" "after start" "in I/O" "after 1st"
	for m in ${modes//,/ }; do
		fs=$(s "$m.first_suspend_s")
		row "$m" "$(s "$m.server_iops")" "$(calc '%.2f' "$(s "$m.server_ratio")")" \
			"$(s "$m.client_iops_before")" "$(s "$m.client_iops_during")" \
"$(if [ -n "$fs" ]; then echo "$fs s"; else echo none; fi)" "$(s "$m.io_suspends")" "$(s "$m.reactivations")"
	done
} >"$rep/table.txt"
cat "$rep/table.txt"

if command -v gnuplot >/dev/null; then
	for m in ${modes//,/ }; do
		[ -s "$rep/server-io-$m.csv" ] || continue
		lend=
		[ -s "$rep/lending-$m.csv" ] &&
			lend=", '$rep/lending-$m.csv' every ::1 using 1:2 axes x1y2 with steps lw 1 lc rgb 'gray50' title 'lending suspended'"
		rig_plot "$rep/exp4-$m.png" <<EOF
set title 'Concurrent client and server I/O, detector=$m (t = 0: server I/O starts)'
set xlabel 'seconds'
set ylabel 'IOPS (random 4 KiB reads, verified)'
set logscale y
set y2range [-0.05:4]
set y2tics ('on' 0, 'suspended' 1)
set key left top
plot '$rep/server-io-$m.csv' using 1:(\$2 > 0 ? \$2 : 1) every ::1 with lines lw 2 title 'server', \
     '$rep/server-io-reference.csv' using 1:(\$2 > 0 ? \$2 : 1) every ::1 with lines lw 1 dt 2 title 'server, no client (reference)', \
     '$rep/client-io-$m.csv' using 1:(\$2 > 0 ? \$2 : 1) every ::1 with lines lw 2 title 'client'$lend
EOF
	done
	plot="'$rep/server-io-reference.csv' using 1:2 every ::1 with lines lw 2 dt 2 title 'reference (no client)'"
	for m in ${modes//,/ }; do
		[ -s "$rep/server-io-$m.csv" ] &&
			plot+=", '$rep/server-io-$m.csv' using 1:2 every ::1 with lines lw 2 title '$m'"
	done
	[ -s "$rep/server-io-reference.csv" ] && rig_plot "$rep/exp4-server.png" <<EOF
set title 'Server IOPS during concurrent client I/O, per detector mode'
set xlabel 'seconds since the server I/O started'
set ylabel 'IOPS'
set yrange [0:*]
set key left top
plot $plot
EOF
fi

exp_checks '(client|server)'
[ "$(num server.reference.blocks)" -gt 0 ] || fail "no server reference run"
if [[ ",$modes," == *,combined,* ]]; then
	r=$(s combined.server_ratio)
	awk -v r="${r:-0}" 'BEGIN { exit !(r >= 0.90) }' ||
		fail "combined: server IOPS $(s combined.server_iops) = ${r}x its reference $ref_iops (floor 0.90x)"
	fs=$(s combined.first_suspend_s)
	if [ -z "$fs" ]; then
		fail "combined: no suspension during the server's I/O"
	else
		awk -v f="$fs" 'BEGIN { exit !(f <= 1.0) }' ||
			fail "combined: first suspension ${fs} s after the server's I/O started (limit 1.0 s)"
	fi
	[ "$(s combined.reactivations)" = 0 ] ||
		fail "combined: $(s combined.reactivations) re-activations during the server's I/O (limit 0)"
fi
exp_verdict "report/: exp4-*.png, CSVs"
