#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Experiment 3 (paper figure 6): server I/O, then client I/O: the share
# of an idle server's page cache that the client gets, without and with
# the deactivation policy (Documentation/experiments.rst).  Acceptance,
# asserted unless --no-assert: with the policy, the share at the end
# > 0.80.
#
#   exp3.sh [--kdir DIR] [--debug] [--outdir DIR] [--run SEC] [--no-assert]
#           [--report-only] [--verbose]
#
#   --run SEC      the client's reads after its fill (default 180)
#
# Outputs in OUTDIR/report/: server-memory-{off,on}.csv, exp3.png,
# summary.txt.
# Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run=180
exp_parse "run=" "$@"
rig_num run

# About the same MemTotal either way: KASAN (--debug) takes about 130 MiB
# of a 512 MiB VM.
exp_server_mem 384M 512M
exp_run --server-mem "$server_mem" --client-mem 256M --blocks 262144 --iops 400 \
	--server-blocks 49152 --server-iops 400 \
	--server-params "detector=off max_hosted_pct=90" \
	--timeout $(( 2 * run + 1800 )) ex_run="$run"
exp_results
# share SNAP: hosted / file LRU at a server snapshot
share() {
	awk -v h="$(num "server.$1.hosted")" -v a="$(num "server.$1.mem.activefile_kb")" \
	    -v i="$(num "server.$1.mem.inactivefile_kb")" \
	    'BEGIN { printf "%.3f", (a + i > 0 ? h * 4 / (a + i) : 0) }'
}
mem=$outdir/server/files/mem.csv
for p in off on; do
	put "$p.share_filled" "$(share "filled.$p")"
	put "$p.share_end" "$(share "end.$p")"
	put "$p.hosted_end" "$(get "server.end.$p.hosted")"
	put "$p.own_active_kb" "$(get "server.own.$p.mem.activefile_kb")"
	put "$p.active_end_kb" "$(get "server.end.$p.mem.activefile_kb")"
	put "$p.fill_puts" "$(get "client.fill.$p.puts")"
	# The client's reads and puts after the fill
	put "$p.client_run_s" "$(get "client.$p.run.s")"
	put "$p.client_reads" "$(grep -E "^client\.$p\.pass[0-9]+\.blocks=" "$res" |
		awk -F= '{ n += $2 } END { print n + 0 }')"
	put "$p.client_puts" "$(( $(num "client.stats.$p.end.puts_sent") - $(num "client.stats.$p.filled.puts_sent") ))"
	# The policy's answers to reclaim over the client's phase
	for k in low not_low at_floor; do
		put "$p.policy_$k" "$(( $(num "server.end.$p.policy_$k") - $(num "server.own.$p.policy_$k") ))"
	done
	# The client's phase on the server's clock: from the end of the
	# server's passes to the end snapshot.
	ta=$(num "server.own.$p.t")
	tb=$(num "server.end.$p.t")
	if [ -r "$mem" ]; then
		awk -F, -v a="$ta" -v b="$tb" '
			NR == 1 { print "t_s,active_file_mib,local_inactive_file_mib,hosted_mib"; next }
			$1 + 0 >= a + 0 && $1 + 0 <= b + 0 {
				h = $5 * 4; li = $4 - h; if (li < 0) li = 0
				printf "%.1f,%.1f,%.1f,%.1f\n", $1 - a, $3 / 1024, li / 1024, h / 1024 }' \
			"$mem" >"$rep/server-memory-$p.csv"
		put "$p.share_peak" "$(awk -F, -v a="$ta" -v b="$tb" '
			NR > 1 && $1 + 0 >= a + 0 && $1 + 0 <= b + 0 && $3 + $4 > 0 {
				s = $5 * 4 / ($3 + $4); if (s > m) m = s }
			END { printf "%.3f", m }' "$mem")"
	fi
done
pct() { awk -v v="$1" 'BEGIN { printf "%.1f %%", v * 100 }'; }
row() { printf '%-44s %16s %16s\n' "$1" "$2" "$3"; }
{
	echo "Experiment 3: share of an idle server's page cache lent to the client"
	row "" "policy off" "policy on"
	row "server's own active file after its I/O" "$(( $(s off.own_active_kb) / 1024 )) MiB" "$(( $(s on.own_active_kb) / 1024 )) MiB"
	row "hosted share of file LRU, after the fill" "$(pct "$(s off.share_filled)")" "$(pct "$(s on.share_filled)")"
	row "hosted share, end of the client's reads" "$(pct "$(s off.share_end)")" "$(pct "$(s on.share_end)")"
	row "hosted share, peak" "$(pct "$(s off.share_peak)")" "$(pct "$(s on.share_peak)")"
	row "server active file at the end" "$(( $(s off.active_end_kb) / 1024 )) MiB" "$(( $(s on.active_end_kb) / 1024 )) MiB"
	mibs() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f MiB/s", (t > 0 ? n * 4 / 1024 / t : 0) }'; }
	row "client reads after the fill" "$(mibs "$(s off.client_reads)" "$(s off.client_run_s)")" \
	    "$(mibs "$(s on.client_reads)" "$(s on.client_run_s)")"
	row "client puts after the fill" "$(mibs "$(s off.client_puts)" "$(s off.client_run_s)")" \
	    "$(mibs "$(s on.client_puts)" "$(s on.client_run_s)")"
	row "policy answers: low / not low / at floor" \
	    "$(s off.policy_low) / $(s off.policy_not_low) / $(s off.policy_at_floor)" \
	    "$(s on.policy_low) / $(s on.policy_not_low) / $(s on.policy_at_floor)"
} >"$rep/table.txt"
cat "$rep/table.txt"

if command -v gnuplot >/dev/null && [ -s "$rep/server-memory-on.csv" ]; then
	# One scale for both panels, so that they compare at a glance
	ymax=$(awk -F, 'FNR > 1 { for (i = 2; i <= 4; i++) if ($i + 0 > m) m = $i + 0 }
		END { printf "%d", (m > 0 ? m * 1.1 : 1) }' "$rep"/server-memory-o*.csv)
	rig_plot "$rep/exp3.png" 1400,600 <<EOF
set multiplot layout 1,2
set xlabel 'seconds since the server''s own I/O ended'
set ylabel 'MiB'
set yrange [0:$ymax]
set key below
set title 'Without the deactivation policy'
plot for [c=2:4] '$rep/server-memory-off.csv' using 1:c every ::1 with lines lw 2 title columnhead(c)
set title 'With the deactivation policy'
plot for [c=2:4] '$rep/server-memory-on.csv' using 1:c every ::1 with lines lw 2 title columnhead(c)
unset multiplot
EOF
fi

exp_checks '(client|server)'
awk -v r="$(s on.share_end)" 'BEGIN { exit !(r > 0.80) }' ||
	fail "with the policy the client got $(pct "$(s on.share_end)") of the server's cache (floor 80 %)"
exp_verdict "report/exp3.png, CSVs"
