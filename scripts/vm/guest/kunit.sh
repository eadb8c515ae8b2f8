#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "scripts/kunit.sh --arch x86_64": the project's KUnit
# modules on the rig's VM kernel, which has KUnit built in but disabled
# unless booted with kunit.enable=1.  Each module runs its suites as it
# loads, printing KTAP on the console for the host to parse.  The
# concurrency cases need two CPUs at once: fewer is a failure.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

cpus=$(nproc)
puma_result cpus "$cpus"
[ "$cpus" -ge 2 ] || puma_fail "the guest has $cpus CPU(s); the suites need 2"

for ko in /lib/modules/puma/kunit/*.ko; do
	name=${ko##*/}
	puma_step "kunit.${name%.ko}" insmod "$ko"
done
