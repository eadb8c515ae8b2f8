#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Test: PUMA end to end on two VMs over TCP, a short base scenario
# (scripts/vm/pair.sh): a 160 MiB stamped file on a 25-IOPS disk, a
# 256 MiB client, a 1 GiB server; a sequential warm-up then 30 s of
# random reads, every block verified, once without PUMA and once with it,
# in the same invocation; then the PUMA pass again (60 s of reads) while
# tools/hostile, at nice 19 in the client VM, attacks the server with the
# right key and without it, then a GET flood of hits and 1,000
# connections once the reads are over (guest/pair-client.sh,
# hostile_attacks and hostile_after).  The server runs with
# max_client_pct=25.
#
# Asserts (floors stated here and printed):
#   - both VMs pass (no kernel splat, no hang, guest verdict pass);
#   - zero verification failures in every blockcheck run;
#   - the link ran the secure channel (security=encrypt, the default):
#     the server completed a handshake and made no insecure connection;
#   - nothing readable on the wire: a capture of the client's link (QEMU
#     filter-dump, more than 16 MiB of it) holds none of the stamped
#     blocks' headers; pair-kill.sh runs security=none and finds them;
#   - PUMA hits > 0 in the measured pass;
#   - speed-up (IOPS with PUMA / IOPS without) >= FLOOR, default 1.2
#     (the floor leaves room for a loaded host's noise, not for a
#     regression; Documentation/vm-rig.rst has the measured range);
#   - the hostile pass, each attack's refusal by the server's own
#     counters (Documentation/security.rst, "Testing"):
#       . no session aborted; the tool's control ("good": PUT 32 pages,
#         GET them back, every byte right) succeeds before and after the
#         attacks, so the refusals below mean something;
#       . no key, a wrong key, a replayed handshake: refused
#         (sec_rejected_malformed, sec_rejected_wrong_key >= 2);
#       . a tampered PUT, a replayed message, an oversized frame: closed
#         (sec_rejected_bad_tag, _replay_or_reorder, _oversized);
#       . a truncated frame, a slowloris handshake: closed by the server
#         within dead_ms plus slack (keepalive_timeouts,
#         handshake_failures);
#       . a client that never reads, a GET flood: bounded
#         (server_send_queue_full > 0), the server still serves the
#         control;
#       . 1,000 connections: refused beyond max_handshakes and
#         max_accepted (refused_limit);
#       . PUTs under random keys beyond the 25 % quota: bounded
#         (server_quota_evictions > 0, pages charged <= the cap);
#       . the legitimate client's hit ratio under attack within 10 % of
#         the pass without it;
#   - a tampered GET_RESPONSE: the client's backend, reconnected to
#     tools/hostile as its server in the client VM, gets pages from it
#     when it answers honestly (serve: hits > 0, every block right), and
#     when it flips a byte of each sealed response
#     (tampered-get-response) refuses them all (its sec_rejected_bad_tag
#     moves, no hit), every block still right (read from disk).
#
# With --transport virtio, the same scenario with the backend over the
# virtio transport, both VMs on one ivshmem region (pair.sh --transport
# virtio), without the hostile passes (they attack TCP), then the
# transport benchmark over TCP and over virtio on the same VMs.  Asserts:
# both VMs pass, zero verification failures, hits > 0, the speed-up
# floor, the pages went through the region (the server's virtio
# pages_received > 0, no bad ring), and none crossed the network (a
# capture of the client's link holds no stamped block).
#
#   pair-e2e.sh [--kdir DIR] [--outdir DIR] [--floor X]
#               [--transport tcp|virtio] [--verbose]
#
# About 6 minutes on 2 cores (TCG), 4 with virtio.  Exit: 0 pass, 1 fail,
# 2 usage.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

floor=1.2
transport=tcp
rig_parse "kdir= outdir= floor= transport= verbose" "$@"
[[ "$floor" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "bad --floor '$floor'"
rig_outdir

# speedup_ok: the report's speed-up and hits, against the floor
speedup_ok() {
	local hits speedup
	hits=$(get puma.hits)
	[ "${hits:-0}" -gt 0 ] || fail "no PUMA hit in the measured pass"
	speedup=$(get speedup)
	if [ -z "$speedup" ] ||
	   ! awk -v s="$speedup" -v f="$floor" 'BEGIN { exit !(s >= f) }'; then
		fail "speed-up ${speedup:-none} below the floor $floor"
	fi
	echo "$name: IOPS $(get nopuma.iops) without PUMA, $(get puma.iops) with;" \
		"speed-up ${speedup}x (floor ${floor}x); hits $hits, hit ratio $(get puma.hit_ratio);" \
		"GET round trip p50 $(get puma.rtt_p50_us) us, p99 $(get puma.rtt_p99_us) us"
}

if [ "$transport" = virtio ]; then
	"$rig/pair.sh" ${kdir:+--kdir "$kdir"} --outdir "$outdir" --transport virtio \
		--phases "nopuma puma" --blocks 40960 --duration 30 --bench 16384 \
		--timeout 900 --pcap ${verbose:+--verbose} || rc=$?
	res=$outdir/results.txt
	[ -r "$res" ] || { echo "$name: FAIL: no results" >&2; exit 1; }
	"$rig/pair-report.sh" --no-plots "$outdir" || true
	[ "$rc" -eq 0 ] || fail "a VM failed (pair.sh status $rc)"
	rig_clean_runs 4 'client\..*'
	received=$(num server.end.virtio.pages_received)
	[ "$received" -gt 0 ] || fail "no page reached the server through the region"
	[ "$(num server.end.virtio.bad_rings)" -eq 0 ] || fail "the server refused a ring"
	stamps=$(rig_pcap_stamps "$outdir/client.pcap")
	[ "$stamps" -eq 0 ] || fail "$stamps stamped blocks crossed the network"
	rm -f "$outdir/client.pcap"
	echo "$name: virtio: the server received $received pages through the region," \
		"$stamps stamped blocks on the network;" \
		"benchmark pages/s: TCP $(num client.bench_tcp.pages_per_s)," \
		"virtio $(num client.bench_virtio.pages_per_s)"
	res=$outdir/report/summary.txt
	speedup_ok
	echo "$name: virtio over TCP, transport benchmark: $(get bench.virtio_over_tcp)x"
	rig_verdict
fi

"$rig/pair.sh" ${kdir:+--kdir "$kdir"} --outdir "$outdir" \
	--phases "nopuma puma hostile" --server-params "max_client_pct=25" \
	--hostile-server \
	--blocks 40960 --duration 30 --timeout 900 --pcap ${verbose:+--verbose} || rc=$?
res=$outdir/results.txt
[ -r "$res" ] || { echo "$name: FAIL: no results" >&2; exit 1; }
"$rig/pair-report.sh" --no-plots "$outdir" || true
sum=$outdir/report/summary.txt
[ "$rc" -eq 0 ] || fail "a VM failed (pair.sh status $rc)"
# the warm-up and the measured pass of each phase
rig_clean_runs 6 'client\..*'
if [ "$(num server.end.tcp.sec_handshakes)" -lt 1 ] ||
   [ "$(num server.end.tcp.insecure_conns)" -ne 0 ]; then
	fail "the link did not run the secure channel"
fi
pcap=$outdir/client.pcap
pcap_mb=$(( $(stat -c %s "$pcap" 2>/dev/null || echo 0) >> 20 ))
stamps=$(rig_pcap_stamps "$pcap")
[ "$pcap_mb" -gt 16 ] || fail "the capture holds only $pcap_mb MiB"
[ "$stamps" -eq 0 ] || fail "$stamps stamped blocks readable on the wire"
echo "$name: capture of the link: $pcap_mb MiB, $stamps stamped blocks in clear (security=encrypt)"
rm -f "$pcap"
[ "$(num server.end.server_session_aborts)" -eq 0 ] ||
	fail "$(num server.end.server_session_aborts) sessions aborted"

# at_least COUNTER N [WHAT]: the server's COUNTER moved at least N
at_least() {
	local v
	v=$(num "server.end.$1")
	echo "$name: ${3:-$1}: $1=$v"
	[ "$v" -ge "$2" ] || fail "${3:-$1}: $1=$v, want >= $2"
}
result() { get "client.hostile.$1.result"; }
if [ "$(get client.hostile.good.result)" != ok ] ||
   [ "$(num client.hostile.good.data_ok)" -ne 32 ]; then
	fail "the tool's control failed: the attacks prove nothing"
fi
for a in nokey wrongkey replay-handshake tampered-put replay-msg oversized \
	truncated slowloris; do
	case "$(result "$a")" in
	closed|refused) ;;
	*) fail "$a: result '$(result "$a")', want closed or refused" ;;
	esac
done
at_least tcp.sec_rejected_malformed 1 "no key"
at_least tcp.sec_rejected_wrong_key 2 "wrong key, replayed handshake"
at_least tcp.sec_rejected_bad_tag 1 "tampered PUT"
at_least tcp.sec_rejected_replay_or_reorder 1 "replayed message"
at_least tcp.sec_rejected_oversized 1 "oversized frame"
at_least tcp.keepalive_timeouts 1 "truncated frame"
[ "$(num client.hostile.truncated.closed_after_ms)" -le 15000 ] ||
	fail "truncated: closed after $(num client.hostile.truncated.closed_after_ms) ms"
[ "$(num client.hostile.slowloris.last_close_ms)" -le 15000 ] ||
	fail "slowloris: closed after $(num client.hostile.slowloris.last_close_ms) ms"
at_least tcp.handshake_failures 4 "slowloris"
at_least server_send_queue_full 1 "never-read, GET flood"
at_least tcp.refused_limit 500 "1,000 connections"
at_least server_quota_evictions 1 "PUTs beyond the quota"
charged=$(num server.end.charged)
cap=$(( $(num host.server_mem_mb) * 256 / 2 ))
echo "$name: pages charged at the end: $charged (cap $cap: max_hosted_pct=50)"
[ "$charged" -le "$cap" ] || fail "charged $charged pages, over the cap $cap"

# ratio PASS: hits / gets of the pass's measured reads
ratio() {
	local g h
	g=$(( $(num "client.stats.$1.run.gets") - $(num "client.stats.$1.warm.gets") ))
	h=$(( $(num "client.stats.$1.run.hits") - $(num "client.stats.$1.warm.hits") ))
	awk -v g="$g" -v h="$h" 'BEGIN { printf "%.3f\n", g ? h / g : 0 }'
}
alone=$(ratio puma) attacked=$(ratio hostile)
echo "$name: hit ratio: $alone alone, $attacked under attack;" \
	"IOPS $(get client.puma.run.iops) alone, $(get client.hostile.run.iops) under attack"
awk -v a="$alone" -v b="$attacked" 'BEGIN { exit !(b >= 0.9 * a) }' ||
	fail "hit ratio under attack $attacked, below 90 % of $alone"

# hs ATTACK COUNTER: the client's COUNTER over the read-back against the
# tool serving ATTACK
hs() { echo $(( $(num "client.stats.$1.back.$2") - $(num "client.stats.$1.filled.$2") )); }
served=$(hs serve hits)
echo "$name: tools/hostile as the client's server: serve: $served hits" \
	"(result $(get client.hostile.serve.result))"
if [ "$(get client.hostile.serve.result)" != ok ] || [ "$served" -le 0 ]; then
	fail "the client got no page from the honest tool: the refusals prove nothing"
fi
tampered=$(num client.hostile.tampered-get-response.tampered)
refused=$(hs tampered-get-response tcp.sec_rejected_bad_tag)
taken=$(hs tampered-get-response hits)
echo "$name: tampered-get-response: $tampered responses tampered, the" \
	"client refused $refused (sec_rejected_bad_tag), took $taken pages"
[ "$tampered" -ge 1 ] || fail "the tool tampered with no response"
[ "$refused" -ge 1 ] || fail "the client did not refuse a tampered response"
[ "$taken" -eq 0 ] || fail "the client took $taken pages from tampered responses"

res=$sum	# the figures below are the report's
speedup_ok
rig_verdict
