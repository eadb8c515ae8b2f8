// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite "puma_detector": the PUMA activity detector.
 *
 * Every mode over one scripted stream of events and polls (the paper's
 * concurrent-load scenario in miniature), window expiry one unit before
 * and exactly at the boundary, restart on each new event, bursts, late
 * and out-of-order events, clock wrap, counters, parameter validation,
 * and an event from hard interrupt context under lockdep.  All times are
 * scripted: nothing depends on the real clock.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/errno.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/limits.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/spinlock.h>
#include <linux/preempt.h>
#include <linux/string.h>

#include <puma/detector.h>

#include "../lib/internal.h"

#define S	NSEC_PER_SEC
#define MS	NSEC_PER_MSEC
#define W	PUMA_DETECTOR_WINDOW_NS_DEFAULT

#define REFAULT		PUMA_DETECTOR_REFAULT
#define DEACTIVATE	PUMA_DETECTOR_DEACTIVATE

static void det_setup(struct kunit *test, struct puma_detector *d,
		      enum puma_detector_mode mode)
{
	KUNIT_ASSERT_EQ(test, puma_detector_init(d, mode, W), 0);
}

static u64 det_until(struct kunit *test, struct puma_detector *d)
{
	u64 when = 0;

	KUNIT_EXPECT_TRUE(test, puma_detector_next_poll(d, &when));
	return when;
}

/* One step of a script: an event of a kind, or a poll (kind < 0). */
struct det_step {
	int kind;
	unsigned long nr;
	u64 t;
};

#define POLL	(-1)

/*
 * The stream every mode runs: a refault at 0 and a deactivation at 0.5 s
 * (as a server's I/O starts), polls around the ends of the windows, a
 * lone refault at 4 s, a lone deactivation at 7.5 s.
 */
static const struct det_step det_stream[] = {
	{ REFAULT, 1, 0 },
	{ DEACTIVATE, 32, 500 * MS },
	{ POLL, 0, 2900 * MS },
	{ POLL, 0, 3000 * MS },
	{ POLL, 0, 3500 * MS },
	{ REFAULT, 1, 4000 * MS },
	{ POLL, 0, 6999 * MS },
	{ POLL, 0, 7000 * MS },
	{ DEACTIVATE, 32, 7500 * MS },
	{ POLL, 0, 10500 * MS },
};

/* What each step returns and whether lending is suspended after it. */
struct det_expect {
	int ret;
	bool suspended;
};

struct det_mode_case {
	const char *name;
	enum puma_detector_mode mode;
	struct det_expect expect[ARRAY_SIZE(det_stream)];
	u64 suspends[PUMA_DETECTOR_NR_KINDS];
	u64 events[PUMA_DETECTOR_NR_KINDS];
	u64 time_suspended;
};

static const struct det_mode_case det_mode_cases[] = {
	{
		.name = "off",
		.mode = PUMA_DETECTOR_OFF,
		.expect = { {0, false}, {0, false}, {0, false}, {0, false},
			    {0, false}, {0, false}, {0, false}, {0, false},
			    {0, false}, {0, false} },
	},
	{
		/* Refaults only: suspended [0, 3 s) and [4 s, 7 s). */
		.name = "shadow",
		.mode = PUMA_DETECTOR_SHADOW,
		.expect = { {1, true}, {0, true}, {0, true}, {1, false},
			    {0, false}, {1, true}, {0, true}, {1, false},
			    {0, false}, {0, false} },
		.suspends = { 2, 0 },
		.events = { 2, 0 },
		.time_suspended = 6 * S,
	},
	{
		/* Deactivations only: [0.5 s, 3.5 s) and [7.5 s, 10.5 s). */
		.name = "deactivation",
		.mode = PUMA_DETECTOR_DEACTIVATION,
		.expect = { {0, false}, {1, true}, {0, true}, {0, true},
			    {1, false}, {0, false}, {0, false}, {0, false},
			    {1, true}, {1, false} },
		.suspends = { 0, 2 },
		.events = { 0, 2 },
		.time_suspended = 6 * S,
	},
	{
		/*
		 * Both: [0, 3.5 s) (the deactivation restarts the window),
		 * [4 s, 7 s) and [7.5 s, 10.5 s).
		 */
		.name = "combined",
		.mode = PUMA_DETECTOR_COMBINED,
		.expect = { {1, true}, {0, true}, {0, true}, {0, true},
			    {1, false}, {1, true}, {0, true}, {1, false},
			    {1, true}, {1, false} },
		.suspends = { 2, 1 },
		.events = { 2, 2 },
		.time_suspended = 3500 * MS + 6 * S,
	},
};

static void det_mode_case_desc(const struct det_mode_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(det_mode, det_mode_cases, det_mode_case_desc);

static int det_do(struct puma_detector *d, const struct det_step *s)
{
	if (s->kind == POLL)
		return puma_detector_poll(d, s->t);
	return puma_detector_event(d, s->kind, s->nr, s->t);
}

static void puma_detector_event_scripted_stream(struct kunit *test)
{
	const struct det_mode_case *c = test->param_value;
	struct puma_detector_stats st;
	struct puma_detector d;
	int i;

	det_setup(test, &d, c->mode);
	for (i = 0; i < ARRAY_SIZE(det_stream); i++) {
		KUNIT_EXPECT_EQ_MSG(test, det_do(&d, &det_stream[i]),
				    c->expect[i].ret, "step %d", i);
		KUNIT_EXPECT_EQ_MSG(test, puma_detector_suspended(&d),
				    c->expect[i].suspended, "step %d", i);
	}
	puma_detector_get_stats(&d, 20 * S, &st);
	KUNIT_EXPECT_EQ(test, st.mode, c->mode);
	KUNIT_EXPECT_FALSE(test, st.suspended);
	KUNIT_EXPECT_EQ(test, st.suspend_count,
			c->suspends[REFAULT] + c->suspends[DEACTIVATE]);
	KUNIT_EXPECT_EQ(test, st.suspends[REFAULT], c->suspends[REFAULT]);
	KUNIT_EXPECT_EQ(test, st.suspends[DEACTIVATE],
			c->suspends[DEACTIVATE]);
	KUNIT_EXPECT_EQ(test, st.events[REFAULT], c->events[REFAULT]);
	KUNIT_EXPECT_EQ(test, st.events[DEACTIVATE], c->events[DEACTIVATE]);
	KUNIT_EXPECT_EQ(test, st.time_suspended, c->time_suspended);
}

static void puma_detector_init_rejects_bad_input(struct kunit *test)
{
	struct puma_detector d;

	memset(&d, 0xa5, sizeof(d));
	KUNIT_EXPECT_EQ(test, puma_detector_init(&d, 4, W), -EINVAL);
	KUNIT_EXPECT_EQ(test, puma_detector_init(&d, -1, W), -EINVAL);
	KUNIT_EXPECT_EQ(test, puma_detector_init(&d, PUMA_DETECTOR_SHADOW, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, puma_detector_init(&d, PUMA_DETECTOR_SHADOW,
						 PUMA_DETECTOR_WINDOW_MAX + 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, puma_detector_init(&d, PUMA_DETECTOR_SHADOW,
						 U64_MAX), -EINVAL);
	/* Untouched on error. */
	KUNIT_EXPECT_EQ(test, d.window, 0xa5a5a5a5a5a5a5a5ULL);
	KUNIT_EXPECT_EQ(test, puma_detector_init(&d, PUMA_DETECTOR_SHADOW,
						 PUMA_DETECTOR_WINDOW_MAX), 0);
	KUNIT_EXPECT_EQ(test, puma_detector_init(&d, PUMA_DETECTOR_SHADOW, 1),
			0);
}

static void puma_detector_init_starts_lending(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;
	u64 when = 42;

	det_setup(test, &d, PUMA_DETECTOR_COMBINED);
	KUNIT_EXPECT_FALSE(test, puma_detector_suspended(&d));
	KUNIT_EXPECT_FALSE(test, puma_detector_next_poll(&d, &when));
	KUNIT_EXPECT_EQ(test, when, 42ULL);
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, 0));
	puma_detector_get_stats(&d, 5 * S, &st);
	KUNIT_EXPECT_EQ(test, st.mode, PUMA_DETECTOR_COMBINED);
	KUNIT_EXPECT_EQ(test, st.window, W);
	KUNIT_EXPECT_FALSE(test, st.suspended);
	KUNIT_EXPECT_EQ(test, st.suspend_count, 0ULL);
	KUNIT_EXPECT_EQ(test, st.events[REFAULT], 0ULL);
	KUNIT_EXPECT_EQ(test, st.events[DEACTIVATE], 0ULL);
	KUNIT_EXPECT_EQ(test, st.time_suspended, 0ULL);
}

static void puma_detector_poll_before_window_end_keeps_suspension(struct kunit *test)
{
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 10 * S), 1);
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, 10 * S));
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, 10 * S + W - 1));
	KUNIT_EXPECT_TRUE(test, puma_detector_suspended(&d));
}

static void puma_detector_poll_at_window_end_resumes(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 10 * S), 1);
	KUNIT_EXPECT_EQ(test, det_until(test, &d), 10 * S + W);
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, 10 * S + W));
	KUNIT_EXPECT_FALSE(test, puma_detector_suspended(&d));
	/* Reported once. */
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, 10 * S + W));
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, 100 * S));
	puma_detector_get_stats(&d, 100 * S, &st);
	KUNIT_EXPECT_EQ(test, st.time_suspended, W);
}

static void puma_detector_poll_late_counts_time_to_poll(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 0), 1);
	/* Lending resumed when the caller learnt it could, at the poll. */
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, W + 250 * MS));
	puma_detector_get_stats(&d, 100 * S, &st);
	KUNIT_EXPECT_EQ(test, st.time_suspended, W + 250 * MS);
}

static void puma_detector_event_restarts_window(struct kunit *test)
{
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_DEACTIVATION);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 32, 0), 1);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 32, 2 * S),
			0);
	KUNIT_EXPECT_EQ(test, det_until(test, &d), 2 * S + W);
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, W));
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, 2 * S + W - 1));
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, 2 * S + W));
}

static void puma_detector_event_one_before_expiry_restarts(struct kunit *test)
{
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 0), 1);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, W - 1), 0);
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, W));
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, 2 * W - 2));
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, 2 * W - 1));
}

/* An event exactly at the end of the window, before the poll. */
static void puma_detector_event_at_expiry_before_poll_extends(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 0), 1);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, W), 0);
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, W));
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, 2 * W - 1));
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, 2 * W));
	puma_detector_get_stats(&d, 2 * W, &st);
	KUNIT_EXPECT_EQ(test, st.suspend_count, 1ULL);
	KUNIT_EXPECT_EQ(test, st.time_suspended, 2 * W);
}

/* An event at the end of the window, after the poll: a new suspension. */
static void puma_detector_event_at_expiry_after_poll_suspends(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 0), 1);
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, W));
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, W), 1);
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, 2 * W));
	puma_detector_get_stats(&d, 2 * W, &st);
	KUNIT_EXPECT_EQ(test, st.suspend_count, 2ULL);
	KUNIT_EXPECT_EQ(test, st.time_suspended, 2 * W);
}

static void puma_detector_event_burst_suspends_once(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;
	int i, started = 0;

	det_setup(test, &d, PUMA_DETECTOR_COMBINED);
	/* 10,000 refaults and deactivations, one every 100 us, for 1 s. */
	for (i = 0; i < 10000; i++)
		started += puma_detector_event(&d, i % 3 ? REFAULT : DEACTIVATE,
					       1 + i % 32,
					       (u64)i * 100 * NSEC_PER_USEC);
	KUNIT_EXPECT_EQ(test, started, 1);
	KUNIT_EXPECT_EQ(test, det_until(test, &d),
			9999ULL * 100 * NSEC_PER_USEC + W);
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d,
						    9999ULL * 100 * NSEC_PER_USEC +
						    W - 1));
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d,
						   9999ULL * 100 * NSEC_PER_USEC +
						   W));
	puma_detector_get_stats(&d, 0, &st);
	KUNIT_EXPECT_EQ(test, st.suspend_count, 1ULL);
	KUNIT_EXPECT_EQ(test, st.last_reason, DEACTIVATE);
	KUNIT_EXPECT_EQ(test, st.events[REFAULT], 6666ULL);
	KUNIT_EXPECT_EQ(test, st.events[DEACTIVATE], 3334ULL);
}

/* Bursts separated by more than a window: one suspension each. */
static void puma_detector_event_bursts_apart_suspend_each(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;
	int burst, i, started = 0, resumed = 0;
	u64 t = 0;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	for (burst = 0; burst < 5; burst++) {
		for (i = 0; i < 100; i++, t += MS)
			started += puma_detector_event(&d, REFAULT, 1, t);
		/* The last event was at t - 1 ms. */
		resumed += puma_detector_poll(&d, t - MS + W - 1);
		resumed += puma_detector_poll(&d, t - MS + W);
		t += W + S;
	}
	KUNIT_EXPECT_EQ(test, started, 5);
	KUNIT_EXPECT_EQ(test, resumed, 5);
	puma_detector_get_stats(&d, t, &st);
	KUNIT_EXPECT_EQ(test, st.suspend_count, 5ULL);
	KUNIT_EXPECT_EQ(test, st.time_suspended, 5 * (99 * MS + W));
}

static void puma_detector_event_out_of_order_never_shortens(struct kunit *test)
{
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 2 * S), 1);
	/* Stamped before the first, reported after it. */
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 1 * S), 0);
	KUNIT_EXPECT_EQ(test, det_until(test, &d), 2 * S + W);
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, 1 * S + W));
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, 2 * S + W));
}

static void puma_detector_event_rejects_bad_kind(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_COMBINED);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, PUMA_DETECTOR_NR_KINDS,
						  1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, -1, 1, 0), -EINVAL);
	KUNIT_EXPECT_FALSE(test, puma_detector_suspended(&d));
	puma_detector_get_stats(&d, 0, &st);
	KUNIT_EXPECT_EQ(test, st.events[REFAULT] + st.events[DEACTIVATE], 0ULL);
}

static void puma_detector_event_ignores_zero_pages(struct kunit *test)
{
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_COMBINED);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 0, 0), 0);
	KUNIT_EXPECT_FALSE(test, puma_detector_suspended(&d));
	KUNIT_ASSERT_EQ(test, puma_detector_set_min_pages(&d, REFAULT, 0), 0);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 0), 1);
}

static void puma_detector_set_min_pages_ignores_small_events(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_COMBINED);
	KUNIT_ASSERT_EQ(test, puma_detector_set_min_pages(&d, DEACTIVATE, 32),
			0);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 31, 0), 0);
	KUNIT_EXPECT_FALSE(test, puma_detector_suspended(&d));
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 32, S), 1);
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, S + W));
	/* The other kind keeps its own minimum. */
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 10 * S), 1);
	/* A small event does not extend a suspension either. */
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 31, 11 * S),
			0);
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, 10 * S + W));
	puma_detector_get_stats(&d, 0, &st);
	KUNIT_EXPECT_EQ(test, st.events[DEACTIVATE], 1ULL);
	KUNIT_EXPECT_EQ(test, st.events[REFAULT], 1ULL);
	KUNIT_EXPECT_EQ(test, puma_detector_set_min_pages(&d,
							  PUMA_DETECTOR_NR_KINDS,
							  1), -EINVAL);
}

static void puma_detector_poll_handles_clock_wrap(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;
	u64 t0 = U64_MAX - W / 2;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, t0), 1);
	/* The deadline wrapped past 0. */
	KUNIT_EXPECT_EQ(test, det_until(test, &d), t0 + W);
	KUNIT_EXPECT_LT(test, t0 + W, t0);
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, U64_MAX));
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, 0));
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, t0 + W - 1));
	puma_detector_get_stats(&d, 5, &st);
	KUNIT_EXPECT_EQ(test, st.time_suspended, W / 2 + 6);
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, t0 + W));
	puma_detector_get_stats(&d, t0 + W, &st);
	KUNIT_EXPECT_EQ(test, st.time_suspended, W);
}

static void puma_detector_event_restarts_window_across_wrap(struct kunit *test)
{
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_DEACTIVATION);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 8,
						  U64_MAX - 10), 1);
	/* 16 units later, after the wrap: the window restarts. */
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 8, 5), 0);
	KUNIT_EXPECT_EQ(test, det_until(test, &d), 5 + W);
	/* An older stamp from before the wrap does not pull it back. */
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 8,
						  U64_MAX - 5), 0);
	KUNIT_EXPECT_EQ(test, det_until(test, &d), 5 + W);
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, 4 + W));
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, 5 + W));
}

static void puma_detector_poll_handles_jiffies_clock(struct kunit *test)
{
	struct puma_detector d;
	/* jiffies as a 64-bit clock about to wrap, window 3 s in jiffies. */
	u64 t0 = (u64)-(HZ / 2);

	KUNIT_ASSERT_EQ(test, puma_detector_init(&d, PUMA_DETECTOR_SHADOW,
						 3 * HZ), 0);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, t0), 1);
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, t0 + 3 * HZ - 1));
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, t0 + 3 * HZ));
}

static void puma_detector_get_stats_counts_suspensions(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_COMBINED);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 0), 1);
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, W));
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 64, 10 * S),
			1);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 11 * S), 0);
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, 11 * S + W));
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 4, 20 * S), 1);

	/* 1 s into the third suspension. */
	puma_detector_get_stats(&d, 21 * S, &st);
	KUNIT_EXPECT_TRUE(test, st.suspended);
	KUNIT_EXPECT_EQ(test, st.since, 20 * S);
	KUNIT_EXPECT_EQ(test, st.until, 20 * S + W);
	KUNIT_EXPECT_EQ(test, st.suspend_count, 3ULL);
	KUNIT_EXPECT_EQ(test, st.suspends[REFAULT], 2ULL);
	KUNIT_EXPECT_EQ(test, st.suspends[DEACTIVATE], 1ULL);
	KUNIT_EXPECT_EQ(test, st.last_reason, REFAULT);
	KUNIT_EXPECT_EQ(test, st.events[REFAULT], 3ULL);
	KUNIT_EXPECT_EQ(test, st.events[DEACTIVATE], 1ULL);
	KUNIT_EXPECT_EQ(test, st.time_suspended, W + (S + W) + S);
	/* A snapshot stamped before the suspension counts none of it. */
	puma_detector_get_stats(&d, 19 * S, &st);
	KUNIT_EXPECT_EQ(test, st.time_suspended, W + (S + W));
}

static void puma_detector_get_stats_reports_last_reason(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_COMBINED);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 32, 0), 1);
	/* Extending events do not change the reason. */
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, S), 0);
	puma_detector_get_stats(&d, S, &st);
	KUNIT_EXPECT_EQ(test, st.last_reason, DEACTIVATE);
	KUNIT_EXPECT_STREQ(test, puma_detector_kind_name(st.last_reason),
			   "deactivate");
}

static void puma_detector_set_mode_applies_to_later_events(struct kunit *test)
{
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 0), 1);
	KUNIT_ASSERT_EQ(test, puma_detector_set_mode(&d, PUMA_DETECTOR_OFF), 0);
	/* The suspension runs out; nothing extends it any more. */
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, S), 0);
	KUNIT_EXPECT_TRUE(test, puma_detector_suspended(&d));
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, W));
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 5 * S), 0);
	KUNIT_ASSERT_EQ(test,
			puma_detector_set_mode(&d, PUMA_DETECTOR_DEACTIVATION),
			0);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 6 * S), 0);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 1, 6 * S),
			1);
	KUNIT_EXPECT_EQ(test, puma_detector_set_mode(&d, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, puma_detector_set_mode(&d, -1), -EINVAL);
}

static void puma_detector_set_window_applies_from_next_event(struct kunit *test)
{
	struct puma_detector_stats st;
	struct puma_detector d;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 0), 1);
	KUNIT_ASSERT_EQ(test, puma_detector_set_window(&d, 10 * S), 0);
	KUNIT_EXPECT_EQ(test, det_until(test, &d), W);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, S), 0);
	KUNIT_EXPECT_EQ(test, det_until(test, &d), 11 * S);
	KUNIT_EXPECT_EQ(test, puma_detector_set_window(&d, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test,
			puma_detector_set_window(&d,
						 PUMA_DETECTOR_WINDOW_MAX + 1),
			-EINVAL);
	puma_detector_get_stats(&d, S, &st);
	KUNIT_EXPECT_EQ(test, st.window, 10 * S);
}

static void puma_detector_next_poll_follows_deadline(struct kunit *test)
{
	struct puma_detector d;
	u64 when = 0;

	det_setup(test, &d, PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_FALSE(test, puma_detector_next_poll(&d, &when));
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 7), 1);
	KUNIT_EXPECT_TRUE(test, puma_detector_next_poll(&d, &when));
	KUNIT_EXPECT_EQ(test, when, 7 + W);
	/* Polling at the first deadline after a new event: ask again. */
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, REFAULT, 1, 8), 0);
	KUNIT_EXPECT_FALSE(test, puma_detector_poll(&d, when));
	KUNIT_EXPECT_TRUE(test, puma_detector_next_poll(&d, &when));
	KUNIT_EXPECT_EQ(test, when, 8 + W);
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, when));
	KUNIT_EXPECT_FALSE(test, puma_detector_next_poll(&d, &when));
}

static void puma_detector_parse_mode_round_trips(struct kunit *test)
{
	static const enum puma_detector_mode modes[] = {
		PUMA_DETECTOR_OFF, PUMA_DETECTOR_SHADOW,
		PUMA_DETECTOR_DEACTIVATION, PUMA_DETECTOR_COMBINED,
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		KUNIT_EXPECT_EQ(test,
				puma_detector_parse_mode(puma_detector_mode_name(modes[i])),
				(int)modes[i]);
	KUNIT_EXPECT_STREQ(test, puma_detector_mode_name(PUMA_DETECTOR_OFF),
			   "off");
	KUNIT_EXPECT_STREQ(test, puma_detector_mode_name(PUMA_DETECTOR_COMBINED),
			   "combined");
	KUNIT_EXPECT_EQ(test, puma_detector_parse_mode("shadow\n"),
			(int)PUMA_DETECTOR_SHADOW);
	KUNIT_EXPECT_EQ(test, puma_detector_parse_mode("Shadow"), -EINVAL);
	KUNIT_EXPECT_EQ(test, puma_detector_parse_mode(""), -EINVAL);
	KUNIT_EXPECT_EQ(test, puma_detector_parse_mode("invalid"), -EINVAL);
	KUNIT_EXPECT_STREQ(test, puma_detector_mode_name(4), "invalid");
	KUNIT_EXPECT_STREQ(test, puma_detector_kind_name(REFAULT), "refault");
	KUNIT_EXPECT_STREQ(test, puma_detector_kind_name(2), "invalid");
}

struct det_irq {
	struct hrtimer timer;
	struct puma_detector *det;
	struct completion done;
	bool in_hardirq;
	int ret;
};

static enum hrtimer_restart det_irq_fn(struct hrtimer *timer)
{
	struct det_irq *x = container_of(timer, struct det_irq, timer);

	x->in_hardirq = in_hardirq();
	x->ret = puma_detector_event(x->det, REFAULT, 1, 0);
	complete(&x->done);
	return HRTIMER_NORESTART;
}

/* From a hard interrupt and from process context: lockdep must agree. */
static void puma_detector_event_from_hardirq(struct kunit *test)
{
	struct puma_detector d;
	struct det_irq x = { .det = &d };

	det_setup(test, &d, PUMA_DETECTOR_COMBINED);
	init_completion(&x.done);
	hrtimer_init_on_stack(&x.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	x.timer.function = det_irq_fn;
	hrtimer_start(&x.timer, ms_to_ktime(1), HRTIMER_MODE_REL_HARD);
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&x.done, 10 * HZ),
			0UL);
	hrtimer_cancel(&x.timer);
	destroy_hrtimer_on_stack(&x.timer);

	KUNIT_EXPECT_TRUE(test, x.in_hardirq);
	KUNIT_EXPECT_EQ(test, x.ret, 1);
	KUNIT_EXPECT_EQ(test, puma_detector_event(&d, DEACTIVATE, 1, S), 0);
	KUNIT_EXPECT_TRUE(test, puma_detector_poll(&d, S + W));
}

/* The watcher: its work reports each change once, in order. */
struct det_watched {
	struct puma_detector_watch watch;
	spinlock_t lock;	/* the fields below */
	unsigned int nr;
	bool states[4];
	char reasons[4][16];
};

static void det_watched_changed(struct puma_detector_watch *watch,
				bool suspended, const char *reason)
{
	struct det_watched *w = container_of(watch, struct det_watched, watch);

	spin_lock(&w->lock);
	if (w->nr < ARRAY_SIZE(w->states)) {
		w->states[w->nr] = suspended;
		strscpy(w->reasons[w->nr], reason);
	}
	w->nr++;
	spin_unlock(&w->lock);
}

static unsigned int det_watched_nr(struct det_watched *w)
{
	unsigned int nr;

	spin_lock(&w->lock);
	nr = w->nr;
	spin_unlock(&w->lock);
	return nr;
}

static void puma_detector_watch_event_reports_each_change(struct kunit *test)
{
	struct det_watched *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	unsigned long end;
	int err;

	KUNIT_ASSERT_NOT_NULL(test, w);
	spin_lock_init(&w->lock);
	err = puma_detector_watch_init(&w->watch, PUMA_DETECTOR_COMBINED,
				       50 * NSEC_PER_MSEC, det_watched_changed);
	KUNIT_ASSERT_EQ(test, err, 0);
	/* Three events in one window: one suspension, then one resume. */
	puma_detector_watch_event(&w->watch, PUMA_DETECTOR_REFAULT, 1);
	puma_detector_watch_event(&w->watch, PUMA_DETECTOR_DEACTIVATE, 1);
	puma_detector_watch_event(&w->watch, PUMA_DETECTOR_REFAULT, 1);
	end = jiffies + 10 * HZ;
	while (det_watched_nr(w) < 2 && time_before(jiffies, end))
		msleep(20);
	/* Nothing more comes once it resumed. */
	msleep(200);
	puma_detector_watch_stop(&w->watch);
	KUNIT_ASSERT_EQ(test, w->nr, 2U);
	KUNIT_EXPECT_TRUE(test, w->states[0]);
	KUNIT_EXPECT_STREQ(test, w->reasons[0], "refault");
	KUNIT_EXPECT_FALSE(test, w->states[1]);
	KUNIT_EXPECT_STREQ(test, w->reasons[1], "quiet");
	KUNIT_EXPECT_FALSE(test, puma_detector_suspended(&w->watch.det));
}

static void puma_detector_param_ops_set_mode_of_watcher(struct kunit *test)
{
	struct puma_detector_watch *watch = kunit_kzalloc(test, sizeof(*watch),
							  GFP_KERNEL);
	struct puma_detector_param p = { .mode = PUMA_DETECTOR_MODE_UNSET };
	struct kernel_param kp = { .name = "detector", .arg = &p };
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, watch);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, puma_detector_watch_init(watch, PUMA_DETECTOR_COMBINED,
						       S, NULL), 0);
	KUNIT_EXPECT_GT(test, puma_detector_param_ops.get(buf, &kp), 0);
	KUNIT_EXPECT_STREQ(test, buf, "default\n");
	KUNIT_EXPECT_EQ(test, puma_detector_param_ops.set("bogus", &kp),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, p.mode, PUMA_DETECTOR_MODE_UNSET);
	p.watch = watch;
	KUNIT_EXPECT_EQ(test, puma_detector_param_ops.set("shadow\n", &kp), 0);
	KUNIT_EXPECT_EQ(test, p.mode, (int)PUMA_DETECTOR_SHADOW);
	/* The running watcher now ignores deactivations. */
	puma_detector_watch_event(watch, PUMA_DETECTOR_DEACTIVATE, 1);
	KUNIT_EXPECT_FALSE(test, puma_detector_suspended(&watch->det));
	KUNIT_EXPECT_GT(test, puma_detector_param_ops.get(buf, &kp), 0);
	KUNIT_EXPECT_STREQ(test, buf, "shadow\n");
	puma_detector_watch_stop(watch);
}

static struct kunit_case puma_detector_cases[] = {
	KUNIT_CASE_PARAM(puma_detector_event_scripted_stream,
			 det_mode_gen_params),
	KUNIT_CASE(puma_detector_init_rejects_bad_input),
	KUNIT_CASE(puma_detector_init_starts_lending),
	KUNIT_CASE(puma_detector_poll_before_window_end_keeps_suspension),
	KUNIT_CASE(puma_detector_poll_at_window_end_resumes),
	KUNIT_CASE(puma_detector_poll_late_counts_time_to_poll),
	KUNIT_CASE(puma_detector_event_restarts_window),
	KUNIT_CASE(puma_detector_event_one_before_expiry_restarts),
	KUNIT_CASE(puma_detector_event_at_expiry_before_poll_extends),
	KUNIT_CASE(puma_detector_event_at_expiry_after_poll_suspends),
	KUNIT_CASE(puma_detector_event_burst_suspends_once),
	KUNIT_CASE(puma_detector_event_bursts_apart_suspend_each),
	KUNIT_CASE(puma_detector_event_out_of_order_never_shortens),
	KUNIT_CASE(puma_detector_event_rejects_bad_kind),
	KUNIT_CASE(puma_detector_event_ignores_zero_pages),
	KUNIT_CASE(puma_detector_set_min_pages_ignores_small_events),
	KUNIT_CASE(puma_detector_poll_handles_clock_wrap),
	KUNIT_CASE(puma_detector_event_restarts_window_across_wrap),
	KUNIT_CASE(puma_detector_poll_handles_jiffies_clock),
	KUNIT_CASE(puma_detector_get_stats_counts_suspensions),
	KUNIT_CASE(puma_detector_get_stats_reports_last_reason),
	KUNIT_CASE(puma_detector_set_mode_applies_to_later_events),
	KUNIT_CASE(puma_detector_set_window_applies_from_next_event),
	KUNIT_CASE(puma_detector_next_poll_follows_deadline),
	KUNIT_CASE(puma_detector_parse_mode_round_trips),
	KUNIT_CASE(puma_detector_event_from_hardirq),
	KUNIT_CASE(puma_detector_watch_event_reports_each_change),
	KUNIT_CASE(puma_detector_param_ops_set_mode_of_watcher),
	{}
};

static struct kunit_suite puma_detector_suite = {
	.name = "puma_detector",
	.test_cases = puma_detector_cases,
};

kunit_test_suite(puma_detector_suite);

MODULE_DESCRIPTION("KUnit tests for the PUMA activity detector");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
