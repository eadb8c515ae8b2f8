# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Plumbing shared by the experiment drivers exp1.sh .. exp4.sh, on top of
# the rig's (scripts/vm/rig.sh).  Sourced first:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
#   exp_parse SPEC ARGS...  rig_parse with the common options: --kdir DIR,
#                           --debug (the test kernel), --outdir DIR,
#                           --no-assert, --report-only (only the report
#                           of an earlier run in OUTDIR), --verbose
#   exp_server_mem SIZE DEBUG_SIZE
#                           server_mem: the server's RAM, DEBUG_SIZE with
#                           --debug
#   exp_run ARGS...         run the two VMs: scripts/vm/pair.sh --exp NAME,
#                           the common options, then ARGS; rc: its status.
#                           With --report-only, no VM: rc from the status
#                           lines of OUTDIR/results.txt
#   exp_results             res (OUTDIR/results.txt; FAIL, exit 1 if none),
#                           rep (OUTDIR/report/), sum (its summary.txt,
#                           emptied)
#   exp_param KEY           the value of the run's guest parameter KEY
#                           (ex_*, from host.params)
#   exp_runs                the runs the server reported (its RUN.mode
#                           lines) but the reference, comma-separated
#   put KEY VALUE, s KEY    write, read a line of summary.txt
#   exp_checks PREFIXES     fail if a VM failed, or on a nonzero
#                           PREFIXES.*.failures|failed_reads (PREFIXES: a
#                           regular expression, e.g. client)
#   exp_verdict OUTPUTS     print where the outputs are (OUTPUTS: which)
#                           and the verdict; exit 1 on FAIL (0 with
#                           --no-assert), 0 on PASS

# shellcheck source-path=SCRIPTDIR source=../vm/rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/rig.sh"
debug=
no_assert=
report_only=

exp_parse() {
	local spec=$1
	shift
	rig_parse "$spec kdir= debug outdir= no-assert report-only verbose" "$@"
}

# shellcheck disable=SC2034 # server_mem: read by the sourcing script
exp_server_mem() {
	server_mem=$1
	[ -z "$debug" ] || server_mem=$2
}

exp_run() {
	rig_outdir
	if [ -n "$report_only" ]; then
		rc=$(grep -q '^server.status=pass' "$outdir/results.txt" &&
		     grep -q '^client.status=pass' "$outdir/results.txt" && echo 0 || echo 1)
		return
	fi
	"$root/scripts/vm/pair.sh" --exp "$name" ${kdir:+--kdir "$kdir"} \
		${debug:+--debug} --outdir "$outdir" ${verbose:+--verbose} "$@" || rc=$?
}

exp_results() {
	res=$outdir/results.txt
	[ -r "$res" ] || { echo "$name: FAIL: no results" >&2; exit 1; }
	rep=$outdir/report
	mkdir -p "$rep"
	sum=$rep/summary.txt
	: >"$sum"
}

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

exp_checks() {
	local nonzero
	[ "$rc" -eq 0 ] || fail "a VM failed (pair.sh status $rc)"
	nonzero=$(grep -E "^$1\\..*\\.(failures|failed_reads)=" "$res" | grep -v '=0$' || true)
	[ -z "$nonzero" ] || fail "verification failures: $nonzero"
}

exp_verdict() {
	echo "$name: outputs in $outdir ($1); total host time $(( $(date +%s) - t_start ))s"
	if [ "$bad" -ne 0 ]; then
		if [ -z "$no_assert" ]; then
			echo "$name: FAIL" >&2
			exit 1
		fi
		echo "$name: acceptance NOT met (--no-assert)"
		exit 0
	fi
	echo "$name: PASS"
	exit 0
}
