#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sum the "<label> <passed> <failed>" lines that scripts/kunit.sh appends
# and print the totals as "N passed, N failed".

summary=${1:?usage: summary.sh FILE}
passed=0
failed=0
if [ -f "$summary" ]; then
	while read -r label p f; do
		echo "  $label: $p passed, $f failed"
		passed=$((passed + p))
		failed=$((failed + f))
	done <"$summary"
fi
echo "$passed passed, $failed failed"
