#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot-test the cleancache hooks on the QEMU rig (Documentation/vm-rig.rst):
# build the cctest backend against a kernel build directory, make an ext4
# image (inline_data on, with a 512 MiB stamped file and a 150 MiB one),
# boot one 2-CPU VM (TCG) running guest.sh, stream its console and judge
# it with the rig's run-vm.sh.
#
#   run-qemu.sh SRC BUILD [WORKDIR]
#   run-qemu.sh BUILD
#
#   SRC      patched kernel source tree; accepted for compatibility, not
#            needed: BUILD's Makefile knows its source tree
#   BUILD    its O= build directory (bzImage built, CONFIG_CLEANCACHE=y,
#            CONFIG_MODULES=y, virtio-blk, ext4, debugfs), e.g. the one
#            "scripts/puma-kernel.sh modtree" prints
#   WORKDIR  scratch directory (default: a new mktemp -d); the VM's outputs
#            go to WORKDIR/vm
#
# Environment: PUMA_VM_MEM guest RAM as QEMU -m takes it (default 384,
# i.e. MiB).
# Exit status: run-vm.sh's: 0 if the guest reported status=pass (no
# puma_fail, no failed step) and the console shows no kernel splat.

set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rig=$(cd "$here/../../../scripts/vm" && pwd)
case $# in
1) build=$1; work= ;;
2|3) build=$2; work=${3:-} ;;
*) echo "usage: run-qemu.sh SRC BUILD [WORKDIR] | run-qemu.sh BUILD" >&2; exit 2 ;;
esac
[ -n "$work" ] || work=$(mktemp -d)
mkdir -p "$work/mod"

cp "$here/cctest.c" "$work/mod/"
echo 'obj-m := cctest.o' >"$work/mod/Kbuild"
make -s -C "$build" M="$work/mod" modules
gcc -O2 -Wall -static -o "$work/cctest_user" "$here/cctest_user.c"

# The guest loads cctest itself, at the points the tests need: shipped
# as a plain file, not as a module for /init to load.
initrd=$("$rig/mkinitramfs.sh" --guest "$here/guest.sh" \
	--bin "$work/cctest_user" \
	--file "$work/mod/cctest.ko:/lib/modules/puma/cctest.ko")

# disk: ext4 with inline data, a 512 MiB file for the pressure test and a
# 150 MiB one for the LRU activity test
if [ ! -f "$work/disk.img" ]; then
	mkdir -p "$work/img"
	"$work/cctest_user" make "$work/img/big" 7 131072
	"$work/cctest_user" make "$work/img/hot" 8 38400
	truncate -s 1200M "$work/disk.img"
	mkfs.ext4 -q -F -b 4096 -O inline_data -d "$work/img" "$work/disk.img"
	rm -rf "$work/img"
fi

# cache=unsafe: these are correctness tests, and the guest's page cache
# is what they exercise; the host's cache only makes TCG runs shorter.
"$rig/run-vm.sh" --kernel "$build/arch/x86/boot/bzImage" --initrd "$initrd" \
	--mem "${PUMA_VM_MEM:-384}" --cpus 2 \
	--disk "$work/disk.img,cache=unsafe" \
	--timeout 3600 --outdir "$work/vm" --verbose
