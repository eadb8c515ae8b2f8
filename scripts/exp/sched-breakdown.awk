# SPDX-License-Identifier: GPL-2.0
#
# Where the CPU went during each allocation of mallocbench, from an ftrace
# text trace of the events sched:sched_switch, sched:sched_wakeup,
# irq:softirq_entry/exit, irq:irq_handler_entry/exit and
# vmscan:mm_vmscan_direct_reclaim_begin/end (exp1.sh --trace sched).
#
#   awk -v min_ms=20 -f sched-breakdown.awk slow-host.txt
#
# An allocation window opens when mallocbench is woken (or switched in
# after a voluntary sleep) and closes when it next sleeps voluntarily.
# Within a window every CPU's time is charged to what ran: a task (by
# comm), a softirq ("softirq:NET_RX") or a hard interrupt ("irq:NAME");
# mallocbench's direct reclaim is counted apart ("direct_reclaim", part
# of mallocbench's own time).  Printed: one line per window of at least
# min_ms milliseconds, then the totals over those windows and over all
# windows.  The trace must not have lost events (buffer overrun) for the
# figures to add up.

function charge(c, t,    d, who)
{
	if (!(c in since))
		return
	d = t - since[c]
	since[c] = t
	if (d <= 0)
		return
	who = depth[c] ? ctx[c, depth[c]] : cur[c]
	if (who == "")
		who = "?"
	if (open_win) {
		win[who] += d
		if (who == "mallocbench" && in_dr)
			win["direct_reclaim"] += d
	}
}

function close_window(t,    len, k, line, n, i, j, tmp, keys)
{
	len = t - win_start
	nwin++
	for (k in win)
		all[k] += win[k]
	all_len += len
	if (len * 1000 >= min_ms) {
		nslow++
		slow_len += len
		n = 0
		for (k in win) {
			keys[++n] = k
			slow[k] += win[k]
		}
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && win[keys[j]] > win[keys[j - 1]]; j--) {
				tmp = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = tmp
			}
		line = sprintf("%.6f %7.1f ms:", win_start, len * 1000)
		for (i = 1; i <= n && i <= 6; i++)
			line = line sprintf(" %s %.1f", keys[i], win[keys[i]] * 1000)
		print line
		delete keys
	}
	delete win
	open_win = 0
}

function totals(title, arr, len, cnt,    k, n, i, j, tmp, keys)
{
	printf "%s: %d windows, %.1f ms\n", title, cnt, len * 1000
	n = 0
	for (k in arr)
		keys[++n] = k
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && arr[keys[j]] > arr[keys[j - 1]]; j--) {
			tmp = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = tmp
		}
	for (i = 1; i <= n && i <= 12; i++)
		printf "  %-28s %10.1f ms\n", keys[i], arr[keys[i]] * 1000
}

function field(name,    s)
{
	if (!match(rest, name "=[^ ]*"))
		return ""
	s = substr(rest, RSTART + length(name) + 1, RLENGTH - length(name) - 1)
	return s
}

BEGIN {
	if (min_ms == "")
		min_ms = 20
}

/^#/ { next }

{
	if (!match($0, /\[[0-9]+\]/))
		next
	c = substr($0, RSTART + 1, RLENGTH - 2) + 0
	rest = substr($0, RSTART + RLENGTH)
	if (!match(rest, /[0-9]+\.[0-9]+: [a-z_]+:/))
		next
	hdr = substr(rest, RSTART, RLENGTH)
	rest = substr(rest, RSTART + RLENGTH)
	split(hdr, h, ": ")
	t = h[1] + 0
	ev = h[2]
	sub(/:$/, "", ev)

	if (!(c in since)) {
		# the task running when the trace starts: the line's own comm
		task = substr($0, 1, index($0, "[") - 1)
		sub(/^ +/, "", task)
		sub(/-[0-9]+ +$/, "", task)
		cur[c] = task
		since[c] = t
	}
	charge(c, t)

	if (ev == "sched_switch") {
		prev = ""
		if (match(rest, /prev_comm=.* prev_pid=/))
			prev = substr(rest, RSTART + 10, RLENGTH - 20)
		state = field("prev_state")
		if (match(rest, /next_comm=.* next_pid=/))
			cur[c] = substr(rest, RSTART + 10, RLENGTH - 20)
		if (prev == "mallocbench" && open_win && state ~ /^[SI]/)
			close_window(t)
		if (cur[c] == "mallocbench" && !open_win) {
			open_win = 1
			win_start = t
		}
	} else if (ev == "sched_wakeup") {
		if (rest ~ /comm=mallocbench / && !open_win) {
			open_win = 1
			win_start = t
		}
	} else if (ev == "softirq_entry") {
		ctx[c, ++depth[c]] = "softirq:" field("action")
		sub(/\]$/, "", ctx[c, depth[c]])
	} else if (ev == "irq_handler_entry") {
		ctx[c, ++depth[c]] = "irq:" field("name")
	} else if (ev == "softirq_exit" || ev == "irq_handler_exit") {
		if (depth[c] > 0)
			depth[c]--
	} else if (ev == "mm_vmscan_direct_reclaim_begin") {
		if (cur[c] == "mallocbench")
			in_dr = 1
		ndr++
	} else if (ev == "mm_vmscan_direct_reclaim_end") {
		in_dr = 0
	}
}

END {
	print ""
	totals("windows of at least " min_ms " ms", slow, slow_len, nslow)
	totals("all windows", all, all_len, nwin)
	printf "direct reclaim passes: %d\n", ndr
}
