// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the ordered staging outbox (lib/outbox.c).
 *
 * The store is a small array in memory; drain applies items to it and
 * records what it was given, and can be held at its entry to keep a batch
 * in flight.  Pages carry a version number, so a test can tell which put a
 * lookup or the store returns.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <puma/outbox.h>

#include "../lib/internal.h"

#define KT_INODES	80
#define KT_PAGES	8
#define KT_RECORD	256

struct kt_store {
	struct kunit *test;
	struct puma_outbox *ob;
	spinlock_t lock;		/* @data, @record, @nr_record */
	u64 data[KT_INODES][KT_PAGES];	/* 0: absent, else a version */
	struct puma_outbox_item record[KT_RECORD];
	unsigned int nr_record;
	unsigned int nr_drains;
	unsigned int max_seen;		/* largest batch */
	bool hold;			/* block drains at entry */
	struct completion entered;
	struct completion release;
	int fail_inv;			/* errors for the next INV drains */
	bool take_pages;
	struct page *taken;		/* the last page taken */
	bool empty;			/* what store_empty answers */
};

static void kt_fill(struct page *page, u64 version)
{
	u64 *p = kmap_local_page(page);
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		p[i] = version;
	kunmap_local(p);
}

/* The page's version, or 0 if it is not one whole version. */
static u64 kt_version(struct page *page)
{
	u64 *p = kmap_local_page(page);
	u64 v = p[0];
	unsigned int i;

	for (i = 1; i < PAGE_SIZE / sizeof(u64); i++)
		if (p[i] != v)
			v = 0;
	kunmap_local(p);
	return v;
}

static void __kt_apply(struct kt_store *st, struct puma_outbox_item *o,
		       struct page *page)
{
	unsigned int i, j;

	switch (o->op) {
	case PUMA_OUTBOX_PUT:
		st->data[o->key.ino][o->key.index] = kt_version(page);
		break;
	case PUMA_OUTBOX_INV_RANGE:
		for (i = o->key.index; i <= o->end; i++)
			st->data[o->key.ino][i] = 0;
		break;
	case PUMA_OUTBOX_INV_INODE:
		memset(st->data[o->key.ino], 0, sizeof(st->data[0]));
		break;
	default:
		for (i = 0; i < KT_INODES; i++)
			for (j = 0; j < KT_PAGES; j++)
				st->data[i][j] = 0;
	}
}

static int kt_drain(struct puma_outbox *ob, struct puma_outbox_item **items,
		    unsigned int nr, void *priv)
{
	struct kt_store *st = priv;
	struct page *pages[PUMA_OUTBOX_MAX_BATCH] = {};
	unsigned int i;
	bool fail = false;

	if (READ_ONCE(st->hold)) {
		complete(&st->entered);
		wait_for_completion(&st->release);
	}
	for (i = 0; i < nr && st->take_pages; i++) {
		if (items[i]->op != PUMA_OUTBOX_PUT)
			break;
		pages[i] = puma_outbox_take_page(ob, items[i], GFP_KERNEL);
		if (IS_ERR(pages[i]))
			return PTR_ERR(pages[i]);
	}
	spin_lock(&st->lock);
	st->nr_drains++;
	st->max_seen = max(st->max_seen, nr);
	if (items[0]->op != PUMA_OUTBOX_PUT &&
	    items[0]->op != PUMA_OUTBOX_INV_ALL && st->fail_inv) {
		st->fail_inv--;
		fail = true;
	}
	for (i = 0; i < nr && !fail; i++) {
		__kt_apply(st, items[i], pages[i] ?: items[i]->page);
		if (st->nr_record < KT_RECORD)
			st->record[st->nr_record++] = *items[i];
	}
	spin_unlock(&st->lock);
	for (i = 0; i < nr; i++) {
		if (!pages[i])
			continue;
		if (st->taken)
			put_page(st->taken);
		st->taken = pages[i];
	}
	return fail ? -EIO : 0;
}

static bool kt_store_empty(void *priv)
{
	struct kt_store *st = priv;

	return READ_ONCE(st->empty);
}

static const struct puma_outbox_ops kt_ops = {
	.drain = kt_drain,
	.store_empty = kt_store_empty,
};

static struct kt_store *kt_setup(struct kunit *test, unsigned int nr_stages,
				 unsigned int nr_invs, unsigned int max_batch)
{
	struct kt_store *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	struct puma_outbox_params p = {
		.ops = &kt_ops,
		.nr_stages = nr_stages,
		.nr_invs = nr_invs,
		.max_batch = max_batch,
		.stage_gfp = GFP_HIGHUSER_MOVABLE,
	};

	KUNIT_ASSERT_NOT_NULL(test, st);
	st->test = test;
	spin_lock_init(&st->lock);
	init_completion(&st->entered);
	init_completion(&st->release);
	p.priv = st;
	st->ob = puma_outbox_create(&p);
	KUNIT_ASSERT_FALSE(test, IS_ERR(st->ob));
	return st;
}

static void kt_teardown(struct kt_store *st)
{
	/* Let a held drain go before the outbox waits for it. */
	WRITE_ONCE(st->hold, false);
	complete_all(&st->release);
	puma_outbox_destroy(st->ob);
	if (st->taken)
		put_page(st->taken);
}

/* Hold the next drain at its entry; returns once it is there. */
static void kt_hold(struct kunit *test, struct kt_store *st)
{
	reinit_completion(&st->entered);
	reinit_completion(&st->release);
	WRITE_ONCE(st->hold, true);
}

static void kt_wait_entered(struct kunit *test, struct kt_store *st)
{
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&st->entered,
							  10 * HZ), 0UL);
}

static void kt_release(struct kt_store *st)
{
	WRITE_ONCE(st->hold, false);
	complete_all(&st->release);
}

static int kt_put(struct kt_store *st, u32 ino, u64 index, u64 version)
{
	struct puma_key key = { .pool = 1, .ino = ino, .index = index };
	struct page *page = alloc_page(GFP_KERNEL);
	int err;

	if (!page)
		return -ENOMEM;
	kt_fill(page, version);
	err = puma_outbox_put(st->ob, &key, page);
	__free_page(page);
	return err;
}

static int kt_inv(struct kt_store *st, enum puma_outbox_op op, u32 ino,
		  u64 index, u64 end, gfp_t gfp)
{
	struct puma_key key = { .pool = 1, .ino = ino, .index = index };

	return puma_outbox_invalidate(st->ob, op, &key, end, gfp);
}

/* Lookup; *version gets the served page's version. */
static int kt_lookup(struct kt_store *st, u32 ino, u64 index, u64 *version)
{
	struct puma_key key = { .pool = 1, .ino = ino, .index = index };
	struct page *page = alloc_page(GFP_KERNEL);
	int err;

	if (!page)
		return -ENOMEM;
	err = puma_outbox_lookup(st->ob, &key, page);
	*version = err ? 0 : kt_version(page);
	__free_page(page);
	return err;
}

static u64 kt_stored(struct kt_store *st, u32 ino, u64 index)
{
	u64 v;

	spin_lock(&st->lock);
	v = st->data[ino][index];
	spin_unlock(&st->lock);
	return v;
}

static unsigned int kt_recorded(struct kt_store *st, enum puma_outbox_op op)
{
	unsigned int i, n = 0;

	for (i = 0; i < st->nr_record; i++)
		n += st->record[i].op == op;
	return n;
}

static void puma_outbox_lookup_serves_queued_put(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 4, 4, 8);
	u64 v;

	kt_hold(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 0, 11), 0);
	kt_wait_entered(test, st);
	/* Being drained, it still decides: the store has nothing yet. */
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 1, 0, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 11ULL);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 1, 0), 0ULL);
	kt_release(st);
	puma_outbox_sync(st->ob);
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 1, 0, &v), -ENOENT);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 1, 0), 11ULL);
	kt_teardown(st);
}

static void puma_outbox_lookup_later_invalidation_wins(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 4, 4, 8);
	u64 v;

	kt_hold(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 0, 11), 0);
	kt_wait_entered(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 1, 12), 0);
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 1, 1, 1,
				     GFP_NOWAIT), 0);
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 1, 1, &v), -ENODATA);
	/* An invalidation of the inode covers the page being drained too. */
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_INODE, 1, 0, 0,
				     GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 1, 0, &v), -ENODATA);
	kt_release(st);
	puma_outbox_sync(st->ob);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 1, 0), 0ULL);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 1, 1), 0ULL);
	kt_teardown(st);
}

static void puma_outbox_lookup_later_put_wins(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 4, 4, 8);
	u64 v;

	kt_hold(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 2, 3, 21), 0);
	kt_wait_entered(test, st);
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 2, 0, 7,
				     GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, kt_put(st, 2, 3, 22), 0);
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 2, 3, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 22ULL);
	kt_release(st);
	puma_outbox_sync(st->ob);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 2, 3), 22ULL);
	kt_teardown(st);
}

static void puma_outbox_lookup_without_item_returns_enoent(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 4, 4, 8);
	u64 v;

	KUNIT_EXPECT_EQ(test, kt_lookup(st, 3, 0, &v), -ENOENT);
	kt_teardown(st);
}

static void puma_outbox_drain_keeps_hook_order_and_batches(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 16, 16, 4);
	static const struct { u8 op; u32 ino; u64 index, end; } want[] = {
		{ PUMA_OUTBOX_PUT, 1, 0 }, { PUMA_OUTBOX_PUT, 1, 1 },
		{ PUMA_OUTBOX_PUT, 1, 2 }, { PUMA_OUTBOX_PUT, 1, 3 },
		{ PUMA_OUTBOX_PUT, 1, 4 },
		{ PUMA_OUTBOX_INV_RANGE, 1, 0, 0 },
		{ PUMA_OUTBOX_INV_RANGE, 1, 1, 1 },
		{ PUMA_OUTBOX_INV_RANGE, 1, 2, 3 },
		{ PUMA_OUTBOX_PUT, 1, 0 },
		{ PUMA_OUTBOX_INV_INODE, 1, 0 },
	};
	unsigned int i;

	/* Hold the first drain so that everything after it queues up. */
	kt_hold(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 7, 1), 0);
	kt_wait_entered(test, st);
	for (i = 0; i < 5; i++)
		KUNIT_ASSERT_EQ(test, kt_put(st, 1, i, 100 + i), 0);
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 1, 0, 0,
				     GFP_NOWAIT), 0);
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 1, 1, 1,
				     GFP_NOWAIT), 0);
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 1, 2, 3,
				     GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 0, 200), 0);
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_INODE, 1, 0, 0,
				     GFP_KERNEL), 0);
	kt_release(st);
	puma_outbox_sync(st->ob);

	KUNIT_ASSERT_EQ(test, st->nr_record, 1 + ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		struct puma_outbox_item *o = &st->record[i + 1];

		KUNIT_EXPECT_EQ_MSG(test, o->op, want[i].op, "item %u", i);
		KUNIT_EXPECT_EQ_MSG(test, o->key.ino, (u64)want[i].ino,
				    "item %u", i);
		KUNIT_EXPECT_EQ_MSG(test, o->key.index, want[i].index,
				    "item %u", i);
		if (o->op == PUMA_OUTBOX_INV_RANGE)
			KUNIT_EXPECT_EQ_MSG(test, o->end, want[i].end,
					    "item %u", i);
	}
	/*
	 * Drains: the held PUT; PUTs 0-3 (the batch limit); PUT 4; the two
	 * one-page invalidations; the range alone; the PUT; the inode.
	 */
	KUNIT_EXPECT_EQ(test, st->nr_drains, 7U);
	KUNIT_EXPECT_EQ(test, st->max_seen, 4U);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 1, 4), 0ULL);
	kt_teardown(st);
}

static void puma_outbox_invalidate_never_put_is_filtered(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 4, 4, 8);
	struct puma_outbox_stats s;

	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 0, 1), 0);
	puma_outbox_sync(st->ob);
	KUNIT_EXPECT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 5, 0, 7,
				     GFP_NOWAIT), 0);
	KUNIT_EXPECT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_INODE, 5, 0, 0,
				     GFP_KERNEL), 0);
	/* The control: a page that was put is invalidated. */
	KUNIT_EXPECT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 1, 0, 0,
				     GFP_NOWAIT), 0);
	puma_outbox_sync(st->ob);
	puma_outbox_get_stats(st->ob, &s);
	KUNIT_EXPECT_EQ(test, s.invalidations, 3ULL);
	KUNIT_EXPECT_EQ(test, s.inv_filtered, 2ULL);
	KUNIT_EXPECT_EQ(test, st->nr_drains, 2U);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 1, 0), 0ULL);
	kt_teardown(st);
}

static void puma_outbox_invalidate_without_item_overflows_inode(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 8, 1, 8);
	struct puma_outbox_stats s;
	u64 v;

	KUNIT_ASSERT_EQ(test, kt_put(st, 4, 2, 42), 0);
	puma_outbox_sync(st->ob);
	kt_hold(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 4, 0, 40), 0);
	kt_wait_entered(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 4, 1, 41), 0);
	/* The one item, then none: the inode is noted instead. */
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 4, 0, 0,
				     GFP_NOWAIT), 0);
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 4, 1, 1,
				     GFP_NOWAIT), 0);
	puma_outbox_get_stats(st->ob, &s);
	KUNIT_EXPECT_EQ(test, s.inv_pool_empty, 1ULL);
	KUNIT_EXPECT_EQ(test, s.inv_overflows, 1ULL);
	KUNIT_EXPECT_EQ(test, s.flushes, 0ULL);
	/* Nothing of the inode is served, nor taken, until it is invalidated. */
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 4, 2, &v), -ENODATA);
	KUNIT_EXPECT_EQ(test, kt_put(st, 4, 3, 43), -ESTALE);
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 5, 0, &v), -ENOENT);
	kt_release(st);
	puma_outbox_sync(st->ob);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 4, 2), 0ULL);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 4, 1), 0ULL);
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 4, 2, &v), -ENOENT);
	KUNIT_EXPECT_EQ(test, kt_put(st, 4, 3, 43), 0);
	kt_teardown(st);
}

static void puma_outbox_invalidate_overflow_full_flushes(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 128, 1, 8);
	struct puma_outbox_stats s;
	unsigned int i;
	u64 v;

	for (i = 0; i < KT_INODES; i++)
		KUNIT_ASSERT_EQ(test, kt_put(st, i, 0, 1000 + i), 0);
	puma_outbox_sync(st->ob);
	kt_hold(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 0, 1, 5), 0);
	kt_wait_entered(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 0, 2, 6), 0);
	/* One item, then 64 inodes noted, then no room: flush. */
	for (i = 0; i < KT_INODES; i++)
		KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, i, 0,
					     0, GFP_NOWAIT), 0);
	puma_outbox_get_stats(st->ob, &s);
	KUNIT_EXPECT_GE(test, s.flushes, 1ULL);
	KUNIT_EXPECT_EQ(test, s.flush_dropped, 1ULL);
	KUNIT_EXPECT_EQ(test, kt_lookup(st, KT_INODES - 1, 0, &v), -ENODATA);
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 0, 2, &v), -ENODATA);
	kt_release(st);
	puma_outbox_sync(st->ob);
	for (i = 0; i < KT_INODES; i++)
		KUNIT_EXPECT_EQ(test, kt_stored(st, i, 0), 0ULL);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 0, 2), 0ULL);
	KUNIT_EXPECT_EQ(test, kt_recorded(st, PUMA_OUTBOX_INV_ALL), 1U);
	kt_teardown(st);
}

static void puma_outbox_drain_failed_invalidation_flushes(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 4, 4, 8);
	struct puma_outbox_stats s;

	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 0, 1), 0);
	puma_outbox_sync(st->ob);
	st->fail_inv = 1;
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 1, 0, 0,
				     GFP_NOWAIT), 0);
	puma_outbox_sync(st->ob);
	puma_outbox_get_stats(st->ob, &s);
	KUNIT_EXPECT_EQ(test, s.drain_errors, 1ULL);
	KUNIT_EXPECT_EQ(test, s.flushes, 1ULL);
	KUNIT_EXPECT_EQ(test, st->record[st->nr_record - 1].op,
			(u8)PUMA_OUTBOX_INV_ALL);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 1, 0), 0ULL);
	kt_teardown(st);
}

static void puma_outbox_close_drops_queued_and_refuses(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 4, 4, 8);
	u64 v;

	kt_hold(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 0, 1), 0);
	kt_wait_entered(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 1, 2), 0);
	puma_outbox_close(st->ob);
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 1, 1, &v), -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, kt_put(st, 1, 2, 3), -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_INODE, 1, 0, 0,
				     GFP_KERNEL), -ESHUTDOWN);
	puma_outbox_open(st->ob);
	/*
	 * The batch in flight when it closed decides nothing: an invalidation
	 * refused while closed must not leave its page visible.
	 */
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 1, 0, &v), -ENOENT);
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 1, 1, &v), -ENOENT);
	kt_release(st);
	puma_outbox_sync(st->ob);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 1, 1), 0ULL);
	KUNIT_EXPECT_EQ(test, st->nr_drains, 1U);
	kt_teardown(st);
}

static void puma_outbox_put_without_staging_page_returns_enospc(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 1, 4, 8);

	kt_hold(test, st);
	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 0, 1), 0);
	kt_wait_entered(test, st);
	KUNIT_EXPECT_EQ(test, kt_put(st, 1, 1, 2), -ENOSPC);
	kt_release(st);
	puma_outbox_sync(st->ob);
	KUNIT_EXPECT_EQ(test, kt_put(st, 1, 1, 2), 0);
	kt_teardown(st);
}

static void puma_outbox_take_page_hands_over_the_staged_page(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 1, 4, 8);
	struct page *first;
	u64 v;

	st->take_pages = true;
	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 0, 7), 0);
	puma_outbox_sync(st->ob);
	first = st->taken;
	st->taken = NULL;
	KUNIT_ASSERT_NOT_NULL(test, first);
	/* The outbox let go of it: only the taker holds it. */
	KUNIT_EXPECT_EQ(test, page_count(first), 1);
	/* The one staging page was replaced: the next put leaves it alone. */
	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 1, 8), 0);
	puma_outbox_sync(st->ob);
	KUNIT_EXPECT_PTR_NE(test, st->taken, first);
	KUNIT_EXPECT_EQ(test, kt_version(first), 7ULL);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 1, 0), 7ULL);
	KUNIT_EXPECT_EQ(test, kt_stored(st, 1, 1), 8ULL);
	KUNIT_EXPECT_EQ(test, kt_lookup(st, 1, 1, &v), -ENOENT);
	put_page(first);
	kt_teardown(st);
}

static void puma_outbox_filters_start_over_when_store_empty(struct kunit *test)
{
	struct kt_store *st = kt_setup(test, 4, 4, 8);
	struct puma_outbox_stats s;

	KUNIT_ASSERT_EQ(test, kt_put(st, 1, 0, 1), 0);
	puma_outbox_sync(st->ob);
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 1, 0, 0,
				     GFP_NOWAIT), 0);
	/* Emptied: the next drain that finds nothing clears the filters. */
	WRITE_ONCE(st->empty, true);
	puma_outbox_sync(st->ob);
	puma_outbox_sync(st->ob);
	KUNIT_ASSERT_EQ(test, kt_inv(st, PUMA_OUTBOX_INV_RANGE, 1, 0, 0,
				     GFP_NOWAIT), 0);
	puma_outbox_get_stats(st->ob, &s);
	KUNIT_EXPECT_EQ(test, s.inv_filtered, 1ULL);
	kt_teardown(st);
}

static void puma_outbox_create_rejects_bad_params(struct kunit *test)
{
	struct puma_outbox_params p = {
		.ops = &kt_ops, .nr_stages = 1, .nr_invs = 1, .max_batch = 1,
		.stage_gfp = GFP_KERNEL,
	};
	struct puma_outbox_params bad;

	bad = p;
	bad.nr_stages = 0;
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_outbox_create(&bad)), -EINVAL);
	bad = p;
	bad.nr_invs = 65537;
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_outbox_create(&bad)), -EINVAL);
	bad = p;
	bad.max_batch = PUMA_OUTBOX_MAX_BATCH + 1;
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_outbox_create(&bad)), -EINVAL);
	bad = p;
	bad.ops = NULL;
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_outbox_create(&bad)), -EINVAL);
}

/*
 * Concurrency: each thread owns some pages (as the page cache serializes
 * the hooks of one page) and puts or invalidates them at random while the
 * drain runs.  After each step, what a read would see (the outbox, else
 * the store) must be the last version put, or nothing: never an older one.
 */
struct kt_racer {
	struct kt_store *st;
	unsigned int first_ino;
	unsigned long errors;
	unsigned long served;
	struct completion done;
};

static int kt_racer_fn(void *arg)
{
	struct kt_racer *r = arg;
	u64 last[4][KT_PAGES] = {};
	u64 version = (u64)r->first_ino << 32;
	unsigned int step, ino, index;
	int err;
	u64 v;

	for (step = 0; step < 3000; step++) {
		ino = r->first_ino + get_random_u32_below(4);
		index = get_random_u32_below(KT_PAGES);
		switch (get_random_u32_below(4)) {
		case 0:
		case 1:
			/* New data: written (invalidated), then evicted. */
			kt_inv(r->st, PUMA_OUTBOX_INV_RANGE, ino, index, index,
			       GFP_NOWAIT);
			last[ino - r->first_ino][index] = 0;
			if (!kt_put(r->st, ino, index, ++version))
				last[ino - r->first_ino][index] = version;
			break;
		case 2:
			kt_inv(r->st, PUMA_OUTBOX_INV_RANGE, ino, index, index,
			       GFP_NOWAIT);
			last[ino - r->first_ino][index] = 0;
			break;
		default:
			kt_inv(r->st, PUMA_OUTBOX_INV_INODE, ino, 0, 0,
			       GFP_KERNEL);
			memset(last[ino - r->first_ino], 0, sizeof(last[0]));
		}
		err = kt_lookup(r->st, ino, index, &v);
		if (err == -ENOENT)
			v = kt_stored(r->st, ino, index);
		else if (err)
			v = 0;
		/* Only the last put may be seen; a dropped one shows nothing. */
		if (v && v != last[ino - r->first_ino][index])
			r->errors++;
		r->served += !!v;
		if (!(step % 64))
			cond_resched();
	}
	complete(&r->done);
	return 0;
}

static void puma_outbox_concurrent_hooks_never_serve_older(struct kunit *test)
{
	/* Few items, so that overflows and flushes happen as well. */
	struct kt_store *st = kt_setup(test, 16, 8, 8);
	struct kt_racer r[4];
	struct puma_outbox_stats s;
	struct task_struct *t;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(r); i++) {
		r[i] = (struct kt_racer){ .st = st, .first_ino = 4 * i };
		init_completion(&r[i].done);
		t = kthread_run(kt_racer_fn, &r[i], "puma-ob-race/%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	for (i = 0; i < ARRAY_SIZE(r); i++) {
		KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&r[i].done,
								  60 * HZ),
				0UL);
		KUNIT_EXPECT_EQ_MSG(test, r[i].errors, 0UL, "racer %u", i);
		KUNIT_EXPECT_GT(test, r[i].served, 0UL);
	}
	puma_outbox_sync(st->ob);
	puma_outbox_get_stats(st->ob, &s);
	kunit_info(test, "staged %llu, stage_full %llu, overflows %llu, flushes %llu\n",
		   s.staged, s.stage_full, s.inv_overflows, s.flushes);
	kt_teardown(st);
}

static struct kunit_case puma_outbox_test_cases[] = {
	KUNIT_CASE(puma_outbox_lookup_serves_queued_put),
	KUNIT_CASE(puma_outbox_lookup_later_invalidation_wins),
	KUNIT_CASE(puma_outbox_lookup_later_put_wins),
	KUNIT_CASE(puma_outbox_lookup_without_item_returns_enoent),
	KUNIT_CASE(puma_outbox_drain_keeps_hook_order_and_batches),
	KUNIT_CASE(puma_outbox_invalidate_never_put_is_filtered),
	KUNIT_CASE(puma_outbox_invalidate_without_item_overflows_inode),
	KUNIT_CASE(puma_outbox_invalidate_overflow_full_flushes),
	KUNIT_CASE(puma_outbox_drain_failed_invalidation_flushes),
	KUNIT_CASE(puma_outbox_close_drops_queued_and_refuses),
	KUNIT_CASE(puma_outbox_put_without_staging_page_returns_enospc),
	KUNIT_CASE(puma_outbox_take_page_hands_over_the_staged_page),
	KUNIT_CASE(puma_outbox_filters_start_over_when_store_empty),
	KUNIT_CASE(puma_outbox_create_rejects_bad_params),
	KUNIT_CASE_SLOW(puma_outbox_concurrent_hooks_never_serve_older),
	{}
};

static struct kunit_suite puma_outbox_test_suite = {
	.name = "puma_outbox",
	.test_cases = puma_outbox_test_cases,
};

kunit_test_suite(puma_outbox_test_suite);

MODULE_DESCRIPTION("KUnit tests for the PUMA ordered staging outbox");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
