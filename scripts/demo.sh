#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the PUMA paper's base scenario on two QEMU VMs over TCP, from
# a fresh machine.
#
#   demo.sh [--kdir DIR] [--outdir DIR] [--duration SEC] [--security MODE]
#           [--no-deps]
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
# the CSVs and the PNG plots.
#
# About 10 minutes with the kernel built (2 cores, TCG).
# Exit: 0 the scenario ran and every block read was right, 1 otherwise,
# 2 usage.

# shellcheck source-path=SCRIPTDIR source=vm/rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/vm/rig.sh"

duration=60
security=encrypt
no_deps=
rig_parse "kdir= outdir= duration= security= no-deps" "$@"
rig_num duration

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
"$root/scripts/vm/pair.sh" --kdir "$kdir" --outdir "$outdir" \
	--client-mem 256M --server-mem 1G --iops 25 --duration "$duration" \
	--tcp-max 1000000 --sec-bench 16384 --security "$security" \
	--timeout 1800 || rc=$?
[ -r "$outdir/results.txt" ] || { log "FAIL: the scenario produced no results (see above)"; exit 1; }
echo
"$root/scripts/vm/pair-report.sh" "$outdir"
fails=$(sed -n 's/^failures_total=//p' "$outdir/report/summary.txt")
echo
echo "demo: output folder: $outdir/report"
echo "demo: (VM consoles and raw results: $outdir/{client,server}/console.log," \
	"$outdir/results.txt)"
echo "demo: total time $(( $(date +%s) - t_start ))s"
if [ "$rc" -ne 0 ] || [ "${fails:-1}" != 0 ]; then
	echo "demo: FAIL (pair.sh status $rc, verification failures ${fails:-unknown})" >&2
	exit 1
fi
