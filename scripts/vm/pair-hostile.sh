#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Test: a hostile peer against a real server (scripts/vm/pair.sh, the
# pair-e2e scenario with the server's max_client_pct=25): the client VM
# reads with PUMA once alone (pass puma) and once while tools/hostile, at
# nice 19 in the same VM, attacks the server with the right key and
# without it (pass hostile; guest/pair-client.sh, hostile_attacks).
#
# Asserts (each attack's refusal by the server's own counters):
#   - both VMs pass, zero verification failures, no session aborted;
#   - the tool's control ("good": PUT 32 pages, GET them back, every byte
#     right) succeeds before and after the attacks: the tool speaks the
#     protocol, so the refusals below mean something;
#   - no key, a wrong key, a replayed handshake: refused
#     (sec_rejected_malformed, sec_rejected_wrong_key >= 2);
#   - a tampered PUT, a replayed message, an oversized frame: closed
#     (sec_rejected_bad_tag, _replay_or_reorder, _oversized);
#   - a truncated frame, a slowloris handshake: closed by the server
#     within dead_ms plus slack (keepalive_timeouts, handshake_failures);
#   - a client that never reads, a GET flood: bounded
#     (server_send_queue_full > 0), the server still serves the control;
#   - 1,000 connections: refused beyond max_accepted (refused_limit);
#   - PUTs under random keys beyond the 25 % quota: bounded
#     (server_quota_evictions > 0, pages charged <= the cap);
#   - the legitimate client's hit ratio under attack within 10 % of the
#     pass without it.
#
#   pair-hostile.sh [--kdir DIR] [--outdir DIR] [--verbose]
#
# About 6 minutes on 2 cores (TCG).  Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

rig_parse "kdir= outdir= verbose" "$@"
rig_outdir

"$rig/pair.sh" ${kdir:+--kdir "$kdir"} --outdir "$outdir" \
	--phases "puma hostile" --blocks 40960 --duration 30 --timeout 900 \
	--server-params "max_client_pct=25" ${verbose:+--verbose} || rc=$?
res=$outdir/results.txt
[ -r "$res" ] || { echo "$name: FAIL: no results" >&2; exit 1; }
[ "$rc" -eq 0 ] || fail "a VM failed (pair.sh status $rc)"
rig_clean_runs 4 'client\..*'
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
rig_verdict
