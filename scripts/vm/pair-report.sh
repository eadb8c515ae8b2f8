#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Report of a scripts/vm/pair.sh run: the table of the base scenario
# (without PUMA against with PUMA), one CSV per plotted series, and PNG
# plots (gnuplot) of the client's IOPS over time and of the server's
# memory over time.
#
#   pair-report.sh [--no-plots] [--quiet] OUTDIR
#
# Writes OUTDIR/report/: table.txt (the table, also printed),
# summary.txt (the figures as key=value), iops-nopuma.csv, iops-puma.csv,
# iops-after.csv (kill runs), server-active-file.csv,
# server-inactive-file.csv, server-hosted.csv, server2-*.csv (kill runs),
# iops.png and server-memory.png.
# Exit: 0, or 2 when OUTDIR holds no pair.sh results.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

no_plots=
quiet=
rig_parse "no-plots quiet *" "$@"
[ ${#rig_args[@]} -eq 1 ] || die "usage: pair-report.sh [--no-plots] [--quiet] OUTDIR"
out=${rig_args[0]}
res=$out/results.txt
[ -r "$res" ] || die "no $res (not a pair.sh output directory?)"
rep=$out/report
mkdir -p "$rep"

# delta KEY FROM TO: client counter KEY between two snapshots
delta() { echo $(( $(num "client.stats.$3.$1") - $(num "client.stats.$2.$1") )); }
calc() { awk "BEGIN { printf \"$1\", ($2) }"; }
has() { grep -q "^$1=" "$res"; }

sum=$rep/summary.txt
: >"$sum"
put() { echo "$1=$2" >>"$sum"; }

# --- figures ---------------------------------------------------------------
phases=
has client.nopuma.run.iops && phases+=" nopuma"
has client.puma.run.iops && phases+=" puma"
for p in $phases; do
	for k in iops p50_us p99_us max_us blocks failures failed_reads; do
		put "$p.$k" "$(get "client.$p.run.$k")"
	done
	put "$p.warm_s" "$(get "client.$p.warm.elapsed_s")"
done
fails=0
while IFS= read -r v; do
	[[ "$v" =~ ^[0-9]+$ ]] || v=1	# "error": blockcheck did not finish
	fails=$((fails + v))
done < <(sed -n 's/^client\..*\.\(failures\|failed_reads\)=//p' "$res")
put failures_total "$fails"
put verified_reads "$(sed -n 's/^client\..*\.\(run\|warm\)\.blocks=//p' "$res" |
	awk '{ s += $1 } END { print s + 0 }')"

if [[ "$phases" == *puma* ]] && has client.stats.puma.run.gets; then
	gets=$(delta gets puma.warm puma.run)
	hits=$(( $(delta hits puma.warm puma.run) + $(delta local_hits puma.warm puma.run) ))
	put puma.gets "$gets"
	put puma.hits "$hits"
	put puma.timeouts "$(delta timeouts puma.warm puma.run)"
	put puma.hit_ratio "$(calc '%.3f' "$gets ? $hits / $gets : 0")"
	put puma.put_pages "$(num client.puma.put_pages)"
	put puma.put_phase_s "$(get client.puma.put_phase_s)"
	put puma.put_pages_per_s "$(calc '%.0f' \
		"$(num client.puma.put_phase_s) > 0 ? $(num client.puma.put_pages) / $(num client.puma.put_phase_s) : 0")"
	put puma.put_drops "$(delta put_drops puma.before puma.warm)"
	wire=$(( $(delta tcp.bytes_sent puma.before puma.run) +
		 $(delta tcp.bytes_received puma.before puma.run) ))
	put puma.wire_bytes "$wire"
	for k in rtt_gets rtt_p50_us rtt_p99_us; do
		put "puma.$k" "$(get "client.puma.$k")"
	done
	put server.hosted_end "$(num server.end.hosted)"
	put server.suspends "$(num server.end.server_suspends)"
	put server.reclaimed "$(num server.end.reclaimed)"
	mem=$out/server/files/mem.csv
	if [ -r "$mem" ]; then
		put server.hosted_peak "$(awk -F, 'NR > 1 && $5 > m { m = $5 } END { print m + 0 }' "$mem")"
	fi
fi
for t in tcp tcpk tcpk_none tcpk_auth tcpk_encrypt bench_tcp bench_virtio; do
	has "client.$t.pages_per_s" || continue
	put "$t.pages" "$(get "client.$t.pages")"
	put "$t.pages_per_s" "$(get "client.$t.pages_per_s")"
done
# The transport's throughput per security mode, as ratios to none's.
if has client.tcpk_none.pages_per_s; then
	none=$(num client.tcpk_none.pages_per_s)
	for m in auth encrypt; do
		put "security.$m.ratio" "$(calc '%.2f' \
			"$none > 0 ? $(num "client.tcpk_$m.pages_per_s") / $none : 0")"
	done
fi
# Virtio against TCP, the same benchmark on the same VMs (pair.sh --bench).
if has client.bench_tcp.pages_per_s && has client.bench_virtio.pages_per_s; then
	put bench.virtio_over_tcp "$(calc '%.2f' \
		"$(num client.bench_tcp.pages_per_s) > 0 ? $(num client.bench_virtio.pages_per_s) / $(num client.bench_tcp.pages_per_s) : 0")"
fi
if has client.nopuma.run.iops && has client.puma.run.iops; then
	put speedup "$(calc '%.2f' \
		"$(num client.nopuma.run.iops) > 0 ? $(get client.puma.run.iops) / $(get client.nopuma.run.iops) : 0")"
fi
if has client.after.run.iops; then
	for k in iops p50_us p99_us max_us blocks failures; do
		put "after.$k" "$(get "client.after.run.$k")"
	done
	put after.hits "$(( $(delta hits reconnected after) + $(delta local_hits reconnected after) ))"
	put connects "$(num client.connects)"
	put server2.stored "$(num server2.end.server_stored)"
fi

# --- table -----------------------------------------------------------------
s() { sed -n "s/^$1=//p" "$sum" | tail -1; }
num_s() { local v; v=$(s "$1"); echo "${v:-0}"; }
# ms KEY, pct KEY: a latency in us as "N us" or "N.N ms", a ratio as a
# percentage; "-" if there is none
ms() { awk -v v="$(s "$1")" 'BEGIN { if (v == "") print "-"
	else if (v < 1000) printf "%.0f us\n", v; else printf "%.1f ms\n", v / 1000 }'; }
pct() { awk -v v="$(s "$1")" 'BEGIN { if (v == "") print "-"; else printf "%.1f %%\n", v * 100 }'; }
mib() { calc '%.1f MiB' "$1 / 1048576"; }
row() { printf '%-38s %18s %18s\n' "$1" "$2" "$3"; }
{
	echo "PUMA base scenario: client $(get host.client_mem_mb) MiB, server" \
		"$(get host.server_mem_mb) MiB, file $(( $(num host.blocks) / 256 )) MiB," \
		"disks $(get host.iops) IOPS, $(get host.duration_s) s of random reads"
	row "" "without PUMA" "with PUMA"
	row "IOPS (random 4 KiB reads)" "$(s nopuma.iops)" "$(s puma.iops)"
	row "speed-up (IOPS ratio)" "" "$(s speedup)x"
	row "hit ratio (PUMA hits / cache misses)" "-" "$(pct puma.hit_ratio)"
	row "read latency p50" "$(ms nopuma.p50_us)" "$(ms puma.p50_us)"
	row "read latency p99" "$(ms nopuma.p99_us)" "$(ms puma.p99_us)"
	row "read latency max" "$(ms nopuma.max_us)" "$(ms puma.max_us)"
	row "reads verified (measured pass)" "$(s nopuma.blocks)" "$(s puma.blocks)"
	row "verification failures (whole run)" "" "$(s failures_total)"
	row "PUMA transport" "" "$(get host.transport)"
	[ "$(get host.transport)" = virtio ] ||
		row "link security (puma_tcp security=)" "" "$(get host.security)"
	[ -z "$(s puma.rtt_gets)" ] ||
		row "GET round trip p50 / p99 (answered)" "" \
			"$(ms puma.rtt_p50_us) / $(ms puma.rtt_p99_us)"
	if [ -n "$(s puma.gets)" ]; then
		row "pages lent (server hosted, peak)" "-" \
			"$(s server.hosted_peak) ($(mib "$(( $(num_s server.hosted_peak) * 4096 ))"))"
		# virtio moves pages through the region, not over a wire
		[ "$(get host.transport)" = virtio ] ||
			row "bytes over the wire (PUMA phase)" "-" "$(mib "$(s puma.wire_bytes)")"
		row "server: lending suspended / reclaimed" "-" \
			"$(s server.suspends) times / $(s server.reclaimed) pages"
		row "pages/s put to the server: PUMA put phase" "" \
			"$(s puma.put_pages_per_s) ($(s puma.put_pages) in $(s puma.put_phase_s) s)"
		row "  (paced by the disk: warm-up reads)" "" ""
	fi
	[ -z "$(s tcp.pages_per_s)" ] ||
		row "TCP pages/s: plain TCP (tcpbench)" "" \
			"$(s tcp.pages_per_s) ($(s tcp.pages) pages)"
	[ -z "$(s tcpk.pages_per_s)" ] ||
		row "TCP pages/s: PUMA transport (kernel)" "" \
			"$(s tcpk.pages_per_s) ($(s tcpk.pages) pages)"
	if [ -n "$(s bench_virtio.pages_per_s)" ]; then
		row "pages/s, transport benchmark: TCP" "" "$(s bench_tcp.pages_per_s)"
		row "  the same over virtio (ivshmem)" "" \
			"$(s bench_virtio.pages_per_s) ($(s bench.virtio_over_tcp)x TCP)"
	fi
	for m in none auth encrypt; do
		v=$(s "tcpk_$m.pages_per_s")
		[ -z "$v" ] || [ "$m" = none ] || v+=" ($(s "security.$m.ratio")x none)"
		[ -z "$v" ] || row "  the same, security=$m" "" "$v"
	done
	if [ -n "$(s after.iops)" ]; then
		row "after the new server: IOPS / hits" "" "$(s after.iops) / $(s after.hits)"
		row "client connections (dmesg)" "" "$(s connects)"
	fi
} >"$rep/table.txt"
[ -n "$quiet" ] || cat "$rep/table.txt"

# --- series ----------------------------------------------------------------
# series IN OUT COLUMN...: copy the named columns of CSV IN to OUT
series() {
	local in=$1 outf=$2
	shift 2
	[ -r "$in" ] || return 0
	awk -F, -v cols="$*" '
		NR == 1 {
			n = split(cols, want, " ")
			for (i = 1; i <= NF; i++) idx[$i] = i
			line = ""
			for (j = 1; j <= n; j++) {
				if (!(want[j] in idx)) { print "no column " want[j] > "/dev/stderr"; exit 1 }
				line = line (j > 1 ? "," : "") want[j]
			}
			print line
			next
		}
		{
			line = ""
			for (j = 1; j <= n; j++) line = line (j > 1 ? "," : "") $(idx[want[j]])
			print line
		}' "$in" >"$outf"
}
# mem IN OUT NAME: a server memory series in MiB.  Hosted pages are page
# cache of a private inode on the inactive file list, so "local inactive
# file" is Inactive(file) minus the hosted pages.
mem() {
	local in=$1 outf=$2 name=$3
	[ -r "$in" ] || return 0
	awk -F, -v n="$name" '
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
			  print "t_s," n "_mib"; next }
		{
			h = $(c["hosted_pages"]) * 4
			if (n == "active_file") v = $(c["active_file_kb"])
			else if (n == "inactive_file") v = $(c["inactive_file_kb"]) - h
			else v = h
			if (v < 0) v = 0
			printf "%s,%.1f\n", $1, v / 1024
		}' "$in" >"$outf"
}
for p in nopuma puma after; do
	series "$out/client/files/run-$p.csv" "$rep/iops-$p.csv" t_s iops
done
for sv in server server2; do
	m=$out/$sv/files/mem.csv
	mem "$m" "$rep/$sv-active-file.csv" active_file
	mem "$m" "$rep/$sv-inactive-file.csv" inactive_file
	mem "$m" "$rep/$sv-hosted.csv" hosted
done

# --- plots -----------------------------------------------------------------
if [ -z "$no_plots" ]; then
	command -v gnuplot >/dev/null ||
		die "gnuplot not found (apt-get install gnuplot-nox)"
	plot=()
	for p in "nopuma:without PUMA" "puma:with PUMA" \
		 "after:with PUMA, after the server was replaced"; do
		f=$rep/iops-${p%%:*}.csv
		[ -s "$f" ] && plot+=("'$f' using 1:2 with lines lw 2 title '${p#*:}'")
	done
	if [ ${#plot[@]} -gt 0 ]; then
		rig_plot "$rep/iops.png" <<EOF
set key autotitle columnhead
set title 'Client random 4 KiB reads (every block verified), per second'
set xlabel 'seconds into the measured pass'
set ylabel 'IOPS'
set yrange [0:*]
plot $(IFS=,; echo "${plot[*]}")
EOF
	fi
	# The client's phases on the server's clock: both VMs boot within a
	# second of each other, so client uptime + the boot offset is close.
	off=$(( $(num host.client.boot_at_s) - $(num host.server.boot_at_s) ))
	marks=
	i=1
	for m in nopuma.t_warm:"warm-up, no PUMA" nopuma.t_run:"random reads" \
		 puma.t_warm:"warm-up, PUMA" puma.t_run:"random reads"; do
		t=$(get "client.${m%%:*}")
		[ -n "$t" ] || continue
		x=$(calc '%.1f' "$t + $off")
		marks+="set arrow $i from $x, graph 0 to $x, graph 1 nohead dt 2 lc rgb 'gray40'"$'\n'
		marks+="set label $i '${m#*:}' at $x, graph 0.97 rotate by 90 right offset -0.8,0 font ',9'"$'\n'
		i=$((i + 1))
	done
	for sv in server server2; do
		[ -s "$rep/$sv-hosted.csv" ] || continue
		png=$rep/$sv-memory.png
		[ "$sv" = server ] || marks=
		rig_plot "$png" <<EOF
set title 'Server VM memory ($sv), sampled every second'
set xlabel 'seconds since the server booted'
set ylabel 'MiB'
set yrange [0:*]
set key left center
$marks
plot '$rep/$sv-active-file.csv' using 1:2 with lines lw 2 title 'local active file', \\
     '$rep/$sv-inactive-file.csv' using 1:2 with lines lw 2 title 'local inactive file', \\
     '$rep/$sv-hosted.csv' using 1:2 with lines lw 2 title 'hosted (lent to the client)'
EOF
	done
fi
[ -n "$quiet" ] || echo "$name: report, CSVs and plots in $rep"
