// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the PUMA page index.
 *
 * Entries are xa_mk_value() tags or pointers into a test array, so that
 * every lookup can be checked against the key that stored it.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/vmalloc.h>

#include "../lib/index.h"

/* A tag that encodes the key, so a wrong entry is always detected. */
static void *tag(u32 pool, u64 ino, pgoff_t index)
{
	u64 v = index ^ (ino * 0x9e3779b97f4a7c15ULL) ^
		(pool * 0xc2b2ae3d27d4eb4fULL);

	return xa_mk_value(v >> 1);
}

static struct puma_key key(u32 pool, u64 ino, pgoff_t index)
{
	return (struct puma_key){ .pool = pool, .ino = ino,
					.index = index };
}

static struct puma_index *index_setup(struct kunit *test)
{
	struct puma_index *index = kunit_kzalloc(test, sizeof(*index),
						 GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, index);
	KUNIT_ASSERT_EQ(test, puma_index_init(index), 0);
	return index;
}

struct drop_count {
	unsigned long n;
	u32 pool;
	u64 ino;
	bool wrong_key;
};

static void count_drop(const struct puma_key *k, void *entry, void *arg)
{
	struct drop_count *dc = arg;

	dc->n++;
	if (entry != tag(k->pool, k->ino, k->index))
		dc->wrong_key = true;
}

static void fill(struct kunit *test, struct puma_index *index, u32 pool,
		 u64 ino, pgoff_t first, unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++) {
		struct puma_key k = key(pool, ino, first + i);
		void *entry = tag(pool, ino, first + i);

		KUNIT_ASSERT_EQ(test,
				puma_index_insert(index, &k, entry, GFP_KERNEL),
				0);
	}
}

static void puma_index_lookup_returns_inserted_entry(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct puma_key k = key(1, 2, 3);

	KUNIT_EXPECT_EQ(test, puma_index_insert(index, &k, tag(1, 2, 3),
						GFP_KERNEL), 0);
	KUNIT_EXPECT_PTR_EQ(test, puma_index_lookup(index, &k), tag(1, 2, 3));
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 1UL);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_lookup_missing_returns_null(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct puma_key k;

	fill(test, index, 1, 2, 3, 1);
	k = key(9, 2, 3);	/* no such pool */
	KUNIT_EXPECT_NULL(test, puma_index_lookup(index, &k));
	k = key(1, 9, 3);	/* no such inode */
	KUNIT_EXPECT_NULL(test, puma_index_lookup(index, &k));
	k = key(1, 2, 4);	/* no such page */
	KUNIT_EXPECT_NULL(test, puma_index_lookup(index, &k));
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_insert_duplicate_returns_eexist(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct puma_key k = key(1, 2, 3);

	fill(test, index, 1, 2, 3, 1);
	KUNIT_EXPECT_EQ(test, puma_index_insert(index, &k, tag(7, 7, 7),
						GFP_KERNEL), -EEXIST);
	KUNIT_EXPECT_PTR_EQ(test, puma_index_lookup(index, &k), tag(1, 2, 3));
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 1UL);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_insert_invalid_entry_returns_einval(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct puma_key k = key(1, 2, 3);

	KUNIT_EXPECT_EQ(test, puma_index_insert(index, &k, NULL, GFP_KERNEL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, puma_index_insert(index, &k, xa_mk_internal(5),
						GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 0UL);
	KUNIT_EXPECT_NULL(test, puma_index_lookup(index, &k));
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_insert_extreme_keys_are_distinct(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	static const u32 pools[] = { 0, 1, U32_MAX };
	static const u64 inos[] = { 0, 1, U64_MAX };
	static const pgoff_t pages[] = { 0, 1, ULONG_MAX };
	struct puma_key k;
	int p, i, x;

	for (p = 0; p < ARRAY_SIZE(pools); p++)
		for (i = 0; i < ARRAY_SIZE(inos); i++)
			for (x = 0; x < ARRAY_SIZE(pages); x++)
				fill(test, index, pools[p], inos[i], pages[x], 1);
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 27UL);
	for (p = 0; p < ARRAY_SIZE(pools); p++)
		for (i = 0; i < ARRAY_SIZE(inos); i++)
			for (x = 0; x < ARRAY_SIZE(pages); x++) {
				void *want = tag(pools[p], inos[i], pages[x]);

				k = key(pools[p], inos[i], pages[x]);
				KUNIT_EXPECT_PTR_EQ(test,
						    puma_index_lookup(index, &k),
						    want);
			}
	puma_index_destroy(index, NULL, NULL);
}

static DEFINE_SPINLOCK(atomic_test_lock);

static void puma_index_insert_atomic_context_succeeds(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	int err[64], i;

	/* New pool, new inode and new xarray nodes, all without sleeping. */
	spin_lock(&atomic_test_lock);
	for (i = 0; i < ARRAY_SIZE(err); i++) {
		struct puma_key k = key(4, 5, i * 4096);

		err[i] = puma_index_insert(index, &k, tag(4, 5, i * 4096),
					   GFP_ATOMIC);
	}
	spin_unlock(&atomic_test_lock);
	for (i = 0; i < ARRAY_SIZE(err); i++)
		KUNIT_EXPECT_EQ(test, err[i], 0);
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 64UL);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_erase_returns_and_removes_entry(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct puma_key k = key(1, 2, 3);

	fill(test, index, 1, 2, 3, 2);
	KUNIT_EXPECT_PTR_EQ(test, puma_index_erase(index, &k), tag(1, 2, 3));
	KUNIT_EXPECT_NULL(test, puma_index_lookup(index, &k));
	KUNIT_EXPECT_NULL(test, puma_index_erase(index, &k));
	k.index = 4;
	KUNIT_EXPECT_PTR_EQ(test, puma_index_lookup(index, &k), tag(1, 2, 4));
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 1UL);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_erase_last_entry_allows_reinsert(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct puma_key k = key(1, 2, 3);
	int round;

	/* Each round empties the inode, which unlinks its node. */
	for (round = 0; round < 100; round++) {
		KUNIT_ASSERT_EQ(test, puma_index_insert(index, &k, tag(1, 2, 3),
							GFP_KERNEL), 0);
		KUNIT_ASSERT_EQ(test, puma_index_count_inode(index, 1, 2), 1UL);
		KUNIT_ASSERT_PTR_EQ(test, puma_index_erase(index, &k),
				    tag(1, 2, 3));
		KUNIT_ASSERT_EQ(test, puma_index_count_inode(index, 1, 2), 0UL);
	}
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 0UL);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_erase_entry_mismatch_keeps_entry(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct puma_key k = key(1, 2, 3);

	fill(test, index, 1, 2, 3, 1);
	KUNIT_EXPECT_FALSE(test, puma_index_erase_entry(index, &k,
							tag(1, 2, 4)));
	KUNIT_EXPECT_PTR_EQ(test, puma_index_lookup(index, &k), tag(1, 2, 3));
	KUNIT_EXPECT_TRUE(test, puma_index_erase_entry(index, &k,
						       tag(1, 2, 3)));
	KUNIT_EXPECT_NULL(test, puma_index_lookup(index, &k));
	KUNIT_EXPECT_FALSE(test, puma_index_erase_entry(index, &k,
							tag(1, 2, 3)));
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 0UL);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_erase_inode_removes_only_that_inode(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct drop_count dc = {};
	struct puma_key k;

	fill(test, index, 1, 2, 0, 100);
	fill(test, index, 1, 3, 0, 50);
	fill(test, index, 2, 2, 0, 10);
	KUNIT_EXPECT_EQ(test, puma_index_erase_inode(index, 1, 2, count_drop,
						     &dc), 100UL);
	KUNIT_EXPECT_EQ(test, dc.n, 100UL);
	KUNIT_EXPECT_FALSE(test, dc.wrong_key);
	KUNIT_EXPECT_EQ(test, puma_index_count_inode(index, 1, 2), 0UL);
	KUNIT_EXPECT_EQ(test, puma_index_count_inode(index, 1, 3), 50UL);
	KUNIT_EXPECT_EQ(test, puma_index_count_inode(index, 2, 2), 10UL);
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 60UL);
	k = key(1, 2, 5);
	KUNIT_EXPECT_NULL(test, puma_index_lookup(index, &k));
	KUNIT_EXPECT_EQ(test, puma_index_erase_inode(index, 1, 2, count_drop,
						     &dc), 0UL);
	KUNIT_EXPECT_EQ(test, puma_index_erase_inode(index, 7, 2, NULL, NULL),
			0UL);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_erase_pool_removes_only_that_pool(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct drop_count dc = {};
	struct puma_key k;
	u64 ino;

	for (ino = 0; ino < 20; ino++)
		fill(test, index, 1, ino, 10, 20);
	fill(test, index, 2, 0, 0, 30);
	KUNIT_EXPECT_EQ(test, puma_index_erase_pool(index, 1, count_drop, &dc),
			400UL);
	KUNIT_EXPECT_EQ(test, dc.n, 400UL);
	KUNIT_EXPECT_FALSE(test, dc.wrong_key);
	KUNIT_EXPECT_EQ(test, puma_index_count_pool(index, 1), 0UL);
	KUNIT_EXPECT_EQ(test, puma_index_count_pool(index, 2), 30UL);
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 30UL);
	k = key(1, 3, 12);
	KUNIT_EXPECT_NULL(test, puma_index_lookup(index, &k));
	/* The pool comes back on the next insert. */
	fill(test, index, 1, 3, 12, 1);
	KUNIT_EXPECT_PTR_EQ(test, puma_index_lookup(index, &k), tag(1, 3, 12));
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_destroy_drops_every_entry(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct drop_count dc = {};

	fill(test, index, 1, 1, 0, 70);
	fill(test, index, 2, 1, 0, 7);
	fill(test, index, 2, 9, 1000, 3);
	puma_index_destroy(index, count_drop, &dc);
	KUNIT_EXPECT_EQ(test, dc.n, 80UL);
	KUNIT_EXPECT_FALSE(test, dc.wrong_key);
}

struct walk_state {
	struct puma_key last;
	unsigned long n;
	unsigned long stop_at;
	bool out_of_order;
	bool wrong_key;
};

static bool key_before(const struct puma_key *a,
		       const struct puma_key *b)
{
	if (a->pool != b->pool)
		return a->pool < b->pool;
	if (a->ino != b->ino)
		return a->ino < b->ino;
	return a->index < b->index;
}

static int walk_record(const struct puma_key *k, void *entry, void *arg)
{
	struct walk_state *ws = arg;

	if (ws->n && !key_before(&ws->last, k))
		ws->out_of_order = true;
	if (entry != tag(k->pool, k->ino, k->index))
		ws->wrong_key = true;
	ws->last = *k;
	if (++ws->n == ws->stop_at)
		return 42;
	return 0;
}

static void walk_fill(struct kunit *test, struct puma_index *index)
{
	fill(test, index, 3, 7, 100, 10);
	fill(test, index, 1, 5, 0, 10);
	fill(test, index, 1, 2, 1 << 20, 10);
	fill(test, index, 2, 0, 0, 10);
}

static void puma_index_walk_visits_all_in_order(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct walk_state ws = {};

	walk_fill(test, index);
	KUNIT_EXPECT_EQ(test, puma_index_walk(index, walk_record, &ws), 0);
	KUNIT_EXPECT_EQ(test, ws.n, 40UL);
	KUNIT_EXPECT_FALSE(test, ws.out_of_order);
	KUNIT_EXPECT_FALSE(test, ws.wrong_key);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_walk_stops_on_nonzero(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct walk_state ws = { .stop_at = 15 };

	walk_fill(test, index);
	KUNIT_EXPECT_EQ(test, puma_index_walk(index, walk_record, &ws), 42);
	KUNIT_EXPECT_EQ(test, ws.n, 15UL);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_walk_pool_visits_only_that_pool(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct walk_state ws = {};

	walk_fill(test, index);
	KUNIT_EXPECT_EQ(test, puma_index_walk_pool(index, 1, walk_record, &ws),
			0);
	KUNIT_EXPECT_EQ(test, ws.n, 20UL);
	KUNIT_EXPECT_EQ(test, ws.last.pool, 1U);
	KUNIT_EXPECT_FALSE(test, ws.out_of_order);
	ws = (struct walk_state){};
	KUNIT_EXPECT_EQ(test, puma_index_walk_pool(index, 0, walk_record, &ws),
			0);
	KUNIT_EXPECT_EQ(test, ws.n, 0UL);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_walk_inode_visits_only_that_inode(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct walk_state ws = {};

	walk_fill(test, index);
	KUNIT_EXPECT_EQ(test, puma_index_walk_inode(index, 1, 2, walk_record,
						    &ws), 0);
	KUNIT_EXPECT_EQ(test, ws.n, 10UL);
	KUNIT_EXPECT_EQ(test, ws.last.ino, 2ULL);
	KUNIT_EXPECT_EQ(test, ws.last.index, (pgoff_t)(1 << 20) + 9);
	KUNIT_EXPECT_FALSE(test, ws.out_of_order);
	KUNIT_EXPECT_FALSE(test, ws.wrong_key);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_count_tracks_inserts_and_erases(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct puma_key k;
	pgoff_t i;

	fill(test, index, 1, 1, 0, 300);
	fill(test, index, 1, 2, 0, 200);
	fill(test, index, 2, 1, 0, 100);
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 600UL);
	KUNIT_EXPECT_EQ(test, puma_index_count_pool(index, 1), 500UL);
	KUNIT_EXPECT_EQ(test, puma_index_count_inode(index, 1, 2), 200UL);
	for (i = 0; i < 300; i += 3) {
		k = key(1, 1, i);
		KUNIT_ASSERT_NOT_NULL(test, puma_index_erase(index, &k));
	}
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 500UL);
	KUNIT_EXPECT_EQ(test, puma_index_count_pool(index, 1), 400UL);
	KUNIT_EXPECT_EQ(test, puma_index_count_inode(index, 1, 1), 200UL);
	KUNIT_EXPECT_EQ(test, puma_index_count_pool(index, 3), 0UL);
	puma_index_destroy(index, NULL, NULL);
}

static void puma_index_meta_bytes_dense_file_costs_little(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	unsigned long meta;

	KUNIT_EXPECT_EQ(test, puma_index_meta_bytes(index), 0UL);
	fill(test, index, 1, 1, 0, 4096);
	meta = puma_index_meta_bytes(index);
	/* A leaf's path for each 64 pages, and one inode and pool node. */
	KUNIT_EXPECT_GT(test, meta, 0UL);
	KUNIT_EXPECT_LE(test, meta / 4096, 64UL);
	puma_index_destroy(index, NULL, NULL);
}

#define RANDOM_KEYS	256

static void puma_index_meta_bytes_random_keys_cost_kilobytes(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	unsigned long i;
	struct puma_key k;

	for (i = 0; i < RANDOM_KEYS; i++) {
		void *entry;

		/* The top bits set, so each is a full-depth path. */
		k = key(1, get_random_u64() | BIT_ULL(63),
			(pgoff_t)(get_random_u64() | BIT_ULL(63)));
		entry = tag(1, k.ino, k.index);
		KUNIT_ASSERT_EQ(test,
				puma_index_insert(index, &k, entry, GFP_KERNEL),
				0);
	}
	/* Each: an inode node and two lone 11-node paths, about 13 KiB. */
	KUNIT_EXPECT_GE(test, puma_index_meta_bytes(index) / RANDOM_KEYS,
			8192UL);
	KUNIT_EXPECT_GE(test, puma_index_meta_total_bytes(),
			puma_index_meta_bytes(index));
	puma_index_destroy(index, NULL, NULL);
}

/*
 * Every way out of the index releases exactly what the way in charged:
 * by key, by entry, by inode, by pool, with leaves shared and not.
 */
static void puma_index_meta_bytes_return_to_zero_when_empty(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	unsigned long before;
	struct puma_key k;
	pgoff_t i;

	fill(test, index, 1, 1, 0, 300);
	fill(test, index, 1, 2, 1000, 100);
	fill(test, index, 2, 1ULL << 40, 1ULL << 33, 70);
	fill(test, index, 3, 5, 0, 10);
	k = key(3, U64_MAX, ULONG_MAX);
	KUNIT_ASSERT_EQ(test,
			puma_index_insert(index, &k, tag(3, U64_MAX, ULONG_MAX),
					  GFP_KERNEL),
			0);
	KUNIT_EXPECT_GT(test, puma_index_meta_bytes(index), 0UL);

	/* A leaf that empties is released while its inode lives on. */
	fill(test, index, 4, 9, 0, 1);
	before = puma_index_meta_bytes(index);
	fill(test, index, 4, 9, 1000, 1);
	KUNIT_EXPECT_GT(test, puma_index_meta_bytes(index), before);
	k = key(4, 9, 1000);
	KUNIT_ASSERT_NOT_NULL(test, puma_index_erase(index, &k));
	KUNIT_EXPECT_EQ(test, puma_index_meta_bytes(index), before);
	KUNIT_EXPECT_EQ(test, puma_index_erase_inode(index, 4, 9, NULL, NULL),
			1UL);
	/* Pool nodes stay until their pool is erased. */
	KUNIT_EXPECT_GT(test, puma_index_meta_bytes(index), 0UL);
	KUNIT_EXPECT_EQ(test, puma_index_erase_pool(index, 4, NULL, NULL), 0UL);

	/* Inode 1 by key, every third page then the rest: leaves empty out. */
	for (i = 0; i < 300; i += 3) {
		k = key(1, 1, i);
		KUNIT_ASSERT_NOT_NULL(test, puma_index_erase(index, &k));
	}
	for (i = 0; i < 300; i++) {
		k = key(1, 1, i);
		if (i % 3)
			KUNIT_ASSERT_TRUE(test,
					  puma_index_erase_entry(index, &k,
								 tag(1, 1, i)));
	}
	KUNIT_EXPECT_EQ(test, puma_index_erase_inode(index, 1, 2, NULL, NULL),
			100UL);
	KUNIT_EXPECT_EQ(test, puma_index_erase_pool(index, 2, NULL, NULL),
			70UL);
	k = key(3, U64_MAX, ULONG_MAX);
	KUNIT_ASSERT_NOT_NULL(test, puma_index_erase(index, &k));
	KUNIT_EXPECT_EQ(test, puma_index_erase_pool(index, 3, NULL, NULL),
			10UL);
	KUNIT_EXPECT_EQ(test, puma_index_erase_pool(index, 1, NULL, NULL),
			0UL);
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 0UL);
	KUNIT_EXPECT_EQ(test, puma_index_meta_bytes(index), 0UL);
	puma_index_destroy(index, NULL, NULL);
}

/*
 * Concurrency: workers each own a slice of keys in a shared inode and
 * check every lookup; a reaper repeatedly erases a second inode that two
 * inserters fill.  Every entry that an insert reported stored must come
 * out exactly once: erased by its owner, dropped by the reaper, or left
 * for the final destroy.
 */
#define CONC_WORKERS	4
#define CONC_PAGES	4096

struct conc_ctx {
	struct puma_index *index;
	struct completion done[CONC_WORKERS + 3];
	atomic_t errors;
	atomic_long_t stored;
	atomic_long_t removed;
	atomic_t stop;
};

struct conc_arg {
	struct conc_ctx *ctx;
	int id;
};

static int conc_worker(void *data)
{
	struct conc_arg *a = data;
	struct conc_ctx *ctx = a->ctx;
	pgoff_t first = (pgoff_t)a->id * CONC_PAGES, i;
	int round;

	for (round = 0; round < 4; round++) {
		for (i = first; i < first + CONC_PAGES; i++) {
			struct puma_key k = key(1, 1, i);

			if (puma_index_insert(ctx->index, &k, tag(1, 1, i),
					      GFP_KERNEL))
				atomic_inc(&ctx->errors);
		}
		for (i = first; i < first + CONC_PAGES; i++) {
			struct puma_key k = key(1, 1, i);

			if (puma_index_lookup(ctx->index, &k) != tag(1, 1, i))
				atomic_inc(&ctx->errors);
		}
		for (i = first; i < first + CONC_PAGES; i++) {
			struct puma_key k = key(1, 1, i);

			if (puma_index_erase(ctx->index, &k) != tag(1, 1, i))
				atomic_inc(&ctx->errors);
		}
		cond_resched();
	}
	complete(&ctx->done[a->id]);
	return 0;
}

static int conc_inserter(void *data)
{
	struct conc_arg *a = data;
	struct conc_ctx *ctx = a->ctx;
	unsigned long n = 0;

	while (!atomic_read(&ctx->stop)) {
		/* Two inserters on disjoint page ranges of the same inode. */
		pgoff_t i = (n++ % CONC_PAGES) * 2 + (a->id & 1);
		struct puma_key k = key(2, 9, i);
		int err = puma_index_insert(ctx->index, &k, tag(2, 9, i),
					    GFP_KERNEL);

		if (!err)
			atomic_long_inc(&ctx->stored);
		else if (err != -EEXIST)
			atomic_inc(&ctx->errors);
		if (!(n % 256))
			cond_resched();
	}
	complete(&ctx->done[a->id]);
	return 0;
}

static void conc_drop(const struct puma_key *k, void *entry, void *arg)
{
	struct conc_ctx *ctx = arg;

	if (entry != tag(k->pool, k->ino, k->index))
		atomic_inc(&ctx->errors);
	atomic_long_inc(&ctx->removed);
}

static int conc_reaper(void *data)
{
	struct conc_arg *a = data;
	struct conc_ctx *ctx = a->ctx;

	while (!atomic_read(&ctx->stop)) {
		puma_index_erase_inode(ctx->index, 2, 9, conc_drop, ctx);
		cond_resched();
	}
	complete(&ctx->done[a->id]);
	return 0;
}

static void puma_index_concurrent_users_stay_consistent(struct kunit *test)
{
	struct conc_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct conc_arg args[CONC_WORKERS + 3];
	struct task_struct *t;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->index = index_setup(test);
	for (i = 0; i < ARRAY_SIZE(args); i++) {
		int (*fn)(void *) = i < CONC_WORKERS ? conc_worker :
				    i < CONC_WORKERS + 2 ? conc_inserter :
				    conc_reaper;

		init_completion(&ctx->done[i]);
		args[i] = (struct conc_arg){ .ctx = ctx, .id = i };
		t = kthread_run(fn, &args[i], "puma_index_test/%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	for (i = 0; i < CONC_WORKERS; i++)
		KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&ctx->done[i],
								  60 * HZ), 0);
	atomic_set(&ctx->stop, 1);
	for (; i < ARRAY_SIZE(args); i++)
		KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&ctx->done[i],
								  60 * HZ), 0);

	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->errors), 0);
	KUNIT_EXPECT_EQ(test, puma_index_count_inode(ctx->index, 1, 1), 0UL);
	KUNIT_EXPECT_GT(test, atomic_long_read(&ctx->stored), 0L);
	puma_index_destroy(ctx->index, conc_drop, ctx);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->removed),
			atomic_long_read(&ctx->stored));
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->errors), 0);
	/* Racing inserts, erases and reaps charged and released alike. */
	KUNIT_EXPECT_EQ(test, puma_index_meta_bytes(ctx->index), 0UL);
}

#define STRESS_ENTRIES	BIT(20)
#define STRESS_INODES	64

static void puma_index_stress_1m_entries(struct kunit *test)
{
	struct puma_index *index = index_setup(test);
	struct drop_count dc = {};
	unsigned long i, bad = 0;
	struct puma_key k;

	/* Interleave inodes so every insert switches inode node. */
	for (i = 0; i < STRESS_ENTRIES; i++) {
		k = key(1, i % STRESS_INODES, i / STRESS_INODES);
		if (puma_index_insert(index, &k, tag(1, k.ino, k.index),
				      GFP_KERNEL))
			bad++;
		if (!(i % 4096))
			cond_resched();
	}
	KUNIT_ASSERT_EQ(test, bad, 0UL);
	KUNIT_ASSERT_EQ(test, puma_index_count(index), STRESS_ENTRIES);

	for (i = 0; i < STRESS_ENTRIES; i++) {
		k = key(1, i % STRESS_INODES, i / STRESS_INODES);
		if (puma_index_lookup(index, &k) != tag(1, k.ino, k.index))
			bad++;
		/* Erase every other page by key. */
		if ((i & 1) && puma_index_erase(index, &k) !=
			       tag(1, k.ino, k.index))
			bad++;
		if (!(i % 4096))
			cond_resched();
	}
	KUNIT_EXPECT_EQ(test, bad, 0UL);
	KUNIT_EXPECT_EQ(test, puma_index_count(index), STRESS_ENTRIES / 2);
	KUNIT_EXPECT_EQ(test, puma_index_erase_pool(index, 1, count_drop, &dc),
			STRESS_ENTRIES / 2);
	KUNIT_EXPECT_FALSE(test, dc.wrong_key);
	KUNIT_EXPECT_EQ(test, puma_index_count(index), 0UL);
	puma_index_destroy(index, NULL, NULL);
}

static struct kunit_case puma_index_test_cases[] = {
	KUNIT_CASE(puma_index_lookup_returns_inserted_entry),
	KUNIT_CASE(puma_index_lookup_missing_returns_null),
	KUNIT_CASE(puma_index_insert_duplicate_returns_eexist),
	KUNIT_CASE(puma_index_insert_invalid_entry_returns_einval),
	KUNIT_CASE(puma_index_insert_extreme_keys_are_distinct),
	KUNIT_CASE(puma_index_insert_atomic_context_succeeds),
	KUNIT_CASE(puma_index_erase_returns_and_removes_entry),
	KUNIT_CASE(puma_index_erase_last_entry_allows_reinsert),
	KUNIT_CASE(puma_index_erase_entry_mismatch_keeps_entry),
	KUNIT_CASE(puma_index_erase_inode_removes_only_that_inode),
	KUNIT_CASE(puma_index_erase_pool_removes_only_that_pool),
	KUNIT_CASE(puma_index_destroy_drops_every_entry),
	KUNIT_CASE(puma_index_walk_visits_all_in_order),
	KUNIT_CASE(puma_index_walk_stops_on_nonzero),
	KUNIT_CASE(puma_index_walk_pool_visits_only_that_pool),
	KUNIT_CASE(puma_index_walk_inode_visits_only_that_inode),
	KUNIT_CASE(puma_index_count_tracks_inserts_and_erases),
	KUNIT_CASE(puma_index_meta_bytes_dense_file_costs_little),
	KUNIT_CASE(puma_index_meta_bytes_random_keys_cost_kilobytes),
	KUNIT_CASE(puma_index_meta_bytes_return_to_zero_when_empty),
	KUNIT_CASE(puma_index_concurrent_users_stay_consistent),
	KUNIT_CASE_SLOW(puma_index_stress_1m_entries),
	{}
};

static struct kunit_suite puma_index_test_suite = {
	.name = "puma_index",
	.test_cases = puma_index_test_cases,
};

kunit_test_suite(puma_index_test_suite);

MODULE_DESCRIPTION("KUnit tests for the PUMA page index");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
