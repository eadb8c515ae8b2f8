#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the static user-space tools and run their host tests:
# blockcheck, mallocbench, tcpbench, ccstress, pumakey, hostile,
# ivshmem-server (each "make -C tools/X check").
#
#   tools/run-host-tests.sh [-v] [TOOL...]
#
# Prints one line per tool, "PASS tool (N checks)" or "FAIL tool" followed
# by the last 30 lines of its output; -v shows the whole output instead.
# Every tool runs even if one fails.  Exit status: 0 if all passed.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
verbose=0
if [ "${1:-}" = -v ]; then
	verbose=1
	shift
fi
tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(blockcheck mallocbench tcpbench ccstress pumakey hostile ivshmem-server)

log=$(mktemp "${TMPDIR:-/tmp}/host-tests.XXXXXX")
trap 'rm -f "$log"' EXIT
failed=0
for t in "${tools[@]}"; do
	if [ ! -f "$here/$t/Makefile" ]; then
		echo "FAIL $t (no tools/$t/Makefile)"
		failed=$((failed + 1))
		continue
	fi
	if [ $verbose -eq 1 ]; then
		make -s -C "$here/$t" check 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
	else
		make -s -C "$here/$t" check >"$log" 2>&1
		rc=$?
	fi
	if [ "$rc" -eq 0 ]; then
		echo "PASS $t ($(grep -c '^ok ' "$log") checks)"
	else
		echo "FAIL $t"
		[ $verbose -eq 1 ] || tail -n 30 "$log" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
[ $failed -eq 0 ] || echo "host tests: $failed of ${#tools[@]} failed"
exit $((failed > 0))
