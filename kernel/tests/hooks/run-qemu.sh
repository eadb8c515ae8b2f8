#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot-test the cleancache hooks: build the cctest backend against a kernel
# build directory, make a busybox initramfs with the coherence tests, make
# an ext4 image (inline_data on, with a 512 MiB stamped file), boot QEMU
# (TCG is fine) and print the guest's log.
#
#   run-qemu.sh SRC BUILD [WORKDIR]
#
#   SRC      patched kernel source tree
#   BUILD    its O= build directory (bzImage built, CONFIG_CLEANCACHE=y,
#            CONFIG_MODULES=y, virtio-blk, ext4, debugfs)
#   WORKDIR  scratch directory (default: a new mktemp -d)
#
# Exit status: 0 if the guest printed no FAIL line and no kernel splat.

set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$1
build=$2
work=${3:-$(mktemp -d)}
mkdir -p "$work/mod" "$work/root"

cp "$here/cctest.c" "$work/mod/"
echo 'obj-m := cctest.o' >"$work/mod/Kbuild"
make -s -C "$src" O="$build" M="$work/mod" modules
gcc -O2 -Wall -static -o "$work/cctest_user" "$here/cctest_user.c"

# initramfs
r=$work/root
mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/mnt" "$r/tmp"
cp /bin/busybox "$r/bin/busybox"
cp "$here/init" "$r/init"
cp "$work/mod/cctest.ko" "$work/cctest_user" "$r/"
(cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.gz"

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

timeout 3600 qemu-system-x86_64 -m "${PUMA_VM_MEM:-384}" -smp 2 -nographic \
	-no-reboot -kernel "$build/arch/x86/boot/bzImage" \
	-initrd "$work/initramfs.gz" \
	-append "console=ttyS0 panic=-1 oops=panic loglevel=4" \
	-drive file="$work/disk.img",if=virtio,format=raw,cache=unsafe \
	| tee "$work/console.log"

grep -q "=== done" "$work/console.log" || { echo "guest did not finish"; exit 1; }
! grep -Eq "^FAIL|WARNING:|BUG:|possible circular|inconsistent lock|sleeping function|KASAN" \
	"$work/console.log"
