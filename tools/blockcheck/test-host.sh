#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side self test of blockcheck: every subcommand, plus injected faults
# (a corrupted block, a stale generation, a misplaced block, a foreign id,
# data in a hole) that must each be detected with the right diagnosis.
#
#   test-host.sh [BLOCKCHECK]     (default: ../bin/blockcheck, built if missing)
#
# Runs in a temporary directory under ${TMPDIR:-/tmp} (use a real file
# system: O_DIRECT and hole punching are exercised).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bc=${1:-$here/../bin/blockcheck}
if [ ! -x "$bc" ]; then
	make -C "$here" >/dev/null
fi
bc=$(cd "$(dirname "$bc")" && pwd)/$(basename "$bc")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/blockcheck-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export BLOCKCHECK_STATE_DIR=$tmp/state
f=$tmp/data
out=$tmp/out
pass=0

fail() { echo "test-host: FAIL: $*" >&2; echo "--- last output:" >&2; cat "$out" >&2 || true; exit 1; }
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }

# expect_ok DESC CMD...: command exits 0 and reports failures=0.
expect_ok() {
	local desc=$1; shift
	"$@" >"$out" 2>&1 || fail "$desc: exit $?"
	grep -q '^BLOCKCHECK .* failures=0 ' "$out" || fail "$desc: no clean summary"
	ok "$desc"
}

# expect_detect DESC PATTERN CMD...: exits 1 and prints PATTERN in a
# BLOCKCHECK-FAIL line.
expect_detect() {
	local desc=$1 pat=$2 rc=0; shift 2
	"$@" >"$out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || fail "$desc: exit $rc, want 1"
	grep -q "^BLOCKCHECK-FAIL .*$pat" "$out" || fail "$desc: no '$pat' failure"
	ok "$desc (detected: $(grep -m1 -o 'detail=[a-z-]*' "$out"))"
}

# expect_usage DESC CMD...: exits 2.
expect_usage() {
	local desc=$1 rc=0; shift
	"$@" >"$out" 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || fail "$desc: exit $rc, want 2"
	ok "$desc"
}

# dd_block SRC SRCBLK DST DSTBLK: copy one 4 KiB block without truncating.
dd_block() {
	dd if="$1" of="$3" bs=4096 skip="$2" seek="$4" count=1 conv=notrunc \
		status=none
}

"$bc" --help >"$out" || fail "--help exit status"
grep -q 'overwrite FILE' "$out" || fail "--help text"
ok "--help"
expect_usage "unknown command" "$bc" frobnicate "$f"
expect_usage "read without state" "$bc" read "$tmp/nostate"
expect_usage "create --gen 0" "$bc" create "$f" --blocks 4 --id 1 --gen 0

# create / read / verify
expect_ok "create 256 blocks" "$bc" create "$f" --blocks 256 --id 42
[ "$(stat -c %s "$f")" -eq $((256 * 4096)) ] || fail "create size"
expect_ok "verify" "$bc" verify "$f"
expect_ok "read --seq" "$bc" read "$f" --seq
expect_ok "read --seq --direct" "$bc" read "$f" --seq --direct
expect_ok "read --random --csv" "$bc" read "$f" --random --seed 7 \
	--count 2000 --csv "$tmp/lat.csv"
grep -q '^BLOCKCHECK read .*blocks=2000 .*p50_us=.*p99_us=.*max_us=.*iops=.*seed=7 ' "$out" ||
	fail "read summary fields"
head -1 "$tmp/lat.csv" | grep -q '^t_s,iops,p50_us,p99_us,max_us,failures,reads$' ||
	fail "csv header"
[ "$(tail -n +2 "$tmp/lat.csv" | awk -F, '{s += $7} END {print s}')" -eq 2000 ] ||
	fail "csv rows do not add up to 2000 reads"
ok "csv series adds up"
expect_ok "read --random --direct --duration" "$bc" read "$f" --random \
	--direct --seed 3 --count 100000 --duration 0.3

# summary_val KEY: a key's value in the summary line of the last run.
summary_val() {
	grep '^BLOCKCHECK [a-z]* ' "$out" | tail -1 | tr ' ' '\n' |
		sed -n "s/^$1=//p"
}

# check_csv CSV READS FAILURES: the per-second series is well formed: t_s
# counts 0, 1, ...; p50 <= p99 <= max in every row; iops >= 0; the reads
# and failures columns add up to the summary's.
check_csv() {
	awk -F, -v reads="$2" -v fails="$3" '
		NR == 1 { next }
		$1 != NR - 2 { print "row " NR ": t_s " $1; bad = 1 }
		NF != 7 || $2 < 0 || $3 > $4 || $4 > $5 {
			print "row " NR ": " $0; bad = 1 }
		$7 > 0 && ($3 <= 0 || $2 <= 0) { print "row " NR ": " $0; bad = 1 }
		{ r += $7; f += $6 }
		END {
			if (r != reads || f != fails) {
				print "csv reads " r " failures " f ", want " reads " " fails
				bad = 1
			}
			exit bad
		}' "$1" >"$tmp/csvcheck" || { cat "$tmp/csvcheck" >>"$out"; return 1; }
}

# Benchmark path: percentiles against the exact ones from the raw log,
# for page-cache reads (sub-microsecond) and O_DIRECT reads (the disk's).
for mode in buffered direct; do
	nr=20000 dflag=
	[ "$mode" = direct ] && nr=3000 dflag=--direct
	expect_ok "read --random $mode --lat-log" "$bc" read "$f" --random \
		--seed 11 --count $nr $dflag --csv "$tmp/b.csv" --lat-log "$tmp/raw.csv"
	check_csv "$tmp/b.csv" $nr 0 || fail "per-second csv"
	[ "$(tail -n +2 "$tmp/raw.csv" | wc -l)" -eq $nr ] || fail "lat-log rows"
	tail -n +2 "$tmp/raw.csv" | cut -d, -f3 | sort -n >"$tmp/sorted"
	for k in 50 99 100; do
		key=p${k}_us
		[ "$k" -eq 100 ] && key=max_us
		got=$(summary_val "$key")
		# nearest rank: the ceil(k/100 * n)-th smallest value
		want=$(sed -n "$(( (k * nr + 99) / 100 ))p" "$tmp/sorted")
		# 1 % of the exact value, plus the rounding of the printed value
		awk -v g="$got" -v w="$want" 'BEGIN {
			w /= 1000; d = g - w; if (d < 0) d = -d
			exit !(d <= w * 0.01 + 0.0005) }' ||
			fail "$mode $key=$got, exact $want ns"
		echo "# $mode $key: summary $got us, exact $want ns"
	done
	ok "$mode: summary p50/p99/max within 1 % of exact"
	awk -v p50="$(summary_val p50_us)" -v p99="$(summary_val p99_us)" \
		-v max="$(summary_val max_us)" \
		'BEGIN { exit !(0 < p50 && p50 <= p99 && p99 <= max) }' ||
		fail "p50 <= p99 <= max"
	ok "$mode: p50 <= p99 <= max"
done

# A fixed seed gives the same block sequence; another seed does not.
"$bc" read "$f" --random --seed 11 --count 20000 --lat-log "$tmp/raw.csv" >"$out"
"$bc" read "$f" --random --seed 11 --count 20000 --lat-log "$tmp/raw2.csv" >"$out"
cmp -s <(cut -d, -f2 "$tmp/raw.csv") <(cut -d, -f2 "$tmp/raw2.csv") ||
	fail "same seed, different blocks"
"$bc" read "$f" --random --seed 12 --count 20000 --lat-log "$tmp/raw2.csv" >"$out"
! cmp -s <(cut -d, -f2 "$tmp/raw.csv") <(cut -d, -f2 "$tmp/raw2.csv") ||
	fail "different seeds, same blocks"
ok "seed fixes the block sequence"

# Duration-limited: runs for the time, not for the file's 256 blocks.
expect_ok "read --random --seconds 1.2" "$bc" read "$f" --random --seconds 1.2 \
	--csv "$tmp/s.csv"
n=$(summary_val blocks)
awk -v t="$(summary_val elapsed_s)" 'BEGIN { exit !(t >= 1.2 && t < 5) }' ||
	fail "--seconds 1.2 ran $(summary_val elapsed_s) s"
[ "$n" -gt 256 ] || fail "--seconds stopped after $n reads"
check_csv "$tmp/s.csv" "$n" 0 || fail "--seconds csv"
[ "$(tail -n +2 "$tmp/s.csv" | wc -l)" -eq 2 ] || fail "--seconds 1.2: not 2 csv rows"
ok "--seconds bounds the run by time ($n reads, 2 rows)"
expect_ok "count wins over --seconds" "$bc" read "$f" --random --count 300 \
	--seconds 60
[ "$(summary_val blocks)" -eq 300 ] || fail "--count 300 --seconds 60"
expect_usage "--seconds 0" "$bc" read "$f" --random --seconds 0
expect_usage "--seconds -1" "$bc" read "$f" --random --seconds -1
expect_usage "--seconds nan" "$bc" read "$f" --random --seconds nan
expect_usage "--seconds 2x" "$bc" read "$f" --random --seconds 2x
expect_usage "--csv unwritable" "$bc" read "$f" --random --csv "$tmp/no/such.csv"

# deliberate corruption: one byte in the middle of block 17
cp "$f" "$tmp/pristine"
printf '\xff' | dd of="$f" bs=1 seek=$((17 * 4096 + 1000)) conv=notrunc status=none
expect_detect "corrupted byte detected" "block=17 .*detail=corrupt first_bad_byte=1000" \
	"$bc" verify "$f"
# the benchmark path counts every read of the bad block as a failure, in
# the summary and in the per-second series
expect_detect "benchmark read detects it" "block=17 .*detail=corrupt" \
	"$bc" read "$f" --random --seed 5 --seconds 0.5 --max-report 1 \
	--csv "$tmp/bad.csv" --lat-log "$tmp/badraw.csv"
nbad=$(awk -F, '$2 == 17' "$tmp/badraw.csv" | wc -l)
[ "$nbad" -gt 0 ] || fail "block 17 never read"
[ "$(awk -F, '$4 == 0' "$tmp/badraw.csv" | wc -l)" -eq "$nbad" ] ||
	fail "lat-log: failed reads are not exactly the reads of block 17"
[ "$(summary_val failures)" -eq "$nbad" ] && [ "$(summary_val failed_reads)" -eq "$nbad" ] ||
	fail "summary failures=$(summary_val failures), $nbad reads of block 17"
check_csv "$tmp/bad.csv" "$(summary_val blocks)" "$nbad" || fail "csv failures column"
ok "every read of the bad block is a failure ($nbad in summary and csv)"
dd_block "$tmp/pristine" 17 "$f" 17
# a zeroed block
dd if=/dev/zero of="$f" bs=4096 seek=30 count=1 conv=notrunc status=none
expect_detect "zeroed block detected" "block=30 .*detail=zero-block" "$bc" verify "$f"
dd_block "$tmp/pristine" 30 "$f" 30
# a misplaced block (block 5's content at block 6)
dd_block "$tmp/pristine" 5 "$f" 6
expect_detect "misplaced block detected" "block=6 .*detail=misplaced" \
	"$bc" read "$f" --random --seed 1 --count 5000
dd_block "$tmp/pristine" 6 "$f" 6
expect_ok "restored" "$bc" verify "$f"
expect_ok "read --blocks list" "$bc" read "$f" --blocks 3,5:9,200
grep -q '^BLOCKCHECK read .*mode=list blocks=6 ' "$out" || fail "read --blocks count"
dd_block "$tmp/pristine" 5 "$f" 8
expect_detect "read --blocks finds a bad block" "block=8 .*detail=misplaced" \
	"$bc" read "$f" --blocks 8
dd_block "$tmp/pristine" 8 "$f" 8
expect_usage "read --blocks beyond EOF" "$bc" read "$f" --blocks 256

# overwrite in each mode, then a stale generation put back
expect_ok "overwrite buffered" "$bc" overwrite "$f" --blocks 0,3,10:20 --gen 2
expect_ok "verify after buffered" "$bc" verify "$f"
expect_ok "overwrite direct" "$bc" overwrite "$f" --blocks 20:40 --gen 3 --mode direct
expect_ok "verify after direct" "$bc" verify "$f" --direct
expect_ok "overwrite mmap" "$bc" overwrite "$f" --blocks 40:60,255 --gen 4 --mode mmap
expect_ok "verify after mmap" "$bc" verify "$f"
expect_ok "overwrite random" "$bc" overwrite "$f" --random --count 50 --seed 9 --gen 5
expect_ok "verify after random overwrite" "$bc" verify "$f"
dd_block "$tmp/pristine" 45 "$f" 45	# generation 1 where 4 is expected
expect_detect "stale generation detected" "block=45 expected_gen=4 .*detail=stale-gen .*got_gen=1" \
	"$bc" verify "$f"
expect_usage "overwrite beyond EOF" "$bc" overwrite "$f" --blocks 256 --gen 6
expect_usage "bad --mode" "$bc" overwrite "$f" --blocks 1 --gen 6 --mode splice
"$bc" overwrite "$f" --blocks 45 --gen 6 >/dev/null

# punch: the range must read as zeros; stale data there is detected
expect_ok "punch" "$bc" punch "$f" --range 100:120
expect_ok "verify after punch" "$bc" verify "$f"
cmp -s <(dd if="$f" bs=4096 skip=100 count=20 status=none) \
	<(head -c $((20 * 4096)) /dev/zero) || fail "punched range not zeros"
ok "punched range is zeros on disk"
[ "$(stat -c %s "$f")" -eq $((256 * 4096)) ] || fail "punch changed the size"
dd_block "$tmp/pristine" 110 "$f" 110
expect_detect "data in a hole detected" "block=110 expected_gen=0 .*detail=data-in-hole" \
	"$bc" verify "$f"
"$bc" punch "$f" --range 110:111 >/dev/null

# truncate / extend
expect_ok "truncate down" "$bc" truncate "$f" --blocks 200
expect_ok "verify after truncate" "$bc" verify "$f"
expect_ok "extend (hole)" "$bc" extend "$f" --blocks 230
expect_ok "verify after extend" "$bc" verify "$f"
cmp -s <(dd if="$f" bs=4096 skip=200 count=30 status=none) \
	<(head -c $((30 * 4096)) /dev/zero) || fail "extended range not zeros"
ok "extended range is zeros on disk"
expect_ok "extend --gen" "$bc" extend "$f" --blocks 240 --gen 7
expect_ok "verify after extend --gen" "$bc" verify "$f"
expect_ok "truncate to a partial block" "$bc" truncate "$f" --bytes $((150 * 4096 + 1000))
expect_ok "verify partial tail" "$bc" verify "$f"
expect_ok "truncate up again" "$bc" truncate "$f" --blocks 160
expect_ok "verify zeroed tail of block 150" "$bc" verify "$f"
"$bc" state "$f" >"$out"
grep -q 'blocks=160 .*partial_blocks=1' "$out" || fail "state summary"
ok "state"
# the old stamped tail reappearing is detected
dd_block "$tmp/pristine" 150 "$f" 150
expect_detect "stamped tail past EOF detected" "block=150 .*detail=tail-not-zero" \
	"$bc" verify "$f"
expect_ok "overwrite partial block" "$bc" overwrite "$f" --blocks 150 --gen 8
expect_ok "verify" "$bc" verify "$f"
# wrong size
truncate -s $((161 * 4096)) "$f"
expect_detect "wrong size detected" "detail=wrong-size" "$bc" verify "$f"
truncate -s $((160 * 4096)) "$f"

# unlink + re-create (very likely the same inode number) with a new id
old_ino=$(stat -c %i "$f")
rm "$f"
expect_ok "re-create with a new id" "$bc" create "$f" --blocks 64 --id 43 --gen 3
expect_ok "verify re-created" "$bc" verify "$f"
dd_block "$tmp/pristine" 9 "$f" 9
expect_detect "foreign id detected" "block=9 .*detail=foreign-id" "$bc" verify "$f"
echo "# inode before/after re-create: $old_ino/$(stat -c %i "$f")"

# explicit --state
expect_ok "create with --state" "$bc" --state "$tmp/explicit.state" create \
	"$tmp/other" --blocks 8 --id 1 --direct
expect_ok "verify with --state" "$bc" verify "$tmp/other" --state "$tmp/explicit.state"

echo "test-host: all $pass checks passed"
