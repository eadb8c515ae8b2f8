// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the PUMA remote-LRU integration, on the real mm: hosted
 * folios, the LRU lists and reclaim under memory pressure.
 */

#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/fs.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/fs_context.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/random.h>
#include <linux/swap.h>
#include <linux/vmalloc.h>

#include <puma/rlru.h>

#include "../lib/internal.h"

struct rlru_test {
	struct puma_rlru *rlru;
	unsigned long *reported;	/* bitmap by key index */
	unsigned long nbits;
	atomic_long_t reports;
	atomic_long_t double_reports;
	atomic_long_t bad_reports;
};

static void test_reclaimed(struct puma_rlru *rlru,
			   const struct puma_key *key)
{
	struct rlru_test *t = puma_rlru_priv(rlru);

	atomic_long_inc(&t->reports);
	if (key->pool != 1 || key->index >= t->nbits) {
		atomic_long_inc(&t->bad_reports);
		return;
	}
	if (test_and_set_bit(key->index, t->reported))
		atomic_long_inc(&t->double_reports);
}

static const struct puma_rlru_ops test_ops = {
	.reclaimed = test_reclaimed,
};

static struct puma_key rkey(pgoff_t index)
{
	return (struct puma_key){ .pool = 1, .ino = 7, .index = index };
}

static struct rlru_test *rlru_setup(struct kunit *test, unsigned long nbits)
{
	struct rlru_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->nbits = nbits;
	t->reported = vzalloc(BITS_TO_LONGS(nbits) * sizeof(long));
	KUNIT_ASSERT_NOT_NULL(test, t->reported);
	t->rlru = puma_rlru_create(&test_ops, t);
	KUNIT_ASSERT_FALSE(test, IS_ERR(t->rlru));
	return t;
}

static void rlru_teardown(struct rlru_test *t)
{
	puma_rlru_destroy(t->rlru);
	vfree(t->reported);
}

static struct folio *pattern_folio(struct kunit *test, pgoff_t index)
{
	struct folio *folio = folio_alloc(GFP_HIGHUSER_MOVABLE, 0);
	u64 *p;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, folio);
	p = kmap_local_folio(folio, 0);
	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		p[i] = (u64)index << 32 | i;
	kunmap_local(p);
	return folio;
}

static bool page_has_pattern(struct page *page, pgoff_t index)
{
	u64 *p = kmap_local_page(page);
	bool ok = true;
	int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		ok &= p[i] == ((u64)index << 32 | i);
	kunmap_local(p);
	return ok;
}

static void host(struct kunit *test, struct rlru_test *t, pgoff_t first,
		 unsigned long nr, struct folio **keep)
{
	unsigned long i;

	for (i = 0; i < nr; i++) {
		struct puma_key k = rkey(first + i);
		struct folio *folio = pattern_folio(test, first + i);

		KUNIT_ASSERT_EQ(test, puma_rlru_insert(t->rlru, &k, folio,
						       GFP_KERNEL), 0);
		if (keep)
			keep[i] = folio;
		else
			folio_put(folio);
	}
}

#define SMALL	256

static void puma_rlru_insert_lands_on_inactive_file_lru(struct kunit *test)
{
	struct rlru_test *t = rlru_setup(test, SMALL);
	struct folio **f = kunit_kcalloc(test, SMALL, sizeof(*f), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, f);
	host(test, t, 0, SMALL, f);
	lru_add_drain_all();
	for (i = 0; i < SMALL; i++) {
		KUNIT_EXPECT_TRUE(test, folio_test_lru(f[i]));
		KUNIT_EXPECT_FALSE(test, folio_test_active(f[i]));
		KUNIT_EXPECT_TRUE(test, folio_is_file_lru(f[i]));
		KUNIT_EXPECT_TRUE(test, folio_test_uptodate(f[i]));
		folio_put(f[i]);
	}
	KUNIT_EXPECT_EQ(test, puma_rlru_count(t->rlru), (unsigned long)SMALL);
	KUNIT_EXPECT_GE(test, puma_rlru_node_count(numa_node_id()),
			(unsigned long)SMALL);
	rlru_teardown(t);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->reports), 0L);
}

static void puma_rlru_copy_returns_data_and_stays_inactive(struct kunit *test)
{
	struct rlru_test *t = rlru_setup(test, SMALL);
	struct folio **f = kunit_kcalloc(test, SMALL, sizeof(*f), GFP_KERNEL);
	struct page *dst = alloc_page(GFP_KERNEL);
	int i, round;

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_NOT_NULL(test, dst);
	host(test, t, 0, SMALL, f);
	/* Touch every page repeatedly, as repeated GETs would. */
	for (round = 0; round < 3; round++) {
		for (i = 0; i < SMALL; i++) {
			struct puma_key k = rkey(i);

			KUNIT_ASSERT_EQ(test, puma_rlru_copy(t->rlru, &k, dst),
					0);
			KUNIT_ASSERT_TRUE(test, page_has_pattern(dst, i));
		}
		lru_add_drain_all();
	}
	for (i = 0; i < SMALL; i++) {
		KUNIT_EXPECT_TRUE(test, folio_test_lru(f[i]));
		KUNIT_EXPECT_FALSE(test, folio_test_active(f[i]));
		KUNIT_EXPECT_FALSE(test, folio_test_referenced(f[i]));
		folio_put(f[i]);
	}
	__free_page(dst);
	rlru_teardown(t);
}

static void puma_rlru_copy_missing_returns_enoent(struct kunit *test)
{
	struct rlru_test *t = rlru_setup(test, SMALL);
	struct page *dst = alloc_page(GFP_KERNEL);
	struct puma_key k = rkey(3);

	KUNIT_ASSERT_NOT_NULL(test, dst);
	KUNIT_EXPECT_EQ(test, puma_rlru_copy(t->rlru, &k, dst), -ENOENT);
	host(test, t, 0, 1, NULL);
	KUNIT_EXPECT_EQ(test, puma_rlru_copy(t->rlru, &k, dst), -ENOENT);
	__free_page(dst);
	rlru_teardown(t);
}

static void puma_rlru_insert_duplicate_returns_eexist(struct kunit *test)
{
	struct rlru_test *t = rlru_setup(test, SMALL);
	struct puma_key k = rkey(5);
	struct folio *folio;

	host(test, t, 5, 1, NULL);
	folio = pattern_folio(test, 5);
	KUNIT_EXPECT_EQ(test, puma_rlru_insert(t->rlru, &k, folio, GFP_KERNEL),
			-EEXIST);
	KUNIT_EXPECT_NULL(test, folio->mapping);
	folio_put(folio);
	KUNIT_EXPECT_EQ(test, puma_rlru_count(t->rlru), 1UL);
	rlru_teardown(t);
}

static void puma_rlru_take_hands_over_folio_silently(struct kunit *test)
{
	struct rlru_test *t = rlru_setup(test, SMALL);
	struct page *dst = alloc_page(GFP_KERNEL);
	struct puma_key k = rkey(9);
	struct folio *folio;

	KUNIT_ASSERT_NOT_NULL(test, dst);
	host(test, t, 0, 16, NULL);
	folio = puma_rlru_take(t->rlru, &k);
	KUNIT_ASSERT_NOT_NULL(test, folio);
	KUNIT_EXPECT_NULL(test, folio->mapping);
	KUNIT_EXPECT_TRUE(test, page_has_pattern(folio_page(folio, 0), 9));
	folio_put(folio);
	KUNIT_EXPECT_NULL(test, puma_rlru_take(t->rlru, &k));
	KUNIT_EXPECT_EQ(test, puma_rlru_copy(t->rlru, &k, dst), -ENOENT);
	KUNIT_EXPECT_EQ(test, puma_rlru_count(t->rlru), 15UL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->reports), 0L);
	__free_page(dst);
	rlru_teardown(t);
}

static void puma_rlru_remove_inode_and_pool_drop_pages(struct kunit *test)
{
	struct rlru_test *t = rlru_setup(test, SMALL);
	struct puma_key k = rkey(1);
	struct folio *folio;
	int i;

	host(test, t, 0, 32, NULL);
	for (i = 0; i < 8; i++) {
		struct puma_key o = { .pool = 2, .ino = i, .index = 0 };

		folio = pattern_folio(test, 0);
		KUNIT_ASSERT_EQ(test, puma_rlru_insert(t->rlru, &o, folio,
						       GFP_KERNEL), 0);
		folio_put(folio);
	}
	KUNIT_EXPECT_EQ(test, puma_rlru_remove(t->rlru, &k), 0);
	KUNIT_EXPECT_EQ(test, puma_rlru_remove(t->rlru, &k), -ENOENT);
	KUNIT_EXPECT_EQ(test, puma_rlru_remove_inode(t->rlru, 1, 7), 31UL);
	KUNIT_EXPECT_EQ(test, puma_rlru_count(t->rlru), 8UL);
	KUNIT_EXPECT_EQ(test, puma_rlru_remove_pool(t->rlru, 2), 8UL);
	KUNIT_EXPECT_EQ(test, puma_rlru_count(t->rlru), 0UL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->reports), 0L);
	rlru_teardown(t);
}

static void puma_rlru_shrink_removes_oldest_first_and_reports(struct kunit *test)
{
	struct rlru_test *t = rlru_setup(test, SMALL);
	struct page *dst = alloc_page(GFP_KERNEL);
	struct puma_key k;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, dst);
	host(test, t, 0, 100, NULL);
	/* Holes among the oldest, then newer pages: age, not slot reuse. */
	for (i = 0; i < 50; i += 2) {
		k = rkey(i);
		KUNIT_ASSERT_EQ(test, puma_rlru_remove(t->rlru, &k), 0);
	}
	host(test, t, 100, 25, NULL);
	/* The oldest 40: 1, 3, ..., 49, then 50 to 64. */
	KUNIT_EXPECT_EQ(test, puma_rlru_shrink(t->rlru, 40), 40UL);
	KUNIT_EXPECT_EQ(test, puma_rlru_count(t->rlru), 60UL);
	for (i = 0; i < 125; i++) {
		bool gone = i < 65 && (i >= 50 || (i & 1));

		if (i < 50 && !(i & 1))
			continue;
		k = rkey(i);
		KUNIT_EXPECT_EQ(test, puma_rlru_copy(t->rlru, &k, dst),
				gone ? -ENOENT : 0);
		/* Reported as reclaim would be: the client must hear of it. */
		KUNIT_EXPECT_EQ(test, test_bit(i, t->reported), gone);
	}
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->reports), 40L);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->double_reports), 0L);
	/* More than it holds: all of it, and no more. */
	KUNIT_EXPECT_EQ(test, puma_rlru_shrink(t->rlru, 1000), 60UL);
	KUNIT_EXPECT_EQ(test, puma_rlru_count(t->rlru), 0UL);
	KUNIT_EXPECT_EQ(test, puma_rlru_shrink(t->rlru, 1), 0UL);
	__free_page(dst);
	rlru_teardown(t);
}

static void puma_rlru_charge_counts_pages_and_metadata(struct kunit *test)
{
	struct rlru_test *t = rlru_setup(test, SMALL);
	struct rlru_test *r = rlru_setup(test, SMALL);
	unsigned long dense, sparse;
	int i;

	KUNIT_EXPECT_EQ(test, puma_rlru_charge(t->rlru), 0UL);
	host(test, t, 0, 128, NULL);
	dense = puma_rlru_charge(t->rlru);
	KUNIT_EXPECT_GT(test, dense, 128UL);
	KUNIT_EXPECT_LE(test, dense, 128UL + 8);
	/* As many pages under random keys: their metadata outweighs them. */
	for (i = 0; i < 128; i++) {
		struct puma_key k = {
			.pool = 1,
			.ino = get_random_u64() | BIT_ULL(63),
			.index = get_random_u64() | BIT_ULL(63),
		};
		struct folio *folio = pattern_folio(test, 0);

		KUNIT_ASSERT_EQ(test, puma_rlru_insert(r->rlru, &k, folio,
						       GFP_KERNEL), 0);
		folio_put(folio);
	}
	sparse = puma_rlru_charge(r->rlru);
	KUNIT_EXPECT_GE(test, sparse, 3 * 128UL);
	/* Rounded up to pages once for all, not once per owner. */
	KUNIT_EXPECT_GE(test, puma_rlru_total_charge(), dense + sparse - 1);
	KUNIT_EXPECT_EQ(test, puma_rlru_shrink(r->rlru, 128), 128UL);
	/* All but the pool's node, which stays as long as its pool. */
	KUNIT_EXPECT_EQ(test, puma_rlru_charge(r->rlru), 1UL);
	KUNIT_EXPECT_EQ(test, puma_rlru_remove_pool(r->rlru, 1), 0UL);
	KUNIT_EXPECT_EQ(test, puma_rlru_charge(r->rlru), 0UL);
	rlru_teardown(r);
	rlru_teardown(t);
}

struct drain_ctx {
	struct puma_rlru *rlru;
	unsigned long removed;
	struct completion done;
};

static int drain_inode_thread(void *arg)
{
	struct drain_ctx *d = arg;

	d->removed = puma_rlru_remove_inode(d->rlru, 1, 7);
	complete(&d->done);
	return 0;
}

/*
 * Reclaim frees hosted folios whose entries an inode erase has already
 * taken out of the index but not yet dropped.  The erase is held on the
 * lock of the first folio, the others are freed as reclaim frees them
 * (invalidate_mapping_pages(), the drop_caches path), and RCU callbacks
 * are flushed before the erase resumes: an entry freed by reclaim behind
 * the erase's back shows up as a KASAN use-after-free.
 */
static void puma_rlru_remove_inode_survives_racing_reclaim(struct kunit *test)
{
	struct rlru_test *t = rlru_setup(test, SMALL);
	struct puma_key first_key = rkey(0), last_key = rkey(15);
	struct address_space *mapping;
	struct task_struct *task;
	struct drain_ctx d = { .rlru = t->rlru };
	struct folio *first;
	struct page *page;
	unsigned long freed;
	int i;

	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	host(test, t, 0, 16, NULL);
	first = puma_rlru_test_folio(t->rlru, &first_key);
	KUNIT_ASSERT_NOT_NULL(test, first);
	folio_lock(first);
	mapping = first->mapping;

	init_completion(&d.done);
	task = kthread_run(drain_inode_thread, &d, "puma-rlru-drain");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	/* Wait until the erase has emptied the index and blocked. */
	for (i = 0; i < 5000; i++) {
		if (puma_rlru_copy(t->rlru, &last_key, page) == -ENOENT)
			break;
		usleep_range(1000, 2000);
	}
	KUNIT_EXPECT_LT(test, i, 5000);
	msleep(50);
	KUNIT_EXPECT_FALSE(test, completion_done(&d.done));

	/* The per-CPU LRU batches hold references reclaim would not see. */
	lru_add_drain_all();
	freed = invalidate_mapping_pages(mapping, 0, ULONG_MAX);
	KUNIT_EXPECT_EQ(test, freed, 15UL);
	kvfree_rcu_barrier();
	rcu_barrier();

	folio_unlock(first);
	folio_put(first);
	wait_for_completion(&d.done);
	KUNIT_EXPECT_EQ(test, d.removed, 16UL);
	KUNIT_EXPECT_EQ(test, puma_rlru_count(t->rlru), 0UL);
	/* The erase owned these pages: reclaim does not report them. */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->reports), 0L);
	__free_page(page);
	rlru_teardown(t);
}

/*
 * Local file pages for the reclaim test: folios of an inode on a pseudo
 * filesystem of the test's own, made active, counting their frees.
 */
static atomic_long_t local_freed;

static void local_free_folio(struct folio *folio)
{
	atomic_long_inc(&local_freed);
}

static bool local_dirty_folio(struct address_space *mapping,
			      struct folio *folio)
{
	return false;
}

static const struct address_space_operations local_aops = {
	.dirty_folio	= local_dirty_folio,
	.free_folio	= local_free_folio,
};

static int local_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, 0x4c4f434c) ? 0 : -ENOMEM;
}

static struct file_system_type local_fs_type = {
	.name			= "puma_rlru_test",
	.init_fs_context	= local_init_fs_context,
	.kill_sb		= kill_anon_super,
};

#define HOSTED_PAGES	(32768UL)	/* 128 MiB */
#define LOCAL_PAGES	(8192UL)	/*  32 MiB */

static void puma_rlru_reclaim_takes_hosted_before_active_local(struct kunit *test)
{
	struct rlru_test *t = rlru_setup(test, HOSTED_PAGES);
	unsigned long i, allocated = 0, local_left_at_empty = 0;
	long local_freed_at_half = -1;
	struct vfsmount *mnt;
	struct inode *inode;
	struct page *page, *tmp;
	LIST_HEAD(pressure);

	mnt = kern_mount(&local_fs_type);
	KUNIT_ASSERT_FALSE(test, IS_ERR(mnt));
	inode = new_inode(mnt->mnt_sb);
	KUNIT_ASSERT_NOT_NULL(test, inode);
	inode->i_mode = S_IFREG;
	inode->i_mapping->a_ops = &local_aops;
	atomic_long_set(&local_freed, 0);

	for (i = 0; i < LOCAL_PAGES; i++) {
		struct folio *folio = folio_alloc(GFP_HIGHUSER_MOVABLE, 0);

		KUNIT_ASSERT_NOT_NULL(test, folio);
		KUNIT_ASSERT_EQ(test, filemap_add_folio(inode->i_mapping, folio,
							i, GFP_KERNEL), 0);
		folio_mark_uptodate(folio);
		folio_unlock(folio);
		lru_add_drain();
		/* Two accesses activate a file folio. */
		folio_mark_accessed(folio);
		folio_mark_accessed(folio);
		folio_put(folio);
	}
	host(test, t, 0, HOSTED_PAGES, NULL);
	lru_add_drain_all();

	/*
	 * Allocate until reclaim has taken every hosted page, or we run dry.
	 * While hosted pages outnumber the local active ones, the inactive
	 * list is not low, nothing is deactivated, and reclaim must take
	 * hosted pages only: check that halfway.
	 */
	while (puma_rlru_count(t->rlru)) {
		if (local_freed_at_half < 0 &&
		    puma_rlru_count(t->rlru) <= HOSTED_PAGES / 2)
			local_freed_at_half = atomic_long_read(&local_freed);
		page = alloc_page(GFP_KERNEL | __GFP_RETRY_MAYFAIL |
				  __GFP_NOWARN);
		if (!page)
			break;
		list_add(&page->lru, &pressure);
		allocated++;
		if (!(allocated % 1024))
			cond_resched();
	}
	local_left_at_empty = LOCAL_PAGES - atomic_long_read(&local_freed);
	list_for_each_entry_safe(page, tmp, &pressure, lru)
		__free_page(page);

	kunit_info(test, "allocated %lu pages; hosted left %lu; reports %ld; local active pages freed when half the hosted ones were: %ld; left when all were: %lu of %lu\n",
		   allocated, puma_rlru_count(t->rlru),
		   atomic_long_read(&t->reports), local_freed_at_half,
		   local_left_at_empty, LOCAL_PAGES);
	KUNIT_EXPECT_EQ(test, puma_rlru_count(t->rlru), 0UL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->reports), (long)HOSTED_PAGES);
	KUNIT_EXPECT_EQ(test, bitmap_weight(t->reported, HOSTED_PAGES),
			HOSTED_PAGES);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->double_reports), 0L);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->bad_reports), 0L);
	/* Local active pages keep priority over hosted ones. */
	KUNIT_EXPECT_EQ(test, local_freed_at_half, 0L);
	/*
	 * Once hosted pages are fewer than the active ones, reclaim
	 * deactivates local pages too; most must still be there.
	 */
	KUNIT_EXPECT_GE(test, local_left_at_empty * 2, LOCAL_PAGES);

	iput(inode);
	kern_unmount(mnt);
	rlru_teardown(t);
}

static struct kunit_case puma_rlru_test_cases[] = {
	KUNIT_CASE(puma_rlru_insert_lands_on_inactive_file_lru),
	KUNIT_CASE(puma_rlru_copy_returns_data_and_stays_inactive),
	KUNIT_CASE(puma_rlru_copy_missing_returns_enoent),
	KUNIT_CASE(puma_rlru_insert_duplicate_returns_eexist),
	KUNIT_CASE(puma_rlru_take_hands_over_folio_silently),
	KUNIT_CASE(puma_rlru_remove_inode_and_pool_drop_pages),
	KUNIT_CASE(puma_rlru_remove_inode_survives_racing_reclaim),
	KUNIT_CASE(puma_rlru_shrink_removes_oldest_first_and_reports),
	KUNIT_CASE(puma_rlru_charge_counts_pages_and_metadata),
	KUNIT_CASE_SLOW(puma_rlru_reclaim_takes_hosted_before_active_local),
	{}
};

static struct kunit_suite puma_rlru_test_suite = {
	.name = "puma_rlru",
	.test_cases = puma_rlru_test_cases,
};

kunit_test_suite(puma_rlru_test_suite);

MODULE_DESCRIPTION("KUnit tests for the PUMA remote-LRU integration");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
