#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Test: one server, two clients of unequal demand (scripts/vm/pair.sh
# --client2-blocks: three VMs on one hub).  The server lends at most
# CAP pages (max_hosted_pages).  Client A holds a stamped file whose
# evicted pages alone exceed the cap; client B's file is smaller.  A
# starts alone; B waits for A's warm-up to end, then warms up and reads
# at random while A goes on reading.  The server samples each client's
# charge every second (debugfs puma/sessions).
#
# Asserts (floors stated here and printed):
#   - the three VMs pass, zero verification failures in every blockcheck
#     run of either client, each client connected once;
#   - the charge never exceeds the cap;
#   - alone, A borrows what B leaves: its charge reaches >= 90 % of the
#     cap, beyond an equal share; then it gives back: its charge falls by
#     at least half of what B holds;
#   - max-min fairness once B has run for half its pass, until it stops,
#     judged where it binds: at the samples where pages were just taken
#     back from a client (it was the biggest when the server was full;
#     the clients put in bursts and read their pages back in between,
#     so averages over the whole window compare unlike moments).  There:
#       . the budget is used: the total charge >= 90 % of the cap;
#       . the held client holds >= 90 % of what the other holds: no
#         client keeps another below an equal share;
#       . and at least 80 % of its max-min fair share, computed from its
#         demand (its file's blocks minus the file pages its own memory
#         held at the end of its pass);
#   - B hits in the server.
#
# Writes OUTDIR/report/fair.csv (t_s since B connected, negative before,
# each client's charge, the cap, each client's fair share) and fair.png.
#
#   pair-fair.sh [--kdir DIR] [--outdir DIR] [--cap PAGES] [--verbose]
#
# About 6 minutes on 2 cores (TCG).  Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

cap=16384
rig_parse "kdir= outdir= cap= verbose" "$@"
rig_num cap
rig_outdir

# A GET waits up to 1 s: three VMs share the 2 CPUs, and a client that
# gives up on a slow server starts a new session, losing its pages.
"$rig/pair.sh" ${kdir:+--kdir "$kdir"} --outdir "$outdir" --phases puma \
	--server-mem 512M --server-params "max_hosted_pages=$cap" \
	--get-timeout-us 1000000 --blocks 51200 --duration 160 \
	--client2-blocks 40960 --client2-duration 60 --timeout 900 \
	${verbose:+--verbose} || rc=$?
res=$outdir/results.txt
[ -r "$res" ] || { echo "$name: FAIL: no results" >&2; exit 1; }
[ "$rc" -eq 0 ] || fail "a VM failed (pair.sh status $rc)"
rig_clean_runs 2 'client\..*'
rig_clean_runs 2 'client2\..*'
for c in client client2; do
	[ "$(num "$c.connects")" -eq 1 ] ||
		fail "$c connected $(num "$c.connects") times: its share started over"
done
sess=$outdir/server/files/sessions.csv
[ -r "$sess" ] || { fail "no sessions.csv from the server"; rig_verdict; }
a=$(get client.node) b=$(get client2.node)
if [ -z "$a" ] || [ -z "$b" ]; then
	fail "a client did not say its node"
	rig_verdict
fi
b_start=$(get server.c3.puma.run_start) b_end=$(get server.c3.puma.run_end)
a_end=$(get server.c2.puma.run_end)
if [ -z "$b_start" ] || [ -z "$b_end" ] || [ -z "$a_end" ]; then
	fail "the server did not record the clients' passes"
	rig_verdict
fi
awk -v x="$a_end" -v y="$b_end" 'BEGIN { exit !(x >= y) }' ||
	fail "A stopped reading (at ${a_end}s) before B did (${b_end}s)"

# demand CLIENT: its file's blocks minus the file pages its own memory
# held at the end of its pass: what it would have the server hold
demand() {
	echo $(( $(num "$1.file.blocks") -
		 ($(num "$1.puma.mem_run.activefile_kb") +
		  $(num "$1.puma.mem_run.inactivefile_kb")) / 4 ))
}
da=$(demand client) db=$(demand client2)
# Max-min fair shares of the cap (water-filling over two demands).
read -r fa fb < <(awk -v c="$cap" -v a="$da" -v b="$db" 'BEGIN {
	if (a < 0) a = 0; if (b < 0) b = 0
	lo = a < b ? a : b
	s = lo < c / 2 ? lo : c / 2
	o = c - s; hi = a < b ? b : a; if (hi < o) o = hi
	if (a < b) print s, o; else print o, s }')
echo "$name: demand (pages): A $da, B $db; cap $cap; max-min fair shares: A $fa, B $fb"

rep=$outdir/report
mkdir -p "$rep"
# One pass over the samples: the figures, and the plot's CSV.  "Held"
# samples of a client: its taken count grew since the sample before.
read -r maxtot alone nwin ma mb ka kb ha haa hao hat hb hbb hbo hbt < <(awk -F, \
	-v A="$a" -v B="$b" -v cap="$cap" -v b0="$b_start" \
	-v b1="$b_end" -v fa="$fa" -v fb="$fb" -v csv="$rep/fair.csv" '
	NR == 1 { next }
	{ t = $1; if (!(t in seen)) { seen[t] = 1; ts[++nt] = t }
	  ch[t, $2] = $4; tk[t, $2] = $5; if ($7 > maxtot) maxtot = $7 }
	$2 == B && !tb { tb = t }
	END {
		mid = (b0 + b1) / 2
		print "t,a_charged,b_charged,cap,a_fair,b_fair" >csv
		for (i = 1; i <= nt; i++) {
			t = ts[i]; ca = ch[t, A] + 0; cb = ch[t, B] + 0
			printf "%.0f,%d,%d,%d,%d,%d\n", t - tb, ca, cb, cap, fa, fb >csv
			if (!tb || t < tb) { if (ca > alone) alone = ca; continue }
			if (t < mid || t > b1) continue
			n++; sa += ca; sb += cb
			if (!n0) { n0 = 1; ta0 = tk[t, A]; tb0 = tk[t, B] }
			ta1 = tk[t, A]; tb1 = tk[t, B]
			p = ts[i - 1]
			if (tk[t, A] > tk[p, A]) { ha++; haa += ca; hao += cb; hat += ca + cb }
			if (tk[t, B] > tk[p, B]) { hb++; hbb += cb; hbo += ca; hbt += ca + cb }
		}
		printf "%d %d %d %d %d %d %d", maxtot, alone, n,
			n ? sa / n : 0, n ? sb / n : 0, ta1 - ta0, tb1 - tb0
		printf " %d %d %d %d", ha, ha ? haa / ha : 0, ha ? hao / ha : 0, ha ? hat / ha : 0
		printf " %d %d %d %d\n", hb, hb ? hbb / hb : 0, hb ? hbo / hb : 0, hb ? hbt / hb : 0
	}' "$sess")
echo "$name: peak charge $maxtot pages (cap $cap); A alone reached $alone"
[ "$maxtot" -le "$cap" ] || fail "the charge reached $maxtot pages, over the cap $cap"
[ "$alone" -ge $((cap * 9 / 10)) ] ||
	fail "A alone reached $alone pages, below 90 % of the cap $cap"
[ "$nwin" -ge 10 ] || fail "only $nwin samples in the window"
echo "$name: second half of B's pass ($nwin samples): A holds $ma, B $mb on average;" \
	"taken back meanwhile: A $ka, B $kb"
# The cap was full: what B holds, A gave back (half of it at least).
[ $(( (alone - ma) * 2 )) -ge "$mb" ] ||
	fail "A went from $alone to $ma pages only, while B holds $mb"
# held CLIENT SAMPLES MINE THEIRS TOTAL FAIR: at the samples where pages
# were taken back from it (means), the budget is used, and it holds at
# least 90 % of what the other holds and 80 % of its fair share.  A
# client never held got all it asked for.
held() {
	[ "$2" -gt 0 ] || return 0
	echo "$name: $1 held at $2 samples: it holds $3 pages, the other $4, in all $5"
	[ $(( $5 * 10 )) -ge $(( cap * 9 )) ] ||
		fail "$1 is held, yet the clients hold $5 pages, below 90 % of the cap $cap"
	[ $(( $3 * 10 )) -ge $(( $4 * 9 )) ] ||
		fail "$1 is held at $3 pages while the other holds $4"
	[ $(( $3 * 10 )) -ge $(( $6 * 8 )) ] ||
		fail "$1 is held at $3 pages, below 80 % of its fair share $6"
}
held A "$ha" "$haa" "$hao" "$hat" "$fa"
held B "$hb" "$hbb" "$hbo" "$hbt" "$fb"
bhits=$(( $(num client2.stats.puma.run.hits) - $(num client2.stats.puma.warm.hits) ))
echo "$name: B's hits in its measured pass: $bhits"
[ "$bhits" -gt 0 ] || fail "B had no hit"

rig_plot "$rep/fair.png" <<EOF
set key autotitle columnhead
set title 'Pages each client holds on the server (cap $cap, max-min fair)'
set xlabel 'seconds since client B connected'
set ylabel 'pages charged'
set yrange [0:*]
set arrow from 0, graph 0 to 0, graph 1 nohead dt 2 lc 'gray'
plot '$rep/fair.csv' using 1:2 with lines lw 2 lc 'dark-violet' title 'client A', \\
     '' using 1:3 with lines lw 2 lc 'dark-green' title 'client B', \\
     '' using 1:4 with lines dt 2 lc 'black' title 'cap', \\
     '' using 1:5 with lines dt 3 lw 2 lc 'dark-violet' title 'A max-min fair share', \\
     '' using 1:6 with lines dt 4 lw 2 lc 'dark-green' title 'B max-min fair share'
EOF
rig_verdict
