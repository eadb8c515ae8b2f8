#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare the kernel trees the project builds and tests against.
#
#   puma-kernel.sh tree            print the path of the prepared source tree
#   puma-kernel.sh modtree         build the x86_64 module/VM kernel, print its
#                                  build directory
#   puma-kernel.sh benchtree       the same without the debug options, for
#                                  the experiments (kernel/configs/bench.config)
#   puma-kernel.sh key             print the cache key of the source tree
#   puma-kernel.sh install PKG...  install the Debian packages missing
#                                  (apt-get, as root or with sudo)
#
# The source tree comes from Debian's linux-source-$KERNEL_SERIES package.  It
# is extracted once into the cache, the hook series in kernel/patches/ is
# applied in order, and the project is grafted in as the "puma/" directory
# (a symlink back to this checkout, plus two lines in the root Kconfig and
# Kbuild).  The tree's directory name is keyed on the package version and a
# hash of the patch series, so a new patch or kernel gives a new tree and an
# unchanged one is reused as is.  Each tree has one build directory per
# kind; it remembers the hash of the configuration it was built with, and a
# changed configuration is applied in place, so make rebuilds only what the
# change touches.
#
# Environment:
#   PUMA_CACHE   cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/puma)
#   PUMA_JOBS    parallel make jobs (default: number of CPUs)

set -euo pipefail

PUMA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PUMA_CACHE=${PUMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/puma}
PUMA_JOBS=${PUMA_JOBS:-$(nproc)}
# shellcheck source=../kernel/version
. "$PUMA_ROOT/kernel/version"

log() { echo "puma-kernel: $*" >&2; }
die() { echo "puma-kernel: error: $*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root to run: $*"
	fi
}

apt_updated=
apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	if [ -z "$apt_updated" ]; then
		as_root apt-get update -qq
		apt_updated=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Host packages every kernel build here needs.
install_build_deps() {
	apt_install "linux-source-$KERNEL_SERIES" build-essential flex bison bc \
		libelf-dev libssl-dev python3 xz-utils kmod cpio rsync
}

package_version() {
	dpkg-query -W -f='${Version}' "linux-source-$KERNEL_SERIES"
}

patch_dir() { echo "$PUMA_ROOT/kernel/patches/$KERNEL_SERIES"; }

patches() {
	local d
	d=$(patch_dir)
	[ -d "$d" ] || return 0
	find "$d" -maxdepth 1 -name '*.patch' | LC_ALL=C sort
}

tree_key() {
	local v h
	v=$(package_version)
	h=$(patches | xargs -r cat | sha256sum | cut -c1-12)
	echo "linux-${v//[^A-Za-z0-9.+-]/_}-p$h"
}

# Graft the project into a tree: idempotent.
graft() {
	local tree=$1
	ln -sfn "$PUMA_ROOT" "$tree/puma"
	grep -q '^source "puma/Kconfig"' "$tree/Kconfig" ||
		printf '\nsource "puma/Kconfig"\n' >>"$tree/Kconfig"
	grep -q 'puma/$' "$tree/Kbuild" ||
		printf '\nobj-$(CONFIG_PUMA)\t+= puma/\n' >>"$tree/Kbuild"
}

prepare_tree() {
	install_build_deps
	local key tree tarball tmp p v
	v=$(package_version)
	[ "$v" = "$KERNEL_PACKAGE_VERSION" ] ||
		log "note: linux-source-$KERNEL_SERIES is $v, validated with $KERNEL_PACKAGE_VERSION"
	key=$(tree_key)
	tree="$PUMA_CACHE/src/$key"
	mkdir -p "$PUMA_CACHE/src"
	exec 9>"$PUMA_CACHE/src/.lock"
	flock 9
	if [ ! -f "$tree/.puma-prepared" ]; then
		tarball=/usr/src/linux-source-$KERNEL_SERIES.tar.xz
		[ -f "$tarball" ] || die "$tarball missing after installing linux-source-$KERNEL_SERIES"
		log "extracting $tarball into $tree"
		rm -rf "$tree" "$tree.tmp"
		tmp="$tree.tmp"
		mkdir -p "$tmp"
		tar -xJf "$tarball" -C "$tmp" --strip-components=1
		for p in $(patches); do
			log "applying $(basename "$p")"
			patch -d "$tmp" -p1 --forward --quiet <"$p" ||
				die "$(basename "$p") does not apply to $v"
		done
		touch "$tmp/.puma-prepared"
		mv "$tmp" "$tree"
	fi
	graft "$tree"
	flock -u 9
	echo "$tree"
}

config_hash() {
	cat "$@" | sha256sum | cut -c1-12
}

# build_x86 KIND FRAGMENT...: an x86_64 kernel configured from tinyconfig
# and the fragments, in its own build directory per tree; prints it.
build_x86() {
	local kind=$1 tree build h
	shift
	tree=$(prepare_tree)
	h=$(config_hash "$@")
	build="$PUMA_CACHE/build/$kind-$(basename "$tree")"
	mkdir -p "$build"
	exec 8>"$build/.lock"
	flock 8
	if [ "$(cat "$build/.puma-built" 2>/dev/null)" != "$h" ]; then
		log "configuring $build"
		make -s -C "$tree" O="$build" ARCH=x86_64 tinyconfig >&2
		"$tree/scripts/kconfig/merge_config.sh" -m -O "$build" \
			"$build/.config" "$@" >/dev/null
		make -s -C "$tree" O="$build" ARCH=x86_64 olddefconfig >&2
		check_config "$build/.config" "$@"
		log "building x86_64 kernel in $build (cold build: several minutes)"
		make -s -C "$tree" O="$build" ARCH=x86_64 -j"$PUMA_JOBS" \
			bzImage modules >&2
		echo "$h" >"$build/.puma-built"
	fi
	flock -u 8
	echo "$build"
}

# The x86_64 kernel that out-of-tree (M=) builds and the QEMU VMs use.
build_modtree() {
	local c=$PUMA_ROOT/kernel/configs

	build_x86 x86_64 "$c/base-x86_64.config" "$c/slim.config" \
		"$c/debug.config" "$c/faults.config" "$c/kasan.config" \
		"$c/hooks.config"
}

# The experiments' kernel: the same without the debug options.
build_benchtree() {
	local c=$PUMA_ROOT/kernel/configs

	build_x86 x86_64-bench "$c/base-x86_64.config" "$c/slim.config" \
		"$c/hooks.config" "$c/bench.config"
}

# Every option a fragment asks for must survive olddefconfig; a silently
# dropped debug option would make the test kernels lie.
check_config() {
	local config=$1 frag line bad=0
	shift
	for frag in "$@"; do
		while IFS= read -r line; do
			case "$line" in
			CONFIG_*=*)
				grep -qxF "$line" "$config" && continue
				;;
			"# CONFIG_"*" is not set")
				line=${line#\# }
				line=${line%% *}
				grep -q "^$line=" "$config" || continue
				line="# $line is not set"
				;;
			*)
				continue
				;;
			esac
			log "$(basename "$frag"): '$line' lost in $config"
			bad=1
		done <"$frag"
	done
	[ $bad -eq 0 ] || die "configuration does not match its fragments"
}

case "${1:-}" in
tree) prepare_tree ;;
modtree) build_modtree ;;
benchtree) build_benchtree ;;
key) install_build_deps; tree_key ;;
deps) install_build_deps ;;
install) shift; apt_install "$@" ;;
*) echo "usage: $0 tree|modtree|benchtree|key|deps|install PKG..." >&2; exit 2 ;;
esac
