#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Concurrent coherency stress: PUMA must never serve stale data.  One QEMU
# VM (2 CPUs) per transport, each with puma.ko and its transport loaded at
# boot; the guest (scripts/vm/guest/stress.sh) loads puma_backend role=both
# for each phase and runs tools/ccstress on ext4 in a memory cgroup smaller
# than its files: buffered, O_DIRECT and mmap writers, verifying readers,
# hole punches, truncates, extends, FADV_DONTNEED evictions and re-creates,
# all at once on the same blocks.
#
# Phases (--phases-loop, --phases-tcp; comma-separated):
#   excl, incl  the stress with the exclusive / inclusive strategy
#   hotdio      the negative control's workload with the guard on
#   noguard     the kernel's direct-write guard off (debugfs
#               cleancache/dio_guard = 0): stale reads must be seen
#   fault       the stress with failslab and fail_page_alloc confined to the
#               PUMA modules (require-start/-end over their .text)
#
# Asserts: every VM passes (no splat, PUMA-DONE, status=pass), nproc >= 2
# in the guest (unless --allow-1cpu), zero stale and zero corrupt reads and
# no I/O error in every phase but noguard, PUMA hits > 0 in excl and incl,
# stale reads > 0 in noguard, at least --min-reads verified reads in all,
# at least --fault-min ENOMEM events (half of it over TCP, whose pages are
# sealed) counted by PUMA (enomem_* counters of
# puma and puma_tcp) in the fault phases, every module unloaded, and a
# clean e2fsck of each disk.
#
#   stress.sh [--transports "loop tcp"] [--phases-loop LIST] [--phases-tcp LIST]
#             [--seconds N] [--neg-seconds N] [--reads N] [--files N]
#             [--blocks N] [--limit SIZE] [--mem SIZE] [--cpus N]
#             [--min-reads N] [--fault-min N] [--fault-pct N] [--fault-seconds N]
#             [--neg-args "CCSTRESS OPTIONS"] [--neg-rounds N]
#             [--stress-args "CCSTRESS OPTIONS"]
#             [--allow-1cpu] [--soak] [--timeout SEC] [--outdir DIR]
#             [--kdir DIR] [--verbose]
#
#   --reads N     stop each stress phase after N verified reads (it stops
#                 at --seconds otherwise)
#   --neg-args    ccstress options of hotdio and noguard instead of the
#                 built-in shape (guest/stress.sh)
#   --neg-rounds  run noguard N times: how reliably it sees stale reads
#   --stress-args more ccstress options for excl, incl and fault
#   --soak        long run: excl and incl on both transports until at least
#                 10^7 verified reads in all (make soak; hours)
#
# Exit: 0 pass, 1 fail, 2 usage.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

transports="loop tcp"
phases_loop=excl,incl,hotdio,noguard,fault
phases_tcp=excl,incl,fault
seconds=40
neg_seconds=30
reads=0
files=4
blocks=1024
limit=12M
mem=384M
cpus=2
min_reads=200000
fault_min=1000
fault_pct=30
fault_seconds=90
neg_args=
stress_args=
neg_rounds=1
allow_1cpu=0
soak=
timeout=
rig_parse "transports= phases-loop= phases-tcp= seconds= neg-seconds= reads=
	files= blocks= limit= mem= cpus= min-reads= fault-min= fault-pct=
	fault-seconds= neg-args= stress-args= neg-rounds= allow-1cpu soak
	timeout= outdir= kdir= verbose" "$@"
rig_num seconds neg_seconds fault_seconds neg_rounds reads files blocks cpus \
	min_reads fault_min fault_pct
if [ -n "$soak" ]; then
	# 10^7 verified reads over excl and incl on both transports: each
	# phase stops at its share (about an hour at 700 reads/s), or after
	# three hours.
	phases_loop=excl,incl
	phases_tcp=excl,incl
	[ "$min_reads" -ge 10000000 ] || min_reads=10000000
	reads=$(( (min_reads + 3) / 4 + 1000 ))
	seconds=10800
fi

rig_kdir
rig_modules puma puma_loop puma_tcp puma_backend
rig_outdir
ccstress=$(rig_tool ccstress)
# Loaded by the guest for each phase, not by /init.
backend_ko=$(rig_ko puma_backend)

# alloc_reports LOG OUT: print how many "Call Trace:" lines of LOG are not
# an allocation-failure report inside the fault-injection marks (the 8
# lines before the trace hold "page allocation failure" or "vmalloc
# error"); write each accepted report to OUT, with the first PUMA frame
# of its stack as caller=.
alloc_reports() {
	tr -d '\r' <"$1" | awk -v out="$2" '
		/PUMA-MARK fault-injection-on/ { on = 1 }
		/PUMA-MARK fault-injection-off/ { on = 0 }
		{ hist[NR % 8] = $0 }
		/page allocation failure|vmalloc error/ { last = NR; what = $0 }
		/Call Trace:/ {
			if (on && last && NR - last <= 8) { want = 1; n++ }
			else bad++
			next
		}
		want && /\[puma/ {
			c = $0; sub(/^.*\] +(\? )?/, "", c); sub(/\+.*/, "", c)
			sub(/^.*\] /, "", what)
			print what " caller=" c > out
			want = 0
		}
		END { if (!n) printf "" > out; print bad + 0 }'
}
total_verified=0
summary=()

for tr in $transports; do
	case "$tr" in
	loop) tmod=puma_loop; phases=$phases_loop ;;
	tcp) tmod=puma_tcp; phases=$phases_tcp ;;
	*) die "--transports: loop or tcp, not '$tr'" ;;
	esac
	[ -n "$phases" ] || continue
	vdir=$outdir/$tr
	mkdir -p "$vdir"
	initrd=$("$rig/mkinitramfs.sh" --guest "$rig/guest/stress.sh" \
		--bin "$ccstress" --modules "$root/puma.ko $root/$tmod.ko" \
		--file "$backend_ko:/lib/modules/puma/puma_backend.ko")
	disk=$vdir/disk.img
	"$rig/mkdisk.sh" --size "$(( files * blocks * 4 / 1024 + 128 ))M" "$disk" >/dev/null
	vm_timeout=$timeout
	if [ -z "$vm_timeout" ]; then
		# each phase: its run, the final verify, module load/unload and
		# mount, at most 90 s; boot 30 s; then 2x for a slow host
		# (the longest phase counted for all; noguard may take 6 rounds)
		longest=$seconds
		[ "$fault_seconds" -le "$longest" ] || longest=$fault_seconds
		[ $((6 * neg_seconds)) -le "$longest" ] || longest=$((6 * neg_seconds))
		n=$(( $(tr -cd , <<<"$phases" | wc -c) + 1 ))
		vm_timeout=$(( 2 * (30 + n * (90 + longest)) ))
	fi
	echo "$name: $tr: phases $phases, ${seconds}s each (negative control ${neg_seconds}s), timeout ${vm_timeout}s" >&2
	# Under fault injection an allocation that fails without __GFP_NOWARN
	# is reported with its stack (warn_alloc).  run-vm.sh lets such stacks
	# through; alloc_reports() below accepts only those that follow a
	# "page allocation failure" or "vmalloc error" line between the
	# guest's fault-injection marks, and fails the run on any other.
	allow=
	case ",$phases," in *,fault,*) allow='Call Trace:' ;; esac
	"$rig/run-vm.sh" --kernel "$bzimage" --initrd "$initrd" \
		--mem "$mem" --cpus "$cpus" --disk "$disk" --timeout "$vm_timeout" \
		--outdir "$vdir" ${allow:+--allow-splat "$allow"} ${verbose:+--verbose} \
		--append "st_transport=$tr st_phases=$phases st_seconds=$seconds st_reads=$reads st_files=$files st_blocks=$blocks st_limit=$limit st_neg_seconds=$neg_seconds st_fault_pct=$fault_pct st_fault_seconds=$fault_seconds st_allow_1cpu=$allow_1cpu st_neg_rounds=$neg_rounds${neg_args:+ st_neg_args=${neg_args// /,}}${stress_args:+ st_args=${stress_args// /,}}" \
		|| fail "$tr: the VM run failed (see $vdir/console.log)"
	if [ -n "$allow" ]; then
		bad_traces=$(alloc_reports "$vdir/console.log" "$vdir/alloc-reports.txt")
		[ "$bad_traces" -eq 0 ] ||
			fail "$tr: $bad_traces stack traces that are not allocation-failure reports under fault injection (see $vdir/console.log)"
		echo "$name: $tr: allocation-failure reports under fault injection: $(grep -c . "$vdir/alloc-reports.txt" || true)" \
			"(callers: $(sed 's/.* caller=//' "$vdir/alloc-reports.txt" | sort | uniq -c | sort -rn | awk '{printf "%s%s x%d", s, $2, $1; s=", "}'))"
	fi
	res=$vdir/results.txt
	for ph in ${phases//,/ }; do
		p=$tr.$ph
		if [ -z "$(get "$ph.verdict")" ]; then
			fail "$p: no ccstress summary"
			continue
		fi
		v=$(num "$ph.verified") st=$(num "$ph.stale") co=$(num "$ph.corrupt")
		summary+=("$(printf '%-14s %10s %7s %7s %6s %8s %9s %8s' "$p" "$v" "$st" \
			"$co" "$(num "$ph.torn")" "$(num "$ph.elapsed_s")" \
			"$(num "$ph.reads_per_s")" "$(( $(num "$ph.puma_hits") + $(num "$ph.puma_local_hits") ))")")
		[ "$(num "$ph.io_errors")" -eq 0 ] || fail "$p: $(num "$ph.io_errors") I/O errors"
		case "$ph" in
		noguard)
			[ "$(num noguard.rounds_with_stale)" -gt 0 ] || fail "$p: no stale read with the guard off"
			echo "$name: $p: negative control: $st stale reads in $(num "$ph.reads") reads ($(num "$ph.dio_writes") O_DIRECT writes, $(num "$ph.evicts") evictions, first stale after $(get "$ph.first_stale_s") s, last round);" \
				"$(num noguard.rounds_with_stale) of $(num noguard.rounds) rounds saw stale reads:" \
				"$(grep -o '^noguard\.round[0-9]*\.stale=[0-9]*' "$res" | sed 's/^noguard\.//' | tr '\n' ' ')"
			;;
		*)
			if [ "$st" -ne 0 ] || [ "$co" -ne 0 ]; then
				fail "$p: $st stale, $co corrupt reads"
			fi
			total_verified=$((total_verified + v))
			;;
		esac
		case "$ph" in
		excl|incl)
			[ "$(num "$ph.puma_hits")" -gt 0 ] || fail "$p: no PUMA hit"
			# A burst of writes may cost a file's copies, never the session.
			[ "$(num "$ph.puma_resets")" -eq 0 ] ||
				fail "$p: $(num "$ph.puma_resets") session resets"
			;;
		fault)
			en=$(num fault.enomem_total)
			echo "$name: $p: ENOMEM events counted by PUMA: $en;" \
				"injected: failslab $(get fault.failslab_injected)," \
				"fail_page_alloc $(get fault.fail_page_alloc_injected)"
			grep -E '^fault\.(tcp\.)?enomem_' "$res" | sed 's/^/    /'
			# Over TCP each page is sealed and opened (ChaCha20-
			# Poly1305, generic C under TCG): fewer pages, and so
			# fewer allocations, pass in the phase (720 to 1,638
			# in seven runs on one 2-core host); half the floor.
			min=$fault_min
			[ "$tr" != tcp ] || min=$(( fault_min / 2 ))
			[ "$en" -ge "$min" ] ||
				fail "$p: only $en ENOMEM events in PUMA code (want >= $min)"
			;;
		esac
	done
	[ "$(num nproc)" -ge 2 ] || [ "$allow_1cpu" = 1 ] || fail "$tr: guest nproc $(num nproc)"
	[ "$(get modules_left)" = 0 ] || fail "$tr: modules left loaded"
	rig_e2fsck "$disk"
	rm -f "$disk"
	echo "$name: $tr: VM $(get vm_wall_s)s, guest nproc $(get nproc)," \
		"Page cache invalidation failures on direct I/O: $(num dio_invalidation_failures)"
done

echo "$name: phase          verified   stale corrupt   torn  time_s   reads/s puma_hits"
[ ${#summary[@]} -eq 0 ] || printf "$name: %s\n" "${summary[@]}"
echo "$name: verified reads in the phases that must be clean: $total_verified (want >= $min_reads)"
[ "$total_verified" -ge "$min_reads" ] || fail "only $total_verified verified reads (want >= $min_reads)"
rig_verdict
