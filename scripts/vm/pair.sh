#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The two-VM rig: a PUMA server VM and a client VM (QEMU, TCG) linked by a
# connectionless UDP socket netdev on 127.0.0.1, each with its own ext4
# disk throttled by QEMU to a cloud-volume-like IOPS figure.  The client
# holds a stamped file larger than its page cache; every block read is
# verified.
#
# By default the client runs the paper's base scenario
# (guest/pair-client.sh): random reads once without PUMA and once with it,
# then an optional plain-TCP baseline; the server samples its memory every
# second (guest/pair-server.sh).  With --kill-after, the server VM is
# killed during the measured PUMA pass and a new one booted in its place.
# With --exp NAME, the client drives one of the paper's experiments
# (Documentation/experiments.rst) and sends the server its commands.
#
#   pair.sh [options] [KEY=VALUE...]
#
#   --exp NAME          run experiment NAME (exp1..exp4) instead of the
#                       base scenario; the kernel is then the benchmark
#                       one (scripts/puma-kernel.sh benchtree)
#   --kdir DIR          kernel build dir (default: scripts/puma-kernel.sh
#                       modtree, the test kernel); its bzImage boots both
#                       VMs and the modules are built against it
#   --debug             with --exp: the test kernel
#   --outdir DIR        outputs (default: a new directory under $TMPDIR)
#   --client-mem SIZE   client RAM (default 256M)
#   --server-mem SIZE   server RAM (default 1G; 512M with --exp)
#   --blocks N          4 KiB blocks of the stamped file (default: 1.5x the
#                       client's RAM)
#   --server-blocks N   4 KiB blocks of the server's own stamped file
#                       (default 0: none)
#   --iops N            QEMU throttling.iops-total of each disk (default
#                       25: a 500-IOPS standard-HDD cloud volume scaled
#                       by TCG's ~20x slowdown, see Documentation/vm-rig.rst;
#                       0: unthrottled)
#   --server-iops N     the server disk's (default 25; 0: unthrottled)
#   --server-params "P=V ..."  more puma_backend parameters on the server
#   --duration SEC      each measured random-read pass (default 60)
#   --phases LIST       "nopuma puma" (default), "puma" or "nopuma", and
#                       "hostile": the puma pass again, with
#                       tools/hostile attacking the server meanwhile
#   --get-timeout-us N  the client's get_timeout_us (default 200000, see
#                       Documentation/vm-rig.rst)
#   --mtu N             MTU of the link (default 9000, jumbo frames as in
#                       a cloud VPC; see Documentation/vm-rig.rst)
#   --security MODE     the TCP transport's security= on both VMs: encrypt
#                       (default), auth or none
#   --transport T       the backend's transport: tcp (default), or virtio:
#                       both VMs on one ivshmem region (run-vm.sh
#                       --ivshmem, tools/ivshmem-server), "ivshmem0"
#   --bench N           N pages through the PUMA transport benchmark over
#                       TCP, then over virtio, in the same pair of VMs
#                       (both on the ivshmem region as well)
#   --pcap              capture the client's link (QEMU filter-dump) to
#                       OUTDIR/client.pcap
#   --tcp-max N         plain-TCP baseline: as many pages as PUMA's put
#                       phase sent, at most N (default 0: no baseline)
#   --hostile-server    at the end, the client's backend against
#                       tools/hostile as its server, in the client VM:
#                       honest (serve), then tampering with every
#                       GET_RESPONSE (guest/pair-client.sh hostile_server)
#   --sec-bench N       N pages through the PUMA transport benchmark once
#                       with each security mode, none, auth and encrypt,
#                       on both VMs (new links take the mode set now)
#   --kill-after SEC    kill the server VM SEC seconds into the measured
#                       PUMA pass, boot a new one 2 s later
#   --after SEC         with --kill-after: a pass of SEC seconds once the
#                       client has reconnected (default 30)
#   --client2-blocks N  a second client VM (10.0.0.3, the first one's
#                       RAM, its own stamped file of N blocks) that
#                       waits for the first one's warm-up to end, then
#                       runs the phases with --client2-duration (default
#                       60); the three VMs share one hub (run-vm.sh
#                       --net mcast), and the server counts the pages
#                       of each client (scripts/vm/pair-fair.sh)
#   --timeout SEC       hard limit of each VM (default 1800)
#   --verbose           stream the client's console
#   KEY=VALUE           passed to both guests (the ex_* parameters of an
#                       experiment, see guest/pair-client.sh)
#
# Output: OUTDIR/results.txt (every result, prefixed client., client2.,
# server., server2., host.), OUTDIR/{client,client2,server,server2}/ (console.log,
# results.txt, files/*.csv), OUTDIR/host.txt (host-side timings).  Read
# a base-scenario run with scripts/vm/pair-report.sh OUTDIR.
# Exit: 0 both VMs passed, 1 a VM failed (its console tail is shown),
# 2 usage or setup error.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

exp=
debug=
client_mem=256M
server_mem=
blocks=
server_blocks=0
iops=25
server_iops=25
server_params=
duration=60
phases="nopuma puma"
get_timeout_us=200000
mtu=9000
tcp_max=0
sec_bench=0
hostile_server=
kill_after=
after=30
timeout=1800
security=encrypt
transport=tcp
bench=0
client2_blocks=0
client2_duration=60
pcap=
rig_parse "exp= kdir= debug outdir= client-mem= server-mem= blocks=
	server-blocks= iops= server-iops= server-params= duration= phases=
	get-timeout-us= mtu= security= transport= bench= pcap tcp-max= sec-bench= hostile-server
	kill-after= after= timeout=
	client2-blocks= client2-duration= verbose *" "$@"
case "$security" in encrypt|auth|none) ;; *) die "--security: encrypt, auth or none" ;; esac
case "$transport" in tcp|virtio) ;; *) die "--transport: tcp or virtio" ;; esac
rig_num iops server_iops server_blocks duration get_timeout_us tcp_max sec_bench mtu after timeout \
	client2_blocks client2_duration bench
[ -z "$kill_after" ] || rig_num kill_after
[ -z "$blocks" ] || rig_num blocks
for kv in ${rig_args[@]+"${rig_args[@]}"}; do
	[[ "$kv" =~ ^[a-z_][a-z0-9_]*=[^[:space:]]*$ ]] || die "bad guest parameter '$kv'"
done
if [ -n "$exp" ]; then
	[[ "$exp" =~ ^exp[1-4]$ ]] || die "--exp: exp1, exp2, exp3 or exp4, not '$exp'"
	[ -n "$debug" ] || ktree=benchtree
	phases=puma
	: "${server_mem:=512M}"
fi
: "${server_mem:=1G}"
use_puma=0
for p in $phases; do
	case "$p" in
	nopuma) ;;
	puma|hostile) use_puma=1 ;;
	*) die "--phases: unknown phase '$p'" ;;
	esac
done
[ -z "$kill_after" ] || [ "$use_puma" = 1 ] || die "--kill-after needs the puma phase"
[ "$sec_bench" = 0 ] || { [ "$use_puma" = 1 ] && [ -z "$exp" ]; } ||
	die "--sec-bench needs a puma phase, and no --exp"
[ "$client2_blocks" = 0 ] || [ -z "$exp$kill_after" ] ||
	die "--client2-blocks: not with --exp or --kill-after"
if [ "$transport" = virtio ] && { [ -n "$exp$hostile_server" ] ||
	[ "$sec_bench" != 0 ] || [[ " $phases " == *" hostile "* ]]; }; then
	die "--transport virtio: not with --exp, --sec-bench or the hostile tests (TCP's)"
fi
[ "$bench" = 0 ] || { [ "$use_puma" = 1 ] && [ -z "$exp" ]; } ||
	die "--bench needs a puma phase, and no --exp"
# One ivshmem region for both VMs, for the transport or the benchmark.
ivshmem=
[ "$transport" = tcp ] && [ "$bench" = 0 ] || ivshmem=1

# size_mb SIZE: a QEMU-style size (256M, 1G) in MiB
size_mb() {
	case "$1" in
	*[Gg]) echo $(( ${1%[Gg]} * 1024 )) ;;
	*[Mm]) echo "${1%[Mm]}" ;;
	*) die "size '$1': use M or G" ;;
	esac
}
client_mem_mb=$(size_mb "$client_mem")
# shellcheck disable=SC2034 # written to host.txt by name
server_mem_mb=$(size_mb "$server_mem")
[ -n "$blocks" ] || blocks=$(( client_mem_mb * 256 * 3 / 2 ))

rig_kdir
command -v ss >/dev/null || die "ss not found (apt-get install iproute2)"
rig_outdir
: >"$outdir/host.txt"
host() { echo "$1=$2" >>"$outdir/host.txt"; }
params="${rig_args[*]:-}"
host duration_s "$duration"
for v in exp kdir iops server_iops blocks server_blocks client_mem_mb \
	server_mem_mb get_timeout_us mtu security transport bench sec_bench server_params \
	client2_blocks client2_duration params; do
	host "$v" "${!v// /,}"
done

# --- modules, workload, disks, initramfs ---------------------------------
log "building the modules against $kdir"
rig_modules puma puma_tcp puma_virtio puma_backend puma_transport_bench
bc=$(rig_tool blockcheck)

# stamped IMAGE BLOCKS ID NAME [STATE]: an ext4 image holding the stamped
# file NAME of BLOCKS blocks (made here at native speed), its blockcheck
# state in OUTDIR/STATE.state (default: NAME)
stamped() {
	rm -rf "$outdir/data"
	mkdir -p "$outdir/data"
	"$bc" --state "$outdir/${5:-$4}.state" create "$outdir/data/$4" --blocks "$2" \
		--id "$3" --gen 1 >/dev/null
	"$rig/mkdisk.sh" --size "$(( $2 * 11 / 2560 + 64 ))M" \
		--populate "$outdir/data" "$1" >/dev/null
	rm -rf "$outdir/data"
}
log "stamped file: $blocks blocks ($((blocks / 256)) MiB)"
stamped "$outdir/client.img" "$blocks" 1 big
if [ "$client2_blocks" -gt 0 ]; then
	log "second client's file: $client2_blocks blocks ($((client2_blocks / 256)) MiB)"
	stamped "$outdir/client2.img" "$client2_blocks" 3 big big2
fi
sfiles=()
if [ "$server_blocks" -gt 0 ]; then
	log "server file: $server_blocks blocks ($((server_blocks / 256)) MiB)"
	stamped "$outdir/server.img" "$server_blocks" 2 srv
	sfiles=(--file "$outdir/srv.state:/etc/puma/srv.state")
else
	"$rig/mkdisk.sh" --size 64M "$outdir/server.img" >/dev/null
fi

if [ -n "$exp" ]; then
	sbins=(--bin "$bc" --bin "$(rig_tool mallocbench)")
	sink=()
else
	sbins=(--bin "$(rig_tool tcpbench)")
	# The transport's own throughput, beside tcpbench: a sink on 7072.
	saddr=10.0.0.1:7072
	[ "$transport" = tcp ] || saddr=ivshmem0:7072
	sink=(--module "$(rig_ko puma_transport_bench) role=sink transport=$transport addr=$saddr")
fi
smods=()
cmods=()
if [ "$use_puma" = 1 ]; then
	tcp=(--modules "$(rig_ko puma)"
	     --module "$(rig_ko puma_tcp) security=$security")
	[ -z "$ivshmem" ] || tcp+=(--module "$(rig_ko puma_virtio)")
	listen=10.0.0.1:7070
	[ "$transport" = tcp ] || listen=ivshmem0:7070
	smods=("${tcp[@]}"
	       --module "$(rig_ko puma_backend) role=server transport=$transport listen_addr=$listen $server_params"
	       ${sink[@]+"${sink[@]}"})
	cmods=("${tcp[@]}"
	       --file "$(rig_ko puma_backend):/lib/modules/puma/puma_backend.ko"
	       --file "$(rig_ko puma_transport_bench):/lib/modules/puma/puma_transport_bench.ko")
fi
case " $phases " in
*" hostile "*) cmods+=(--bin "$(rig_tool hostile)") ;;
*) [ -z "$hostile_server" ] || cmods+=(--bin "$(rig_tool hostile)") ;;
esac
# client_initrd STATE: the client's initramfs, STATE its file's state
client_initrd() {
	"$rig/mkinitramfs.sh" --guest "$rig/guest/pair-client.sh" \
		--bin "$bc" --bin "$(rig_tool tcpbench)" \
		--file "$outdir/$1.state:/etc/puma/big.state" ${cmods[@]+"${cmods[@]}"}
}
client_initrd=$(client_initrd big)
[ "$client2_blocks" = 0 ] || client2_initrd=$(client_initrd big2)
server_initrd=$("$rig/mkinitramfs.sh" --guest "$rig/guest/pair-server.sh" "${sbins[@]}" \
	${sfiles[@]+"${sfiles[@]}"} ${smods[@]+"${smods[@]}"})

# --- the link: two UDP ports on 127.0.0.1, or a hub on one -----------------
udp_free() { ! ss -Huln "sport = :$1" | grep -q .; }
for _ in $(seq 50); do
	port_s=$((20000 + RANDOM % 20000))
	port_c=$((port_s + 1))
	udp_free "$port_s" && udp_free "$port_c" && break
done
{ udp_free "$port_s" && udp_free "$port_c"; } || die "no free UDP port pair"
host udp_ports "$port_s,$port_c"
net_s=udp:$port_s:$port_c
net_c=udp:$port_c:$port_s
if [ "$client2_blocks" -gt 0 ]; then
	net_s=mcast:$port_s
	net_c=$net_s
fi

# --- the ivshmem region: a server hands both VMs its memory and doorbells --
ivsock=
shm=
if [ -n "$ivshmem" ]; then
	ivsock=$outdir/ivshmem.sock
	shm=/dev/shm/puma-$name-$$
	"$(rig_tool ivshmem-server)" -S "$ivsock" -m "$shm" -l 16M -n 1 \
		-p "$outdir/ivshmem.pid" >"$outdir/ivshmem.log" 2>&1 &
	for _ in $(seq 50); do
		[ -e "$outdir/ivshmem.pid" ] && break
		sleep 0.1
	done
	[ -e "$outdir/ivshmem.pid" ] || die "the ivshmem server did not start: $(cat "$outdir/ivshmem.log")"
fi

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
	if [ -n "$ivsock" ]; then
		kill "$(cat "$outdir/ivshmem.pid" 2>/dev/null)" 2>/dev/null || true
		rm -f "$shm"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sdisk=$outdir/server.img
[ "$server_iops" -eq 0 ] || sdisk+=",iops=$server_iops"
throttle=
[ "$iops" -eq 0 ] || throttle=",iops=$iops"
# boot VM MEM DISK MAC INITRD ARGS...: start a VM in the background, its
# run-vm.sh process id in vm_pid
boot() {
	local vm=$1 mem=$2 disk=$3 mac=$4 initrd=$5
	shift 5
	rm -rf "${outdir:?}/$vm"
	pidfiles+=("$outdir/$vm.qemu.pid")
	host "$vm.boot_at_s" "$(( $(date +%s) - t_start ))"
	"$rig/run-vm.sh" --kernel "$bzimage" --initrd "$initrd" --mem "$mem" \
		--disk "$disk" --mac "$mac" --pidfile "$outdir/$vm.qemu.pid" \
		--timeout "$timeout" --outdir "$outdir/$vm" ${ivsock:+--ivshmem "$ivsock"} \
		${params:+--append "$params"} "$@" >"$outdir/$vm.out" 2>&1 &
	vm_pid=$!
}
boot_server() {
	# rootfstype=ramfs: an experiment server's programs on unevictable
	# pages, as its guest keeps compaction off (moved code is translated
	# again under TCG, slowing the vCPU for seconds).
	local role="ps_name=$1 ps_backend=$use_puma"
	[ -z "$exp" ] ||
		role="ex_name=$exp rootfstype=ramfs ps_file=$(( server_blocks > 0 ))"
	boot "$1" "$server_mem" "$sdisk" 52:54:00:00:00:01 "$server_initrd" \
		--net "$net_s" --append "ps_ip=10.0.0.1 ps_client=10.0.0.2 ps_mtu=$mtu" \
		--append "ps_clients=$(( client2_blocks > 0 ? 2 : 1 )) ps_transport=$transport $role"
	server_pid=$vm_pid
}

log "outputs in $outdir"
log "${exp:-base scenario}: server VM ($server_mem) and client VM ($client_mem), disks $iops / $server_iops IOPS"
boot_server server
server1_pid=$server_pid
dump=()
[ -z "$pcap" ] ||
	dump=(--qemu-arg -object --qemu-arg "filter-dump,id=dump0,netdev=n0,file=$outdir/client.pcap")
boot client "$client_mem" "$outdir/client.img$throttle" 52:54:00:00:00:02 \
	"$client_initrd" --net "$net_c" ${verbose:+--verbose} \
	${dump[@]+"${dump[@]}"} \
	--append "pc_ip=10.0.0.2 pc_server=10.0.0.1 pc_mtu=$mtu" \
	--append "pc_phases=${phases// /,} pc_dur=$duration" \
	--append "pc_get_timeout_us=$get_timeout_us pc_tcp_max=$tcp_max pc_sec_bench=$sec_bench" \
	--append "pc_transport=$transport pc_bench=$bench" \
	--append "pc_hostile_server=${hostile_server:-0}" \
	--append "pc_kill=${kill_after:+1} pc_after_dur=$after${exp:+ ex_name=$exp}" \
	${client2_initrd:+--append "pc_warmed=10.0.0.3"}
client_pid=$vm_pid
client2_pid=
if [ "$client2_blocks" -gt 0 ]; then
	boot client2 "$client_mem" "$outdir/client2.img$throttle" 52:54:00:00:00:03 \
		"$client2_initrd" --net "$net_c" \
		--append "pc_ip=10.0.0.3 pc_server=10.0.0.1 pc_mtu=$mtu" \
		--append "pc_phases=${phases// /,} pc_dur=$client2_duration" \
		--append "pc_get_timeout_us=$get_timeout_us pc_await_warmed=1"
	client2_pid=$vm_pid
fi

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
rc_client2=0
[ -z "$client2_pid" ] || wait "$client2_pid" || rc_client2=$?

# The client told the server(s) to stop; give them a bounded while.
# wait_server PID NAME: sets rc_NAME
wait_server() {
	local pid=$1 vm=$2 rc=0
	for _ in $(seq 120); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "FAIL: $vm still running 120 s after the client stopped; killing it"
		kill -9 "$(cat "$outdir/$vm.qemu.pid")" 2>/dev/null || true
	fi
	wait "$pid" || rc=$?
	printf -v "rc_$vm" '%s' "$rc"
}
rc_server=0
rc_server2=0
if [ -n "$kill_after" ]; then
	# Killed on purpose: only a kernel splat before the kill fails it.
	wait "$server1_pid" 2>/dev/null || true
	"$rig/check-console.sh" --quiet --splats-only "$outdir/server/console.log" \
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
	for vm in client client2 server server2; do
		[ ! -e "$outdir/$vm/results.txt" ] ||
			sed "s/^/$vm./" "$outdir/$vm/results.txt"
	done
	sed 's/^/host./' "$outdir/host.txt"
} >"$outdir/results.txt"
rm -f "$outdir/client.img" "$outdir/client2.img" "$outdir/server.img"

show() {
	log "FAIL: the $1 VM failed (rc $2):"
	sed 's/^/  /' "$outdir/$1.out" >&2
	bad=1
}
[ "$rc_client" -eq 0 ] || show client "$rc_client"
[ "$rc_client2" -eq 0 ] || show client2 "$rc_client2"
[ "$rc_server" -eq 0 ] || show server "$rc_server"
[ "$rc_server2" -eq 0 ] || show server2 "$rc_server2"
log "total host time $(( $(date +%s) - t_start ))s; results in $outdir/results.txt"
exit "$bad"
