#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Test: PUMA end to end on two VMs over TCP, a short base scenario
# (scripts/vm/pair.sh): a 160 MiB stamped file on a 25-IOPS disk, a
# 256 MiB client, a 1 GiB server; a sequential warm-up then 30 s of
# random reads, every block verified, once without PUMA and once with it,
# in the same invocation.
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
#     regression; Documentation/vm-rig.rst has the measured range).
#
#   pair-e2e.sh [--kdir DIR] [--outdir DIR] [--floor X] [--verbose]
#
# About 4 minutes on 2 cores (TCG).  Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

floor=1.2
rig_parse "kdir= outdir= floor= verbose" "$@"
[[ "$floor" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "bad --floor '$floor'"
rig_outdir

"$rig/pair.sh" ${kdir:+--kdir "$kdir"} --outdir "$outdir" \
	--blocks 40960 --duration 30 --timeout 900 --pcap ${verbose:+--verbose} || rc=$?
res=$outdir/results.txt
[ -r "$res" ] || { echo "$name: FAIL: no results" >&2; exit 1; }
"$rig/pair-report.sh" --no-plots "$outdir" || true
sum=$outdir/report/summary.txt
[ "$rc" -eq 0 ] || fail "a VM failed (pair.sh status $rc)"
# the warm-up and the measured pass, without and with PUMA
rig_clean_runs 4 'client\..*'
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
res=$sum	# the figures below are the report's
hits=$(get puma.hits)
[ "${hits:-0}" -gt 0 ] || fail "no PUMA hit in the measured pass"
speedup=$(get speedup)
if [ -z "$speedup" ] ||
   ! awk -v s="$speedup" -v f="$floor" 'BEGIN { exit !(s >= f) }'; then
	fail "speed-up ${speedup:-none} below the floor $floor"
fi
echo "$name: IOPS $(get nopuma.iops) without PUMA, $(get puma.iops) with;" \
	"speed-up ${speedup}x (floor ${floor}x); hits $hits, hit ratio $(get puma.hit_ratio)"
rig_verdict
