#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the PUMA paper's base scenario on two QEMU VMs, over TCP and
# over the virtio transport (shared memory), from a fresh machine.
#
#   demo.sh [--kdir DIR] [--outdir DIR] [--duration SEC] [--security MODE]
#           [--transport tcp|virtio|both] [--no-deps]
#
#   --kdir DIR       kernel build to boot and build the modules against
#                    (default: "scripts/puma-kernel.sh modtree", which
#                    installs the build dependencies, extracts Debian's
#                    kernel source, applies the hook series and builds it,
#                    or reuses the cached build)
#   --outdir DIR     where everything goes (default out/demo-DATE-TIME)
#   --duration SEC   each measured random-read pass (default 60)
#   --security MODE  the link's puma_tcp security=: encrypt (default),
#                    auth or none
#   --transport T    tcp, virtio (both VMs on one ivshmem region), or both
#                    (default): the scenario once over each, one after the
#                    other, and a table of the two side by side
#   --no-deps        do not check or install the host packages
#
# What it does: installs what the VMs need (qemu-system-x86,
# busybox-static, e2fsprogs, gnuplot-nox, iproute2, build-essential, cpio)
# with apt-get (root or sudo); builds the modules and the static tools;
# makes a 384 MiB stamped file on the host (1.5x the client's 256 MiB) and
# the ext4 images; boots a 1 GiB server VM and a 256 MiB client VM under
# TCG, linked by a UDP socket netdev on 127.0.0.1, disks throttled to 25
# IOPS (Documentation/vm-rig.rst says why); on the client, a sequential
# warm-up then SEC seconds of random 4 KiB reads, every block verified,
# first without PUMA, then with PUMA (the warm-up's evictions go to the
# server); then a plain-TCP baseline (tcpbench) of as many pages as PUMA's
# put phase sent, and 16,384 pages through PUMA's transport with each
# security mode (none, auth, encrypt).  Prints the table (IOPS, speed-up,
# hit ratio, latency, pages lent, bytes over the wire, TCP pages/s and
# the security modes' ratios, verification failures) and the folder with
# the CSVs and the PNG plots.  Over virtio: the same scenario, then 16,384
# pages through PUMA's transport benchmark over TCP and over virtio in the
# same VMs.  With both, a last table puts the two runs side by side: IOPS,
# speed-up, hit ratio, GET round trip p50 and p99, the benchmark's pages/s.
#
# About 10 minutes per transport with the kernel built (2 cores, TCG).
# Exit: 0 the scenario ran and every block read was right, 1 otherwise,
# 2 usage.

# shellcheck source-path=SCRIPTDIR source=vm/rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/vm/rig.sh"

duration=60
security=encrypt
transport=both
no_deps=
rig_parse "kdir= outdir= duration= security= transport= no-deps" "$@"
rig_num duration
case "$transport" in
tcp|virtio) transports=("$transport") ;;
both) transports=(tcp virtio) ;;
*) die "--transport: tcp, virtio or both" ;;
esac

# Host packages of the two-VM rig (the kernel build's own are installed by
# scripts/puma-kernel.sh modtree).
[ -n "$no_deps" ] || "$root/scripts/puma-kernel.sh" install qemu-system-x86 \
	busybox-static e2fsprogs gnuplot-nox iproute2 build-essential cpio

if [ -z "$kdir" ]; then
	log "kernel: scripts/puma-kernel.sh modtree (cached after the first build)"
	kdir=$("$root/scripts/puma-kernel.sh" modtree)
fi
[ -n "$outdir" ] || outdir=$root/out/demo-$(date +%Y%m%d-%H%M%S)

rc=0
fails_all=0
for t in "${transports[@]}"; do
	dir=$outdir
	[ "${#transports[@]}" -eq 1 ] || dir=$outdir/$t
	if [ "$t" = tcp ]; then
		extra=(--tcp-max 1000000 --sec-bench 16384 --security "$security")
	else
		extra=(--transport virtio --bench 16384)
	fi
	log "the base scenario over $t"
	"$root/scripts/vm/pair.sh" --kdir "$kdir" --outdir "$dir" \
		--client-mem 256M --server-mem 1G --iops 25 --duration "$duration" \
		"${extra[@]}" --timeout 1800 || rc=$?
	[ -r "$dir/results.txt" ] ||
		{ log "FAIL: the scenario over $t produced no results (see above)"; exit 1; }
	echo
	"$root/scripts/vm/pair-report.sh" "$dir"
	fails=$(sed -n 's/^failures_total=//p' "$dir/report/summary.txt")
	[ "${fails:-1}" = 0 ] || fails_all=1
	echo
	echo "demo: output folder: $dir/report"
	echo "demo: (VM consoles and raw results: $dir/{client,server}/console.log," \
		"$dir/results.txt)"
done

# Both transports side by side, from each run's summary.
if [ "${#transports[@]}" -eq 2 ]; then
	sv() { sed -n "s/^$2=//p" "$outdir/$1/report/summary.txt" | tail -1; }
	side() { printf '%-40s %16s %16s\n' "$1" "${2:--}" "${3:--}"; }
	echo
	echo "PUMA over TCP and over virtio (same scenario, one run each):"
	side "" "TCP" "virtio"
	for k in nopuma.iops puma.iops speedup puma.hit_ratio puma.rtt_p50_us \
		puma.rtt_p99_us failures_total; do
		side "$k" "$(sv tcp "$k")" "$(sv virtio "$k")"
	done
	side "transport benchmark pages/s (same VMs)" \
		"$(sv virtio bench_tcp.pages_per_s)" "$(sv virtio bench_virtio.pages_per_s)"
	side "  virtio / TCP" "" "$(sv virtio bench.virtio_over_tcp)"
fi
echo "demo: total time $(( $(date +%s) - t_start ))s"
if [ "$rc" -ne 0 ] || [ "$fails_all" != 0 ]; then
	echo "demo: FAIL (pair.sh status $rc, verification failures in a run)" >&2
	exit 1
fi
