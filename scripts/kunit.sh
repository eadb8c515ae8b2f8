#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build and run the project's KUnit suites with tools/testing/kunit/kunit.py
# in the prepared kernel tree, then fail the run on any kernel splat even
# when every case passed.
#
#   kunit.sh [--arch um|x86_64] [--bench] [--build-only] [--filter GLOB]
#            [--summary FILE]
#
#   --arch     um (default) or x86_64: the suites built as modules, loaded
#              in a 2-CPU QEMU (TCG) guest on the rig's VM kernel
#              ("puma-kernel.sh modtree", KUnit built in, enabled with
#              kunit.enable=1), so x86_64 costs no kernel build of its own.
#              The built-in-only suites (puma_rlru, puma_backend) and
#              the pure codec one (puma_wire) run under UML only.
#   --bench    run the benchmark suites (bench/.kunitconfig, no debug
#              options) instead of the test suites
#   --build-only  UML: configure and build the kernel, run nothing (make
#              test builds it in the background while the VM tests run)
#   --filter   kunit.py filter_glob, e.g. 'puma_index*' or 'puma_wire.*trunc*'
#   --summary  append "<label> <passed> <failed>" to FILE
#
# The full kernel log is kept in the build directory as puma-kunit.log.

# shellcheck source-path=SCRIPTDIR source=vm/rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/vm/rig.sh"
PUMA_ROOT=$root
PUMA_CACHE=${PUMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/puma}
PUMA_JOBS=${PUMA_JOBS:-$(nproc)}
export PUMA_CACHE PUMA_JOBS

arch=um
bench=
build_only=
filter=
summary=
rig_parse "arch= bench build-only filter= summary=" "$@"
[ -z "$build_only" ] || [ "$arch" = um ] || die "--build-only: UML only"

cfgdir=$PUMA_ROOT/kernel/configs
archcfg=()
archargs=()
case "$arch" in
um)
	timeout=600
	archcfg=("$cfgdir/um.config" "$cfgdir/slim.config")
	;;
x86_64)
	timeout=1800
	# Two CPUs: the concurrency cases must run on two at once.
	archargs=(--qemu_args='-smp 2')
	command -v qemu-system-x86_64 >/dev/null ||
		"$PUMA_ROOT/scripts/puma-kernel.sh" install qemu-system-x86
	;;
*)
	echo "kunit.sh: unknown arch '$arch'" >&2; exit 2 ;;
esac

if [ -n "$bench" ]; then
	configs=("$PUMA_ROOT/bench/.kunitconfig" "${archcfg[@]}")
	label="bench-$arch"
	# The benchmark prints figures for minutes; give it room.
	timeout=3600
else
	configs=("$PUMA_ROOT/kunit/.kunitconfig" "$cfgdir/debug.config"
		 "$cfgdir/kasan.config" "$cfgdir/hooks.config" "${archcfg[@]}")
	label="kunit-$arch"
fi

# x86_64 tests: the suites' modules in a guest on the VM kernel.
if [ "$arch" = x86_64 ] && [ -z "$bench" ]; then
	kdir=$("$PUMA_ROOT/scripts/puma-kernel.sh" modtree)
	tree=$("$PUMA_ROOT/scripts/puma-kernel.sh" tree)
	build="$PUMA_CACHE/build/$label-vm"
	rm -rf "$build"
	mkdir -p "$build"
	log="$build/puma-kunit.log"
	make -s -C "$kdir" M="$PUMA_ROOT" modules >&2
	files=()
	for ko in "$PUMA_ROOT"/puma_*_kunit.ko; do
		# The codec is pure C, run under UML and in user space
		# (tools/wire-host); under TCG with KASAN it took 5 minutes.
		[ "${ko##*/}" = puma_wire_kunit.ko ] && continue
		files+=(--file "$ko:/lib/modules/puma/kunit/${ko##*/}")
	done
	[ ${#files[@]} -gt 0 ] || { echo "kunit.sh: no KUnit module was built" >&2; exit 1; }
	initrd=$("$PUMA_ROOT/scripts/vm/mkinitramfs.sh" \
		--guest "$PUMA_ROOT/scripts/vm/guest/kunit.sh" \
		--modules "$PUMA_ROOT/puma.ko $PUMA_ROOT/puma_loop.ko $PUMA_ROOT/puma_tcp.ko $PUMA_ROOT/puma_virtio.ko" \
		"${files[@]}")
	echo "kunit.sh: $label in a 2-CPU guest on $kdir" >&2
	rc=0
	"$PUMA_ROOT/scripts/vm/run-vm.sh" --kernel "$kdir/arch/x86/boot/bzImage" \
		--initrd "$initrd" --cpus 2 --mem 1G --timeout "$timeout" \
		--outdir "$build/vm" \
		--append "kunit.enable=1 printk.time=0${filter:+ kunit.filter_glob=$filter}" \
		>"$build/run-vm.log" 2>&1 || rc=$?
	cp "$build/vm/console.log" "$log" 2>/dev/null || : >"$log"
	# One KTAP document from the modules' own: each printed a top-level
	# header and plan of its own (and the built-in run an empty one).
	ktap="$build/puma-kunit.ktap"
	awk '
		/^KTAP version/ || /^1\.\.[0-9]+$/ { next }
		/^(not )?ok [0-9]+ / {
			n++; sub(/ok [0-9]+ /, "ok " n " "); body = body $0 "\n"; next
		}
		/^ +(KTAP version|#|ok |not ok |1\.\.)/ || /^# / { body = body $0 "\n" }
		END { printf "KTAP version 1\n1..%d\n%s", n, body }
	' "$log" >"$ktap"
	if [ "$rc" -ne 0 ]; then
		tail -n 30 "$build/run-vm.log" >&2
		echo "kunit.sh: $label: the guest failed (run-vm.sh rc=$rc)" >&2
	fi
else
tree=$("$PUMA_ROOT/scripts/puma-kernel.sh" tree)
# One build directory per tree and kind: kunit.py reconfigures it when the
# configuration changes and make rebuilds only what the change touches.
build="$PUMA_CACHE/build/$label-$(basename "$tree")"
mkdir -p "$build"
log="$build/puma-kunit.log"
ktap=

kargs=()
for c in "${configs[@]}"; do
	kargs+=("--kunitconfig=$c")
done

echo "kunit.sh: $label in $build" >&2
exec 7>"$build/.lock"
flock 7
rc=0
if [ -n "$build_only" ]; then
	(cd "$tree" && python3 tools/testing/kunit/kunit.py build --arch="$arch" \
		--build_dir="$build" --jobs="$PUMA_JOBS" "${kargs[@]}") >"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; die "$label: the kernel did not build"; }
	exit 0
fi
[ -n "$filter" ] && kargs+=("$filter")
(cd "$tree" && python3 tools/testing/kunit/kunit.py run --arch="$arch" \
	--build_dir="$build" --jobs="$PUMA_JOBS" --timeout="$timeout" \
	--raw_output=all "${archargs[@]}" "${kargs[@]}") >"$log" 2>&1 || rc=$?
fi

if ! grep -q "KTAP version" "$log"; then
	tail -n 60 "$log" >&2
	echo "kunit.sh: $label: the kernel did not build or run (kunit.py rc=$rc)" >&2
	[ -n "$summary" ] && echo "$label 0 1" >>"$summary"
	exit 1
fi

parsed="$build/puma-kunit.parsed"
prc=0
(cd "$tree" && python3 tools/testing/kunit/kunit.py parse "${ktap:-$log}") >"$parsed" 2>&1 || prc=$?
cat "$parsed"

# Kernel-side trouble that the suites themselves cannot see: the rig's
# splat list (scripts/vm/splats.re), judged by its console checker.  No
# suite prints a stack dump on purpose, so nothing needs --allow.
if ! "$PUMA_ROOT/scripts/vm/check-console.sh" --splats-only --quiet "$log"; then
	echo "kunit.sh: $label: kernel reported problems (above)" >&2
	prc=1
fi

if [ "$arch" = x86_64 ] && [ -z "$bench" ] && [ "$rc" -ne 0 ]; then
	prc=1
fi
if [ "$arch" = x86_64 ] && ! grep -q 'smp: Brought up .* 2 CPUs' "$log"; then
	echo "kunit.sh: $label: the guest did not bring up 2 CPUs" >&2
	prc=1
fi

line=$(grep -Eo 'Ran [0-9]+ tests: .*' "$parsed" | tail -n 1 || true)
# count WHAT: the number before "WHAT" in kunit.py's last summary line
count() { grep -Eo "$1: [0-9]+" <<<"$line" | grep -Eo '[0-9]+' || echo 0; }
passed=$(count passed)
failed=$(( $(count failed) + $(count crashed) ))
if [ "$prc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	# A splat or a parse failure is a failure even if every case passed.
	failed=1
fi
[ -n "$summary" ] && echo "$label $passed $failed" >>"$summary"
echo "kunit.sh: $label: $passed passed, $failed failed (log: $log)"
[ "$failed" -eq 0 ]
