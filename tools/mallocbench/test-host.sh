#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side self test of mallocbench: the schedule, the CSV and the
# summary agree with each other and with the arguments, the memory is
# really resident while held, bad arguments and a failed allocation give a
# clear error and the right exit status.
#
#   test-host.sh [MALLOCBENCH]    (default: ../bin/mallocbench, built if missing)

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mb=${1:-$here/../bin/mallocbench}
if [ ! -x "$mb" ]; then
	make -C "$here" >/dev/null
fi
mb=$(cd "$(dirname "$mb")" && pwd)/$(basename "$mb")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mallocbench-test.XXXXXX")
bgpid=
trap '[ -z "$bgpid" ] || kill "$bgpid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
out=$tmp/out
err=$tmp/err
pass=0

fail() {
	echo "test-host: FAIL: $*" >&2
	echo "--- last output:" >&2
	cat "$out" "$err" >&2 2>/dev/null || true
	exit 1
}
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }

# val KEY: KEY's value in the one-key-per-line summary of the last run.
val() { sed -n "s/^$1=//p" "$out"; }

# expect_usage DESC CMD...: exits 2 with an error message.
expect_usage() {
	local desc=$1 rc=0; shift
	"$@" >"$out" 2>"$err" || rc=$?
	[ "$rc" -eq 2 ] || fail "$desc: exit $rc, want 2"
	grep -q '^mallocbench: error: ' "$err" || fail "$desc: no error message"
	ok "$desc ($(sed 's/^mallocbench: error: //' "$err" | head -1))"
}

# check_run N CHUNK TOTAL INTERVAL: the CSV and the summary of the last run
# describe N allocations of CHUNK bytes (the last one the rest of TOTAL),
# started on schedule, with positive latencies, and agree with each other.
check_run() {
	local n=$1 chunk=$2 total=$3 interval=$4
	head -1 "$tmp/m.csv" | grep -qx 't_s,alloc_idx,bytes,latency_us' ||
		fail "csv header"
	[ "$(tail -n +2 "$tmp/m.csv" | wc -l)" -eq "$n" ] ||
		fail "csv has $(tail -n +2 "$tmp/m.csv" | wc -l) rows, want $n"
	tail -n +2 "$tmp/m.csv" | awk -F, -v n="$n" -v chunk="$chunk" \
		-v total="$total" -v iv="$interval" '
		{
			i = NR - 1
			want = i < n - 1 ? chunk : total - (n - 1) * chunk
			if ($2 != i) { print "row " NR ": idx " $2; bad = 1 }
			if ($3 != want) { print "row " NR ": bytes " $3; bad = 1 }
			if (!($4 > 0)) { print "row " NR ": latency " $4; bad = 1 }
			# never early: allocation i starts at i * interval
			if ($1 < i * iv - 0.0005) { print "row " NR ": early " $1; bad = 1 }
			sum += $3; lat += $4
			if ($4 > max) max = $4
		}
		END {
			if (sum != total) { print "bytes add up to " sum; bad = 1 }
			printf "%.3f %.3f\n", max, lat / n > "/dev/stderr"
			exit bad
		}' >"$tmp/chk" 2>"$tmp/csvstats" || { cat "$tmp/chk" >>"$out"; fail "csv rows"; }
	read -r csvmax csvmean <"$tmp/csvstats"
	[ "$(val count)" -eq "$n" ] || fail "count=$(val count), want $n"
	[ "$(val bytes)" -eq "$total" ] || fail "bytes=$(val bytes), want $total"
	[ "$(val failures)" -eq 0 ] || fail "failures=$(val failures)"
	awk -v mn="$(val min_us)" -v p50="$(val p50_us)" -v p99="$(val p99_us)" \
		-v max="$(val max_us)" -v mean="$(val mean_us)" \
		-v sd="$(val stddev_us)" -v cmax="$csvmax" -v cmean="$csvmean" '
		function d(a, b) { return a > b ? a - b : b - a }
		BEGIN { exit !(0 < mn && mn <= p50 && p50 <= p99 && p99 <= max &&
			       mn <= mean && mean <= max && sd >= 0 &&
			       d(max, cmax) < 0.0015 && d(mean, cmean) < 0.01) }' ||
		fail "summary inconsistent (csv max $csvmax mean $csvmean)"
	grep -q "^MALLOCBENCH alloc count=$n .*mean_us=.*stddev_us=.*p50_us=.*p99_us=.*max_us=.* elapsed_s=" "$out" ||
		fail "one-line summary"
}

"$mb" --help >"$out" || fail "--help exit status"
grep -q 'usage: mallocbench --total SIZE' "$out" || fail "--help text"
ok "--help"

# 20 x 1 MiB over 1 s: one allocation every 50 ms.
"$mb" --total 20M --chunk 1M --duration 1 --csv "$tmp/m.csv" >"$out" 2>"$err" ||
	fail "20M/1M/1s: exit $?"
check_run 20 1048576 20971520 0.05
awk -v t="$(val elapsed_s)" -v iv="$(val interval_s)" \
	'BEGIN { exit !(iv == 0.05 && t >= 0.95 && t < 10) }' ||
	fail "interval_s=$(val interval_s) elapsed_s=$(val elapsed_s)"
ok "20M in 1M chunks over 1 s: 20 rows, on schedule, summary matches csv"

# A chunk that does not divide the total: the last one is the rest.
"$mb" --total 10M --chunk 3M --duration 0 --csv "$tmp/m.csv" >"$out" 2>"$err" ||
	fail "10M/3M: exit $?"
check_run 4 3145728 10485760 0
ok "10M in 3M chunks: 4 rows, the last 1M"

# Page-granular sizes: an odd byte count still works and is all touched.
"$mb" --total 100000 --chunk 10001 --duration 0 --csv "$tmp/m.csv" >"$out" 2>"$err" ||
	fail "odd sizes: exit $?"
check_run 10 10001 100000 0
ok "odd byte sizes"

# --hold: the memory is resident (every page touched) and kept.
"$mb" --total 48M --chunk 4M --duration 0 --hold 2 >"$out" 2>"$err" &
bgpid=$!
for _ in $(seq 100); do
	grep -q '^MALLOCBENCH alloc' "$out" && break
	sleep 0.1
done
grep -q '^MALLOCBENCH alloc' "$out" || fail "--hold: no summary"
rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$bgpid/status")
[ "$rss" -ge $((48 * 1024)) ] || fail "--hold: VmRSS ${rss} kB < 48 MiB"
kill -0 "$bgpid" || fail "--hold: exited early"
rc=0
wait "$bgpid" || rc=$?
bgpid=
[ "$rc" -eq 0 ] || fail "--hold: exit $rc"
ok "--hold keeps 48 MiB resident after the summary (VmRSS ${rss} kB)"

# Bad arguments.
expect_usage "no arguments" "$mb"
expect_usage "missing --duration" "$mb" --total 1M --chunk 1M
expect_usage "chunk > total" "$mb" --total 1M --chunk 2M --duration 1
expect_usage "--chunk 0" "$mb" --total 1M --chunk 0 --duration 1
expect_usage "bad unit" "$mb" --total 12X --chunk 1M --duration 1
expect_usage "junk after unit" "$mb" --total 12Mx --chunk 1M --duration 1
expect_usage "negative size" "$mb" --total -5M --chunk 1M --duration 1
expect_usage "size overflow" "$mb" --total 99999999999T --chunk 1M --duration 1
expect_usage "--duration -1" "$mb" --total 1M --chunk 1M --duration -1
expect_usage "--duration nan" "$mb" --total 1M --chunk 1M --duration nan
expect_usage "--hold abc" "$mb" --total 1M --chunk 1M --duration 0 --hold abc
expect_usage "stray argument" "$mb" --total 1M --chunk 1M --duration 0 extra
expect_usage "too many allocations" "$mb" --total 1T --chunk 1 --duration 0
expect_usage "csv unwritable" "$mb" --total 1M --chunk 1M --duration 0 \
	--csv "$tmp/no/such.csv"
rc=0
"$mb" --bogus >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc"
ok "unknown option"

# A failed allocation (address space capped at 128 MiB): exit 1, a clear
# message, and a summary of the allocations before it.
rc=0
(ulimit -v 131072; exec "$mb" --total 1G --chunk 16M --duration 0 \
	--csv "$tmp/m.csv") >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 1 ] || fail "allocation failure: exit $rc, want 1"
grep -q '^mallocbench: error: allocation [0-9]* of 16777216 bytes failed .*mmap: Cannot allocate memory' "$err" ||
	fail "allocation failure: message"
n=$(val count)
[ "$(val failures)" -eq 1 ] && [ "$n" -gt 0 ] && [ "$n" -lt 64 ] ||
	fail "allocation failure: count=$n failures=$(val failures)"
[ "$(tail -n +2 "$tmp/m.csv" | wc -l)" -eq "$n" ] || fail "allocation failure: csv rows"
ok "allocation failure after $n chunks: exit 1 ($(head -1 "$err"))"

# --keep-free: more than the machine has stops before the first
# allocation, exit 0, with a message; 1 KiB (always free) stops nothing.
"$mb" --total 4M --chunk 1M --duration 0 --keep-free 1T >"$out" 2>"$err" ||
	fail "--keep-free 1T: exit $?, want 0"
[ "$(val count)" -eq 0 ] && [ "$(val failures)" -eq 0 ] ||
	fail "--keep-free 1T: count=$(val count) failures=$(val failures)"
grep -q '^mallocbench: stopped after 0 bytes: MemFree would fall below --keep-free' "$err" ||
	fail "--keep-free 1T: message"
ok "--keep-free above MemFree: nothing allocated, exit 0"
"$mb" --total 4M --chunk 1M --duration 0 --keep-free 1K >"$out" 2>"$err" ||
	fail "--keep-free 1K: exit $?, want 0"
[ "$(val count)" -eq 4 ] && [ ! -s "$err" ] || fail "--keep-free 1K: count=$(val count)"
ok "--keep-free below MemFree: all allocated"
expect_usage "--keep-free bad size" "$mb" --total 1M --chunk 1M --duration 0 --keep-free 3Q

echo "test-host: all $pass checks passed"
