#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side self test of tcpbench over the loopback interface: the client
# moves exactly N pages (the server counts and checks every page number),
# message and byte counts follow from --batch and --header, a malformed or
# truncated stream is refused without crashing the server, and bad
# arguments and network errors give a clear error and the right status.
#
#   test-host.sh [TCPBENCH]     (default: ../bin/tcpbench, built if missing)

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tb=${1:-$here/../bin/tcpbench}
if [ ! -x "$tb" ]; then
	make -C "$here" >/dev/null
fi
tb=$(cd "$(dirname "$tb")" && pwd)/$(basename "$tb")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcpbench-test.XXXXXX")
srvpid=
trap '[ -z "$srvpid" ] || kill "$srvpid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
out=$tmp/out
err=$tmp/err
srv=$tmp/server.out
pass=0

fail() {
	echo "test-host: FAIL: $*" >&2
	echo "--- last output:" >&2
	cat "$out" "$err" >&2 2>/dev/null || true
	echo "--- server:" >&2
	cat "$srv" >&2 2>/dev/null || true
	exit 1
}
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }

# val KEY: KEY's value in the one-key-per-line client output.
val() { sed -n "s/^$1=//p" "$out"; }

# start_server ARGS...: run a server on a free port; sets $port, $srvpid.
start_server() {
	: >"$srv"
	"$tb" server --port 0 "$@" >"$srv" 2>&1 &
	srvpid=$!
	for _ in $(seq 50); do
		grep -q '^TCPBENCH listening port=' "$srv" && break
		sleep 0.1
	done
	port=$(sed -n 's/^TCPBENCH listening port=//p' "$srv")
	[ -n "$port" ] || fail "server did not start"
}

# server_line N: wait for the server's N-th connection line, print it.
server_line() {
	for _ in $(seq 50); do
		[ "$(grep -c '^TCPBENCH\(-FAIL\)* server ' "$srv")" -ge "$1" ] && break
		sleep 0.1
	done
	grep '^TCPBENCH\(-FAIL\)* server ' "$srv" | sed -n "$1p"
}

# expect_usage DESC CMD...: exits 2 with an error message.
expect_usage() {
	local desc=$1 rc=0; shift
	"$@" >"$out" 2>"$err" || rc=$?
	[ "$rc" -eq 2 ] || fail "$desc: exit $rc, want 2"
	grep -q '^tcpbench: error: \|^usage: ' "$err" || fail "$desc: no error message"
	ok "$desc ($(sed 's/^tcpbench: error: //' "$err" | head -1))"
}

# run_client CONN PAGES BATCH HEADER [ARGS...]: exactly PAGES pages go over,
# in ceil(PAGES / BATCH) messages of HEADER + pages bytes, as seen by both
# ends; CONN is the server's connection number.
run_client() {
	local conn=$1 n=$2 b=$3 h=$4 msgs line; shift 4
	msgs=$(( (n + b - 1) / b ))
	"$tb" client --host "${host:-127.0.0.1}" --port "$port" --pages "$n" \
		--batch "$b" --header "$h" "$@" >"$out" 2>"$err" ||
		fail "client $n/$b/$h: exit $?"
	[ "$(val pages)" -eq "$n" ] && [ "$(val messages)" -eq "$msgs" ] &&
		[ "$(val failures)" -eq 0 ] || fail "client summary"
	awk -v s="$(val seconds)" -v r="$(val pages_per_s)" -v m="$(val mib_per_s)" \
		'BEGIN { exit !(s > 0 && r > 0 && m > 0) }' || fail "client rates"
	grep -q "^TCPBENCH client pages=$n seconds=.* pages_per_s=.* mib_per_s=" "$out" ||
		fail "client one-line summary"
	line=$(server_line "$conn")
	echo "# $line"
	case "$line" in
	"TCPBENCH server "*" pages=$n messages=$msgs bytes=$((n * 4096 + msgs * h)) "*" failures=0") ;;
	*) fail "server saw: $line" ;;
	esac
}

"$tb" --help >"$out" || fail "--help exit status"
grep -q 'tcpbench client --host A --port P --pages N' "$out" || fail "--help text"
ok "--help"

start_server
run_client 1 10000 32 64
ok "10000 pages, batch 32, 64-byte header: exact at both ends ($(val mib_per_s) MiB/s)"
run_client 2 1000 7 816 --nodelay
[ "$(val nodelay)" -eq 1 ] || fail "nodelay"
ok "1000 pages, batch 7, 816-byte header, --nodelay"
run_client 3 1 32 32
ok "1 page, 32-byte header"
if [ -e /proc/net/if_inet6 ] && grep -q '^0*1 ' /proc/net/if_inet6; then
	host=::1 run_client 4 5000 32 64
	ok "IPv6 ::1"
else
	echo "# no IPv6 loopback: skipping ::1"
	"$tb" client --host 127.0.0.1 --port "$port" --pages 1 >/dev/null
fi

# A malformed stream: reported, no answer byte, the server carries on.
head -c 4096 /dev/zero >"/dev/tcp/127.0.0.1/$port"
case "$(server_line 5)" in
"TCPBENCH-FAIL server "*"detail=bad header in message 0 (magic 0x00000000"*) ;;
*) fail "garbage: $(server_line 5)" ;;
esac
ok "zeros refused: $(server_line 5 | sed 's/.*detail=//')"
# A valid header announcing 2 pages, then 100 bytes and a close.
{ printf 'TPB1\x20\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00'
  head -c 16 /dev/zero; head -c 100 /dev/zero; } >"/dev/tcp/127.0.0.1/$port"
case "$(server_line 6)" in
*"detail=connection closed after 0 of 2 pages of message 0") ;;
*) fail "truncated: $(server_line 6)" ;;
esac
ok "truncated stream refused: $(server_line 6 | sed 's/.*detail=//')"
# A page out of order (page 0 numbered 5).
{ printf 'TPB1\x20\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00'
  head -c 16 /dev/zero; printf '\x05'; head -c 4095 /dev/zero; } >"/dev/tcp/127.0.0.1/$port"
case "$(server_line 7)" in
*"detail=page 0 carries number 5") ;;
*) fail "misnumbered page: $(server_line 7)" ;;
esac
ok "misnumbered page refused"
run_client 8 300 32 64
ok "server still serves after bad clients"
kill "$srvpid"
wait "$srvpid" 2>/dev/null || true
srvpid=

# --once: exits after one connection, with its status.
start_server --once
run_client 1 64 32 64
rc=0
wait "$srvpid" || rc=$?
srvpid=
[ "$rc" -eq 0 ] || fail "--once good client: exit $rc"
ok "--once exits 0 after a good client"
start_server --once
head -c 100 /dev/zero >"/dev/tcp/127.0.0.1/$port"
rc=0
wait "$srvpid" || rc=$?
srvpid=
[ "$rc" -eq 1 ] || fail "--once bad client: exit $rc"
ok "--once exits 1 after a bad client"

# Network errors: exit 1 with a message.
rc=0
"$tb" client --host 127.0.0.1 --port "$port" --pages 10 >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'error: connect to 127.0.0.1 port .*refused' "$err" ||
	fail "connection refused: exit $rc"
ok "no server: exit 1 ($(cat "$err"))"
# A server that hangs up without answering: the client must not report a
# result (needs python3 for a listener; skipped without it).
if command -v python3 >/dev/null; then
	python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.recv(100); c.close()' >"$tmp/fake.port" &
	fakepid=$!
	for _ in $(seq 50); do [ -s "$tmp/fake.port" ] && break; sleep 0.1; done
	rc=0
	"$tb" client --host 127.0.0.1 --port "$(cat "$tmp/fake.port")" \
		--pages 100000 >"$out" 2>"$err" || rc=$?
	wait "$fakepid" || true
	[ "$rc" -eq 1 ] && ! grep -q '^pages=' "$out" &&
		grep -q '^tcpbench: error: ' "$err" || fail "server hung up: exit $rc"
	ok "server hangs up: client exits 1 ($(cat "$err"))"
else
	echo "# no python3: skipping the hang-up case"
fi
start_server
rc=0
"$tb" server --port "$port" >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'error: bind port .*in use' "$err" || fail "port in use: exit $rc"
ok "port in use: exit 1 ($(cat "$err"))"
kill "$srvpid"
wait "$srvpid" 2>/dev/null || true
srvpid=

# Bad arguments.
expect_usage "no command" "$tb"
expect_usage "unknown command" "$tb" serve --port 1
expect_usage "missing --port" "$tb" server
expect_usage "--port 70000" "$tb" server --port 70000
expect_usage "client without --pages" "$tb" client --host 127.0.0.1 --port 9
expect_usage "--pages 0" "$tb" client --host 127.0.0.1 --port 9 --pages 0
expect_usage "--pages -1" "$tb" client --host 127.0.0.1 --port 9 --pages -1
expect_usage "--batch 0" "$tb" client --host 127.0.0.1 --port 9 --pages 1 --batch 0
expect_usage "--batch 2000" "$tb" client --host 127.0.0.1 --port 9 --pages 1 --batch 2000
expect_usage "--header 16" "$tb" client --host 127.0.0.1 --port 9 --pages 1 --header 16
expect_usage "host name" "$tb" client --host example.org --port 9 --pages 1
expect_usage "client --port 0" "$tb" client --host 127.0.0.1 --port 0 --pages 1
expect_usage "client --once" "$tb" client --host 127.0.0.1 --port 9 --pages 1 --once
expect_usage "server --pages" "$tb" server --port 9 --pages 1
expect_usage "stray argument" "$tb" server --port 9 extra
expect_usage "unknown option" "$tb" server --port 9 --bogus

echo "test-host: all $pass checks passed"
