#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Watch the rig's QEMU processes from the host while an experiment runs.

  host-probe.py --out DIR --seconds N [--monitor-dir DIR]

Writes DIR/sched.csv: every 10 ms, for every thread of every running
qemu-system-x86_64, its /proc/PID/task/TID/schedstat (ns run on a CPU,
ns waited on a run queue), which tells a guest that computes (its vCPU
thread running) from a guest whose host was busy elsewhere (waiting):

  t,pid,tid,mem,run_ns,wait_ns        (t: host CLOCK_MONOTONIC, s)

With --monitor-dir (the directory given to run-vm.sh as
$PUMA_QEMU_MONITOR_DIR), also DIR/jit-MEM-PID.txt: every 0.5 s, QEMU's
"info jit" counters of each VM (translation blocks, flushes,
invalidations, TLB flushes), one line a sample.  Under TCG a burst of
invalidations means the guest wrote over code it had run.

Used to find what made experiment 1's slow allocations
(Documentation/experiments.rst).  Run it next to the experiment:

  mkdir -p /tmp/mon && PUMA_QEMU_MONITOR_DIR=/tmp/mon \\
      scripts/exp/exp1.sh --short --outdir /tmp/e1 &
  scripts/exp/host-probe.py --out /tmp/probe --seconds 330 \\
      --monitor-dir /tmp/mon
"""

import argparse
import glob
import os
import re
import socket
import sys
import time

JIT_KEYS = re.compile(r"^\s*(TB count|TB flush count|TB invalidate count|"
                      r"TLB full flushes|TLB partial flushes|"
                      r"TLB elided flushes)\s+(\d+)", re.M)


def qemu_threads():
    """(pid, tid, mem, schedstat path) of every rig QEMU thread."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if not argv[0].endswith(b"qemu-system-x86_64"):
                continue
            mem = argv[argv.index(b"-m") + 1].decode() if b"-m" in argv else "?"
            for tid in os.listdir(f"/proc/{pid}/task"):
                found.append((pid, tid, mem,
                              f"/proc/{pid}/task/{tid}/schedstat"))
        except (OSError, ValueError, IndexError):
            continue
    return found


class Monitor:
    """One QEMU human monitor socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(2)
        self.sock.connect(path)
        self.command("")

    def command(self, line):
        self.sock.sendall((line + "\n").encode())
        buf = b""
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not buf.endswith(b"(qemu) "):
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            if not data:
                break
            buf += data
        return buf.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--monitor-dir")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    end = time.monotonic() + args.seconds
    sched = open(os.path.join(args.out, "sched.csv"), "w")
    sched.write("t,pid,tid,mem,run_ns,wait_ns\n")
    threads, monitors, jit_out = [], {}, {}
    next_scan = next_jit = 0.0
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_scan:
            next_scan = now + 1
            threads = qemu_threads()
            for path in glob.glob(os.path.join(args.monitor_dir or "/nonexistent",
                                               "*.sock")):
                if path in monitors:
                    continue
                try:
                    monitors[path] = Monitor(path)
                except OSError:
                    continue
                name = os.path.basename(path)[:-len(".sock")]
                jit_out[path] = open(os.path.join(args.out, f"jit-{name}.txt"), "w")
        for pid, tid, mem, path in threads:
            try:
                with open(path) as f:
                    run_ns, wait_ns = f.read().split()[:2]
            except (OSError, ValueError):
                continue
            sched.write(f"{now:.4f},{pid},{tid},{mem},{run_ns},{wait_ns}\n")
        if now >= next_jit:
            next_jit = now + 0.5
            for path, mon in list(monitors.items()):
                try:
                    reply = mon.command("info jit")
                except OSError:
                    del monitors[path]
                    continue
                counters = " ".join(f"{k.replace(' ', '_')}={v}"
                                    for k, v in JIT_KEYS.findall(reply))
                jit_out[path].write(f"{now:.3f} {counters}\n")
                jit_out[path].flush()
        time.sleep(max(0.0, 0.01 - (time.monotonic() - now)))
    sched.close()
    for f in jit_out.values():
        f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
