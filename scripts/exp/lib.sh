# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Plumbing shared by the experiment drivers exp1.sh .. exp4.sh.  Sourced,
# after "set -euo pipefail", as
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sets here (this directory) and the defaults of the common options:
# kdir, debug, outdir, assert, report_only, verbose.
#
#   exp_init NAME HELP_END  the experiment's name (prefix of its messages)
#                           and the last line of its header comment that
#                           --help prints
#   die MESSAGE             "NAME: error: MESSAGE", exit 2 (usage)
#   exp_option ARGS...      parse the common option at the head of ARGS
#                           (--kdir DIR, --debug, --outdir DIR, --no-assert,
#                           --report-only, --verbose, -h|--help); set
#                           exp_shift to the words it takes; any other
#                           argument is a usage error
#   exp_server_mem SIZE DEBUG_SIZE
#                           smem: the server's RAM, DEBUG_SIZE with --debug
#   exp_run ARGS...         OUTDIR (default: a new directory under $TMPDIR)
#                           and t0; run the two VMs: exp-pair.sh --exp NAME,
#                           the common options, then ARGS; rc: its status.
#                           With --report-only, no VM: rc from the status
#                           lines of OUTDIR/results.txt
#   exp_results             res (OUTDIR/results.txt; FAIL, exit 1 if none),
#                           rep (OUTDIR/report/), sum (its summary.txt,
#                           emptied)
#   get KEY, num KEY        a value of results.txt (num: 0 if none)
#   exp_param KEY           the value of the run's guest parameter KEY
#                           (ex_*, from host.params)
#   exp_runs                the runs the server reported (its RUN.mode
#                           lines) but the reference, comma-separated
#   put KEY VALUE, s KEY    write, read a line of summary.txt
#   exp_checks PREFIXES     start the verdict: fail if a VM failed, or on
#                           a nonzero PREFIXES.*.failures|failed_reads
#                           (PREFIXES: a regular expression, e.g. client)
#   fail MESSAGE            "NAME: FAIL: MESSAGE"; the verdict is FAIL
#   exp_verdict OUTPUTS     print where the outputs are (OUTPUTS: which)
#                           and the verdict; exit 1 on FAIL (0 with
#                           --no-assert), 0 on PASS

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

kdir=
debug=
outdir=
assert=1
report_only=
verbose=
exp_name=exp
exp_help_end=2

exp_init() {
	exp_name=$1
	exp_help_end=$2
}

die() { echo "$exp_name: error: $*" >&2; exit 2; }

# shellcheck disable=SC2034 # exp_shift: read by the sourcing script
exp_option() {
	exp_shift=1
	case "$1" in
	--kdir) kdir=$2; exp_shift=2 ;;
	--debug) debug=--debug ;;
	--outdir) outdir=$2; exp_shift=2 ;;
	--no-assert) assert= ;;
	--report-only) report_only=1 ;;
	--verbose) verbose=--verbose ;;
	-h|--help) sed -n "3,${exp_help_end}s/^# \{0,1\}//p" "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
}

# shellcheck disable=SC2034 # smem: read by the sourcing script
exp_server_mem() {
	smem=$1
	[ -z "$debug" ] || smem=$2
}

exp_run() {
	[ -n "$outdir" ] || outdir=$(mktemp -d "${TMPDIR:-/tmp}/puma-$exp_name.XXXXXX")
	t0=$(date +%s)
	rc=0
	if [ -n "$report_only" ]; then
		rc=$(grep -q '^server.status=pass' "$outdir/results.txt" &&
		     grep -q '^client.status=pass' "$outdir/results.txt" && echo 0 || echo 1)
		return
	fi
	"$here/exp-pair.sh" --exp "$exp_name" ${kdir:+--kdir "$kdir"} ${debug:+"$debug"} \
		--outdir "$outdir" ${verbose:+"$verbose"} "$@" || rc=$?
}

exp_results() {
	res=$outdir/results.txt
	[ -r "$res" ] || { echo "$exp_name: FAIL: no results" >&2; exit 1; }
	rep=$outdir/report
	mkdir -p "$rep"
	sum=$rep/summary.txt
	: >"$sum"
}

get() { sed -n "s/^$1=//p" "$res" | tail -1; }
num() { local v; v=$(get "$1"); echo "${v:-0}"; }

# host.params joins the guest parameters with commas, and a parameter's
# value may hold commas (ex_modes=off,combined): a word without "=" goes
# on with the value before it.
exp_param() {
	get host.params | tr ',' '\n' | awk -v k="$1=" '
		/=/ { on = index($0, k) == 1; if (on) { v = substr($0, length(k) + 1); n++ }; next }
		on { v = v "," $0 }
		END { if (n) print v }'
}

exp_runs() {
	sed -n 's/^server\.\([a-z]*\)\.mode=.*/\1/p' "$res" |
		awk '$0 != "reference" && !s[$0]++' | paste -sd, -
}

put() { echo "$1=$2" >>"$sum"; }
s() { sed -n "s/^$1=//p" "$sum" | tail -1; }

fail() { echo "$exp_name: FAIL: $*" >&2; bad=1; }

exp_checks() {
	local nonzero
	bad=0
	[ "$rc" -eq 0 ] || fail "a VM failed (exp-pair.sh status $rc)"
	nonzero=$(grep -E "^$1\\..*\\.(failures|failed_reads)=" "$res" | grep -v '=0$' || true)
	[ -z "$nonzero" ] || fail "verification failures: $nonzero"
}

exp_verdict() {
	echo "$exp_name: outputs in $outdir ($1); total host time $(( $(date +%s) - t0 ))s"
	if [ "$bad" -ne 0 ]; then
		if [ -n "$assert" ]; then
			echo "$exp_name: FAIL" >&2
			exit 1
		fi
		echo "$exp_name: acceptance NOT met (--no-assert)"
		exit 0
	fi
	echo "$exp_name: PASS"
	exit 0
}
