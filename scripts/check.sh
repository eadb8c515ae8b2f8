#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks of the project's kernel code.  Each one must be silent:
#   1. out-of-tree build with W=1 and sparse (C=2): no warning, no error;
#   2. scripts/checkpatch.pl --strict on every kernel source file and on the
#      hook patch series: no error, no warning;
#   3. scripts/kernel-doc -none -Wall on the public headers and on every
#      file that exports symbols: no warning;
#   4. the wire codec compiled and tested in user space (tools/wire-host).

set -uo pipefail

PUMA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$PUMA_ROOT" || exit 1

fail=0
out=$PUMA_ROOT/out/check
mkdir -p "$out"

step() { echo "== check: $*"; }
bad() { echo "check: FAILED: $*" >&2; fail=1; }

command -v sparse >/dev/null || scripts/puma-kernel.sh install sparse

kdir=$(scripts/puma-kernel.sh modtree) || { echo "check: no kernel" >&2; exit 1; }
tree=$(scripts/puma-kernel.sh tree) || exit 1

kernel_sources() {
	git ls-files -- 'include/*.h' 'lib/*.c' 'lib/*.h' 'backends/*.c' \
		'backends/*.h' 'transports/*.c' 'transports/*.h' 'kunit/*.c' \
		'bench/*.c' 'examples/*.c' 'examples/*.h'
}

step "W=1 C=2 build against $kdir"
make -s -C "$kdir" M="$PUMA_ROOT" clean >/dev/null 2>&1
make -C "$kdir" M="$PUMA_ROOT" W=1 C=2 modules >"$out/build.log" 2>&1 ||
	bad "out-of-tree build failed"
# Sparse and the compiler both report "file:line:col: warning|error:".
if grep -E '(warning|error):|^WARNING:' "$out/build.log"; then
	bad "W=1 or sparse reported the lines above"
fi
ls "$PUMA_ROOT"/*.ko >/dev/null 2>&1 || bad "no module was built"

step "checkpatch --strict"
for f in $(kernel_sources); do
	"$tree/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "$f"
done >"$out/checkpatch.log" 2>&1
# From inside the kernel tree: run from a git checkout of ours,
# checkpatch reviews the .patch file as if it were a file being added.
for p in kernel/patches/*/*.patch; do
	[ -e "$p" ] || continue
	(cd "$tree" && scripts/checkpatch.pl --strict --terse --show-types \
		"$PUMA_ROOT/$p")
done >>"$out/checkpatch.log" 2>&1
if grep -E ': (ERROR|WARNING|CHECK):' "$out/checkpatch.log"; then
	bad "checkpatch reported the lines above"
fi

step "kernel-doc"
docfiles=$(git ls-files -- 'include/puma/*.h'; grep -l 'EXPORT_SYMBOL' $(kernel_sources))
"$tree/scripts/kernel-doc" -none -Wall $docfiles >"$out/kernel-doc.log" 2>&1 ||
	bad "kernel-doc failed"
if [ -s "$out/kernel-doc.log" ]; then
	cat "$out/kernel-doc.log"
	bad "kernel-doc reported the lines above"
fi

if [ -x tools/run-host-tests.sh ]; then
	step "user-space tools host tests (blockcheck, mallocbench, tcpbench)"
	tools/run-host-tests.sh >"$out/tools.log" 2>&1 ||
		{ tail -n 30 "$out/tools.log"; bad "tools host tests"; }
fi

if [ -f tools/wire-host/Makefile ]; then
	step "wire codec and secure channel parsers in user space"
	make -s -C tools/wire-host test || bad "user-space codec tests"
fi

[ $fail -eq 0 ] && echo "== check: all clean"
exit $fail
