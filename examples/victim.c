// SPDX-License-Identifier: GPL-2.0-only
/*
 * puma_victim: a local victim cache in spare memory, a second, small
 * consumer of the PUMA library without any of PUMA's network parts.
 *
 * Its cleancache operations keep the clean file pages that reclaim drops
 * (put) in hosted folios of the remote-LRU component (<puma/rlru.h>), on
 * this node's inactive file LRU, where reclaim frees them like any clean
 * cache; a later page-cache miss (get) is served from them.  Its
 * cleancache LRU operations feed the activity detector
 * (<puma/detector.h>): while the node's page cache is under pressure, the
 * cache takes no new pages; it keeps serving the ones it holds.
 *
 * Ordering, which is what keeps the cache correct (a get never returns
 * data older than the file's).  Put runs with interrupts off under the
 * page cache's i_pages lock, and invalidate_folio may too, so neither may
 * allocate a folio or touch the remote-LRU owner (which sleeps).  Every
 * hook that changes what the cache must hold goes through the library's
 * ordered outbox (<puma/outbox.h>), as in PUMA's client; its drain work
 * applies the items to the remote-LRU owner in hook order, and a get asks
 * the outbox first: only when no queued item concerns the key does it
 * look in the remote-LRU owner.  A staged page becomes the hosted folio
 * itself (puma_outbox_take_page()): no second copy.
 *
 * Lock ordering:
 *   page cache: inode->i_lock, mapping->i_pages    (put, invalidate_folio)
 *     the outbox's lock
 * victim.lock (spinlock) guards only the pool high-water mark and takes no
 * other lock.  The remote-LRU owner and the detector (its raw spinlock is
 * innermost) are called without either.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cleancache.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/percpu_counter.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include <puma/detector.h>
#include <puma/outbox.h>
#include <puma/rlru.h>

/* A range invalidation wider than this drops the whole inode. */
#define VICTIM_RANGE_MAX		256
#define VICTIM_MAX_POOLS		4096
#define VICTIM_BATCH			16

/*
 * The victim cache takes spare memory only: no direct reclaim for its
 * pages nor for its metadata.  kswapd may be woken.
 */
#define VICTIM_PAGE_GFP	((GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM) | \
			 __GFP_NOWARN)
#define VICTIM_META_GFP	(GFP_NOWAIT | __GFP_NOWARN)

enum victim_stat {
	VICTIM_STAT_PUTS,		/* pages staged */
	VICTIM_STAT_PUT_DROPS,		/* no staging page, full, no memory */
	VICTIM_STAT_PUT_SKIPS_SUSPENDED, /* the detector said no */
	VICTIM_STAT_STORED,		/* staged pages now hosted */
	VICTIM_STAT_GETS,
	VICTIM_STAT_HITS,		/* all hits, staged ones included */
	VICTIM_STAT_STAGED_HITS,	/* served from a staging page */
	VICTIM_STAT_MISSES,
	VICTIM_STAT_INVALIDATIONS,	/* invalidation hook calls */
	VICTIM_STAT_INVALIDATED,	/* hosted pages they removed */
	VICTIM_STAT_RECLAIMED,		/* hosted pages reclaim took */
	VICTIM_STAT_NR,
};

static const char *const victim_stat_names[VICTIM_STAT_NR] = {
	[VICTIM_STAT_PUTS]		= "puts",
	[VICTIM_STAT_PUT_DROPS]		= "put_drops",
	[VICTIM_STAT_PUT_SKIPS_SUSPENDED] = "put_skips_suspended",
	[VICTIM_STAT_STORED]		= "stored",
	[VICTIM_STAT_GETS]		= "gets",
	[VICTIM_STAT_HITS]		= "hits",
	[VICTIM_STAT_STAGED_HITS]	= "staged_hits",
	[VICTIM_STAT_MISSES]		= "misses",
	[VICTIM_STAT_INVALIDATIONS]	= "invalidations",
	[VICTIM_STAT_INVALIDATED]	= "invalidated",
	[VICTIM_STAT_RECLAIMED]		= "reclaimed",
};

/**
 * struct victim - The victim cache (one per module).
 * @ob: The ordered outbox of puts and invalidations.
 * @rlru: Remote-LRU owner holding the hosted folios.
 * @lock: Protects @pool_hwm.
 * @pool_hwm: Pool ids handed out are below this.
 * @det: Activity detector over the hooks' refault/deactivate signals.
 * @pools: Pool ids.
 * @max_pages: Cap on hosted pages.
 * @stats: Counters, &enum victim_stat.
 * @debugfs: Our debugfs directory.
 */
struct victim {
	struct puma_outbox *ob;
	struct puma_rlru *rlru;
	spinlock_t lock;		/* @pool_hwm */
	u32 pool_hwm;
	struct puma_detector_watch det;
	struct ida pools;
	unsigned long max_pages;
	struct percpu_counter stats[VICTIM_STAT_NR];
	struct dentry *debugfs;
};

static struct victim *victim;

/* Module parameters */

static unsigned long max_pages;
module_param(max_pages, ulong, 0444);
MODULE_PARM_DESC(max_pages,
		 "most pages the cache holds (default 0: a quarter of RAM)");

static unsigned int staging_pages = 1024;
module_param(staging_pages, uint, 0444);
MODULE_PARM_DESC(staging_pages,
		 "preallocated pages for puts waiting to be hosted (16-65536, default 1024)");

static unsigned int inv_items = 1024;
module_param(inv_items, uint, 0444);
MODULE_PARM_DESC(inv_items,
		 "preallocated invalidation items for atomic contexts; when they run out the file, or the whole cache, is dropped (1-65536, default 1024)");

static bool exclusive = true;
module_param(exclusive, bool, 0444);
MODULE_PARM_DESC(exclusive,
		 "a hit moves the page back to the page cache (Y, default) or leaves a copy (N)");

/* Published to the parameter (under kernel_param_lock()) while loaded. */
static struct puma_detector_param victim_detector = {
	.mode = PUMA_DETECTOR_COMBINED,
};
module_param_cb(detector, &puma_detector_param_ops, &victim_detector, 0644);
MODULE_PARM_DESC(detector,
		 "what stops the cache taking pages: off, shadow, deactivation or combined (default)");

static void victim_count(struct victim *v, enum victim_stat stat, s64 n)
{
	percpu_counter_add(&v->stats[stat], n);
}

/* cleancache operations */

static int victim_init_fs(struct super_block *sb)
{
	struct victim *v = victim;
	int pool;

	pool = ida_alloc_max(&v->pools, VICTIM_MAX_POOLS - 1, GFP_KERNEL);
	if (pool < 0)
		return pool;
	spin_lock(&v->lock);
	v->pool_hwm = max_t(u32, v->pool_hwm, pool + 1);
	spin_unlock(&v->lock);
	return pool;
}

static void victim_put_folio(int pool, u64 ino, pgoff_t index,
			     struct folio *folio)
{
	struct victim *v = victim;
	struct puma_key key;

	if (puma_detector_suspended(&v->det.det)) {
		victim_count(v, VICTIM_STAT_PUT_SKIPS_SUSPENDED, 1);
		return;
	}
	puma_key_init(&key, pool, ino, index);
	if (puma_rlru_count(v->rlru) >= v->max_pages ||
	    puma_outbox_put(v->ob, &key, folio_page(folio, 0)))
		victim_count(v, VICTIM_STAT_PUT_DROPS, 1);
	else
		victim_count(v, VICTIM_STAT_PUTS, 1);
}

static void victim_invalidate(enum puma_outbox_op op, int pool, u64 ino,
			      pgoff_t start, pgoff_t end, gfp_t gfp)
{
	struct puma_key key;

	victim_count(victim, VICTIM_STAT_INVALIDATIONS, 1);
	puma_key_init(&key, pool, ino, start);
	/* Never closed: nothing to refuse. */
	WARN_ON_ONCE(puma_outbox_invalidate(victim->ob, op, &key, end, gfp));
}

static void victim_invalidate_folio(int pool, u64 ino, pgoff_t index)
{
	/* Interrupts may be off: preallocated items only. */
	victim_invalidate(PUMA_OUTBOX_INV_RANGE, pool, ino, index, index,
			  GFP_NOWAIT);
}

static void victim_invalidate_inode(int pool, u64 ino)
{
	victim_invalidate(PUMA_OUTBOX_INV_INODE, pool, ino, 0, 0, GFP_NOFS);
}

static void victim_invalidate_range(int pool, u64 ino, pgoff_t start,
				    pgoff_t end)
{
	if (end - start >= VICTIM_RANGE_MAX)
		victim_invalidate_inode(pool, ino);
	else
		victim_invalidate(PUMA_OUTBOX_INV_RANGE, pool, ino, start, end,
				  GFP_NOFS);
}

static void victim_invalidate_fs(int pool)
{
	victim_invalidate(PUMA_OUTBOX_INV_POOL, pool, 0, 0, 0, GFP_NOFS);
	/* Queued before any put of a pool that reuses the id. */
	ida_free(&victim->pools, pool);
}

static int victim_get_folio(int pool, u64 ino, pgoff_t index,
			    struct folio *folio)
{
	struct victim *v = victim;
	struct page *dst = folio_page(folio, 0);
	struct puma_key key;
	struct folio *hosted;
	int err;

	victim_count(v, VICTIM_STAT_GETS, 1);
	puma_key_init(&key, pool, ino, index);

	err = puma_outbox_lookup(v->ob, &key, dst);
	if (!err)
		victim_count(v, VICTIM_STAT_STAGED_HITS, 1);
	if (err != -ENOENT)
		goto out;

	/*
	 * Nothing pending for the key: the hosted copy, if any, is current.
	 * No hook for the key runs meanwhile: the page cache holds @folio
	 * locked at this index (no put, no dirtying, and direct I/O's
	 * invalidation waits for the lock), and truncation and hole punching
	 * exclude reads with the inode's invalidate_lock.
	 */
	err = -ENODATA;
	if (exclusive) {
		hosted = puma_rlru_take(v->rlru, &key);
		if (hosted) {
			copy_highpage(dst, folio_page(hosted, 0));
			folio_put(hosted);
			err = 0;
		}
	} else if (!puma_rlru_copy(v->rlru, &key, dst)) {
		err = 0;
	}
out:
	if (!err)
		flush_dcache_folio(folio);
	victim_count(v, err ? VICTIM_STAT_MISSES : VICTIM_STAT_HITS, 1);
	return err ? -ENODATA : 0;
}

/* The activity detector's signals. */

static void victim_refault(unsigned long nr_pages)
{
	puma_detector_watch_event(&victim->det, PUMA_DETECTOR_REFAULT,
				  nr_pages);
}

static void victim_deactivate(unsigned long nr_pages)
{
	/* No file_inactive_is_low: every deactivation is the kernel's. */
	puma_detector_watch_event(&victim->det, PUMA_DETECTOR_DEACTIVATE,
				  nr_pages);
}

static const struct cleancache_ops victim_cleancache_ops = {
	.init_fs		= victim_init_fs,
	.put_folio		= victim_put_folio,
	.get_folio		= victim_get_folio,
	.invalidate_folio	= victim_invalidate_folio,
	.invalidate_range	= victim_invalidate_range,
	.invalidate_inode	= victim_invalidate_inode,
	.invalidate_fs		= victim_invalidate_fs,
};

static const struct cleancache_lru_ops victim_cleancache_lru_ops = {
	.refault		= victim_refault,
	.deactivate		= victim_deactivate,
};

static void victim_detector_changed(struct puma_detector_watch *watch,
				    bool suspended, const char *reason)
{
	pr_debug("%s taking pages (%s)\n", suspended ? "stopped" : "started",
		 reason);
}

/* Applying the outbox: its drain work, the only context that does. */

static void victim_rlru_reclaimed(struct puma_rlru *rlru,
				  const struct puma_key *key)
{
	victim_count(puma_rlru_priv(rlru), VICTIM_STAT_RECLAIMED, 1);
}

static const struct puma_rlru_ops victim_rlru_ops = {
	.reclaimed = victim_rlru_reclaimed,
};

/* Host the staged page of @o: the staging page becomes the hosted folio. */
static void victim_apply_put(struct victim *v, struct puma_outbox_item *o)
{
	struct folio *folio;
	struct page *page;
	int err;

	if (puma_rlru_count(v->rlru) >= v->max_pages)
		goto drop;
	page = puma_outbox_take_page(v->ob, o, VICTIM_PAGE_GFP);
	if (IS_ERR(page))
		goto drop;
	folio = page_folio(page);
	err = puma_rlru_insert(v->rlru, &o->key, folio, VICTIM_META_GFP);
	if (err == -EEXIST) {
		/* An older copy of the same data: keep the newest. */
		puma_rlru_remove(v->rlru, &o->key);
		err = puma_rlru_insert(v->rlru, &o->key, folio,
				       VICTIM_META_GFP);
	}
	/* The owner's page cache holds it now, or nobody will. */
	folio_put(folio);
	if (err)
		goto drop;
	victim_count(v, VICTIM_STAT_STORED, 1);
	return;
drop:
	victim_count(v, VICTIM_STAT_PUT_DROPS, 1);
}

static void victim_apply_inv(struct victim *v, struct puma_outbox_item *o)
{
	struct puma_key key = o->key;
	unsigned long n = 0;
	u32 pool, hwm;

	switch (o->op) {
	case PUMA_OUTBOX_INV_RANGE:
		for (;; key.index++) {
			n += !puma_rlru_remove(v->rlru, &key);
			if (key.index == o->end)
				break;
		}
		break;
	case PUMA_OUTBOX_INV_INODE:
		n = puma_rlru_remove_inode(v->rlru, key.pool, key.ino);
		break;
	case PUMA_OUTBOX_INV_POOL:
		n = puma_rlru_remove_pool(v->rlru, key.pool);
		break;
	default:
		spin_lock(&v->lock);
		hwm = v->pool_hwm;
		spin_unlock(&v->lock);
		for (pool = 0; pool < hwm; pool++) {
			n += puma_rlru_remove_pool(v->rlru, pool);
			cond_resched();
		}
	}
	victim_count(v, VICTIM_STAT_INVALIDATED, n);
}

static int victim_drain(struct puma_outbox *ob,
			struct puma_outbox_item **items, unsigned int nr,
			void *priv)
{
	struct victim *v = priv;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (items[i]->op == PUMA_OUTBOX_PUT)
			victim_apply_put(v, items[i]);
		else
			victim_apply_inv(v, items[i]);
	}
	return 0;
}

static bool victim_store_empty(void *priv)
{
	struct victim *v = priv;

	return !puma_rlru_count(v->rlru);
}

static const struct puma_outbox_ops victim_outbox_ops = {
	.drain		= victim_drain,
	.store_empty	= victim_store_empty,
};

/* debugfs */

static int victim_stats_show(struct seq_file *m, void *unused)
{
	struct victim *v = m->private;
	struct puma_outbox_stats os;
	int i;

	for (i = 0; i < VICTIM_STAT_NR; i++)
		seq_printf(m, "%s %lld\n", victim_stat_names[i],
			   percpu_counter_sum(&v->stats[i]));
	puma_outbox_get_stats(v->ob, &os);
	seq_printf(m, "inv_filtered %llu\n", os.inv_filtered);
	seq_printf(m, "inv_pool_empty %llu\n", os.inv_pool_empty);
	seq_printf(m, "inv_overflows %llu\n", os.inv_overflows);
	seq_printf(m, "flushes %llu\n", os.flushes);
	seq_printf(m, "flush_dropped %llu\n", os.flush_dropped);
	seq_printf(m, "queued %u\n", os.queued);
	seq_printf(m, "hosted %lu\n", puma_rlru_count(v->rlru));
	seq_printf(m, "max_pages %lu\n", v->max_pages);
	puma_detector_show(m, &v->det.det, "detector_", "taking");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(victim_stats);

/* Setup and teardown */

static void victim_free(struct victim *v)
{
	unsigned int i;

	for (i = 0; i < VICTIM_STAT_NR; i++)
		percpu_counter_destroy(&v->stats[i]);
	kfree(v);
}

static struct victim *victim_alloc(void)
{
	struct victim *v;
	unsigned int i;

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return NULL;
	spin_lock_init(&v->lock);
	ida_init(&v->pools);
	v->max_pages = max_pages;
	for (i = 0; i < VICTIM_STAT_NR; i++) {
		if (percpu_counter_init(&v->stats[i], 0, GFP_KERNEL)) {
			victim_free(v);
			return NULL;
		}
	}
	return v;
}

static int __init victim_parse_params(void)
{
	if (staging_pages < 16 || staging_pages > 65536) {
		pr_err("staging_pages=%u: expected 16 to 65536\n",
		       staging_pages);
		return -EINVAL;
	}
	if (!inv_items || inv_items > 65536) {
		pr_err("inv_items=%u: expected 1 to 65536\n", inv_items);
		return -EINVAL;
	}
	if (!max_pages)
		max_pages = totalram_pages() / 4;
	if (max_pages > totalram_pages()) {
		pr_err("max_pages=%lu: expected at most the %lu pages of RAM\n",
		       max_pages, totalram_pages());
		return -EINVAL;
	}
	return 0;
}

static void victim_unpublish(void)
{
	kernel_param_lock(THIS_MODULE);
	victim_detector.watch = NULL;
	WRITE_ONCE(victim, NULL);
	kernel_param_unlock(THIS_MODULE);
}

static int __init victim_init(void)
{
	struct puma_outbox_params op = {
		.ops = &victim_outbox_ops,
		.nr_stages = staging_pages,
		.nr_invs = inv_items,
		.max_batch = VICTIM_BATCH,
		/* Each becomes a hosted folio: movable, like the rest. */
		.stage_gfp = GFP_HIGHUSER_MOVABLE,
	};
	struct victim *v;
	int mode, err;

	if (IS_ENABLED(CONFIG_LRU_GEN)) {
		pr_err("needs the classic two-list LRU; this kernel has the multi-gen LRU (CONFIG_LRU_GEN), whose reclaim does not honour inactive-only hosted pages\n");
		return -EOPNOTSUPP;
	}
	err = victim_parse_params();
	if (err)
		return err;
	v = victim_alloc();
	if (!v)
		return -ENOMEM;
	v->rlru = puma_rlru_create(&victim_rlru_ops, v);
	if (IS_ERR(v->rlru)) {
		err = PTR_ERR(v->rlru);
		goto free;
	}
	op.priv = v;
	v->ob = puma_outbox_create(&op);
	if (IS_ERR(v->ob)) {
		err = PTR_ERR(v->ob);
		goto destroy_rlru;
	}

	/* The parameter's setter finds the watcher under this lock. */
	kernel_param_lock(THIS_MODULE);
	mode = victim_detector.mode;
	err = puma_detector_watch_init(&v->det, mode,
				       PUMA_DETECTOR_WINDOW_NS_DEFAULT,
				       victim_detector_changed);
	if (!err) {
		victim_detector.watch = &v->det;
		WRITE_ONCE(victim, v);
	}
	kernel_param_unlock(THIS_MODULE);
	if (err)
		goto destroy;
	err = cleancache_register_lru_ops(&victim_cleancache_lru_ops);
	if (err)
		goto busy;
	/* Calls init_fs for the mounted file systems: victim must be set. */
	err = cleancache_register_ops(&victim_cleancache_ops);
	if (err) {
		cleancache_unregister_lru_ops(&victim_cleancache_lru_ops);
		goto busy;
	}
	v->debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0444, v->debugfs, v, &victim_stats_fops);
	pr_info("caching up to %lu pages, %u staging, %s, detector %s\n",
		v->max_pages, staging_pages,
		exclusive ? "exclusive" : "inclusive",
		puma_detector_mode_name(mode));
	return 0;

busy:
	pr_err("cannot register with cleancache: %d%s\n", err,
	       err == -EBUSY ? " (another backend is registered)" : "");
	victim_unpublish();
destroy:
	puma_outbox_destroy(v->ob);
destroy_rlru:
	puma_rlru_destroy(v->rlru);
free:
	victim_free(v);
	return err;
}

static void __exit victim_exit(void)
{
	struct victim *v = victim;

	debugfs_remove(v->debugfs);
	/* No hook runs, nor will, once this returns. */
	cleancache_unregister_ops(&victim_cleancache_ops);
	cleancache_unregister_lru_ops(&victim_cleancache_lru_ops);
	victim_unpublish();
	puma_detector_watch_stop(&v->det);
	/* Hosted pages go with the owner: what is queued need not drain. */
	puma_outbox_destroy(v->ob);
	puma_rlru_destroy(v->rlru);
	ida_destroy(&v->pools);
	victim_free(v);
}

module_init(victim_init);
module_exit(victim_exit);

MODULE_DESCRIPTION("PUMA example: a local victim cache for clean page-cache pages");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
