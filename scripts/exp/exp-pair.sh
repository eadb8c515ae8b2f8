#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two-VM runner of the paper's experiments (Documentation/design.rst): the rig of
# scripts/vm/pair.sh (a PUMA server VM and a client VM over a UDP socket
# netdev, ext4 disks throttled by QEMU), with the experiment guests
# scripts/exp/guest/exp-{server,client}.sh.  The client drives the
# experiment and sends the server its commands; see those scripts.
# The experiment scripts (exp1.sh, exp4.sh) call this, then report.
#
#   exp-pair.sh --exp exp1|exp2|exp3|exp4 [options] [-- KEY=VALUE...]
#
#   --kdir DIR            kernel build dir (default: scripts/puma-kernel.sh
#                         benchtree, the kernel without debug options;
#                         with --debug, modtree, the test kernel)
#   --debug               the test kernel (KASAN, lockdep) by default
#   --outdir DIR          outputs (default: a new directory under $TMPDIR)
#   --client-mem SIZE     client RAM (default 256M)
#   --server-mem SIZE     server RAM (default 512M)
#   --blocks N            4 KiB blocks of the client's stamped file
#                         (default: 1.5x the client's RAM)
#   --server-blocks N     4 KiB blocks of the server's own stamped file
#                         (default 0: none)
#   --iops N              the client disk's QEMU throttle (default 25)
#   --server-iops N       the server disk's (default 25; 0: unthrottled)
#   --get-timeout-us N    the client's get_timeout_us (default 200000)
#   --server-params "P=V ..."  more puma_backend parameters on the server
#                         (e.g. max_hosted_pct=90)
#   --mtu N               MTU of the link (default 9000)
#   --timeout SEC         hard limit of each VM (default 1800)
#   --verbose             stream the client's console
#   KEY=VALUE...          passed to both guests (ex_* parameters of
#                         exp-client.sh)
#
# Output: OUTDIR/results.txt (client., server., host. prefixed),
# OUTDIR/{client,server}/ (console.log, results.txt, files/*.csv).
# Exit: 0 both VMs passed, 1 a VM failed, 2 usage or setup error.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
vm=$root/scripts/vm

die() { echo "exp-pair: error: $*" >&2; exit 2; }
log() { echo "exp-pair: $*" >&2; }

exp=
kdir=
ktree=benchtree
outdir=
cmem=256M
smem=512M
blocks=
sblocks=0
iops=25
siops=25
get_timeout_us=200000
mtu=9000
timeout=1800
verbose=
sparams=
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--exp) exp=$2; shift 2 ;;
	--kdir) kdir=$2; shift 2 ;;
	--debug) ktree=modtree; shift ;;
	--outdir) outdir=$2; shift 2 ;;
	--client-mem) cmem=$2; shift 2 ;;
	--server-mem) smem=$2; shift 2 ;;
	--blocks) blocks=$2; shift 2 ;;
	--server-blocks) sblocks=$2; shift 2 ;;
	--iops) iops=$2; shift 2 ;;
	--server-iops) siops=$2; shift 2 ;;
	--get-timeout-us) get_timeout_us=$2; shift 2 ;;
	--mtu) mtu=$2; shift 2 ;;
	--server-params) sparams=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--verbose) verbose=--verbose; shift ;;
	--) shift; extra+=("$@"); break ;;
	-h|--help) sed -n '3,37s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*=*) extra+=("$1"); shift ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
case "$exp" in
exp1|exp2|exp3|exp4) ;;
*) die "--exp exp1|exp2|exp3|exp4 is required" ;;
esac
isnum() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1: expected a number, got '$2'"; }
isnum --iops "$iops"
isnum --server-iops "$siops"
isnum --server-blocks "$sblocks"
isnum --get-timeout-us "$get_timeout_us"
isnum --mtu "$mtu"
isnum --timeout "$timeout"
[ -z "$blocks" ] || isnum --blocks "$blocks"
for kv in ${extra[@]+"${extra[@]}"}; do
	[[ "$kv" =~ ^[a-z_][a-z0-9_]*=[^[:space:]]*$ ]] || die "bad guest parameter '$kv'"
done

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

[ -n "$kdir" ] || kdir=$("$root/scripts/puma-kernel.sh" "$ktree")
bzimage=$kdir/arch/x86/boot/bzImage
[ -r "$bzimage" ] || die "no kernel image $bzimage"
grep -q '^CONFIG_CLEANCACHE=y' "$kdir/.config" ||
	die "the VM kernel in $kdir has no CONFIG_CLEANCACHE (hook series missing?)"
command -v ss >/dev/null || die "ss not found (apt-get install iproute2)"

[ -n "$outdir" ] || outdir=$(mktemp -d "${TMPDIR:-/tmp}/puma-$exp.XXXXXX")
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
t_start=$(date +%s)
: >"$outdir/host.txt"
host() { echo "$1=$2" >>"$outdir/host.txt"; }
host exp "$exp"
host kdir "$kdir"
host iops "$iops"
host server_iops "$siops"
host blocks "$blocks"
host server_blocks "$sblocks"
host client_mem_mb "$cmem_mb"
host server_mem_mb "$smem_mb"
host get_timeout_us "$get_timeout_us"
host mtu "$mtu"
host server_params "${sparams// /,}"
host params "$(IFS=' '; echo "${extra[*]:-}" | tr ' ' ',')"

log "building the modules against $kdir"
make -s -C "$kdir" M="$root" modules >&2 || die "module build failed"
for m in puma puma_tcp puma_backend; do
	[ -e "$root/$m.ko" ] || die "$m.ko was not built"
done
mkdir -p "$outdir/bin"
make -s -C "$root/tools/blockcheck" O="$outdir/bin" >&2
make -s -C "$root/tools/mallocbench" O="$outdir/bin" >&2
bc=$outdir/bin/blockcheck

# Stamped files made here at native speed, copied into the images.
log "client file: $blocks blocks ($((blocks / 256)) MiB)"
rm -rf "$outdir/data"
mkdir -p "$outdir/data"
"$bc" --state "$outdir/big.state" create "$outdir/data/big" --blocks "$blocks" \
	--id 1 --gen 1 >/dev/null
"$vm/mkdisk.sh" --size "$(( blocks * 11 / 2560 + 64 ))M" \
	--populate "$outdir/data" "$outdir/client.img" >/dev/null
rm -rf "$outdir/data"
sfile=0
sfiles=()
if [ "$sblocks" -gt 0 ]; then
	log "server file: $sblocks blocks ($((sblocks / 256)) MiB)"
	mkdir -p "$outdir/data"
	"$bc" --state "$outdir/srv.state" create "$outdir/data/srv" --blocks "$sblocks" \
		--id 2 --gen 1 >/dev/null
	"$vm/mkdisk.sh" --size "$(( sblocks * 11 / 2560 + 64 ))M" \
		--populate "$outdir/data" "$outdir/server.img" >/dev/null
	rm -rf "$outdir/data"
	sfile=1
	sfiles=(--file "$outdir/srv.state:/etc/puma/srv.state")
else
	"$vm/mkdisk.sh" --size 64M "$outdir/server.img" >/dev/null
fi

initrd_dir=$outdir/initrd
mkdir -p "$initrd_dir"
ko() { strip --strip-debug -o "$initrd_dir/$1.ko" "$root/$1.ko"; echo "$initrd_dir/$1.ko"; }
client_initrd=$("$vm/mkinitramfs.sh" --guest "$here/guest/exp-client.sh" \
	--bin "$bc" --file "$outdir/big.state:/etc/puma/big.state" \
	--modules "$(ko puma) $(ko puma_tcp)" \
	--file "$(ko puma_backend):/lib/modules/puma/puma_backend.ko")
server_initrd=$("$vm/mkinitramfs.sh" --guest "$here/guest/exp-server.sh" \
	--bin "$bc" --bin "$outdir/bin/mallocbench" ${sfiles[@]+"${sfiles[@]}"} \
	--modules "$(ko puma) $(ko puma_tcp)" \
	--module "$(ko puma_backend) role=server transport=tcp listen_addr=0.0.0.0:7070${sparams:+ $sparams}")

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

pidfiles=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local f p
	for f in ${pidfiles[@]+"${pidfiles[@]}"}; do
		p=$(cat "$f" 2>/dev/null) || continue
		if grep -qaF "$outdir" "/proc/$p/cmdline" 2>/dev/null; then
			kill -9 "$p" 2>/dev/null || true
		fi
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sdisk="$outdir/server.img"
[ "$siops" -eq 0 ] || sdisk+=",iops=$siops"
params="${extra[*]:-}"
log "outputs in $outdir"
log "$exp: server VM ($smem) and client VM ($cmem); disks $iops / $siops IOPS"
pidfiles+=("$outdir/server.qemu.pid" "$outdir/client.qemu.pid")
host server.boot_at_s "$(( $(date +%s) - t_start ))"
# rootfstype=ramfs: the server's programs on unevictable pages, which
# its exp-server.sh keeps compaction off (moved code is translated again
# under TCG, slowing the vCPU for seconds).
"$vm/run-vm.sh" --kernel "$bzimage" --initrd "$server_initrd" \
	--mem "$smem" --disk "$sdisk" \
	--net "udp:$port_s:$port_c" --mac 52:54:00:00:00:01 \
	--pidfile "$outdir/server.qemu.pid" \
	--append "ps_ip=10.0.0.1 ps_client=10.0.0.2 ps_mtu=$mtu ps_file=$sfile" \
	--append rootfstype=ramfs \
	${params:+--append "$params"} \
	--timeout "$timeout" --outdir "$outdir/server" \
	>"$outdir/server.out" 2>&1 &
server_pid=$!
host client.boot_at_s "$(( $(date +%s) - t_start ))"
"$vm/run-vm.sh" --kernel "$bzimage" --initrd "$client_initrd" \
	--mem "$cmem" --disk "$outdir/client.img,iops=$iops" \
	--net "udp:$port_c:$port_s" --mac 52:54:00:00:00:02 \
	--pidfile "$outdir/client.qemu.pid" \
	--append "pc_ip=10.0.0.2 pc_server=10.0.0.1 pc_mtu=$mtu" \
	--append "pc_get_timeout_us=$get_timeout_us ex_name=$exp" \
	${params:+--append "$params"} \
	--timeout "$timeout" --outdir "$outdir/client" $verbose \
	>"$outdir/client.out" 2>&1 &
client_pid=$!

rc_client=0
wait "$client_pid" || rc_client=$?
host client_done_at_s "$(( $(date +%s) - t_start ))"
rc_server=0
for _ in $(seq 120); do
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 1
done
if kill -0 "$server_pid" 2>/dev/null; then
	log "FAIL: server still running 120 s after the client stopped; killing it"
	kill -9 "$(cat "$outdir/server.qemu.pid")" 2>/dev/null || true
fi
wait "$server_pid" || rc_server=$?
host total_s "$(( $(date +%s) - t_start ))"

{
	sed 's/^/client./' "$outdir/client/results.txt" 2>/dev/null || true
	sed 's/^/server./' "$outdir/server/results.txt" 2>/dev/null || true
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
log "total host time $(( $(date +%s) - t_start ))s; results in $outdir/results.txt"
exit "$bad"
