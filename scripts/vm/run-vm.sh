#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one QEMU (TCG) VM on the rig's kernel and initramfs, wait for it to
# stop (bounded), then judge its console log (scripts/vm/check-console.sh).
#
#   run-vm.sh --initrd FILE [options]
#
#   --kernel BZIMAGE    kernel (default: $PUMA_KERNEL, else the bzImage of
#                       "scripts/puma-kernel.sh modtree", built if needed)
#   --initrd FILE       initramfs (scripts/vm/mkinitramfs.sh)
#   --mem SIZE          guest RAM (default 256M)
#   --cpus N            guest CPUs (default 1)
#   --disk SPEC         add a virtio-blk disk (vda, vdb, ... in order);
#                       SPEC is IMAGE[,OPT...] with OPT one of
#                         iops=N        throttling.iops-total (I/O per s)
#                         bps=N         throttling.bps-total (bytes per s)
#                         iops-size=N   throttling.iops-size: an I/O of
#                                       k*N bytes counts as k I/Os
#                         cache=MODE    none (default) or writeback, ...
#                         ro            read-only
#                         KEY=VALUE     passed to -drive as is
#   --net udp:LPORT:RPORT
#                       a virtio-net NIC on a connectionless UDP socket
#                       netdev: frames are sent to 127.0.0.1:RPORT and
#                       received on 127.0.0.1:LPORT (the peer swaps the
#                       ports); either VM can be killed and booted again,
#                       the link works
#   --net mcast:PORT    the same NIC on a hub: every VM started with the
#                       same PORT is on one Ethernet segment (multicast
#                       group 230.0.0.1:PORT on 127.0.0.1)
#   --mac MAC           its MAC address (default 52:54:00:12:34:56)
#   --ivshmem SOCK      an ivshmem-doorbell device (one MSI-X vector) on
#                       the shared memory of the ivshmem server listening
#                       on SOCK (tools/ivshmem-server): every VM given the
#                       same SOCK maps the same region and can ring the
#                       others (the virtio transport's "ivshmem0")
#   --append ARGS       extra kernel command line; unknown key=value
#                       parameters reach the guest test as environment
#   --timeout SEC       hard limit for the whole run (default 600); QEMU is
#                       killed and the run fails, showing the console tail
#   --outdir DIR        where console.log, results.txt and qemu.log go
#                       (default: a new directory under ${TMPDIR:-/tmp})
#   --allow-splat RE    console lines matching RE are not splats
#   --qemu-arg ARG      extra QEMU argument (repeatable), e.g. a filter-dump
#                       device
#   --tsc-khz N         the host's TSC frequency (default: $PUMA_TSC_KHZ,
#                       else what the host kernel detected); see below
#   --pidfile FILE      QEMU writes its process id there (to kill it)
#   --verbose           also stream the console to stdout
#
# With $PUMA_QEMU_MONITOR_DIR set, QEMU also serves its human monitor on
# the socket $PUMA_QEMU_MONITOR_DIR/MEM-PID.sock (MEM: --mem, PID: this
# script's), for scripts/exp/host-probe.py (QEMU's "info jit" counters).
#
# Output: $OUTDIR/console.log (serial console), $OUTDIR/results.txt (the
# guest's "PUMA-RESULT key=value" lines as key=value), $OUTDIR/files/
# (files the guest exported with puma_export), $OUTDIR/qemu.log.
# Exit: 0 pass, 1 fail (guest verdict, kernel splat, timeout, QEMU error),
# 2 usage.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

kernel=${PUMA_KERNEL:-}
initrd=
mem=256M
cpus=1
disk=()
net=
ivshmem=
mac=52:54:00:12:34:56
append=()
timeout=600
allow_splat=
qemu_arg=()
pidfile=
tsc_khz=${PUMA_TSC_KHZ:-}
rig_parse "kernel= initrd= mem= cpus= disk+ net= ivshmem= mac= append+ timeout= outdir=
	allow-splat= qemu-arg+ tsc-khz= pidfile= verbose" "$@"
[ -n "$initrd" ] || die "--initrd is required"
[ -r "$initrd" ] || die "cannot read $initrd"
[[ "$timeout" =~ ^[0-9]+$ ]] || die "bad --timeout '$timeout'"
if [ -z "$kernel" ]; then
	kernel=$("$root/scripts/puma-kernel.sh" modtree)/arch/x86/boot/bzImage
fi
[ -r "$kernel" ] || die "cannot read kernel $kernel"
command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"

rig_outdir
log=$outdir/console.log
results=$outdir/results.txt
qlog=$outdir/qemu.log
: >"$log"
: >"$results"

# Kernel command line.  Failures must be visible and must end the run fast:
#  - oops=panic panic=-1: an oops kills a task that may hold locks, so the
#    test would hang until the timeout; instead the kernel panics, resets
#    at once and QEMU (-no-reboot) exits with the oops in the log;
#  - panic_on_warn=0, kasan.fault=report, kasan_multi_shot: WARNs and KASAN
#    reports are logged and the guest carries on, so one run shows every
#    report and still prints its results; the host fails the run on them;
#  - no_hash_pointers: real addresses in reports.
cmdline="console=ttyS0,115200 rdinit=/init loglevel=7 panic=-1 oops=panic"
cmdline+=" panic_on_warn=0 kasan.fault=report kasan_multi_shot no_hash_pointers"
# ACPI is in the kernel for its CPU table (MADT: -smp N gives N CPUs), not
# for IRQ routing: evaluating each PCI interrupt link's AML took 10 to 20 s
# per link under TCG with KASAN and lockdep, and once stalled RCU long
# enough to log a splat.  acpi=noirq keeps the PIR table's routing.
cmdline+=" acpi=noirq"
# Guest clock.  Under TCG the guest's TSC runs at the host's TSC rate, but
# the guest cannot calibrate it (the PIT loop is too slow under emulation,
# and without ACPI there is no HPET or PM timer to compare with), so it
# marks the TSC unstable and falls back to jiffies: 4 ms resolution, which
# makes read latencies useless.  Telling it the frequency (tsc_early_khz)
# and that the TSC is sound (tsc=reliable: no watchdog) gives a nanosecond
# clock.  A wrong value only scales the guest's absolute times.
if [ -z "$tsc_khz" ]; then
	mhz=$( { dmesg 2>/dev/null || true; } |
		sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p;
			s/.*tsc: Detected \([0-9.]*\) MHz processor.*/\1/p' | tail -1)
	if [ -z "$mhz" ] && grep -qw constant_tsc /proc/cpuinfo; then
		mhz=$(awk -F': *' '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)
	fi
	[ -z "$mhz" ] || tsc_khz=$(awk -v m="$mhz" 'BEGIN { printf "%d", m * 1000 }')
fi
if [ -n "$tsc_khz" ]; then
	[[ "$tsc_khz" =~ ^[0-9]+$ ]] || die "bad --tsc-khz '$tsc_khz'"
	cmdline+=" tsc_early_khz=$tsc_khz tsc=reliable"
else
	echo "run-vm: warning: host TSC frequency unknown (set PUMA_TSC_KHZ):" \
		"guest clock will be jiffies (4 ms resolution)" >&2
fi
cmdline+=" ${append[*]:-}"

# Disks: cache=none (O_DIRECT on the host) by default so that guest disk
# reads really go to the host's disk and are not served from the host's
# 24 GiB page cache at memory speed, which would make "disk" cheaper than
# any remote cache; the throttling options then set the cost of an I/O.
qemu_disks=()
i=0
for spec in ${disk[@]+"${disk[@]}"}; do
	IFS=, read -r -a parts <<<"$spec"
	img=${parts[0]}
	[ -e "$img" ] || die "--disk: no such image $img"
	drive="file=$img,if=none,id=d$i,format=raw,aio=threads"
	cache=none
	for opt in "${parts[@]:1}"; do
		case "$opt" in
		iops=*) drive+=",throttling.iops-total=${opt#iops=}" ;;
		bps=*) drive+=",throttling.bps-total=${opt#bps=}" ;;
		iops-size=*) drive+=",throttling.iops-size=${opt#iops-size=}" ;;
		cache=*) cache=${opt#cache=} ;;
		ro) drive+=",readonly=on" ;;
		*=*) drive+=",$opt" ;;
		*) die "--disk $spec: bad option '$opt'" ;;
		esac
	done
	qemu_disks+=(-drive "$drive,cache=$cache"
		     -device "virtio-blk-pci,drive=d$i,serial=puma-d$i")
	i=$((i + 1))
done

qemu_net=()
if [ -n "$net" ]; then
	# Connectionless: each QEMU sends its frames to the peer's port and
	# receives on its own, so there is no listener to wait for, and a
	# killed VM's successor binds the same port and is reachable at once
	# (a stream socket would need a new connect).
	ports=${net#*:}
	if [[ "$net" =~ ^udp:[0-9]+:[0-9]+$ ]]; then
		netdev="socket,id=n0,udp=127.0.0.1:${ports#*:},localaddr=127.0.0.1:${ports%%:*}"
	elif [[ "$net" =~ ^mcast:[0-9]+$ ]]; then
		netdev="socket,id=n0,mcast=230.0.0.1:$ports,localaddr=127.0.0.1"
	else
		die "--net $net: expected udp:LOCALPORT:PEERPORT or mcast:PORT"
	fi
	qemu_net=(-netdev "$netdev" -device "virtio-net-pci,netdev=n0,mac=$mac")
fi

if [ -n "$ivshmem" ]; then
	[ -S "$ivshmem" ] || die "--ivshmem: no server socket $ivshmem"
	qemu_net+=(-chardev "socket,path=$ivshmem,id=ivsh"
		   -device "ivshmem-doorbell,chardev=ivsh,vectors=1")
fi

if [ -n "$verbose" ]; then
	serial=(-chardev "stdio,id=con,signal=off,logfile=$log")
else
	serial=(-chardev "file,id=con,path=$log")
fi

# -mem-prealloc: all guest RAM is touched on the host at start.  Left
# lazy, the first guest write to each never-used 2 MiB of it costs a host
# page fault of several ms on these (nested) machines, charged to
# whichever guest allocation comes first: experiment 1 measured it.
qemu=(qemu-system-x86_64 -accel tcg -machine pc -cpu max
      -smp "$cpus" -m "$mem" -mem-prealloc
      -nodefaults -no-user-config -display none -no-reboot
      "${serial[@]}" -serial chardev:con
      -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
      ${qemu_disks[@]+"${qemu_disks[@]}"}
      ${qemu_net[@]+"${qemu_net[@]}"}
      ${pidfile:+-pidfile "$pidfile"}
      ${qemu_arg[@]+"${qemu_arg[@]}"})
if [ -n "${PUMA_QEMU_MONITOR_DIR:-}" ]; then
	qemu+=(-monitor "unix:$PUMA_QEMU_MONITOR_DIR/$mem-$$.sock,server=on,wait=off")
fi
printf '%q ' "${qemu[@]}" >"$outdir/qemu.cmd"
echo >>"$outdir/qemu.cmd"

echo "run-vm: booting (mem $mem, cpus $cpus, timeout ${timeout}s), log $log" >&2
start=$(date +%s.%N)
rc=0
if [ -n "$verbose" ]; then
	timeout --kill-after=10 "$timeout" "${qemu[@]}" </dev/null 2>"$qlog" || rc=$?
else
	timeout --kill-after=10 "$timeout" "${qemu[@]}" </dev/null >"$qlog" 2>&1 || rc=$?
fi
wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

fail=
elapsed=${wall%.*}
if [ "$rc" -eq 137 ] && [ "$elapsed" -lt "$timeout" ]; then
	echo "run-vm: FAIL: QEMU was killed (SIGKILL) after ${wall}s; console tail:" >&2
	tr -d '\r' <"$log" | tail -n 20 | sed 's/^/  | /' >&2
	fail=1
elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "run-vm: FAIL: timeout: VM still running after ${timeout}s, killed; console tail:" >&2
	tr -d '\r' <"$log" | tail -n 60 | sed 's/^/  | /' >&2
	fail=1
elif [ "$rc" -ne 0 ]; then
	echo "run-vm: FAIL: QEMU exited with status $rc:" >&2
	sed 's/^/  qemu: /' "$qlog" >&2
	fail=1
fi
"$rig/check-console.sh" --quiet --results "$results" --files "$outdir/files" \
	${allow_splat:+--allow "$allow_splat"} "$log" || fail=1
echo "vm_wall_s=$wall" >>"$results"
if [ -n "$fail" ]; then
	echo "run-vm: FAIL after ${wall}s (outputs in $outdir)" >&2
	exit 1
fi
echo "run-vm: pass after ${wall}s (outputs in $outdir)" >&2
