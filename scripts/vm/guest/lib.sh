# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest-side helpers for rig test scripts (busybox sh).  Sourced by /init
# and by /guest/test.sh:  . /guest/lib.sh
#
#   puma_result KEY VALUE       print "PUMA-RESULT KEY=VALUE" (spaces -> _)
#   puma_fail MESSAGE           print "PUMA-FAIL MESSAGE"; the run fails
#   puma_failed                 true if anything failed so far
#   puma_uptime                 seconds since boot (centiseconds)
#   puma_elapsed T0             seconds since puma_uptime returned T0
#   puma_step NAME CMD...       run CMD; report step.NAME.s and fail on error
#   puma_bc NAME ARGS...        run blockcheck ARGS, report its summary
#                               fields as NAME.key=value, fail on error
#   puma_drop_caches            sync and drop page cache, dentries, inodes
#   puma_meminfo FIELD          a /proc/meminfo value in kB
#   puma_mem_report PREFIX      report MemFree/Cached/... as PREFIX.*_kb
#   puma_export FILE [NAME]     send a small text file to the host: each
#                               line as "PUMA-FILE NAME <line>"; the host
#                               writes it to $OUTDIR/files/NAME

PUMA_FAILFILE=/run/puma.failures

puma_result() {
	_k=$1
	shift
	_v=$(printf '%s' "$*" | tr ' \t\n' '___')
	echo "PUMA-RESULT $_k=$_v"
}

puma_fail() {
	echo "PUMA-FAIL $*"
	echo "$*" >>"$PUMA_FAILFILE"
}

puma_failed() {
	[ -s "$PUMA_FAILFILE" ]
}

puma_uptime() {
	cut -d' ' -f1 /proc/uptime
}

puma_elapsed() {
	awk -v t0="$1" -v t1="$(puma_uptime)" 'BEGIN { printf "%.2f", t1 - t0 }'
}

puma_step() {
	_name=$1
	shift
	echo "PUMA-STEP $_name: $*"
	_t0=$(puma_uptime)
	if "$@"; then
		_rc=0
	else
		_rc=$?
		puma_fail "step $_name failed (exit $_rc): $*"
	fi
	puma_result "step.$_name.s" "$(puma_elapsed "$_t0")"
	return $_rc
}

puma_bc() {
	_name=$1
	shift
	echo "PUMA-STEP $_name: blockcheck $*"
	_t0=$(puma_uptime)
	_out=/run/puma-bc.out
	if blockcheck "$@" >"$_out" 2>&1; then
		_rc=0
	else
		_rc=$?
	fi
	cat "$_out"
	_sum=$(grep '^BLOCKCHECK [a-z]* ' "$_out" | tail -1)
	if [ -z "$_sum" ]; then
		puma_result "$_name.failures" error
	else
		for _kv in $_sum; do
			case "$_kv" in
			file=*|BLOCKCHECK) ;;
			*=*) echo "PUMA-RESULT $_name.$_kv" ;;
			esac
		done
	fi
	puma_result "$_name.s" "$(puma_elapsed "$_t0")"
	[ "$_rc" -eq 0 ] || puma_fail "$_name: blockcheck $* exited with status $_rc"
	return $_rc
}

puma_drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

puma_meminfo() {
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}

puma_mem_report() {
	for _f in MemFree Cached Active\(file\) Inactive\(file\); do
		_n=$(echo "$_f" | tr -d '()' | tr '[:upper:]' '[:lower:]')
		puma_result "$1.${_n}_kb" "$(puma_meminfo "$_f")"
	done
}

puma_export() {
	_name=${2:-$(basename "$1")}
	case "$_name" in
	*[!A-Za-z0-9_.-]*) puma_fail "puma_export: bad name '$_name'"; return 1 ;;
	esac
	if [ ! -r "$1" ]; then
		puma_fail "puma_export: cannot read $1"
		return 1
	fi
	sed "s/^/PUMA-FILE $_name /" "$1"
	echo "PUMA-RESULT file.$_name=$(wc -l <"$1")"
}
