# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The host side of every rig test and experiment, sourced first:
#   . "$(dirname "${BASH_SOURCE[0]}")/rig.sh"      (from scripts/vm/)
# It sets "set -euo pipefail", rig (this directory), root (the tree),
# name (the script's, prefix of its messages) and t_start.
#
#   rig_parse SPEC ARGS...  parse the options: SPEC lists "NAME=" (takes a
#                           value), "NAME" (a flag, set to 1) and "NAME+"
#                           (repeatable, appended to the array NAME); the
#                           option --foo-bar sets foo_bar.  "*" in SPEC
#                           takes other words into the array rig_args.
#                           -h/--help prints the script's header comment
#   rig_num VAR...          fail (usage) unless each VAR is a number
#   rig_kdir                kdir (default: puma-kernel.sh $ktree, the
#                           modtree) and bzimage; it must carry the hooks
#   rig_modules MOD...      build the modules against kdir, check MOD.ko
#   rig_outdir              outdir (default: a new one under $TMPDIR),
#                           absolute
#   rig_tool NAME           build tools/NAME into OUTDIR/bin, print it
#   rig_ko MOD              MOD.ko without debug info in OUTDIR/initrd/,
#                           print its path
#   rig_vm ARGS...          run-vm.sh with kdir's kernel, OUTDIR and
#                           --verbose if set, then ARGS; rc: its status;
#                           res: OUTDIR/results.txt
#   get KEY, num KEY        a value of $res (num: 0 if none)
#   fail MESSAGE            "NAME: FAIL: MESSAGE"; the verdict is FAIL
#   rig_clean_runs MIN [RE] fail on a nonzero RE.failures or
#                           RE.failed_reads (RE: a regular expression of
#                           the keys, default any), or fewer than MIN
#                           clean blockcheck runs among them
#   rig_loaded MOD...       fail unless /init loaded each MOD
#   rig_e2fsck IMAGE        fail unless e2fsck finds IMAGE clean
#   rig_plot PNG [W,H]      draw PNG with gnuplot from the commands on
#                           stdin, after the rig's terminal, CSV input and
#                           grid; a missing or failing gnuplot is logged
#   rig_pcap_stamps PCAP    print how many stamped-block headers
#                           ("PUMABLK1", tools/blockcheck) a capture holds
#   rig_verdict             print the host time and PASS or FAIL; exit

set -euo pipefail

rig=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$rig/../.." && pwd)
name=$(basename "$0" .sh)
t_start=$(date +%s)
bad=0
rc=0
kdir=
outdir=
verbose=
rig_args=()
# The TCP transport's pre-shared key in every guest (mkinitramfs.sh
# --psk): a fixed test key, 32 bytes; RIG_PSK=none runs without one.
# ("puma-rig-test-psk-0123456789abcd" in hex)
RIG_PSK=${RIG_PSK:-70756d612d7269672d746573742d70736b2d3031323334353637383961626364}

die() { echo "$name: error: $*" >&2; exit 2; }
log() { echo "$name: $*" >&2; }
fail() { echo "$name: FAIL: $*" >&2; bad=1; }

rig_parse() {
	local spec=" ${1//[$'\t\n']/ } " opt var
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		-h|--help) sed -n '3,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
		--*) ;;
		*) [[ "$spec" == *" * "* ]] || die "unexpected argument '$1'"
		   rig_args+=("$1"); shift; continue ;;
		esac
		opt=${1#--}
		var=${opt//-/_}
		if [[ "$spec" == *" $opt= "* ]]; then
			[ $# -ge 2 ] || die "$1 wants a value"
			printf -v "$var" '%s' "$2"
			shift 2
		elif [[ "$spec" == *" $opt "* ]]; then
			printf -v "$var" 1
			shift
		elif [[ "$spec" == *" $opt+ "* ]]; then
			[ $# -ge 2 ] || die "$1 wants a value"
			eval "$var+=(\"\$2\")"
			shift 2
		else
			die "unknown argument '$1' (see --help)"
		fi
	done
}

rig_num() {
	local v
	for v in "$@"; do
		[[ "${!v}" =~ ^[0-9]+$ ]] || die "--${v//_/-}: expected a number, got '${!v}'"
	done
}

rig_kdir() {
	[ -n "$kdir" ] || kdir=$("$root/scripts/puma-kernel.sh" "${ktree:-modtree}")
	bzimage=$kdir/arch/x86/boot/bzImage
	[ -r "$bzimage" ] || die "no kernel image $bzimage"
	grep -q '^CONFIG_CLEANCACHE=y' "$kdir/.config" ||
		die "the VM kernel in $kdir has no CONFIG_CLEANCACHE (hook series missing?)"
}

rig_modules() {
	local m
	make -s -C "$kdir" M="$root" modules >&2 || die "module build failed"
	for m in "$@"; do
		[ -e "$root/$m.ko" ] || die "$m.ko was not built"
	done
}

rig_outdir() {
	[ -n "$outdir" ] || outdir=$(mktemp -d "${TMPDIR:-/tmp}/puma-$name.XXXXXX")
	mkdir -p "$outdir"
	outdir=$(cd "$outdir" && pwd)
}

rig_tool() {
	make -s -C "$root/tools/$1" O="$outdir/bin" >&2
	echo "$outdir/bin/$1"
}

rig_ko() {
	mkdir -p "$outdir/initrd"
	strip --strip-debug -o "$outdir/initrd/$1.ko" "$root/$1.ko"
	echo "$outdir/initrd/$1.ko"
}

rig_vm() {
	rc=0
	"$rig/run-vm.sh" --kernel "$bzimage" --outdir "$outdir" \
		${verbose:+--verbose} "$@" || rc=$?
	res=$outdir/results.txt
}

get() { sed -n "s/^$1=//p" "$res" | tail -1; }
num() { local v; v=$(get "$1"); echo "${v:-0}"; }

rig_clean_runs() {
	local nonzero n
	nonzero=$(grep -E "^${2:-.*}\\.(failures|failed_reads)=" "$res" | grep -v '=0$' || true)
	[ -z "$nonzero" ] || fail "verification failures: $nonzero"
	n=$(grep -cE "^${2:-.*}\\.failures=0$" "$res" || true)
	[ "$n" -ge "$1" ] || fail "only $n clean blockcheck runs (expected >= $1)"
}

rig_loaded() {
	local m
	for m in "$@"; do
		[ "$(get "insmod.$m")" = ok ] || fail "module $m did not load"
	done
}

rig_e2fsck() {
	if e2fsck -fn "$1" >"${1%.*}-e2fsck.log" 2>&1; then
		echo "e2fsck=clean" >>"$res"
	else
		fail "e2fsck found errors in $1 (see ${1%.*}-e2fsck.log)"
	fi
}

rig_plot() {
	command -v gnuplot >/dev/null ||
		{ log "gnuplot not found (apt-get install gnuplot-nox): no $1"; return 0; }
	{
		printf 'set terminal pngcairo noenhanced size %s\n' "${2:-1000,600}"
		printf "set output '%s'\nset datafile separator ','\nset grid\n" "$1"
		cat
	} | gnuplot || log "gnuplot failed on $1"
}

rig_pcap_stamps() {
	{ grep -a -o PUMABLK1 "$1" || true; } | wc -l
}

rig_verdict() {
	echo "$name: outputs in $outdir; total host time $(( $(date +%s) - t_start ))s"
	if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
		echo "$name: FAIL" >&2
		exit 1
	fi
	echo "$name: PASS"
	exit 0
}
