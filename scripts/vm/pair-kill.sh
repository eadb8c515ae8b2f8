#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Test: the PUMA server VM dies in the middle of the client's run.  Two
# VMs over TCP (scripts/vm/pair.sh --phases puma --kill-after): the client
# warms the server up, starts its measured random reads, and SECONDS into
# them the host kills the server's QEMU (SIGKILL: no FIN, no RST, the
# peer just stops answering); 2 s later a new, empty server VM boots at
# the same address.
#
# Asserts (floors stated here and printed):
#   - the client VM finishes and passes, with zero verification failures
#     in every blockcheck run (each block read is checked);
#   - no read of the measured pass or of the pass after the reconnection
#     took longer than MAX_READ_MS (default 2000 ms), far below the 10 s
#     the transport needs to declare a silent peer dead: reads waited at
#     most get_timeout_us (200 ms) for the server, then went to disk;
#   - the client reconnected on its own: "puma_backend: connected to"
#     twice in its log, and the new server stored pages (server_stored
#     > 0; the client drops its caches once reconnected, which puts its
#     clean pages, so that does not hang on its memory pressure);
#   - the new server VM passes, and the killed one shows no kernel splat
#     up to its death.
#   - it runs with security=none (the zero-copy clear frames, in VMs, as
#     pair-e2e.sh covers encrypt): the connections say so, and a capture
#     of the client's link holds stamped blocks in clear, which proves
#     that pair-e2e.sh's check of its encrypted capture can fail.
#
# With --transport virtio, the same over the virtio transport, both VMs
# on one ivshmem region (pair.sh --transport virtio): the new server VM
# maps the region its predecessor left, and the client's connection to
# the dead one ends (its heartbeat stopped, or the new listener's reset)
# before it connects to the new one.  The security=none checks are TCP's
# and do not apply.
#
#   pair-kill.sh [--kdir DIR] [--outdir DIR] [--max-read-ms N]
#                [--kill-after SEC] [--transport tcp|virtio] [--verbose]
#
# About 4 minutes on 2 cores (TCG).  Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

max_read_ms=2000
kill_after=10
transport=tcp
rig_parse "kdir= outdir= max-read-ms= kill-after= transport= verbose" "$@"
rig_num max_read_ms kill_after
rig_outdir

link=(--security none --pcap)
[ "$transport" = tcp ] || link=(--transport "$transport")
"$rig/pair.sh" ${kdir:+--kdir "$kdir"} --outdir "$outdir" --phases puma \
	--blocks 40960 --duration 60 --kill-after "$kill_after" --after 30 \
	--get-timeout-us 200000 --timeout 900 "${link[@]}" \
	${verbose:+--verbose} || rc=$?
res=$outdir/results.txt
[ -r "$res" ] || { echo "$name: FAIL: no results" >&2; exit 1; }
"$rig/pair-report.sh" --quiet "$outdir" || true

[ "$rc" -eq 0 ] || fail "a VM failed (pair.sh status $rc)"
# the warm-up, the measured pass and the pass after the reconnection
rig_clean_runs 3 'client\..*'
for pass in puma.run after.run; do
	max=$(get "client.$pass.max_us")
	if [ -z "$max" ]; then
		fail "no max latency for $pass"
	elif awk -v m="$max" -v b="$max_read_ms" 'BEGIN { exit !(m > b * 1000) }'; then
		fail "$pass: a read took $(awk -v m="$max" 'BEGIN { printf "%.0f", m / 1000 }') ms (> $max_read_ms ms)"
	fi
done
connects=$(num client.connects)
[ "$connects" -ge 2 ] || fail "the client connected $connects time(s), expected 2 (no reconnection)"
stored=$(num server2.end.server_stored)
[ "$stored" -gt 0 ] || fail "the new server stored no page"
[ -n "$(get host.kill_at_s)" ] || fail "the server was never killed"
if [ "$transport" = tcp ]; then
	[ "$(num server2.end.tcp.insecure_conns)" -ge 1 ] ||
		fail "the new server made no security=none connection"
	pcap=$outdir/client.pcap
	stamps=$(rig_pcap_stamps "$pcap")
	[ "$stamps" -gt 0 ] || fail "no stamped block in the security=none capture"
	rm -f "$pcap"
else
	[ "$(num server2.end.virtio.pages_received)" -gt 0 ] ||
		fail "no page reached the new server through the region"
fi

# On the client's clock (kernel timestamps): the kill happened about
# kill_after s after the measured pass started (the host polls the marker
# once a second).
ktime() {
	tr -d '\r' <"$outdir/client/console.log" |
		sed -n "s/^\[ *\([0-9.]*\)\] puma_backend: $1.*/\1/p" | sed -n "$2"
}
t_kill=$(awk -v r="$(num client.puma.t_run)" -v k="$kill_after" 'BEGIN { print r + k }')
t_down=$(ktime 'disconnected from' 1p)
t_up=$(ktime 'connected to' "\$p")
echo "$name: server killed ${kill_after}s into the measured pass (client t~${t_kill}s," \
	"host t=$(get host.kill_at_s)s); the client gave up on it at t=${t_down:-?}s," \
	"reconnected to the new server (booted at host t=$(get host.server2.boot_at_s)s)" \
	"at t=${t_up:-?}s; connects=$connects"
echo "$name: measured pass: $(get client.puma.run.blocks) reads, IOPS $(get client.puma.run.iops)," \
	"p50 $(get client.puma.run.p50_us) us, max $(get client.puma.run.max_us) us" \
	"(bound ${max_read_ms} ms), GET timeouts $(( $(num client.stats.puma.run.timeouts) - $(num client.stats.puma.warm.timeouts) ))"
echo "$name: after reconnection: $(get client.after.run.blocks) reads, IOPS $(get client.after.run.iops)," \
	"max $(get client.after.run.max_us) us; new server stored $stored pages," \
	"served $(num server2.end.server_hits)"
echo "$name: verification failures: 0 expected, runs: $(grep -cE '^client\..*\.failures=' "$res")"
[ "$transport" != tcp ] ||
	echo "$name: security=none capture of the link: $stamps stamped blocks in clear"
rig_verdict
