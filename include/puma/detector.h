/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PUMA activity detector: suspend lending while the node's own I/O needs
 * its page cache.
 *
 * Generic: any cache that lends memory can ask it when to stop.
 */
#ifndef _PUMA_DETECTOR_H
#define _PUMA_DETECTOR_H

#include <linux/moduleparam.h>
#include <linux/spinlock_types.h>
#include <linux/time64.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct seq_file;

/**
 * DOC: PUMA activity detector
 *
 * A node that lends its idle memory must stop lending as soon as its own
 * work needs its page cache.  The detector turns two signals of the
 * kernel's LRU into a lending state, "active" or "suspended":
 *
 * - %PUMA_DETECTOR_REFAULT: file pages refaulted and were activated (a
 *   workingset "shadow hit"): fast, but bursty;
 * - %PUMA_DETECTOR_DEACTIVATE: reclaim deactivated active file pages to
 *   rebalance the lists: stable, but late.
 *
 * The mode chooses which signals count (&enum puma_detector_mode).  Each
 * counted event suspends lending for a hysteresis window (default 3 s)
 * that restarts at every new counted event; lending resumes once a whole
 * window passed without one.
 *
 * Time is the caller's: every call that needs it takes @now, a u64 in any
 * unit that the window uses too (ktime_get_ns() with a window in ns, or
 * jiffies with a window in jiffies).  Times are compared as time_after64()
 * does, so the clock may wrap; a window must be below 2^63 units.  Tests
 * drive the detector with scripted times.
 *
 * State changes are reported exactly once each, in order:
 * puma_detector_event() returns 1 when it suspends lending, and
 * puma_detector_poll() returns true when it resumes it.  Lending stays
 * suspended until a poll reports the resumption; an event that arrives
 * after the window ran out but before that poll extends the suspension, as
 * the caller never resumed.  The caller polls at the time
 * puma_detector_next_poll() gives (a timer or delayed work), or lazily
 * from its own fast path.
 *
 * Every function may be called from any context, with interrupts on or
 * off, concurrently with any other: the state sits under a raw spinlock
 * taken with interrupts saved, held for a few instructions.  Events that
 * the mode or the size threshold ignores do not take it.  The caller
 * serialises nothing but puma_detector_init() (before any other call) and
 * the lifetime of the structure.  A caller that acts on the reports from
 * several contexts (an event in reclaim, a poll in a work item) must order
 * its own actions; the simplest way is to act from one work item that
 * compares puma_detector_suspended() with what it last told its peers.
 */

/* Default hysteresis window in nanoseconds: 3 s, the paper's value. */
#define PUMA_DETECTOR_WINDOW_NS_DEFAULT	(3 * NSEC_PER_SEC)
/* Largest window: times are compared through a signed 64-bit difference. */
#define PUMA_DETECTOR_WINDOW_MAX	((u64)S64_MAX)

/**
 * enum puma_detector_kind - Kinds of events.
 * @PUMA_DETECTOR_REFAULT: File pages refaulted and were activated
 *	(cleancache ->refault()).
 * @PUMA_DETECTOR_DEACTIVATE: Reclaim moved active file pages to the
 *	inactive list (cleancache ->deactivate()).
 * @PUMA_DETECTOR_NR_KINDS: Number of kinds.
 */
enum puma_detector_kind {
	PUMA_DETECTOR_REFAULT,
	PUMA_DETECTOR_DEACTIVATE,
	PUMA_DETECTOR_NR_KINDS,
};

/**
 * enum puma_detector_mode - Which events suspend lending.
 * @PUMA_DETECTOR_OFF: None: lending is never suspended.
 * @PUMA_DETECTOR_SHADOW: Refault activations only.
 * @PUMA_DETECTOR_DEACTIVATION: Deactivations only.
 * @PUMA_DETECTOR_COMBINED: Both.
 *
 * A mode is the set of kinds it counts, bit (1 << kind) for each.
 */
enum puma_detector_mode {
	PUMA_DETECTOR_OFF = 0,
	PUMA_DETECTOR_SHADOW = 1 << PUMA_DETECTOR_REFAULT,
	PUMA_DETECTOR_DEACTIVATION = 1 << PUMA_DETECTOR_DEACTIVATE,
	PUMA_DETECTOR_COMBINED = PUMA_DETECTOR_SHADOW |
				 PUMA_DETECTOR_DEACTIVATION,
};

/**
 * struct puma_detector - State of an activity detector.
 * @lock: Protects the fields below but @mode and @min_pages.
 * @mode: &enum puma_detector_mode; read without the lock.
 * @min_pages: Smallest event, in pages, counted for each kind; read
 *	without the lock.
 * @window: Hysteresis window, in the caller's time unit.
 * @suspended: Lending is suspended.
 * @since: When the current suspension started.
 * @until: When the current suspension may end.
 * @last_reason: Kind of the event that started the last suspension.
 * @suspends: Suspensions started, by kind of event.
 * @events: Events counted, by kind.
 * @time_suspended: Length of the suspensions that ended.
 *
 * Owned by the caller, set up by puma_detector_init(); read it through
 * the functions only.
 */
struct puma_detector {
	raw_spinlock_t lock;
	unsigned int mode;
	unsigned long min_pages[PUMA_DETECTOR_NR_KINDS];
	u64 window;
	bool suspended;
	u64 since;
	u64 until;
	enum puma_detector_kind last_reason;
	u64 suspends[PUMA_DETECTOR_NR_KINDS];
	u64 events[PUMA_DETECTOR_NR_KINDS];
	u64 time_suspended;
};

/**
 * struct puma_detector_stats - A snapshot of a detector.
 * @mode: Current mode.
 * @window: Current window.
 * @suspended: Lending is suspended.
 * @since: When the current suspension started; valid if @suspended.
 * @until: When the current suspension may end, unless another event
 *	comes; valid if @suspended.
 * @suspend_count: Suspensions started since puma_detector_init().
 * @suspends: The same, by kind of the event that started them.
 * @last_reason: Kind of the event that started the last suspension;
 *	valid if @suspend_count is not 0.
 * @events: Events counted (not ignored), by kind.
 * @time_suspended: Total time suspended, including the current
 *	suspension up to the time of the snapshot.
 */
struct puma_detector_stats {
	enum puma_detector_mode mode;
	u64 window;
	bool suspended;
	u64 since;
	u64 until;
	u64 suspend_count;
	u64 suspends[PUMA_DETECTOR_NR_KINDS];
	enum puma_detector_kind last_reason;
	u64 events[PUMA_DETECTOR_NR_KINDS];
	u64 time_suspended;
};

int puma_detector_init(struct puma_detector *det, enum puma_detector_mode mode,
		       u64 window);
int puma_detector_set_mode(struct puma_detector *det,
			   enum puma_detector_mode mode);
int puma_detector_set_window(struct puma_detector *det, u64 window);

int puma_detector_event(struct puma_detector *det,
			enum puma_detector_kind kind, unsigned long nr_pages,
			u64 now);
bool puma_detector_poll(struct puma_detector *det, u64 now);

bool puma_detector_suspended(const struct puma_detector *det);
bool puma_detector_next_poll(struct puma_detector *det, u64 *when);
void puma_detector_get_stats(struct puma_detector *det, u64 now,
			     struct puma_detector_stats *stats);

const char *puma_detector_mode_name(enum puma_detector_mode mode);
int puma_detector_parse_mode(const char *name);
const char *puma_detector_kind_name(enum puma_detector_kind kind);

/*
 * The plumbing every user needs around a detector: a poll at the end of
 * each window, a callback when the state changes, a "detector" module
 * parameter and the debugfs lines.  Times are ktime_get_ns().
 */
struct puma_detector_watch;

/**
 * typedef puma_detector_changed_fn - The watched detector changed state.
 * @watch: The watcher.
 * @suspended: Its state now.
 * @reason: What caused it: the kind of the event that suspended it, or
 *	"quiet" when it resumed.
 *
 * Called from the watcher's work item, in the order the states came.
 */
typedef void (*puma_detector_changed_fn)(struct puma_detector_watch *watch,
					 bool suspended, const char *reason);

/**
 * struct puma_detector_watch - A detector with its poll work.
 * @det: The detector.
 * @work: Polls @det when it is kicked and at the end of each window.
 * @changed: Called when the state changes; may be %NULL.
 * @suspended: The state last reported to @changed.
 */
struct puma_detector_watch {
	struct puma_detector det;
	struct delayed_work work;
	puma_detector_changed_fn changed;
	bool suspended;
};

int puma_detector_watch_init(struct puma_detector_watch *watch,
			     enum puma_detector_mode mode, u64 window_ns,
			     puma_detector_changed_fn changed);
void puma_detector_watch_event(struct puma_detector_watch *watch,
			       enum puma_detector_kind kind,
			       unsigned long nr_pages);
void puma_detector_watch_stop(struct puma_detector_watch *watch);
void puma_detector_show(struct seq_file *m, struct puma_detector *det,
			const char *prefix, const char *active);

/* The mode is the module's default until someone sets it. */
#define PUMA_DETECTOR_MODE_UNSET	(-1)

/**
 * struct puma_detector_param - What a "detector" module parameter points at.
 * @mode: The mode set, or %PUMA_DETECTOR_MODE_UNSET.
 * @watch: The running watcher a new mode applies to, or %NULL.  Published
 *	and withdrawn under kernel_param_lock() of the module.
 *
 * Use with module_param_cb(name, &puma_detector_param_ops, &param, 0644).
 */
struct puma_detector_param {
	int mode;
	struct puma_detector_watch *watch;
};

extern const struct kernel_param_ops puma_detector_param_ops;

#endif /* _PUMA_DETECTOR_H */
