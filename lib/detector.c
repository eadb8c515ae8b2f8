// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA activity detector.
 *
 * A two-state machine, "lending" and "suspended", driven by the caller's
 * events and polls at the caller's times (include/puma/detector.h,
 * Documentation/detector.rst).  A counted event moves "lending" to
 * "suspended" with a deadline one window later, or pushes the deadline of
 * a running suspension to one window after the event; a poll at or after
 * the deadline moves "suspended" back to "lending".  Nothing else changes
 * the state, so every change is reported to exactly one caller.
 *
 * Times are u64 in the caller's unit and compared with time_after64() and
 * friends: the clock may wrap, as long as the window and the gap between
 * an event and the poll that ends its suspension stay below 2^63 units.
 *
 * Lock ordering: one raw spinlock per detector, always taken with
 * interrupts saved, innermost: nothing is called and no other lock is
 * taken under it.  It is raw because events come from reclaim with
 * interrupts possibly off, also on PREEMPT_RT.  The mode and the size
 * thresholds are single words read without it, so ignored events cost no
 * lock.
 *
 * The watcher (struct puma_detector_watch) adds what every user needs
 * around it: one delayed work that polls, at ktime_get_ns(), when an event
 * suspended lending and at the end of each window, and reports each change
 * of state, in order, to the user's callback.
 */

#include <linux/array_size.h>
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include <kunit/visibility.h>

#include <puma/detector.h>

#include "internal.h"

static const char *const puma_detector_mode_names[] = {
	[PUMA_DETECTOR_OFF] = "off",
	[PUMA_DETECTOR_SHADOW] = "shadow",
	[PUMA_DETECTOR_DEACTIVATION] = "deactivation",
	[PUMA_DETECTOR_COMBINED] = "combined",
};

static const char *const puma_detector_kind_names[] = {
	[PUMA_DETECTOR_REFAULT] = "refault",
	[PUMA_DETECTOR_DEACTIVATE] = "deactivate",
};

static bool puma_detector_mode_valid(enum puma_detector_mode mode)
{
	return (unsigned int)mode <= PUMA_DETECTOR_COMBINED;
}

static bool puma_detector_window_valid(u64 window)
{
	return window && window <= PUMA_DETECTOR_WINDOW_MAX;
}

/* Time from @from to @to, or 0 if @to is not after @from. */
static u64 puma_detector_elapsed(u64 from, u64 to)
{
	return time_after64(to, from) ? to - from : 0;
}

/**
 * puma_detector_init() - Set up a detector, lending.
 * @det: Detector to set up.
 * @mode: Which events count.
 * @window: Hysteresis window, in the unit of the times the caller will
 *	pass (for instance %PUMA_DETECTOR_WINDOW_NS_DEFAULT with
 *	ktime_get_ns()); at least 1, at most %PUMA_DETECTOR_WINDOW_MAX.
 *
 * Every event of a counted kind counts, whatever its size, until
 * puma_detector_set_min_pages() says otherwise.  No other call may use
 * @det during this one.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL if @mode or @window is out of range (@det is then
 * untouched).
 */
int puma_detector_init(struct puma_detector *det, enum puma_detector_mode mode,
		       u64 window)
{
	int kind;

	if (!puma_detector_mode_valid(mode) ||
	    !puma_detector_window_valid(window))
		return -EINVAL;
	memset(det, 0, sizeof(*det));
	raw_spin_lock_init(&det->lock);
	det->mode = mode;
	det->window = window;
	for (kind = 0; kind < PUMA_DETECTOR_NR_KINDS; kind++)
		det->min_pages[kind] = 1;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_detector_init, PUMA);

/**
 * puma_detector_set_mode() - Choose which events count.
 * @det: Detector.
 * @mode: New mode.
 *
 * Applies to the events that follow.  A running suspension is not cut
 * short: it ends when a poll finds its window over, and in
 * %PUMA_DETECTOR_OFF mode nothing extends it any more.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL if @mode is not a mode.
 */
int puma_detector_set_mode(struct puma_detector *det,
			   enum puma_detector_mode mode)
{
	if (!puma_detector_mode_valid(mode))
		return -EINVAL;
	WRITE_ONCE(det->mode, mode);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_detector_set_mode, PUMA);

/**
 * puma_detector_set_window() - Change the hysteresis window.
 * @det: Detector.
 * @window: New window, in the caller's time unit; at least 1, at most
 *	%PUMA_DETECTOR_WINDOW_MAX.
 *
 * Applies from the next counted event: the deadline of a running
 * suspension does not move.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL if @window is out of range.
 */
int puma_detector_set_window(struct puma_detector *det, u64 window)
{
	unsigned long flags;

	if (!puma_detector_window_valid(window))
		return -EINVAL;
	raw_spin_lock_irqsave(&det->lock, flags);
	det->window = window;
	raw_spin_unlock_irqrestore(&det->lock, flags);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_detector_set_window, PUMA);

/**
 * puma_detector_set_min_pages() - Ignore small events of one kind.
 * @det: Detector.
 * @kind: Kind of event.
 * @nr_pages: Events of @kind with fewer pages are ignored.  1, the
 *	default, counts every event (as the paper does); an event of 0
 *	pages never counts, so 0 acts as 1.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL if @kind is not a kind.
 */
int puma_detector_set_min_pages(struct puma_detector *det,
				enum puma_detector_kind kind,
				unsigned long nr_pages)
{
	if ((unsigned int)kind >= PUMA_DETECTOR_NR_KINDS)
		return -EINVAL;
	WRITE_ONCE(det->min_pages[kind], nr_pages);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(puma_detector_set_min_pages);

/**
 * puma_detector_event() - Report an event.
 * @det: Detector.
 * @kind: What happened.
 * @nr_pages: How many pages it concerned.
 * @now: When, in the caller's time unit.
 *
 * An event counts if the mode includes @kind and @nr_pages is at least
 * the kind's minimum (and not 0).  A counted event suspends lending until
 * @now plus the window, or, if lending is already suspended, moves the end
 * of the suspension there (never earlier: an event stamped before an
 * earlier one, as concurrent callers may produce, does not shorten it).
 *
 * Context: Any context, interrupts on or off; does not sleep.  Takes the
 * detector's raw spinlock for counted events only.
 * Return: 1 if this event suspended lending, 0 if lending was already
 * suspended or the event does not count, -EINVAL if @kind is not a kind.
 */
int puma_detector_event(struct puma_detector *det,
			enum puma_detector_kind kind, unsigned long nr_pages,
			u64 now)
{
	unsigned long flags;
	int ret = 0;
	u64 until;

	if ((unsigned int)kind >= PUMA_DETECTOR_NR_KINDS)
		return -EINVAL;
	if (!(READ_ONCE(det->mode) & BIT(kind)) || !nr_pages ||
	    nr_pages < READ_ONCE(det->min_pages[kind]))
		return 0;

	raw_spin_lock_irqsave(&det->lock, flags);
	det->events[kind]++;
	until = now + det->window;
	if (!det->suspended) {
		WRITE_ONCE(det->suspended, true);
		det->since = now;
		det->until = until;
		det->last_reason = kind;
		det->suspends[kind]++;
		ret = 1;
	} else if (time_after64(until, det->until)) {
		det->until = until;
	}
	raw_spin_unlock_irqrestore(&det->lock, flags);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(puma_detector_event, PUMA);

/**
 * puma_detector_poll() - Resume lending if the window is over.
 * @det: Detector.
 * @now: The caller's current time.
 *
 * Lending resumes when @now is at or after the end of the suspension: a
 * suspension started by a lone event at time t lasts while now < t +
 * window.  The time suspended is counted up to @now.
 *
 * Context: Any context, interrupts on or off; does not sleep.  Takes the
 * detector's raw spinlock only while lending is suspended.
 * Return: true if this call resumed lending, false otherwise.
 */
bool puma_detector_poll(struct puma_detector *det, u64 now)
{
	unsigned long flags;
	bool resumed = false;

	if (!READ_ONCE(det->suspended))
		return false;

	raw_spin_lock_irqsave(&det->lock, flags);
	if (det->suspended && !time_before64(now, det->until)) {
		det->time_suspended += puma_detector_elapsed(det->since, now);
		WRITE_ONCE(det->suspended, false);
		resumed = true;
	}
	raw_spin_unlock_irqrestore(&det->lock, flags);
	return resumed;
}
EXPORT_SYMBOL_NS_GPL(puma_detector_poll, PUMA);

/**
 * puma_detector_suspended() - Is lending suspended?
 * @det: Detector.
 *
 * The state as of the last event or poll that changed it; only
 * puma_detector_poll() ends a suspension, even one whose window is over.
 *
 * Context: Any context.  Takes no lock.
 * Return: true while lending is suspended.
 */
bool puma_detector_suspended(const struct puma_detector *det)
{
	return READ_ONCE(det->suspended);
}
EXPORT_SYMBOL_NS_GPL(puma_detector_suspended, PUMA);

/**
 * puma_detector_next_poll() - When should the caller poll next?
 * @det: Detector.
 * @when: Set to the end of the current suspension, if there is one.
 *
 * A later event may move the end further; a poll at *@when then finds
 * lending still suspended, and the caller asks again.
 *
 * Context: Any context; does not sleep.  Takes the detector's raw
 * spinlock.
 * Return: true and *@when set if lending is suspended, false (and *@when
 * untouched) if not.
 */
bool puma_detector_next_poll(struct puma_detector *det, u64 *when)
{
	unsigned long flags;
	bool suspended;

	raw_spin_lock_irqsave(&det->lock, flags);
	suspended = det->suspended;
	if (suspended)
		*when = det->until;
	raw_spin_unlock_irqrestore(&det->lock, flags);
	return suspended;
}
EXPORT_SYMBOL_NS_GPL(puma_detector_next_poll, PUMA);

/**
 * puma_detector_get_stats() - Take a consistent snapshot of a detector.
 * @det: Detector.
 * @now: The caller's current time, to count the running suspension.
 * @stats: Filled in.
 *
 * Context: Any context; does not sleep.  Takes the detector's raw
 * spinlock.
 */
void puma_detector_get_stats(struct puma_detector *det, u64 now,
			     struct puma_detector_stats *stats)
{
	unsigned long flags;
	int kind;

	memset(stats, 0, sizeof(*stats));
	raw_spin_lock_irqsave(&det->lock, flags);
	stats->mode = READ_ONCE(det->mode);
	stats->window = det->window;
	stats->suspended = det->suspended;
	stats->last_reason = det->last_reason;
	stats->time_suspended = det->time_suspended;
	if (det->suspended) {
		stats->since = det->since;
		stats->until = det->until;
		stats->time_suspended += puma_detector_elapsed(det->since, now);
	}
	for (kind = 0; kind < PUMA_DETECTOR_NR_KINDS; kind++) {
		stats->suspends[kind] = det->suspends[kind];
		stats->suspend_count += det->suspends[kind];
		stats->events[kind] = det->events[kind];
	}
	raw_spin_unlock_irqrestore(&det->lock, flags);
}
EXPORT_SYMBOL_NS_GPL(puma_detector_get_stats, PUMA);

/**
 * puma_detector_mode_name() - Name of a mode.
 * @mode: Mode.
 *
 * Context: Any context.
 * Return: "off", "shadow", "deactivation" or "combined", or "invalid" if
 * @mode is not a mode.
 */
const char *puma_detector_mode_name(enum puma_detector_mode mode)
{
	if (!puma_detector_mode_valid(mode))
		return "invalid";
	return puma_detector_mode_names[mode];
}
EXPORT_SYMBOL_NS_GPL(puma_detector_mode_name, PUMA);

/**
 * puma_detector_parse_mode() - Mode of a name, for module parameters.
 * @name: "off", "shadow", "deactivation" or "combined", as
 *	puma_detector_mode_name() gives them; one trailing newline is
 *	accepted.
 *
 * Context: Any context.
 * Return: The &enum puma_detector_mode, or -EINVAL if @name names none.
 */
int puma_detector_parse_mode(const char *name)
{
	unsigned int mode;

	for (mode = 0; mode < ARRAY_SIZE(puma_detector_mode_names); mode++)
		if (sysfs_streq(name, puma_detector_mode_names[mode]))
			return mode;
	return -EINVAL;
}
EXPORT_SYMBOL_NS_GPL(puma_detector_parse_mode, PUMA);

/**
 * puma_detector_kind_name() - Name of a kind of event.
 * @kind: Kind.
 *
 * Context: Any context.
 * Return: "refault" or "deactivate", or "invalid" if @kind is not a kind.
 */
const char *puma_detector_kind_name(enum puma_detector_kind kind)
{
	if ((unsigned int)kind >= PUMA_DETECTOR_NR_KINDS)
		return "invalid";
	return puma_detector_kind_names[kind];
}
EXPORT_SYMBOL_NS_GPL(puma_detector_kind_name, PUMA);

/* The watcher: the plumbing around a detector. */

static void puma_detector_watch_fn(struct work_struct *work)
{
	struct puma_detector_watch *watch =
		container_of(to_delayed_work(work), struct puma_detector_watch,
			     work);
	struct puma_detector_stats st;
	u64 now = ktime_get_ns(), when;

	puma_detector_poll(&watch->det, now);
	puma_detector_get_stats(&watch->det, now, &st);
	/* Only this work reports, so the states go out in order. */
	if (st.suspended != watch->suspended) {
		watch->suspended = st.suspended;
		if (watch->changed)
			watch->changed(watch, st.suspended, st.suspended ?
				       puma_detector_kind_name(st.last_reason) :
				       "quiet");
	}
	if (puma_detector_next_poll(&watch->det, &when))
		queue_delayed_work(system_unbound_wq, &watch->work,
				   nsecs_to_jiffies(when > now ? when - now : 0) + 1);
}

/**
 * puma_detector_watch_init() - Set up a detector and its poll work.
 * @watch: The watcher.
 * @mode: Initial mode.
 * @window_ns: Hysteresis window, in nanoseconds.
 * @changed: Called when the state changes; may be %NULL.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL for a bad @mode or @window_ns.
 */
int puma_detector_watch_init(struct puma_detector_watch *watch,
			     enum puma_detector_mode mode, u64 window_ns,
			     puma_detector_changed_fn changed)
{
	INIT_DELAYED_WORK(&watch->work, puma_detector_watch_fn);
	watch->changed = changed;
	watch->suspended = false;
	return puma_detector_init(&watch->det, mode, window_ns);
}
EXPORT_SYMBOL_NS_GPL(puma_detector_watch_init, PUMA);

/**
 * puma_detector_watch_event() - Feed an event, and poll if it suspended.
 * @watch: The watcher.
 * @kind: Kind of the event.
 * @nr_pages: Pages it concerns.
 *
 * Context: Any context, hard interrupts included.
 */
void puma_detector_watch_event(struct puma_detector_watch *watch,
			       enum puma_detector_kind kind,
			       unsigned long nr_pages)
{
	if (puma_detector_event(&watch->det, kind, nr_pages,
				ktime_get_ns()) > 0)
		mod_delayed_work(system_unbound_wq, &watch->work, 0);
}
EXPORT_SYMBOL_NS_GPL(puma_detector_watch_event, PUMA);

/**
 * puma_detector_watch_stop() - Stop polling.
 * @watch: The watcher; no event may be fed any more.
 *
 * Context: Process context; sleeps.
 */
void puma_detector_watch_stop(struct puma_detector_watch *watch)
{
	cancel_delayed_work_sync(&watch->work);
}
EXPORT_SYMBOL_NS_GPL(puma_detector_watch_stop, PUMA);

/**
 * puma_detector_show() - Print a detector's state, one "name value" a line.
 * @m: Where to print.
 * @det: The detector.
 * @prefix: Before each name ("" for none).
 * @active: The state's name when not suspended ("lending", "taking").
 *
 * Context: Process context (a debugfs show function).
 */
void puma_detector_show(struct seq_file *m, struct puma_detector *det,
			const char *prefix, const char *active)
{
	struct puma_detector_stats st;

	puma_detector_get_stats(det, ktime_get_ns(), &st);
	seq_printf(m, "%smode %s\n", prefix, puma_detector_mode_name(st.mode));
	seq_printf(m, "%swindow_ms %llu\n", prefix,
		   div_u64(st.window, NSEC_PER_MSEC));
	seq_printf(m, "%sstate %s\n", prefix,
		   st.suspended ? "suspended" : active);
	seq_printf(m, "%ssuspend_count %llu\n", prefix, st.suspend_count);
	seq_printf(m, "%ssuspends_refault %llu\n", prefix,
		   st.suspends[PUMA_DETECTOR_REFAULT]);
	seq_printf(m, "%ssuspends_deactivate %llu\n", prefix,
		   st.suspends[PUMA_DETECTOR_DEACTIVATE]);
	seq_printf(m, "%slast_reason %s\n", prefix, st.suspend_count ?
		   puma_detector_kind_name(st.last_reason) : "none");
	seq_printf(m, "%sevents_refault %llu\n", prefix,
		   st.events[PUMA_DETECTOR_REFAULT]);
	seq_printf(m, "%sevents_deactivate %llu\n", prefix,
		   st.events[PUMA_DETECTOR_DEACTIVATE]);
	seq_printf(m, "%stime_suspended_ms %llu\n", prefix,
		   div_u64(st.time_suspended, NSEC_PER_MSEC));
}
EXPORT_SYMBOL_NS_GPL(puma_detector_show, PUMA);

static int puma_detector_param_set(const char *val,
				   const struct kernel_param *kp)
{
	struct puma_detector_param *p = kp->arg;
	char name[16];
	int mode;

	strscpy(name, val);
	strim(name);
	mode = puma_detector_parse_mode(name);
	if (mode < 0) {
		/* Named after the module whose parameter it is. */
		pr_err("%s: %s=%s: expected off, shadow, deactivation or combined\n",
		       kp->mod ? module_name(kp->mod) : "kernel", kp->name,
		       name);
		return mode;
	}
	/* Under kernel_param_lock(), as @p->watch is published. */
	WRITE_ONCE(p->mode, mode);
	/* Takes effect with the next event, or at the end of the window. */
	if (p->watch)
		puma_detector_set_mode(&p->watch->det, mode);
	return 0;
}

static int puma_detector_param_get(char *buf, const struct kernel_param *kp)
{
	const struct puma_detector_param *p = kp->arg;
	int mode = READ_ONCE(p->mode);

	if (mode == PUMA_DETECTOR_MODE_UNSET)
		return sysfs_emit(buf, "default\n");
	return sysfs_emit(buf, "%s\n", puma_detector_mode_name(mode));
}

const struct kernel_param_ops puma_detector_param_ops = {
	.set = puma_detector_param_set,
	.get = puma_detector_param_get,
};
EXPORT_SYMBOL_NS_GPL(puma_detector_param_ops, PUMA);
