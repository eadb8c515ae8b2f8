# SPDX-License-Identifier: GPL-2.0
#
# PUMA remote page-cache library.
#
# Kbuild reads ./Kbuild, not this file: this Makefile is the project's
# front end.  "make help" lists the targets.

PUMA_CACHE	?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/puma
export PUMA_CACHE

OUT		:= $(CURDIR)/out
SUMMARY		:= $(OUT)/kunit-summary

.PHONY: all modules check kunit kunit-qemu bench test fuzz clean help \
	summary-reset blockcheck mallocbench tcpbench ccstress pumakey hostile tools vm-smoke vm-selftest vm-puma-loop \
	demo vm-pair-e2e vm-pair-fair vm-pair-kill vm-victim vm-stress vm-hooks soak

all: modules

# Out-of-tree build against the project's x86_64 kernel, or against the
# kernel build directory given as KDIR.
modules:
	@kdir="$(KDIR)"; \
	[ -n "$$kdir" ] || kdir=$$(scripts/puma-kernel.sh modtree) || exit 1; \
	$(MAKE) -C "$$kdir" M=$(CURDIR) modules

check:
	scripts/check.sh

summary-reset:
	@mkdir -p $(OUT)
	@: > $(SUMMARY)

kunit: | summary-reset
	scripts/kunit.sh --arch um --summary $(SUMMARY)

kunit-qemu: | summary-reset
	scripts/kunit.sh --arch x86_64 --summary $(SUMMARY)

bench:
	scripts/kunit.sh --arch um --bench

# Run every stage even if one fails, so a CI log shows all of them; each
# stage's wall time goes to $(TIMES), and a failed stage's FAIL, "not ok"
# and error lines to $(FAILURES), both printed at the end.  The UML KUnit
# kernel and the experiments' kernel build in the background at idle
# priority (SCHED_IDLE): most VM tests keep one of two cores idle, and
# their stages wait on the build directories' locks.  The build packages
# are installed first, so that two apt-get runs never race.
TIMES		:= $(OUT)/stage-times
FAILURES	:= $(OUT)/stage-failures
test: summary-reset
	@rc=0; : > $(TIMES); : > $(FAILURES); \
	stage() { \
		t0=$$(date +%s); log=$(OUT)/stage.log; \
		{ "$$@"; echo $$? > $$log.rc; } 2>&1 | tee $$log; \
		if [ "$$(cat $$log.rc)" != 0 ]; then \
			rc=1; echo "  $$*:" >> $(FAILURES); \
			grep -h -E 'FAIL|not ok [0-9]|[Ee]rror' $$log | \
				tail -n 20 | sed 's/^/    /' >> $(FAILURES); \
		fi; \
		echo "$$(( $$(date +%s) - t0 ))s $$*" >> $(TIMES); \
	}; \
	scripts/puma-kernel.sh deps || rc=1; \
	( t0=$$(date +%s); \
	  chrt --idle 0 scripts/kunit.sh --arch um --build-only; \
	  chrt --idle 0 scripts/puma-kernel.sh benchtree; \
	  echo "$$(( $$(date +%s) - t0 ))s background builds" >> $(TIMES) \
	) > $(OUT)/background-builds.log 2>&1 & \
	bg=$$!; \
	stage $(MAKE) --no-print-directory check; \
	stage scripts/kunit.sh --arch x86_64 --summary $(SUMMARY); \
	vm() { \
		n=$$1; rm -rf $(OUT)/$$2; shift 2; \
		if "$$@"; then p=1 f=0; else p=0 f=1; fi; \
		echo "$$n $$p $$f" >> $(SUMMARY); \
		[ $$f = 0 ]; \
	}; \
	for t in selftest puma-loop pair-e2e pair-fair pair-kill victim stress; do \
		stage vm vm-$$t $$t scripts/vm/$$t.sh --outdir $(OUT)/$$t; \
	done; \
	for t in pair-e2e pair-kill; do \
		stage vm vm-$$t-virtio $$t-virtio scripts/vm/$$t.sh --transport virtio \
			--outdir $(OUT)/$$t-virtio; \
	done; \
	stage vm vm-hooks hooks kernel/tests/hooks/run-qemu.sh \
		"$$(scripts/puma-kernel.sh tree)" \
		"$$(scripts/puma-kernel.sh modtree)" $(OUT)/hooks; \
	stage scripts/kunit.sh --arch um --summary $(SUMMARY); \
	for e in exp1 exp4; do \
		stage vm $$e-short $$e-short scripts/exp/$$e.sh --short \
			--outdir $(OUT)/$$e-short; \
	done; \
	wait $$bg; \
	echo "stage times:"; sed 's/^/  /' $(TIMES); \
	if [ -s $(FAILURES) ]; then echo "why stages failed:"; cat $(FAILURES); fi; \
	scripts/summary.sh $(SUMMARY); \
	exit $$rc

# libFuzzer over the wire codec and the secure channel's parsers, in user
# space (tools/wire-host/), FUZZ_RUNS inputs each; not part of "make test".
FUZZ_RUNS	?= 1000000
fuzz:
	$(MAKE) -C tools/wire-host run-fuzz FUZZ_RUNS=$(FUZZ_RUNS)

blockcheck:
	$(MAKE) -C tools/blockcheck

mallocbench:
	$(MAKE) -C tools/mallocbench

tcpbench:
	$(MAKE) -C tools/tcpbench

ccstress:
	$(MAKE) -C tools/ccstress

pumakey:
	$(MAKE) -C tools/pumakey

hostile:
	$(MAKE) -C tools/hostile

# The static user-space workload tools (Documentation/bench-tools.rst).
tools: blockcheck mallocbench tcpbench ccstress pumakey hostile

# The QEMU rig (scripts/vm/, Documentation/vm-rig.rst) on its own.
vm-smoke: modules blockcheck
	scripts/vm/smoke.sh --modules "$(wildcard $(CURDIR)/puma.ko $(CURDIR)/puma_loop.ko)"

# PUMA in one VM over the loopback transport (Documentation/backend.rst).
vm-puma-loop:
	scripts/vm/puma-loop.sh --outdir $(OUT)/puma-loop

vm-selftest:
	scripts/vm/selftest.sh

# The paper's base scenario on two QEMU VMs over TCP: setup, run, table,
# CSVs and plots (scripts/demo.sh, Documentation/vm-rig.rst).  KDIR=<kernel
# build dir> uses that kernel instead of "scripts/puma-kernel.sh modtree".
demo:
	scripts/demo.sh $(if $(KDIR),--kdir $(KDIR)) $(if $(SECURITY),--security $(SECURITY)) \
		$(if $(TRANSPORT),--transport $(TRANSPORT))

# Two-VM tests over TCP: a short base scenario with a speed-up floor and a
# hostile peer attacking the server (Documentation/security.rst); the
# server VM killed in the middle of the client's run; and two clients of
# unequal demand sharing one server (three VMs), max-min fair.
# TRANSPORT=virtio: the first two over the virtio transport instead (both
# VMs on one ivshmem region).
PAIR_SUFFIX	:= $(if $(filter virtio,$(TRANSPORT)),-virtio)
vm-pair-e2e:
	rm -rf $(OUT)/pair-e2e$(PAIR_SUFFIX)
	scripts/vm/pair-e2e.sh $(if $(KDIR),--kdir $(KDIR)) $(if $(TRANSPORT),--transport $(TRANSPORT)) \
		--outdir $(OUT)/pair-e2e$(PAIR_SUFFIX)

vm-pair-fair:
	rm -rf $(OUT)/pair-fair
	scripts/vm/pair-fair.sh $(if $(KDIR),--kdir $(KDIR)) --outdir $(OUT)/pair-fair

vm-pair-kill:
	rm -rf $(OUT)/pair-kill$(PAIR_SUFFIX)
	scripts/vm/pair-kill.sh $(if $(KDIR),--kdir $(KDIR)) $(if $(TRANSPORT),--transport $(TRANSPORT)) \
		--outdir $(OUT)/pair-kill$(PAIR_SUFFIX)

# Concurrent coherency stress: ccstress on ext4 with PUMA over loopback and
# TCP, both strategies, a negative control and fault injection
# (Documentation/vm-rig.rst).  soak: the same for 10^7 verified reads.
vm-stress:
	rm -rf $(OUT)/stress
	scripts/vm/stress.sh $(if $(KDIR),--kdir $(KDIR)) --outdir $(OUT)/stress

soak:
	rm -rf $(OUT)/soak
	scripts/vm/stress.sh --soak $(if $(KDIR),--kdir $(KDIR)) --outdir $(OUT)/soak

# The hook series' own test: the cctest backend on ext4 in one QEMU VM
# (coherence cases, remount, unregister under load; kernel/tests/hooks).
vm-hooks:
	rm -rf $(OUT)/hooks
	kernel/tests/hooks/run-qemu.sh "$$(scripts/puma-kernel.sh tree)" \
		$(if $(KDIR),$(KDIR),"$$(scripts/puma-kernel.sh modtree)") $(OUT)/hooks

# The local victim cache example in one QEMU VM (Documentation/examples.rst).
vm-victim:
	scripts/vm/victim.sh --outdir $(OUT)/victim $(if $(KDIR),--kdir $(KDIR))

clean:
	@kdir=$$(ls -d $(PUMA_CACHE)/build/x86_64-* 2>/dev/null | head -n 1); \
	if [ -n "$$kdir" ]; then $(MAKE) -C "$$kdir" M=$(CURDIR) clean; fi
	rm -rf $(OUT)

help:
	@echo 'Targets:'
	@echo '  test        check + kunit + kunit-qemu + VM tests: puma-loop, pair-e2e, pair-fair, pair-kill, victim, stress, pair-e2e and pair-kill over virtio; exp1 and exp4 --short (what CI runs)'
	@echo '  vm-puma-loop PUMA client and server in one QEMU VM, ext4, verified'
	@echo '  demo        the paper base scenario on two QEMU VMs over TCP and virtio, side by side (TRANSPORT=tcp|virtio: one)'
	@echo '  vm-pair-e2e two VMs over TCP, short scenario, speed-up floor, hostile peer (KDIR=..., TRANSPORT=virtio)'
	@echo '  vm-pair-fair one server VM, two client VMs of unequal demand: max-min fair shares, plot (KDIR=...)'
	@echo '  vm-pair-kill two VMs over TCP, server VM killed mid-run (KDIR=..., TRANSPORT=virtio)'
	@echo '  vm-victim   the local victim cache example in one QEMU VM, verified'
	@echo '  vm-stress   concurrent coherency stress (ccstress): loop and TCP, both strategies, negative control, fault injection'
	@echo '  vm-hooks    the hook series alone: cctest backend on ext4, coherence cases, unregister under load'
	@echo '  soak        the coherency stress until 10^7 verified reads (long)'
	@echo '  exp1..exp4, experiments  the paper experiments on two VMs (EXP_ARGS=--short; Documentation/experiments.rst)'
	@echo '  check       W=1, sparse, checkpatch --strict, kernel-doc'
	@echo '  fuzz        libFuzzer over the wire codec and the secure channel parsers (FUZZ_RUNS=1000000 each)'
	@echo '  tools       static user-space tools: blockcheck, mallocbench, tcpbench, ccstress'
	@echo '  kunit       KUnit suites under UML (lockdep, KASAN, DEBUG_LIST)'
	@echo '  kunit-qemu  KUnit modules in a 2-CPU QEMU x86_64 guest on the VM kernel (same debug options)'
	@echo '  bench       benchmarks under UML, no debug options'
	@echo '  modules     build the modules out of tree (KDIR=<kernel build>)'
	@echo '  vm-smoke    QEMU rig end to end: ext4, blockcheck, mutations'
	@echo '  vm-selftest prove the QEMU rig fails when it must'
	@echo 'Environment: PUMA_CACHE (default ~/.cache/puma), PUMA_JOBS, FUZZ_RUNS'

# The paper's experiments on two QEMU VMs (scripts/exp/, Documentation/
# experiments.rst): each prints its figures of merit and acceptance
# verdict, and writes CSVs and PNG plots under $(OUT)/expN/report.
# KDIR=<kernel build dir> as for demo; EXP_ARGS=--short for the short
# versions that make test runs.
.PHONY: exp1 exp2 exp3 exp4 experiments

exp1:
	rm -rf $(OUT)/exp1
	scripts/exp/exp1.sh $(if $(KDIR),--kdir $(KDIR)) --outdir $(OUT)/exp1 $(EXP_ARGS)

exp2:
	rm -rf $(OUT)/exp2
	scripts/exp/exp2.sh $(if $(KDIR),--kdir $(KDIR)) --outdir $(OUT)/exp2

exp3:
	rm -rf $(OUT)/exp3
	scripts/exp/exp3.sh $(if $(KDIR),--kdir $(KDIR)) --outdir $(OUT)/exp3

exp4:
	rm -rf $(OUT)/exp4
	scripts/exp/exp4.sh $(if $(KDIR),--kdir $(KDIR)) --outdir $(OUT)/exp4 $(EXP_ARGS)

# Every experiment, one after the other (two VMs at a time); fails if any
# failed, after running them all.
experiments:
	@rc=0; \
	for e in exp1 exp2 exp3 exp4; do \
		$(MAKE) --no-print-directory $$e || rc=1; \
	done; \
	exit $$rc
