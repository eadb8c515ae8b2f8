#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The two-VM rig: a PUMA server VM and a client VM (QEMU, TCG) linked by a
# connectionless UDP socket netdev on 127.0.0.1, each with its own ext4
# disk throttled by QEMU to a cloud-volume-like IOPS figure.  Runs the
# paper's base scenario (scripts/vm/guest/pair-client.sh): a stamped file
# larger than the client's page cache, random reads verified block by
# block, once without PUMA and once with it, then an optional plain-TCP
# baseline; the server samples its memory every second
# (scripts/vm/guest/pair-server.sh).  With --kill-after, the server VM is
# killed during the measured PUMA pass and a new one booted in its place.
#
#   pair.sh [options]
#
#   --kdir DIR          kernel build dir (default: scripts/puma-kernel.sh
#                       modtree); its bzImage boots both VMs and the
#                       modules are built against it
#   --outdir DIR        outputs (default: a new directory under $TMPDIR)
#   --client-mem SIZE   client RAM (default 256M)
#   --server-mem SIZE   server RAM (default 1G)
#   --blocks N          4 KiB blocks of the stamped file (default: 1.5x the
#                       client's RAM)
#   --iops N            QEMU throttling.iops-total of each disk (default
#                       25: a 500-IOPS standard-HDD cloud volume scaled
#                       by TCG's ~20x slowdown, see Documentation/vm-rig.rst)
#   --duration SEC      each measured random-read pass (default 60)
#   --phases LIST       "nopuma puma" (default), "puma" or "nopuma"
#   --get-timeout-us N  the client's get_timeout_us (default 200000, see
#                       Documentation/vm-rig.rst)
#   --mtu N             MTU of the link (default 9000, jumbo frames as in
#                       a cloud VPC; see Documentation/vm-rig.rst)
#   --tcp-max N         plain-TCP baseline: as many pages as PUMA's put
#                       phase sent, at most N (default 0: no baseline)
#   --kill-after SEC    kill the server VM SEC seconds into the measured
#                       PUMA pass, boot a new one 2 s later
#   --after SEC         with --kill-after: a pass of SEC seconds once the
#                       client has reconnected (default 30)
#   --timeout SEC       hard limit of each VM (default 1800)
#   --verbose           stream the client's console
#
# Output: OUTDIR/results.txt (every result, prefixed client., server.,
# server2.), OUTDIR/{client,server,server2}/ (console.log, results.txt,
# files/*.csv), OUTDIR/host.txt (host-side timings).  Read it with
# scripts/vm/pair-report.sh OUTDIR.
# Exit: 0 both VMs passed, 1 a VM failed (its console tail is shown),
# 2 usage or setup error.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

die() { echo "pair: error: $*" >&2; exit 2; }
log() { echo "pair: $*" >&2; }

kdir=
outdir=
cmem=256M
smem=1G
blocks=
iops=25
dur=60
phases="nopuma puma"
get_timeout_us=200000
mtu=9000
tcp_max=0
kill_after=
after=30
timeout=1800
verbose=
while [ $# -gt 0 ]; do
	case "$1" in
	--kdir) kdir=$2; shift 2 ;;
	--outdir) outdir=$2; shift 2 ;;
	--client-mem) cmem=$2; shift 2 ;;
	--server-mem) smem=$2; shift 2 ;;
	--blocks) blocks=$2; shift 2 ;;
	--iops) iops=$2; shift 2 ;;
	--duration) dur=$2; shift 2 ;;
	--phases) phases=$2; shift 2 ;;
	--get-timeout-us) get_timeout_us=$2; shift 2 ;;
	--tcp-max) tcp_max=$2; shift 2 ;;
	--mtu) mtu=$2; shift 2 ;;
	--kill-after) kill_after=$2; shift 2 ;;
	--after) after=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--verbose) verbose=--verbose; shift ;;
	-h|--help) sed -n '3,50s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

isnum() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1: expected a number, got '$2'"; }
isnum --iops "$iops"
isnum --duration "$dur"
isnum --get-timeout-us "$get_timeout_us"
isnum --tcp-max "$tcp_max"
isnum --mtu "$mtu"
isnum --after "$after"
isnum --timeout "$timeout"
[ -z "$kill_after" ] || isnum --kill-after "$kill_after"
[ -z "$blocks" ] || isnum --blocks "$blocks"
use_puma=
for p in $phases; do
	case "$p" in
	nopuma) ;;
	puma) use_puma=1 ;;
	*) die "--phases: unknown phase '$p'" ;;
	esac
done
[ -z "$kill_after" ] || [ -n "$use_puma" ] || die "--kill-after needs the puma phase"

# size_mb SIZE: a QEMU-style size (256M, 1G) in MiB
size_mb() {
	case "$1" in
	*[Gg]) echo $(( ${1%[Gg]} * 1024 )) ;;
	*[Mm]) echo "${1%[Mm]}" ;;
	*) die "size '$1': use M or G" ;;
	esac
}
cmem_mb=$(size_mb "$cmem")
smem_mb=$(size_mb "$smem")
[ -n "$blocks" ] || blocks=$(( cmem_mb * 256 * 3 / 2 ))

[ -n "$kdir" ] || kdir=$("$root/scripts/puma-kernel.sh" modtree)
bzimage=$kdir/arch/x86/boot/bzImage
[ -r "$bzimage" ] || die "no kernel image $bzimage"
grep -q '^CONFIG_CLEANCACHE=y' "$kdir/.config" ||
	die "the VM kernel in $kdir has no CONFIG_CLEANCACHE (hook series missing?)"
command -v ss >/dev/null || die "ss not found (apt-get install iproute2)"

if [ -z "$outdir" ]; then
	outdir=$(mktemp -d "${TMPDIR:-/tmp}/puma-pair.XXXXXX")
fi
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
t_start=$(date +%s)
: >"$outdir/host.txt"
host() { echo "$1=$2" >>"$outdir/host.txt"; }
host kdir "$kdir"
host iops "$iops"
host blocks "$blocks"
host client_mem_mb "$cmem_mb"
host server_mem_mb "$smem_mb"
host duration_s "$dur"
host get_timeout_us "$get_timeout_us"
host mtu "$mtu"

# --- modules, workload, disks, initramfs ---------------------------------
log "building the modules against $kdir"
make -s -C "$kdir" M="$root" modules >&2 || die "module build failed"
mods=(puma)
if [ -n "$use_puma" ]; then
	[ -e "$root/transports/tcp.c" ] ||
		die "no TCP transport in this tree (transports/tcp.c): the puma phase needs puma_tcp.ko"
	mods+=(puma_tcp puma_backend)
fi
for m in "${mods[@]}"; do
	[ -e "$root/$m.ko" ] || die "$m.ko was not built"
done
mkdir -p "$outdir/bin"
make -s -C "$root/tools/blockcheck" O="$outdir/bin" >&2
bc=$outdir/bin/blockcheck
make -s -C "$root/tools/tcpbench" O="$outdir/bin" >&2
extra_bins=(--bin "$outdir/bin/tcpbench")

# The stamped file is made here at native speed, then copied into the
# client's image; its blockcheck state goes into the initramfs.
log "stamped file: $blocks blocks ($((blocks / 256)) MiB)"
rm -rf "$outdir/data"
mkdir -p "$outdir/data"
"$bc" --state "$outdir/big.state" create "$outdir/data/big" --blocks "$blocks" \
	--id 1 --gen 1 >/dev/null
"$here/mkdisk.sh" --size "$(( blocks * 11 / 2560 + 64 ))M" \
	--populate "$outdir/data" "$outdir/client.img" >/dev/null
rm -rf "$outdir/data"
"$here/mkdisk.sh" --size 64M "$outdir/server.img" >/dev/null

initrd_dir=$outdir/initrd
mkdir -p "$initrd_dir"
ko() { strip --strip-debug -o "$initrd_dir/$1.ko" "$root/$1.ko"; echo "$initrd_dir/$1.ko"; }
cmods=()
smods=()
if [ -n "$use_puma" ]; then
	cmods=(--modules "$(ko puma) $(ko puma_tcp)"
	       --file "$(ko puma_backend):/lib/modules/puma/puma_backend.ko"
	       --file "$(ko puma_transport_bench):/lib/modules/puma/puma_transport_bench.ko")
	# The transport's own throughput, beside tcpbench: a sink on 7072.
	smods=(--modules "$(ko puma) $(ko puma_tcp)"
	       --module "$(ko puma_backend) role=server transport=tcp listen_addr=0.0.0.0:7070"
	       --module "$(ko puma_transport_bench) role=sink addr=0.0.0.0:7072")
fi
client_initrd=$("$here/mkinitramfs.sh" --guest "$here/guest/pair-client.sh" \
	--bin "$bc" ${extra_bins[@]+"${extra_bins[@]}"} \
	--file "$outdir/big.state:/etc/puma/big.state" \
	${cmods[@]+"${cmods[@]}"})
server_initrd=$("$here/mkinitramfs.sh" --guest "$here/guest/pair-server.sh" \
	${extra_bins[@]+"${extra_bins[@]}"} ${smods[@]+"${smods[@]}"})

# --- the link: two UDP ports on 127.0.0.1 --------------------------------
udp_free() { ! ss -Huln "sport = :$1" | grep -q .; }
for _ in $(seq 50); do
	port_s=$((20000 + RANDOM % 20000))
	port_c=$((port_s + 1))
	udp_free "$port_s" && udp_free "$port_c" && break
done
if ! udp_free "$port_s" || ! udp_free "$port_c"; then
	die "no free UDP port pair"
fi
host udp_ports "$port_s,$port_c"

# --- run ------------------------------------------------------------------
pidfiles=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local f p
	for f in ${pidfiles[@]+"${pidfiles[@]}"}; do
		p=$(cat "$f" 2>/dev/null) || continue
		# only our own QEMU, never a recycled pid
		if grep -qaF "$outdir" "/proc/$p/cmdline" 2>/dev/null; then
			kill -9 "$p" 2>/dev/null || true
		fi
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# boot_server NAME: start a server VM in the background, its run-vm.sh
# process id in server_pid
boot_server() {
	local name=$1
	rm -rf "${outdir:?}/$name"
	pidfiles+=("$outdir/$name.qemu.pid")
	"$here/run-vm.sh" --kernel "$bzimage" --initrd "$server_initrd" \
		--mem "$smem" --disk "$outdir/server.img,iops=$iops" \
		--net "udp:$port_s:$port_c" --mac 52:54:00:00:00:01 \
		--pidfile "$outdir/$name.qemu.pid" \
		--append "ps_ip=10.0.0.1 ps_name=$name ps_backend=${use_puma:-0} ps_mtu=$mtu" \
		--timeout "$timeout" --outdir "$outdir/$name" \
		>"$outdir/$name.out" 2>&1 &
	server_pid=$!
	host "$name.boot_at_s" "$(( $(date +%s) - t_start ))"
}

log "outputs in $outdir"
log "server VM ($smem) and client VM ($cmem), disks throttled to $iops IOPS"
boot_server server
server1_pid=$server_pid
pidfiles+=("$outdir/client.qemu.pid")
host client.boot_at_s "$(( $(date +%s) - t_start ))"
"$here/run-vm.sh" --kernel "$bzimage" --initrd "$client_initrd" \
	--mem "$cmem" --disk "$outdir/client.img,iops=$iops" \
	--net "udp:$port_c:$port_s" --mac 52:54:00:00:00:02 \
	--pidfile "$outdir/client.qemu.pid" \
	--append "pc_ip=10.0.0.2 pc_server=10.0.0.1 pc_mtu=$mtu" \
	--append "pc_phases=${phases// /,} pc_dur=$dur" \
	--append "pc_get_timeout_us=$get_timeout_us pc_tcp_max=$tcp_max" \
	--append "pc_kill=${kill_after:+1} pc_after_dur=$after" \
	--timeout "$timeout" --outdir "$outdir/client" $verbose \
	>"$outdir/client.out" 2>&1 &
client_pid=$!

server2_pid=
if [ -n "$kill_after" ]; then
	# Wait for the measured pass to start, then kill the server's QEMU.
	until grep -q 'PUMA-MARK measured-start' "$outdir/client/console.log" 2>/dev/null; do
		kill -0 "$client_pid" 2>/dev/null ||
			{ log "client stopped before its measured pass"; break; }
		sleep 1
	done
	if kill -0 "$client_pid" 2>/dev/null; then
		sleep "$kill_after"
		qpid=$(cat "$outdir/server.qemu.pid")
		log "killing the server VM (QEMU pid $qpid) ${kill_after}s into the measured pass"
		host kill_at_s "$(( $(date +%s) - t_start ))"
		kill -9 "$qpid"
		wait "$server1_pid" || true
		sleep 2
		log "booting a new server VM"
		boot_server server2
		server2_pid=$server_pid
	fi
fi

rc_client=0
wait "$client_pid" || rc_client=$?
host client_done_at_s "$(( $(date +%s) - t_start ))"

# The client told the server(s) to stop; give them a bounded while.
# wait_server PID NAME: sets rc_NAME
wait_server() {
	local pid=$1 name=$2 rc=0
	for _ in $(seq 120); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "FAIL: $name still running 120 s after the client stopped; killing it"
		kill -9 "$(cat "$outdir/$name.qemu.pid")" 2>/dev/null || true
	fi
	wait "$pid" || rc=$?
	printf -v "rc_$name" '%s' "$rc"
}
rc_server=0
rc_server2=0
if [ -n "$kill_after" ]; then
	# Killed on purpose: only a kernel splat before the kill fails it.
	wait "$server1_pid" 2>/dev/null || true
	"$here/check-console.sh" --quiet --splats-only "$outdir/server/console.log" \
		>>"$outdir/server.out" 2>&1 || rc_server=1
	if [ -n "$server2_pid" ]; then
		wait_server "$server2_pid" server2
	else
		rc_server2=1
		echo "no second server was booted" >>"$outdir/server2.out"
	fi
else
	wait_server "$server1_pid" server
fi
host total_s "$(( $(date +%s) - t_start ))"

# One results file: every VM's results, prefixed.
{
	sed 's/^/client./' "$outdir/client/results.txt"
	sed 's/^/server./' "$outdir/server/results.txt"
	[ ! -e "$outdir/server2/results.txt" ] ||
		sed 's/^/server2./' "$outdir/server2/results.txt"
	sed 's/^/host./' "$outdir/host.txt"
} >"$outdir/results.txt"
rm -f "$outdir/client.img" "$outdir/server.img"

bad=0
show() {
	log "FAIL: the $1 VM failed (rc $2):"
	sed 's/^/  /' "$outdir/$1.out" >&2
	bad=1
}
[ "$rc_client" -eq 0 ] || show client "$rc_client"
[ "$rc_server" -eq 0 ] || show server "$rc_server"
[ "$rc_server2" -eq 0 ] || show server2 "$rc_server2"
log "total host time $(( $(date +%s) - t_start ))s; results in $outdir/results.txt"
exit "$bad"
