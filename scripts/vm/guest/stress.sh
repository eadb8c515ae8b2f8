#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/vm/stress.sh: the concurrent coherency stress
# (tools/ccstress) on ext4 with PUMA in one kernel (client and server
# roles of puma_backend over the loopback or the TCP transport), in a
# memory cgroup smaller than the files, so that reclaim and the stress's
# own FADV_DONTNEED evictions put pages into PUMA and misses get them back.
#
# Parameters (kernel command line, reach us as environment variables):
#   st_transport=loop|tcp   transport of puma_backend (module loaded at boot)
#   st_phases=LIST          comma-separated, run in order:
#                             excl, incl   the stress, exclusive / inclusive
#                                          strategy: zero stale, zero
#                                          corrupt, PUMA hits > 0
#                             hotdio       the negative control's workload
#                                          with the guard on: zero stale
#                             noguard      the same with the kernel's
#                                          direct-write guard off
#                                          (cleancache/dio_guard = 0):
#                                          ccstress --expect-stale
#                             fault        the stress (exclusive) with
#                                          failslab and fail_page_alloc
#                                          confined to the PUMA modules
#   st_seconds=N            duration of each stress phase (default 40)
#   st_reads=N              stop a phase after N verified reads (0: no)
#   st_files=N st_blocks=N  files and blocks of 4 KiB each (4, 1024)
#   st_limit=S              memory.max of the stress's cgroup (12M)
#   st_neg_seconds=N        duration of hotdio and noguard (30)
#   st_neg_args=A,B,...     their ccstress options (commas for spaces)
#   st_args=A,B,...         more ccstress options for excl, incl, fault
#   st_neg_rounds=N         noguard runs N times (1), rounds_with_stale,
#                           then again until a round sees stale reads, at
#                           most st_neg_max_rounds (6) in all
#   st_fault_pct=N          fault probability in percent (30)
#   st_fault_seconds=N      duration of the fault phase (90)
#   st_fault_reject=FUNC    no failure under this function (default
#                           puma_client_connect_work; empty: none)
#   st_fault_wait=Y|N       failslab ignore-gfp-wait (N: sleeping
#                           allocations fail too)
#   st_allow_1cpu=1         do not fail on a 1-CPU guest (development)
#   st_get_timeout_us=N     puma_backend get_timeout_us (200000)
#
# Results: PUMA-RESULT <phase>.<ccstress key>=..., <phase>.puma_hits,
# <phase>.puma_<counter> deltas, fault.enomem_*, fault.failslab_injected,
# fault.fail_page_alloc_injected, rmmod.*.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

transport=${st_transport:-loop}
phases=${st_phases:-excl,incl}
secs=${st_seconds:-40}
reads=${st_reads:-0}
nfiles=${st_files:-4}
nblocks=${st_blocks:-1024}
limit=${st_limit:-12M}
neg_secs=${st_neg_seconds:-30}
fault_pct=${st_fault_pct:-30}
fault_secs=${st_fault_seconds:-90}
fault_reject=${st_fault_reject-puma_client_connect_work}
fault_wait=${st_fault_wait:-N}
gto=${st_get_timeout_us:-200000}
dir=$mnt/stress
guard=/sys/kernel/debug/cleancache/dio_guard
ko=/lib/modules/puma/puma_backend.ko

case "$transport" in
loop) tmod=puma_loop; taddr= ;;
tcp) tmod=puma_tcp
     taddr="transport=tcp listen_addr=127.0.0.1:7070 server_addr=127.0.0.1:7070" ;;
*) puma_fail "st_transport=$transport: expected loop or tcp"; exit 1 ;;
esac
puma_result transport "$transport"

# --- the guest must have two CPUs: the races need real parallelism -------
ncpu=$(nproc)
puma_result nproc "$ncpu"
if [ "$ncpu" -lt 2 ]; then
	if [ "${st_allow_1cpu:-0}" = 1 ]; then
		echo "stress: WARNING: nproc=$ncpu, allowed by st_allow_1cpu=1 (development only)"
		puma_result allow_1cpu 1
	else
		puma_fail "nproc=$ncpu: the stress needs at least 2 CPUs (SMP kernel, --cpus 2)"
		exit 1
	fi
fi

mkdir -p "$mnt"
cg_limit stress "$limit" || exit 1
puma_result limit "$limit"
puma_result file_mib $((nfiles * nblocks * 4 / 1024))

# snap FILE: copy the counters of both stats files.
snap() {
	cat "$stats" >"$1" 2>/dev/null
	[ -r "$tstats" ] && sed 's/^/tcp./' "$tstats" >>"$1"
}

# report_delta PHASE BEFORE AFTER: every counter that moved, as
# PHASE.puma_NAME=delta.
report_delta() {
	awk -v p="$1" 'NR == FNR { b[$1] = $2; next }
		$2 - b[$1] != 0 { printf "PUMA-RESULT %s.puma_%s=%d\n", p, $1, $2 - b[$1] }' \
		"$2" "$3"
}

watch_stats puma-stats

backend_up() {
	# shellcheck disable=SC2086 # params are split on purpose
	puma_step "insmod.$1" insmod "$ko" role=both strategy="$2" \
		get_timeout_us="$gto" $taddr || return 1
	[ -r "$stats" ] || { puma_fail "no $stats after insmod"; return 1; }
	puma_step "mount.$1" mount -t ext4 "$dev" "$mnt" || return 1
	mkdir -p "$dir"
}

backend_down() {
	puma_step "umount.$1" umount "$mnt"
	puma_step "rmmod.backend.$1" rmmod puma_backend
}

# ccs PHASE ARGS...: ccstress in the cgroup, its summary as PHASE.key=value;
# returns ccstress's exit status.
ccs() {
	_p=$1
	shift
	echo "PUMA-STEP $_p: ccstress --dir $dir $*"
	_out=/run/ccs-$_p.out
	_t0=$(puma_uptime)
	sh -c 'echo $$ >/sys/fs/cgroup/stress/cgroup.procs && exec ccstress "$@"' \
		ccstress --dir "$dir" "$@" >"$_out" 2>&1
	_rc=$?
	cat "$_out"
	_sum=$(grep '^CCSTRESS ' "$_out" | tail -1)
	[ -n "$_sum" ] || puma_result "$_p.summary" missing
	puma_kv "$_p" "$_sum"
	puma_result "$_p.rc" "$_rc"
	puma_result "$_p.s" "$(puma_elapsed "$_t0")"
	return $_rc
}

# The regular stress: every operation, every file, all blocks, 4 readers
# per file.  The evictors pause 20 ms: with no pause nearly every read
# misses and waits for PUMA or the disk.  st_args adds or overrides
# ccstress options (commas for spaces).
stress_args="--files $nfiles --blocks $nblocks --duration $secs --seed $$
	--readers 4 --evict-delay-us 20000"
[ -n "${st_args:-}" ] && stress_args="$stress_args $(echo "$st_args" | tr ',' ' ')"
[ "$reads" -gt 0 ] && stress_args="$stress_args --reads $reads"

# run_stress PHASE STRATEGY CCSTRESS-ARGS...: zero stale/corrupt; in the
# regular stress (excl, incl), PUMA hits.
run_stress() {
	_ph=$1
	backend_up "$_ph" "$2" || return 1
	shift 2
	snap "/run/before.$_ph"
	ccs "$_ph" "$@" ||
		puma_fail "$_ph: ccstress failed (stale or corrupt reads, or I/O errors)"
	snap "/run/after.$_ph"
	report_delta "$_ph" "/run/before.$_ph" "/run/after.$_ph"
	if [ "$_ph" != hotdio ]; then
		_h=$(( $(pstat hits "/run/after.$_ph") - $(pstat hits "/run/before.$_ph") ))
		_lh=$(( $(pstat local_hits "/run/after.$_ph") - $(pstat local_hits "/run/before.$_ph") ))
		puma_result "$_ph.puma_hits_total" $((_h + _lh))
		[ "$_h" -gt 0 ] || puma_fail "$_ph: no PUMA hit (puma stats hits +0)"
	fi
	backend_down "$_ph"
}

# The negative control's shape.  With the guard off, puts and gets run
# while a direct write is in flight: reader A misses during the write and
# reads the old block, an evictor puts it, and reader B gets the old copy
# back after the post-write page-cache walk has passed that index (or,
# with no page cached, after the empty-mapping check) and before the
# backend's range is invalidated; B's folio then stays old in the page
# cache.  So: 8 files of 8 blocks, per file an O_DIRECT writer of up to
# the whole file with no pause, 4 readers hammering the 8 blocks, an
# evictor dropping the whole file in a loop; 48 threads on 2 CPUs, so the
# writer is often preempted in its page-cache walk (the shape that showed
# the hole most often).  st_neg_args replaces it (commas for spaces).
neg_args="--files 8 --blocks 8 --readers 4 --buf-writers 0 --mmap-writers 0
	--shapers 0 --recreators 0 --dio-writers 1 --dio-extent 8
	--write-delay-us 0 --evictors 1 --evict-delay-us 0 --evict-whole"
[ -n "${st_neg_args:-}" ] && neg_args=$(echo "$st_neg_args" | tr ',' ' ')
neg_args="$neg_args --duration $neg_secs --max-report 5"
neg_rounds=${st_neg_rounds:-1}

run_noguard() {
	backend_up noguard exclusive || return 1
	if [ ! -w "$guard" ]; then
		puma_fail "noguard: no $guard in this kernel (the debug knob is missing)"
		backend_down noguard
		return 1
	fi
	puma_result noguard.guard_before "$(cat "$guard")"
	echo 0 >"$guard" || puma_fail "noguard: cannot write $guard"
	snap /run/before.noguard
	# Each round on its own, for how reliably the hole shows; the phase's
	# own figures are the last round's.  At least st_neg_rounds rounds,
	# then more, up to st_neg_max_rounds, until one sees a stale read.
	_r=1
	_hit=0
	_max=${st_neg_max_rounds:-6}
	[ "$_max" -ge "$neg_rounds" ] || _max=$neg_rounds
	while [ "$_r" -le "$_max" ]; do
		# shellcheck disable=SC2086
		ccs noguard $neg_args --seed $(($$ + _r)) --expect-stale &&
			_hit=$((_hit + 1))
		puma_result "noguard.round$_r.stale" "$(sed -n 's/^CCSTRESS .* stale=\([0-9]*\) .*/\1/p' /run/ccs-noguard.out)"
		[ "$_r" -ge "$neg_rounds" ] && [ "$_hit" -gt 0 ] && break
		_r=$((_r + 1))
	done
	[ "$_r" -le "$_max" ] || _r=$_max
	puma_result noguard.rounds "$_r"
	puma_result noguard.rounds_with_stale "$_hit"
	[ "$_hit" -gt 0 ] ||
		puma_fail "noguard: no stale read with the direct-write guard off: the stress cannot see the hole"
	snap /run/after.noguard
	echo 1 >"$guard"
	report_delta noguard /run/before.noguard /run/after.noguard
	backend_down noguard
}

# fault_setup DIR START END: failures on every allocation whose stack
# goes through [START, END), with probability fault_pct.
fault_setup() {
	_d=/sys/kernel/debug/$1
	echo 0 >"$_d/probability"
	echo "$2" >"$_d/require-start"
	echo "$3" >"$_d/require-end"
	echo 0 >"$_d/verbose"
	echo 1 >"$_d/interval"
	# times counts down with each failure injected: a large finite
	# number gives the count at the end (-1 would be unlimited, uncounted)
	echo 2000000000 >"$_d/times"
	[ -e "$_d/stacktrace-depth" ] && echo 32 >"$_d/stacktrace-depth"
	[ -e "$_d/task-filter" ] && echo N >"$_d/task-filter"
}

fault_stop() {
	_d=/sys/kernel/debug/$1
	echo 0 >"$_d/probability"
	_left=$(cat "$_d/times")
	puma_result "fault.$1_injected" $((2000000000 - _left))
}

run_fault() {
	fs=/sys/kernel/debug/failslab
	fp=/sys/kernel/debug/fail_page_alloc
	if [ ! -d "$fs" ] || [ ! -d "$fp" ]; then
		puma_fail "fault: no $fs or $fp (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS)"
		return 1
	fi
	if [ ! -e "$fs/require-start" ]; then
		puma_fail "fault: no $fs/require-start (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER)"
		return 1
	fi
	backend_up fault exclusive || return 1
	# The module area holds only PUMA (everything else is built in):
	# from the lowest .text to the highest .text + module size.
	lo=
	hi=
	for m in /sys/module/puma*; do
		_n=${m##*/}
		_t=$(cat "$m/sections/.text" 2>/dev/null) || continue
		_sz=$(awk -v n="$_n" '$1 == n { print $2 }' /proc/modules)
		{ [ -n "$_t" ] && [ -n "$_sz" ]; } || continue
		# ash arithmetic is signed 64-bit: kernel addresses are negative,
		# which keeps their order; printf '0x%x' prints them back
		_s=$((_t))
		_e=$((_s + _sz))
		puma_result "fault.text.$_n" "$_t+$_sz"
		{ [ -z "$lo" ] || [ "$_s" -lt "$lo" ]; } && lo=$_s
		{ [ -z "$hi" ] || [ "$_e" -gt "$hi" ]; } && hi=$_e
	done
	if [ -z "$lo" ]; then
		puma_fail "fault: no /sys/module/puma*/sections/.text"
		backend_down fault
		return 1
	fi
	lo=$(printf '0x%x' "$lo")
	hi=$(printf '0x%x' "$hi")
	puma_result fault.require_start "$lo"
	puma_result fault.require_end "$hi"
	fault_setup failslab "$lo" "$hi"
	echo "$fault_wait" >"$fs/ignore-gfp-wait"
	fault_setup fail_page_alloc "$lo" "$hi"
	# Session setup is spared (reject-start/-end over one function, by
	# default the client's connect work): failing it keeps the session
	# down for the reconnect backoff, and the phase would then test a
	# PUMA that serves nothing.  Failures land on the data path instead.
	if [ -n "$fault_reject" ]; then
		_rs=$(awk -v f="$fault_reject" '$3 == f { print $1; exit }' /proc/kallsyms)
		if [ -z "$_rs" ] || [ "$_rs" = 0000000000000000 ]; then
			puma_fail "fault: no $fault_reject in /proc/kallsyms"
		else
			# the next symbol up (same-width hex compares as text)
			_re=$(awk -v s="$_rs" '$1 > s && (e == "" || $1 < e) { e = $1 }
				END { print e }' /proc/kallsyms)
			puma_result fault.reject "$fault_reject:0x$_rs-0x$_re"
			for _a in failslab fail_page_alloc; do
				echo "0x$_rs" >"/sys/kernel/debug/$_a/reject-start"
				echo "0x$_re" >"/sys/kernel/debug/$_a/reject-end"
			done
		fi
	fi
	echo N >"$fp/ignore-gfp-wait"
	echo N >"$fp/ignore-gfp-highmem"
	echo 0 >"$fp/min-order"
	# The host accepts allocation-failure reports (warn_alloc's "page
	# allocation failure" or "vmalloc error" and their stack) only
	# between these marks (scripts/vm/stress.sh).
	echo "PUMA-MARK fault-injection-on"
	echo "$fault_pct" >"$fs/probability"
	echo "$fault_pct" >"$fp/probability"
	puma_result fault.probability_pct "$fault_pct"
	snap /run/before.fault
	# shellcheck disable=SC2086
	ccs fault $stress_args --duration "$fault_secs" ||
		puma_fail "fault: ccstress failed under fault injection"
	fault_stop failslab
	fault_stop fail_page_alloc
	sleep 1
	echo "PUMA-MARK fault-injection-off"
	snap /run/after.fault
	report_delta fault /run/before.fault /run/after.fault
	# Every enomem_ counter of the backend and the transport (tcp.*): what
	# the phase added (the transport's counters outlive the backend's
	# reloads), and their sum.
	_sum=$(awk 'NR == FNR { b[$1] = $2; next }
		$1 ~ /^(tcp\.)?enomem_/ {
			d = $2 - b[$1]; s += d
			printf "PUMA-RESULT fault.%s=%d\n", $1, d > "/dev/stderr"
		}
		END { print s + 0 }' /run/before.fault /run/after.fault 2>/run/enomem.txt)
	cat /run/enomem.txt
	puma_result fault.enomem_total "$_sum"
	backend_down fault
}

# shellcheck disable=SC2086 # the ccstress options are split on purpose
for ph in $(echo "$phases" | tr ',' ' '); do
	case "$ph" in
	excl) run_stress excl exclusive $stress_args ;;
	incl) run_stress incl inclusive $stress_args ;;
	hotdio) run_stress hotdio exclusive $neg_args --seed $$ ;;
	noguard) run_noguard ;;
	fault) run_fault ;;
	*) puma_fail "unknown phase '$ph'" ;;
	esac
	grep -q " $mnt " /proc/mounts && umount "$mnt"
	grep -q '^puma_backend ' /proc/modules && rmmod puma_backend
done

# Every module unloads at the end.
kill "$watcher" 2>/dev/null
puma_result dio_invalidation_failures \
	"$(dmesg | grep -c 'Page cache invalidation failure on direct I/O')"
puma_step rmmod.transport rmmod "$tmod"
puma_step rmmod.lib rmmod puma
left=$(grep -c '^puma' /proc/modules)
puma_result modules_left "$left"
[ "$left" -eq 0 ] || puma_fail "modules still loaded: $(grep '^puma' /proc/modules | cut -d' ' -f1 | tr '\n' ' ')"
