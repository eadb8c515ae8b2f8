#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Judge a guest's serial console log after the VM has stopped.
#
#   check-console.sh [--results FILE] [--files DIR] [--allow REGEX]
#                    [--splats-only] [--quiet] LOG
#
# Extracts the guest's result lines ("PUMA-RESULT key=value", anywhere in a
# line, since kernel messages may interleave) into FILE as "key=value", one
# per line, and the files the guest exported ("PUMA-FILE NAME line", see
# puma_export in guest/lib.sh) into DIR/NAME.  Fails (exit 1) when:
#   - the log shows a kernel splat (a line matching an entry of splats.re,
#     next to this script), unless the line also matches --allow REGEX;
#   - the guest never printed its end marker "PUMA-DONE" (it crashed, hung
#     or was killed);
#   - the guest did not report "PUMA-RESULT status=pass".
# With --splats-only (a VM the test killed on purpose) only splats fail.
# On failure the relevant part of the log is printed to stderr.
#
# Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

# Kernel splats: the project's one list (kunit.sh uses this script too),
# one regex alternative per line, '#' lines are comments.
[ -r "$rig/splats.re" ] || die "cannot read $rig/splats.re"
SPLAT_RE=$(sed '/^#/d; /^$/d' "$rig/splats.re" | paste -sd'|')

results=
files=
allow=
quiet=
splats_only=
rig_parse "results= files= allow= quiet splats-only *" "$@"
[ ${#rig_args[@]} -eq 1 ] ||
	die "usage: check-console.sh [--results FILE] [--files DIR] [--allow REGEX] LOG"
log=${rig_args[0]}
[ -r "$log" ] || die "cannot read $log"

say() { if [ -z "$quiet" ]; then echo "check-console: $*" >&2; fi; }

# Serial output has CR LF line ends; strip CRs before matching.
clean=$(mktemp)
trap 'rm -f "$clean"' EXIT
tr -d '\r' <"$log" >"$clean"

if [ -n "$results" ]; then
	grep -ao 'PUMA-RESULT [A-Za-z0-9_.:/-]*=[^ ]*' "$clean" |
		sed 's/^PUMA-RESULT //' >"$results" || true
fi

if [ -n "$files" ]; then
	{ grep -ao '^PUMA-FILE [A-Za-z0-9_.-]* ' "$clean" || true; } | cut -d' ' -f2 | sort -u |
		while read -r name; do
			mkdir -p "$files"
			grep -a "^PUMA-FILE $name " "$clean" | cut -d' ' -f3- >"$files/$name"
		done
fi

rc=0
splats=$(grep -anE -e "$SPLAT_RE" "$clean" || true)
if [ -n "$splats" ] && [ -n "$allow" ]; then
	splats=$(printf '%s\n' "$splats" | grep -avE -e "$allow" || true)
fi
if [ -n "$splats" ]; then
	rc=1
	first=$(printf '%s\n' "$splats" | head -1 | cut -d: -f1)
	echo "check-console: FAIL: kernel splat in $log:" >&2
	printf '%s\n' "$splats" | head -20 | sed 's/^/    /' >&2
	echo "check-console: log from line $((first > 5 ? first - 5 : 1)):" >&2
	tail -n "+$((first > 5 ? first - 5 : 1))" "$clean" | head -80 | sed 's/^/  | /' >&2
fi
if [ -n "$splats_only" ]; then
	:
elif ! grep -aq 'PUMA-DONE' "$clean"; then
	rc=1
	echo "check-console: FAIL: no PUMA-DONE marker (guest crashed, hung or was killed); log tail:" >&2
	tail -n 40 "$clean" | sed 's/^/  | /' >&2
elif ! grep -aq 'PUMA-RESULT status=pass' "$clean"; then
	rc=1
	echo "check-console: FAIL: guest did not report status=pass:" >&2
	grep -aE 'PUMA-FAIL|PUMA-RESULT status=|BLOCKCHECK-FAIL' "$clean" | head -30 | sed 's/^/  | /' >&2
fi
[ $rc -ne 0 ] || say "pass ($log)"
exit $rc
