#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a gzip'd newc cpio initramfs for the QEMU rig and print its path.
#
#   mkinitramfs.sh --guest SCRIPT [--modules "A.ko B.ko"] [--module "A.ko P=V ..."]
#                  [--bin PATH]... [--file SRC:DEST]... [--psk HEX|none]
#
#   --guest SCRIPT   the test, installed as /guest/test.sh and run by /init
#                    (scripts/vm/guest/init) after the modules are loaded
#   --modules LIST   whitespace-separated .ko files, loaded in this order
#   --module SPEC    one .ko file followed by its module parameters, e.g.
#                    --module "puma_loop.ko pages=1024"; loaded after the
#                    --modules ones, in command-line order
#   --bin PATH       a static executable, installed in /guest (on PATH)
#   --file SRC:DEST  any other file, installed at DEST
#   --psk HEX        the TCP transport's pre-shared key, which /init puts
#                    in the keyring (tools/pumakey) before the modules
#                    load; default: the rig's fixed test key; none: no key
#
# Contents: busybox (busybox-static package) with one symlink per applet,
# the rig's /init and /guest/lib.sh (scripts/vm/guest/), the files above.
# Nothing is downloaded.  The image is cached under
# $PUMA_CACHE/initramfs/<sha256 of its contents>.cpio.gz, so an unchanged
# set of inputs is not rebuilt.
#
# Environment: PUMA_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/puma),
#              BUSYBOX (default /bin/busybox).

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"
PUMA_CACHE=${PUMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/puma}
BUSYBOX=${BUSYBOX:-/bin/busybox}

guest=
modules=()	# whitespace-separated lists of .ko files
module=()	# "file.ko params..."
bin=()
file=()		# "SRC:DEST"
psk=$RIG_PSK
rig_parse "guest= modules+ module+ bin+ file+ psk=" "$@"
# In load order; the lists are split on purpose.
# shellcheck disable=SC2206
mods=(${modules[@]+${modules[*]}} ${module[@]+"${module[@]}"})
[ -n "$guest" ] || die "--guest SCRIPT is required"
[ -r "$guest" ] || die "cannot read $guest"
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (apt-get install busybox-static)"

is_static() { ! readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'; }
is_static "$BUSYBOX" || die "$BUSYBOX is not static (need busybox-static)"

stage=$(mktemp -d "${TMPDIR:-/tmp}/puma-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

chmod 0755 "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,mnt,root,etc/puma,guest,lib/modules/puma}
chmod 1777 "$stage/tmp"
cp "$BUSYBOX" "$stage/bin/busybox"
"$BUSYBOX" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] && continue
	[ -e "$stage/$applet" ] || [ -L "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
install -m 0755 "$rig/guest/init" "$stage/init"
make -s -C "$root/tools/pumakey" O="$PUMA_CACHE/tools" >&2 ||
	die "cannot build tools/pumakey"
install -m 0755 "$PUMA_CACHE/tools/pumakey" "$stage/bin/pumakey"
[ "$psk" = none ] || echo "$psk" >"$stage/etc/puma/psk"
install -m 0644 "$rig/guest/lib.sh" "$stage/guest/lib.sh"
install -m 0755 "$guest" "$stage/guest/test.sh"

for b in ${bin[@]+"${bin[@]}"}; do
	[ -x "$b" ] || die "--bin $b: not an executable"
	is_static "$b" || die "--bin $b: not statically linked"
	install -m 0755 "$b" "$stage/guest/$(basename "$b")"
done
for spec in ${file[@]+"${file[@]}"}; do
	src=${spec%%:*}
	dst=${spec#*:}
	if [ "$src" = "$spec" ] || [ ! -r "$src" ]; then
		die "--file $spec: want a readable SRC:DEST"
	fi
	mkdir -p "$stage/$(dirname "$dst")"
	cp "$src" "$stage/$dst"
done
: >"$stage/etc/puma/modules"
for spec in ${mods[@]+"${mods[@]}"}; do
	read -r ko params <<<"$spec"
	[ -r "$ko" ] || die "module $ko not found"
	case "$ko" in *.ko) ;; *) die "module $ko: not a .ko file" ;; esac
	name=$(basename "$ko")
	[ -e "$stage/lib/modules/puma/$name" ] && die "module $name given twice"
	cp "$ko" "$stage/lib/modules/puma/$name"
	# Debug info only makes the image bigger; symbols stay for backtraces.
	strip --strip-debug "$stage/lib/modules/puma/$name" 2>/dev/null || true
	echo "$name${params:+ $params}" >>"$stage/etc/puma/modules"
done

# Content hash: every path, type, mode and file content of the image.
key=$(cd "$stage" && {
	find . -printf '%y %m %p %l\n' | LC_ALL=C sort
	find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-16)

cache=$PUMA_CACHE/initramfs
img=$cache/$key.cpio.gz
if [ ! -s "$img" ]; then
	mkdir -p "$cache"
	tmp=$(mktemp "$cache/.build.XXXXXX")
	(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
		cpio --null --create --format=newc --owner=0:0 --reproducible --quiet |
		gzip -6 -n) >"$tmp"
	mv -f "$tmp" "$img"
	echo "mkinitramfs: built $img ($(du -h "$img" | cut -f1))" >&2
fi
echo "$img"
