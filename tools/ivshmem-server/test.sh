#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self test of ivshmem-server, driven through ivshmem-client-test (see the
# header of ivshmem-client-test.c for what each of its modes checks):
#
#   - bad options are refused;
#   - "scenario" (3 vectors, 64K, --max-peers 4, then the defaults: 1
#     vector, 4M, 16 peers) and "abrupt" pass, the server logs no error,
#     exits 0 on SIGTERM and removes its socket and pid file;
#   - a stale socket is replaced, a live one refused;
#   - "stall": a peer that stops reading is dropped (--send-timeout-ms);
#   - negative controls: with --debug-skip-msg K the server drops its K-th
#     message (the own ID, the shm fd, an own eventfd, the announcement of
#     B to A, the "peer 0 gone" to B: numbers taken from the log of the
#     good run); "scenario" must then FAIL, and it must also FAIL when it
#     expects another shm size;
#   - if qemu-system-x86_64 is installed: QEMU (TCG, -S, nothing boots)
#     with an ivshmem-doorbell device on the server gets ID 0, shows the
#     device with a 4M BAR2; a probe client (ID 1) gets QEMU's eventfd,
#     rings it and sees QEMU consume it, and gets "peer 0 gone" when QEMU
#     quits; with the ID message skipped, QEMU refuses to start.
#
#   test.sh [BINDIR]     (default: ../bin, built if missing)
#
# Takes about 2 s (plus about 1 s with QEMU); runs in a temporary
# directory under ${TMPDIR:-/tmp}.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${1:-$here/../bin}
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
if [ ! -x "$bin/ivshmem-server" ] || [ ! -x "$bin/ivshmem-client-test" ]; then
	make -C "$here" O="$bin" >/dev/null
fi
server=$bin/ivshmem-server
client=$bin/ivshmem-client-test

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ivshmem-test.XXXXXX")
srv_pid=
qemu_pid=
probe_pid=
cleanup() {
	local p
	for p in $probe_pid $qemu_pid $srv_pid; do
		kill "$p" 2>/dev/null || true
	done
	for p in $probe_pid $qemu_pid $srv_pid; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
pass=0
out=$tmp/out

fail() {
	echo "test: FAIL: $*" >&2
	echo "--- last output:" >&2
	cat "$out" >&2 2>/dev/null || true
	exit 1
}
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }

# wait_for FILE REGEX [SECONDS]: until FILE has a line matching REGEX
wait_for() {
	local i
	for ((i = 0; i < ${3:-5} * 20; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# start_server NAME [OPTION...]: $tmp/NAME.{sock,shm,pid,log,err}
start_server() {
	local name=$1 i
	shift
	srv_name=$name
	rm -f "$tmp/$name.pid"
	"$server" -S "$tmp/$name.sock" -m "$tmp/$name.shm" -p "$tmp/$name.pid" \
		-v "$@" >"$tmp/$name.log" 2>"$tmp/$name.err" &
	srv_pid=$!
	for ((i = 0; i < 250; i++)); do
		[ -s "$tmp/$name.pid" ] && break
		kill -0 "$srv_pid" 2>/dev/null ||
			{ cat "$tmp/$name.err" >&2; fail "server $name exited at start"; }
		sleep 0.02
	done
	[ "$(cat "$tmp/$name.pid")" = "$srv_pid" ] ||
		fail "server $name: pid file does not hold its pid"
	[ -S "$tmp/$name.sock" ] || fail "server $name: no socket"
}

# stop_server: SIGTERM, exit status 0, socket and pid file removed
stop_server() {
	local rc=0
	kill -0 "$srv_pid" 2>/dev/null || fail "server $srv_name died"
	kill -TERM "$srv_pid"
	wait "$srv_pid" || rc=$?
	srv_pid=
	[ $rc -eq 0 ] || fail "server $srv_name exited with $rc on SIGTERM"
	[ ! -e "$tmp/$srv_name.sock" ] || fail "server $srv_name left its socket"
	[ ! -e "$tmp/$srv_name.pid" ] || fail "server $srv_name left its pid file"
}

# run_client MODE ARGS...: must pass
run_client() {
	"$client" "$@" >"$out" 2>&1 || fail "ivshmem-client-test $1"
	sed 's/^/    /' "$out"
}

# --- option checks
for args in "-m $tmp/x.shm" "-S $tmp/x.sock" "-S $tmp/x.sock -m $tmp/x.shm -l 3000" \
	    "-S $tmp/x.sock -m $tmp/x.shm -l 2K" "-S $tmp/x.sock -m $tmp/x.shm -l 4X" \
	    "-S $tmp/x.sock -m $tmp/x.shm -n 0" "-S $tmp/x.sock -m $tmp/x.shm -n 65" \
	    "-S $tmp/x.sock -m $tmp/x.shm --max-peers 0" "-S $tmp/x.sock -m $tmp/x.shm extra"; do
	rc=0
	# shellcheck disable=SC2086
	"$server" $args >"$out" 2>&1 || rc=$?
	[ $rc -eq 2 ] || fail "server $args: exit $rc, expected 2"
	[ ! -e "$tmp/x.sock" ] || fail "server $args created its socket"
done
ok "bad options refused with exit 2: $(head -1 "$out")"

# --- good runs
start_server s1 -l 64K -n 3 --max-peers 4 --reuse-ids
run_client scenario -S "$tmp/s1.sock" -n 3 -l 65536 --max-peers 4
ok "scenario, 3 vectors, 64K, --max-peers 4"
run_client abrupt -S "$tmp/s1.sock" -n 3 -l 65536
ok "abrupt hang-ups, server still serving"
stop_server
# the refusal of the 5th connection is the only error
no_errors_but_refusal() {
	local n
	n=$(grep -c "refusing a connection: $2 peers already" "$tmp/$1.err" || true)
	[ "$n" = 1 ] || fail "server $1: $n refusal(s) logged, expected 1"
	! grep -v "refusing a connection" "$tmp/$1.err" >&2 ||
		fail "server $1 logged errors"
}
no_errors_but_refusal s1 4
[ "$(stat -c %s "$tmp/s1.shm")" = 65536 ] || fail "shm file not 64K or removed"
ok "SIGTERM: exit 0, socket and pid file removed, shm file kept (64K), no error but the refusal"

# stale socket replaced, live socket refused
start_server s5
kill -KILL "$srv_pid"
wait "$srv_pid" 2>/dev/null || true
[ -S "$tmp/s5.sock" ] || fail "SIGKILL left no stale socket to test with"
start_server s5
grep -q "removing stale socket" "$tmp/s5.log" || fail "stale socket not reported"
rc=0
"$server" -S "$tmp/s5.sock" -m "$tmp/s5b.shm" >"$out" 2>&1 || rc=$?
if [ $rc -ne 1 ] || ! grep -q "another server is listening" "$out"; then
	fail "second server on a live socket: exit $rc"
fi
[ -S "$tmp/s5.sock" ] || fail "second server removed the live socket"
stop_server
ok "stale socket replaced; a live one refused ($(cat "$out"))"

start_server s2 --reuse-ids
run_client scenario -S "$tmp/s2.sock" -n 1 -l 4194304 --max-peers 16
stop_server
no_errors_but_refusal s2 16
ok "scenario with the defaults: 1 vector, 4M, 16 peers"

# IDs count up: QEMU 7.2 writes into freed memory when a gone peer's ID
# comes back (ivshmem-server.c, new_peer_id()).  Each probe hangs up as it
# ends; the pause lets the server see it before the next one comes.
start_server ids -l 64K
run_client probe -S "$tmp/ids.sock" -n 1 -l 65536 --expect-id 0
sleep 0.3
run_client probe -S "$tmp/ids.sock" -n 1 -l 65536 --expect-id 1
stop_server
ok "a gone peer's ID is not given again: 0, then 1"
start_server ids -l 64K --reuse-ids
run_client probe -S "$tmp/ids.sock" -n 1 -l 65536 --expect-id 0
sleep 0.3
run_client probe -S "$tmp/ids.sock" -n 1 -l 65536 --expect-id 0
stop_server
ok "negative control: with --reuse-ids the next peer gets ID 0 again"

start_server s3 -l 64K --send-timeout-ms 300 --reuse-ids
run_client stall -S "$tmp/s3.sock" -n 1 -l 65536
stop_server
grep -q "send timed out after 300 ms" "$tmp/s3.err" ||
	fail "s3: no send timeout logged"
ok "a peer that stops reading is dropped: $(head -1 "$tmp/s3.err")"

# --- negative controls: the K-th message is not sent
# numbers from the good run s1: A's ID, shm, A's first own eventfd, B's
# first eventfd announced to A, "peer 0 gone" sent to B
k_id=2 k_shm=3 k_own=4
k_ann=$(grep -m1 -E 'msg #[0-9]+ to peer 0: 1 \+ fd$' "$tmp/s1.log" | sed -E 's/.*msg #([0-9]+).*/\1/')
# (one awk: "sed | grep -m1" let grep exit first, and sed's SIGPIPE failed
# the pipeline under pipefail when the log was long)
k_gone=$(awk '/peer 0 disconnected/ { on = 1 }
	on && /msg #[0-9]+ to peer 1: 0$/ { sub(/.*msg #/, ""); sub(/ .*/, ""); print; exit }' \
	"$tmp/s1.log")
grep -qE "msg #$k_id to peer 0: 0$" "$tmp/s1.log" || fail "s1 log: msg #$k_id is not A's ID"
grep -qE "msg #$k_shm to peer 0: -1 \+ fd$" "$tmp/s1.log" || fail "s1 log: msg #$k_shm is not the shm"
grep -qE "msg #$k_own to peer 0: 0 \+ fd$" "$tmp/s1.log" || fail "s1 log: msg #$k_own is not A's eventfd"
[ -n "$k_ann" ] || fail "s1 log: B's announcement to A not found"
[ -n "$k_gone" ] || fail "s1 log: \"peer 0 gone\" to B not found"
for what in "id:$k_id" "shm:$k_shm" "own-eventfd:$k_own" "announce-B-to-A:$k_ann" "gone-to-B:$k_gone"; do
	k=${what#*:}
	start_server neg -l 64K -n 3 --max-peers 4 --reuse-ids --debug-skip-msg "$k"
	rc=0
	"$client" scenario -S "$tmp/neg.sock" -n 3 -l 65536 --max-peers 4 \
		--timeout-ms 300 >"$out" 2>&1 || rc=$?
	stop_server
	grep -q "msg #$k .*SKIPPED" "$tmp/neg.log" || fail "server did not skip msg #$k"
	if [ $rc -ne 1 ] || ! grep -q '^FAIL: ' "$out"; then
		fail "scenario passed (exit $rc) with message #$k (${what%%:*}) missing"
	fi
	ok "negative control: without msg #$k (${what%%:*}): $(grep '^FAIL: ' "$out")"
done
start_server neg -l 64K -n 3
rc=0
"$client" scenario -S "$tmp/neg.sock" -n 3 -l 131072 --max-peers 4 \
	--timeout-ms 300 >"$out" 2>&1 || rc=$?
stop_server
if [ $rc -ne 1 ] || ! grep -q '^FAIL: .*shm is 65536 bytes' "$out"; then
	fail "scenario expecting 128K passed against a 64K server (exit $rc)"
fi
ok "negative control: wrong size expected: $(grep '^FAIL: ' "$out")"

# --- QEMU
qemu=$(command -v qemu-system-x86_64 || true)
if [ -z "$qemu" ]; then
	echo "# qemu-system-x86_64 not installed: QEMU check skipped"
	echo "test: all $pass checks passed"
	exit 0
fi

# run_qemu NAME: QEMU on server NAME, monitor on stdio fed by fd 3
run_qemu() {
	rm -f "$tmp/qemu.in"
	mkfifo "$tmp/qemu.in"
	timeout 20 "$qemu" -accel tcg -machine pc -nodefaults -display none \
		-m 64M -chardev "socket,path=$tmp/$1.sock,id=ivsh" \
		-device ivshmem-doorbell,chardev=ivsh,vectors=1 -S \
		-monitor stdio <"$tmp/qemu.in" >"$tmp/qemu.out" 2>&1 &
	qemu_pid=$!
	exec 3>"$tmp/qemu.in"
}

start_server q
run_qemu q
wait_for "$tmp/q.log" "peer 0 has its 1 eventfd" 10 ||
	{ exec 3>&-; cat "$tmp/qemu.out" >&2; fail "QEMU did not get its fds"; }
ok "QEMU connected: $(grep -E 'peer 0 (connected|has)' "$tmp/q.log" | sed 's/^ivshmem-server: //' | paste -sd ';')"
"$client" probe -S "$tmp/q.sock" -n 1 -l 4194304 --expect-id 1 --peers 0 \
	--expect-consumed --wait-gone 0 >"$tmp/probe.out" 2>&1 &
probe_pid=$!
wait_for "$tmp/probe.out" "^(probe: ready|FAIL)" 5 || true
printf 'info pci\nquit\n' >&3
exec 3>&-
rc=0
wait "$qemu_pid" || rc=$?
qemu_pid=
[ $rc -eq 0 ] || { cat "$tmp/qemu.out" >&2; fail "QEMU exited with $rc"; }
rc=0
wait "$probe_pid" || rc=$?
probe_pid=
cp "$tmp/probe.out" "$out"
[ $rc -eq 0 ] || fail "probe next to QEMU"
sed 's/^/    /' "$out"
grep -q "RAM controller: PCI device 1af4:1110" "$tmp/qemu.out" ||
	{ cp "$tmp/qemu.out" "$out"; fail "QEMU shows no ivshmem device"; }
bar2=$(printf '0x%08x' $((4194304 - 2)))
grep -q "BAR2: .*\[$bar2\]" "$tmp/qemu.out" ||
	{ cp "$tmp/qemu.out" "$out"; fail "QEMU's BAR2 is not 4M"; }
if grep -iE "ivshmem|invalid|error" "$tmp/qemu.out" >"$out"; then
	fail "QEMU complained (e.g. about the probe's announcement)"
fi
wait_for "$tmp/q.log" "peer 0 gone" 2 || fail "server did not see QEMU leave"
stop_server
[ ! -s "$tmp/q.err" ] || { cat "$tmp/q.err" >&2; fail "server q logged errors"; }
ok "QEMU: ivshmem device 1af4:1110 with a 4M BAR2, no complaint; probe rang QEMU (consumed), got \"peer 0 gone\" at quit"

start_server qneg --debug-skip-msg 2
run_qemu qneg
exec 3>&-
rc=0
wait "$qemu_pid" || rc=$?
qemu_pid=
stop_server
if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then
	cp "$tmp/qemu.out" "$out"
	fail "QEMU started (exit $rc) without its ID message"
fi
ok "negative control: QEMU refuses to start without its ID message: $(grep -m1 -i 'ivshmem\|server' "$tmp/qemu.out")"

echo "test: all $pass checks passed"
