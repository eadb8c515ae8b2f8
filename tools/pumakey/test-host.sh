#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host checks of pumakey's argument handling (adding a key needs puma.ko,
# which the rig's guests load: every VM test adds the rig's key with it).
#   test-host.sh PUMAKEY
set -u
bin=$1
n=0
bad=0
expect() {
	local want=$1 got
	shift
	"$bin" "$@" >/dev/null 2>&1
	got=$?
	n=$((n + 1))
	if [ "$got" -ne "$want" ]; then
		echo "not ok $n - pumakey $* exited $got, expected $want"
		bad=1
	else
		echo "ok $n - pumakey $* exits $want"
	fi
}
key=000102030405060708090a0b0c0d0e0f
expect 2
expect 2 puma:psk
expect 2 puma:psk 0001				# too short
expect 2 puma:psk "${key}${key}${key}${key}00"	# too long
expect 2 puma:psk "${key}0"			# odd length
expect 2 puma:psk "${key%??}zz"			# not hex
expect 2 --type keyring puma:psk "$key"		# not a PSK type
expect 2 puma:psk "$key" extra
# Well formed: refused only for want of the .puma keyring on this host.
grep -q ' \.puma: ' /proc/keys 2>/dev/null || expect 1 puma:psk "$key"
[ "$bad" -eq 0 ] && echo "pumakey: $n checks, 0 failures"
exit "$bad"
