#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self test of the rig's failure detection: a rig that cannot fail proves
# nothing.  Each case boots a small VM that must produce a given verdict:
#
#   pass      module loaded with parameters, its value seen by the guest
#   corrupt   a block overwritten behind blockcheck's back in the guest:
#             BLOCKCHECK-FAIL, status=fail, run fails
#   warn      a module whose init does WARN_ON(1): run fails on the splat
#             although the guest reports status=pass
#   oops      a module whose init dereferences NULL: oops=panic resets the
#             VM at once; run fails on the splat and the missing PUMA-DONE,
#             well before the timeout
#   hang      the guest never finishes: killed at --timeout, run fails
#   net       two VMs on a UDP socket netdev ping each other
#   console   check-console.sh on synthetic logs (no VM)
#
#   selftest.sh [--kernel BZIMAGE] [--kdir KERNEL_BUILD_DIR] [--outdir DIR]
#               [CASE...]
#
# Each case's outputs go to OUTDIR/CASE (default: a temporary directory,
# removed at the end unless KEEP=1).
#
# The test module is built out of tree in a temporary directory against
# KDIR (default: the directory of BZIMAGE's build, or
# "scripts/puma-kernel.sh modtree").  Exit: 0 if every case behaved.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

kernel=${PUMA_KERNEL:-}
rig_parse "kernel= kdir= outdir= *" "$@"
cases=(${rig_args[@]+"${rig_args[@]}"})
[ ${#cases[@]} -gt 0 ] || cases=(console pass corrupt warn oops hang net)
if [ -z "$kdir" ] && [ -n "$kernel" ]; then
	kdir=$(cd "$(dirname "$kernel")/../../.." && pwd)
fi
[ -n "$kdir" ] || kdir=$("$root/scripts/puma-kernel.sh" modtree)
[ -n "$kernel" ] || kernel=$kdir/arch/x86/boot/bzImage

if [ -n "$outdir" ]; then
	rig_outdir
	work=$outdir
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/puma-selftest.XXXXXX")
	trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fi
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "selftest: ok   - $*"; }
bad() { failed=$((failed + 1)); echo "selftest: FAIL - $*"; }

build_module() {
	[ -e "$work/mod/rigtest.ko" ] && return 0
	mkdir -p "$work/mod"
	cat >"$work/mod/rigtest.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <linux/bug.h>

static char *action = "none";
module_param(action, charp, 0444);
static int value;
module_param(value, int, 0444);

static int __init rigtest_init(void)
{
	if (!strcmp(action, "warn"))
		WARN_ON(1);
	if (!strcmp(action, "oops"))
		*(volatile int *)(unsigned long)value = 1;
	return 0;
}
module_init(rigtest_init);

static void __exit rigtest_exit(void)
{
}
module_exit(rigtest_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("rig self test: warn or oops on request");
EOF
	echo "obj-m := rigtest.o" >"$work/mod/Kbuild"
	make -s -C "$kdir" M="$work/mod" modules >"$work/mod/build.log" 2>&1 || {
		cat "$work/mod/build.log" >&2
		return 1
	}
}

# vm NAME TIMEOUT GUEST_SCRIPT [mkinitramfs args...]: run, print run-vm's
# exit status; outputs in $work/NAME.
vm() {
	local name=$1 tmo=$2 guest=$3 initrd rc=0
	shift 3
	initrd=$("$rig/mkinitramfs.sh" --guest "$guest" "$@" 2>/dev/null)
	"$rig/run-vm.sh" --kernel "$kernel" --initrd "$initrd" \
		--timeout "$tmo" --outdir "$work/$name" \
		${disk:+--disk "$disk"} >"$work/$name.out" 2>&1 || rc=$?
	echo "$rc"
}

guest() {
	cat >"$work/$1.sh"
	echo "$work/$1.sh"
}

disk=
for c in "${cases[@]}"; do
	case "$c" in
	console)
		d=$work/console
		mkdir -p "$d"
		printf 'PUMA-RESULT a=1\r\nx PUMA-RESULT b=2\r\nPUMA-FILE f.csv s,n\nPUMA-FILE f.csv 0,1\nPUMA-RESULT status=pass\nPUMA-DONE\n' >"$d/ok.log"
		printf 'PUMA-RESULT status=pass\nWARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x0\nPUMA-DONE\n' >"$d/warn.log"
		printf 'PUMA-RESULT status=pass\n======================================================\nWARNING: possible circular locking dependency detected\nPUMA-DONE\n' >"$d/lockdep.log"
		printf 'BUG: KASAN: slab-use-after-free in f+0x0/0x0\nPUMA-RESULT status=pass\nPUMA-DONE\n' >"$d/kasan.log"
		printf 'list_del corruption. prev->next should be 0000\nPUMA-RESULT status=pass\nPUMA-DONE\n' >"$d/list.log"
		printf 'INFO: task sh:1 blocked for more than 120 seconds.\nPUMA-RESULT status=pass\nPUMA-DONE\n' >"$d/hung.log"
		# An entry that only kunit.sh had before splats.re: proves the
		# merged list is the one in use.
		printf 'DEBUG_LOCKS_WARN_ON(lock->magic != lock)\nPUMA-RESULT status=pass\nPUMA-DONE\n' >"$d/debuglocks.log"
		printf 'PUMA-RESULT status=fail\nPUMA-DONE\n' >"$d/fail.log"
		printf 'PUMA-RESULT status=pass\n' >"$d/nodone.log"
		cc=$rig/check-console.sh
		if "$cc" --quiet --results "$d/r" --files "$d/f" "$d/ok.log" &&
		   [ "$(cat "$d/r")" = $'a=1\nb=2\nstatus=pass' ] &&
		   [ "$(cat "$d/f/f.csv")" = $'s,n\n0,1' ]; then
			ok "console: results and files extracted from a clean log"
		else
			bad "console: clean log"
		fi
		for l in warn lockdep kasan list hung debuglocks fail nodone; do
			if "$cc" --quiet "$d/$l.log" 2>/dev/null; then
				bad "console: $l.log passed"
			else
				ok "console: $l.log rejected"
			fi
		done
		if "$cc" --quiet --allow 'x\.c:1' "$d/warn.log"; then
			ok "console: --allow exempts a known line"
		else
			bad "console: --allow"
		fi
		;;
	pass)
		build_module
		g=$(guest pass <<'EOF'
. /guest/lib.sh
puma_result rigtest.value "$(cat /sys/module/rigtest/parameters/value)"
EOF
)
		rc=$(vm pass 120 "$g" --module "$work/mod/rigtest.ko action=none value=42")
		if [ "$rc" -eq 0 ] && grep -qx 'insmod.rigtest=ok' "$work/pass/results.txt" &&
		   grep -qx 'rigtest.value=42' "$work/pass/results.txt"; then
			ok "pass: module loaded with value=42, run passed"
		else
			bad "pass: rc=$rc"; cat "$work/pass.out"
		fi
		;;
	corrupt)
		bc=$(outdir=$work; rig_tool blockcheck)
		"$rig/mkdisk.sh" --size 64M "$work/corrupt.img" >/dev/null
		disk=$work/corrupt.img
		g=$(guest corrupt <<'EOF'
. /guest/lib.sh
export BLOCKCHECK_STATE_DIR=/run/bc
mount -t ext4 /dev/vda /mnt
puma_bc before create /mnt/f --blocks 256 --id 7
dd if=/dev/zero of=/mnt/f bs=1 count=1 seek=$((100 * 4096 + 77)) conv=notrunc 2>/dev/null
puma_bc after verify /mnt/f
umount /mnt
EOF
)
		rc=$(vm corrupt 120 "$g" --bin "$bc")
		disk=
		if [ "$rc" -eq 1 ] && grep -qx 'after.failures=1' "$work/corrupt/results.txt" &&
		   grep -q 'BLOCKCHECK-FAIL .*block=100 .*detail=corrupt first_bad_byte=77' "$work/corrupt/console.log" &&
		   grep -qx 'status=fail' "$work/corrupt/results.txt"; then
			ok "corrupt: block 100 byte 77 detected, run failed"
		else
			bad "corrupt: rc=$rc"; cat "$work/corrupt.out"
		fi
		;;
	warn)
		build_module
		g=$(guest warn <<<'true')
		rc=$(vm warn 120 "$g" --module "$work/mod/rigtest.ko action=warn")
		if [ "$rc" -eq 1 ] && grep -qx 'status=pass' "$work/warn/results.txt" &&
		   grep -q 'kernel splat' "$work/warn.out"; then
			ok "warn: WARN_ON in a module failed the run (guest said pass)"
		else
			bad "warn: rc=$rc"; cat "$work/warn.out"
		fi
		;;
	oops)
		build_module
		g=$(guest oops <<<'true')
		start=$SECONDS
		rc=$(vm oops 300 "$g" --module "$work/mod/rigtest.ko action=oops value=16")
		took=$((SECONDS - start))
		if [ "$rc" -eq 1 ] && [ "$took" -lt 120 ] &&
		   grep -q 'no PUMA-DONE' "$work/oops.out" &&
		   grep -q 'Oops\|BUG: kernel NULL pointer' "$work/oops/console.log"; then
			ok "oops: NULL dereference ended the VM in ${took}s, run failed"
		else
			bad "oops: rc=$rc after ${took}s"; cat "$work/oops.out"
		fi
		;;
	hang)
		g=$(guest hang <<<'sleep 100000')
		start=$SECONDS
		rc=$(vm hang 30 "$g")
		took=$((SECONDS - start))
		if [ "$rc" -eq 1 ] && [ "$took" -lt 60 ] && grep -q 'timeout' "$work/hang.out"; then
			ok "hang: killed after ${took}s (timeout 30s), run failed"
		else
			bad "hang: rc=$rc after ${took}s"; cat "$work/hang.out"
		fi
		;;
	net)
		g=$(guest net <<'EOF'
. /guest/lib.sh
peer_up() { ping -c 1 -W 1 "$net_peer" >/dev/null 2>&1; }
net_up "$net_ip" 1500 || exit 1
wait_for ping 90 peer_up || exit 1
# One packet per ping: the test kernel has no POSIX timers, so alarm()
# fails and busybox "ping -c N" (N > 1) waits forever for its next tick.
for _ in 1 2 3; do
	ping -c 1 -W 1 "$net_peer" | grep 'bytes from' ||
		puma_fail "ping $net_peer lost a packet"
done
# stay up until the peer has seen us too
sleep 3
EOF
)
		initrd=$("$rig/mkinitramfs.sh" --guest "$g" 2>/dev/null)
		port=$((20000 + RANDOM % 20000))
		# net_vm X N PORT PEER_PORT: VM net-X, address 10.0.0.N, the other .(3-N)
		net_vm() {
			"$rig/run-vm.sh" --kernel "$kernel" --initrd "$initrd" \
				--timeout 120 --outdir "$work/net-$1" \
				--net "udp:$3:$4" --mac "52:54:00:00:00:0$2" \
				--append "net_ip=10.0.0.$2 net_peer=10.0.0.$((3 - $2))" \
				>"$work/net-$1.out" 2>&1
		}
		net_vm a 1 "$port" $((port + 1)) &
		pid_a=$!
		rc_b=0
		net_vm b 2 $((port + 1)) "$port" || rc_b=$?
		rc_a=0
		wait "$pid_a" || rc_a=$?
		if [ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ]; then
			ok "net: two VMs pinged each other over a socket netdev" \
				"(tries $(sed -n 's/^wait.ping=//p' "$work/net-a/results.txt")/$(sed -n 's/^wait.ping=//p' "$work/net-b/results.txt"))"
		else
			bad "net: rc $rc_a/$rc_b"; cat "$work/net-a.out" "$work/net-b.out"
		fi
		;;
	*) echo "selftest: unknown case $c" >&2; exit 2 ;;
	esac
done
echo "selftest: $passed ok, $failed failed"
[ "$failed" -eq 0 ]
