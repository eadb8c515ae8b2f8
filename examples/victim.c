// SPDX-License-Identifier: GPL-2.0-only
/*
 * puma_victim: a local victim cache in spare memory, a second, small
 * consumer of the PUMA library without any of PUMA's network parts.
 *
 * It registers as the cleancache backend.  Clean file pages that reclaim
 * drops (put) are kept in hosted folios of the remote-LRU component
 * (<puma/rlru.h>): they sit on this node's inactive file LRU, charged to
 * the root memory cgroup, so the kernel's reclaim frees them like any
 * clean cache and reports each one through ->reclaimed.  A later
 * page-cache miss (get) is served from them before the disk.  Keys are
 * the page index's (struct puma_key), and every lookup goes through
 * the page index that the remote-LRU owner embeds.  The activity detector
 * (<puma/detector.h>) watches the refault and deactivate signals of the
 * hook series: while the node's page cache is under pressure, the cache
 * takes no new pages (and says so in its statistics); it keeps serving
 * the ones it holds.
 *
 * Ordering, which is what keeps the cache correct (a get never returns
 * data older than the file's).  Put runs with interrupts off under the
 * page cache's i_pages lock, and invalidate_folio may too, so neither may
 * allocate a folio or touch the remote-LRU owner (which sleeps).  As in
 * PUMA's client (backends/puma/client.c), every hook that changes what
 * the cache must hold becomes an item of one ordered outbox:
 *
 *   put              copies the page into a preallocated staging page and
 *                    queues a PUT item;
 *   invalidate_*     queue an invalidation item (a page range, an inode,
 *                    a pool);
 *
 * all under one lock, in the order the hooks ran, which for one key is
 * the order the page cache saw the events.  One work item applies the
 * items to the remote-LRU owner strictly in that order, one at a time:
 * an invalidation is applied after every older put of its key, and so
 * always wins over it.  An item stays visible while it is being applied
 * and is released only after the remote-LRU owner reflects it.
 *
 * A get first looks for its key in the outbox and in the item being
 * applied, under the lock; the last item that concerns the key decides:
 * a PUT is served from its staging page, an invalidation is a miss.  Only
 * when no item concerns the key does it look in the remote-LRU owner,
 * whose state then already includes every hook call made before the get.
 * A hashed count of the pending items per key lets most gets skip the
 * scan.
 *
 * An invalidation from a context that cannot allocate takes an item from
 * a preallocated pool.  When that pool is empty the cache must still not
 * lose the invalidation: it drops every PUT still queued (they are all
 * older) and queues its one embedded "flush" item, which empties the
 * whole cache; every get misses until the flush is done.
 *
 * Two hashed filters (pages and inodes), set by put and cleared only when
 * the cache is empty and nothing is queued, let invalidations of pages
 * the cache never saw (most of them: every write that dirties a page
 * calls invalidate_folio) cost a bit test.
 *
 * Lock ordering:
 *   page cache: inode->i_lock, mapping->i_pages    (put, invalidate_folio)
 *     victim.lock (spinlock, IRQ-safe)
 * victim.lock takes no other lock and calls nothing that does.  The
 * remote-LRU owner, the detector (its raw spinlock is innermost) and the
 * workqueue are called without it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/cleancache.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/ktime.h>
#include <linux/list.h>
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
#include <puma/index.h>
#include <puma/rlru.h>

/* Hashed filters: bits for pages and for inodes. */
#define VICTIM_PAGE_FILTER_ORDER	20
#define VICTIM_INODE_FILTER_ORDER	16
/* Hashed counts of pending page items, to skip the outbox scan. */
#define VICTIM_PENDING_ORDER		12
/* A range invalidation wider than this drops the whole inode. */
#define VICTIM_RANGE_MAX		256
#define VICTIM_MAX_POOLS		4096

/*
 * The victim cache takes spare memory only: no direct reclaim for its
 * pages nor for its metadata.  kswapd may be woken.
 */
#define VICTIM_PAGE_GFP	((GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM) | \
			 __GFP_NOWARN)
#define VICTIM_META_GFP	(GFP_NOWAIT | __GFP_NOWARN)

enum victim_kind {
	VICTIM_PUT,		/* host the staged page at key */
	VICTIM_INV_RANGE,	/* key.index to end, inclusive */
	VICTIM_INV_INODE,	/* every page of key.ino */
	VICTIM_INV_POOL,	/* every page of key.pool */
	VICTIM_INV_ALL,		/* everything (the embedded flush item) */
};

enum victim_origin {
	VICTIM_FROM_STAGES,	/* the staging pool (PUT) */
	VICTIM_FROM_INVS,	/* the preallocated invalidation pool */
	VICTIM_FROM_KMALLOC,
	VICTIM_FROM_FLUSH,	/* victim.flush */
};

/**
 * struct victim_item - One outbox item: a staged put or an invalidation.
 * @list: In &victim.outbox, or in a free list.
 * @kind: &enum victim_kind.
 * @origin: &enum victim_origin: where it goes back when released.
 * @key: The page (PUT), the first page (INV_RANGE), the inode or pool.
 * @end: Last page of an INV_RANGE, inclusive.
 * @page: PUT: the staging page holding the data.
 */
struct victim_item {
	struct list_head list;
	u8 kind;
	u8 origin;
	struct puma_key key;
	pgoff_t end;
	struct page *page;
};

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
	VICTIM_STAT_INV_FILTERED,	/* of which the filters answered */
	VICTIM_STAT_INVALIDATED,	/* hosted pages they removed */
	VICTIM_STAT_FLUSHES,		/* invalidation pool ran dry */
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
	[VICTIM_STAT_INV_FILTERED]	= "inv_filtered",
	[VICTIM_STAT_INVALIDATED]	= "invalidated",
	[VICTIM_STAT_FLUSHES]		= "flushes",
	[VICTIM_STAT_RECLAIMED]		= "reclaimed",
};

/**
 * struct victim - The victim cache (one per module).
 * @lock: Protects the fields down to @pool_hwm.  IRQ-safe: put and
 *	invalidate_folio run with interrupts off.
 * @outbox: Items not yet applied, in hook order.
 * @applying: The item the work is applying, or %NULL; still decides gets.
 * @nr_staged: PUT items in @outbox or @applying.
 * @free_stages: Staging items with their pages, ready for put.
 * @free_invs: Preallocated invalidation items.
 * @flush_queued: @flush is in @outbox or being applied.
 * @nr_wide: Pending items that may concern many keys (not one page).
 * @pending: Pending one-page items, by hash of their key.
 * @page_filter: Hash of (pool, inode, page) of every page put since the
 *	last reset.
 * @inode_filter: Hash of (pool, inode) of the same.
 * @pool_hwm: Pool ids handed out are below this.
 * @flush: The one item that empties the whole cache.
 * @stages: Array of the @staging_pages staging items.
 * @invs: Array of the @inv_items preallocated invalidation items.
 * @work: Applies the outbox to @rlru; the only context that does.
 * @rlru: Remote-LRU owner holding the hosted folios.
 * @det: Activity detector over the hooks' refault/deactivate signals.
 * @detector_work: Polls @det at the end of its window.
 * @pools: Pool ids.
 * @max_pages: Cap on hosted plus staged pages.
 * @stats: Counters, &enum victim_stat.
 * @debugfs: Our debugfs directory.
 */
struct victim {
	spinlock_t lock;		/* the fields down to pool_hwm */
	struct list_head outbox;
	struct victim_item *applying;
	unsigned int nr_staged;
	struct list_head free_stages;
	struct list_head free_invs;
	bool flush_queued;
	unsigned int nr_wide;
	unsigned int pending[1 << VICTIM_PENDING_ORDER];
	unsigned long *page_filter;
	unsigned long *inode_filter;
	u32 pool_hwm;

	struct victim_item flush;
	struct victim_item *stages;
	struct victim_item *invs;
	struct work_struct work;
	struct puma_rlru *rlru;
	struct puma_detector det;
	struct delayed_work detector_work;
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
		 "preallocated invalidation items for atomic contexts; when they run out the cache flushes itself (1-65536, default 1024)");

static bool exclusive = true;
module_param(exclusive, bool, 0444);
MODULE_PARM_DESC(exclusive,
		 "a hit moves the page back to the page cache (Y, default) or leaves a copy (N)");

static int victim_detector_mode = PUMA_DETECTOR_COMBINED;

static int victim_detector_set(const char *val, const struct kernel_param *kp)
{
	char name[16];
	int mode;

	strscpy(name, val);
	strim(name);
	mode = puma_detector_parse_mode(name);
	if (mode < 0) {
		pr_err("detector=%s: expected off, shadow, deactivation or combined\n",
		       name);
		return mode;
	}
	/* Under kernel_param_lock(), as victim_init() and victim_exit(). */
	victim_detector_mode = mode;
	/* Loaded: takes effect with the next event (detector.rst). */
	if (victim)
		puma_detector_set_mode(&victim->det, mode);
	return 0;
}

static int victim_detector_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  puma_detector_mode_name(victim_detector_mode));
}

static const struct kernel_param_ops victim_detector_ops = {
	.set = victim_detector_set,
	.get = victim_detector_get,
};
module_param_cb(detector, &victim_detector_ops, NULL, 0644);
MODULE_PARM_DESC(detector,
		 "what stops the cache taking pages: off, shadow, deactivation or combined (default)");

static void victim_count(struct victim *v, enum victim_stat stat, s64 n)
{
	percpu_counter_add(&v->stats[stat], n);
}

/* Keys, filters and the pending counts */

static u64 victim_inode_hash(u32 pool, u64 ino)
{
	return hash_64(ino ^ ((u64)pool << 48), 64);
}

static unsigned long victim_page_hash(const struct puma_key *key,
				      unsigned int order)
{
	return hash_64(key->index ^ victim_inode_hash(key->pool, key->ino),
		       order);
}

/* One-page items are counted by key; the others as "wide". */
static bool victim_item_is_page(const struct victim_item *o)
{
	return o->kind == VICTIM_PUT ||
	       (o->kind == VICTIM_INV_RANGE && o->end == o->key.index);
}

static void __victim_pending_inc(struct victim *v, const struct victim_item *o)
{
	lockdep_assert_held(&v->lock);
	if (victim_item_is_page(o))
		v->pending[victim_page_hash(&o->key, VICTIM_PENDING_ORDER)]++;
	else
		v->nr_wide++;
}

static void __victim_pending_dec(struct victim *v, const struct victim_item *o)
{
	lockdep_assert_held(&v->lock);
	if (victim_item_is_page(o))
		v->pending[victim_page_hash(&o->key, VICTIM_PENDING_ORDER)]--;
	else
		v->nr_wide--;
}

static bool victim_item_affects(const struct victim_item *o,
				const struct puma_key *key)
{
	if (o->kind == VICTIM_INV_ALL)
		return true;
	if (o->key.pool != key->pool)
		return false;
	switch (o->kind) {
	case VICTIM_INV_POOL:
		return true;
	case VICTIM_INV_INODE:
		return o->key.ino == key->ino;
	case VICTIM_INV_RANGE:
		return o->key.ino == key->ino && key->index >= o->key.index &&
		       key->index <= o->end;
	default:
		return o->key.ino == key->ino && o->key.index == key->index;
	}
}

/*
 * The pending item that decides @key: the last one, in hook order, that
 * concerns it (the item being applied is the oldest).  %NULL if none.
 */
static struct victim_item *__victim_find(struct victim *v,
					 const struct puma_key *key)
{
	struct victim_item *o, *last = NULL;

	lockdep_assert_held(&v->lock);
	if (!v->nr_wide &&
	    !v->pending[victim_page_hash(key, VICTIM_PENDING_ORDER)])
		return NULL;
	if (v->applying && victim_item_affects(v->applying, key))
		last = v->applying;
	list_for_each_entry(o, &v->outbox, list)
		if (victim_item_affects(o, key))
			last = o;
	return last;
}

/* Items: queue and release */

static void __victim_queue(struct victim *v, struct victim_item *o)
{
	lockdep_assert_held(&v->lock);
	list_add_tail(&o->list, &v->outbox);
	__victim_pending_inc(v, o);
	if (o->kind == VICTIM_PUT)
		v->nr_staged++;
}

/* @o is off every list; give it back where it came from. */
static void __victim_release(struct victim *v, struct victim_item *o)
{
	lockdep_assert_held(&v->lock);
	__victim_pending_dec(v, o);
	if (o->kind == VICTIM_PUT)
		v->nr_staged--;
	switch (o->origin) {
	case VICTIM_FROM_STAGES:
		list_add(&o->list, &v->free_stages);
		break;
	case VICTIM_FROM_INVS:
		list_add(&o->list, &v->free_invs);
		break;
	case VICTIM_FROM_FLUSH:
		v->flush_queued = false;
		break;
	default:
		kfree(o);
	}
}

/*
 * No item for an invalidation: drop every queued PUT (each is older than
 * the invalidation) and queue the flush behind what is left, which are
 * only invalidations.  If the flush is being applied already, it finishes
 * after every hosted page that exists now is gone, and the PUTs that
 * could bring one back are dropped: nothing more is needed.
 */
static unsigned int __victim_flush(struct victim *v)
{
	struct victim_item *o, *tmp;
	unsigned int dropped = 0;

	lockdep_assert_held(&v->lock);
	list_for_each_entry_safe(o, tmp, &v->outbox, list) {
		if (o->kind != VICTIM_PUT)
			continue;
		list_del(&o->list);
		__victim_release(v, o);
		dropped++;
	}
	if (v->applying == &v->flush)
		return dropped;
	if (v->flush_queued) {
		list_move_tail(&v->flush.list, &v->outbox);
		return dropped;
	}
	v->flush_queued = true;
	__victim_queue(v, &v->flush);
	return dropped;
}

/* cleancache operations */

static int victim_init_fs(struct super_block *sb)
{
	struct victim *v = victim;
	int pool;

	pool = ida_alloc_max(&v->pools, VICTIM_MAX_POOLS - 1, GFP_KERNEL);
	if (pool < 0)
		return pool;
	spin_lock_irq(&v->lock);
	v->pool_hwm = max_t(u32, v->pool_hwm, pool + 1);
	spin_unlock_irq(&v->lock);
	return pool;
}

static void victim_put_folio(int pool, u64 ino, pgoff_t index,
			     struct folio *folio)
{
	struct victim *v = victim;
	enum victim_stat stat = VICTIM_STAT_PUTS;
	struct victim_item *o;
	unsigned long flags;

	if (puma_detector_suspended(&v->det)) {
		victim_count(v, VICTIM_STAT_PUT_SKIPS_SUSPENDED, 1);
		return;
	}
	spin_lock_irqsave(&v->lock, flags);
	o = list_first_entry_or_null(&v->free_stages, struct victim_item,
				     list);
	if (!o || puma_rlru_count(v->rlru) + v->nr_staged >= v->max_pages) {
		stat = VICTIM_STAT_PUT_DROPS;
		goto unlock;
	}
	list_del(&o->list);
	puma_key_init(&o->key, pool, ino, index);
	copy_highpage(o->page, folio_page(folio, 0));
	__set_bit(victim_page_hash(&o->key, VICTIM_PAGE_FILTER_ORDER),
		  v->page_filter);
	__set_bit(hash_64(victim_inode_hash(pool, ino),
			  VICTIM_INODE_FILTER_ORDER), v->inode_filter);
	__victim_queue(v, o);
unlock:
	spin_unlock_irqrestore(&v->lock, flags);
	victim_count(v, stat, 1);
	if (stat == VICTIM_STAT_PUTS)
		queue_work(system_unbound_wq, &v->work);
}

/* Could any key of this invalidation be staged or hosted? */
static bool __victim_may_hold(struct victim *v, enum victim_kind kind,
			      const struct puma_key *key, pgoff_t end)
{
	struct puma_key k = *key;

	lockdep_assert_held(&v->lock);
	switch (kind) {
	case VICTIM_INV_RANGE:
		for (; k.index <= end; k.index++) {
			if (test_bit(victim_page_hash(&k,
						      VICTIM_PAGE_FILTER_ORDER),
				     v->page_filter))
				return true;
			if (k.index == end)
				break;
		}
		return false;
	case VICTIM_INV_INODE:
		return test_bit(hash_64(victim_inode_hash(key->pool, key->ino),
					VICTIM_INODE_FILTER_ORDER),
				v->inode_filter);
	default:
		return true;
	}
}

/*
 * Queue an invalidation.  @atomic: the caller cannot sleep (interrupts
 * may be off), so only the preallocated items may be used.
 */
static void victim_queue_inv(struct victim *v, enum victim_kind kind,
			     int pool, u64 ino, pgoff_t start, pgoff_t end,
			     bool atomic)
{
	struct victim_item *o = NULL;
	struct puma_key key;
	unsigned long flags;
	int dropped = -1;

	victim_count(v, VICTIM_STAT_INVALIDATIONS, 1);
	puma_key_init(&key, pool, ino, start);
	if (!atomic) {
		o = kmalloc(sizeof(*o), GFP_NOFS | __GFP_NOWARN);
		if (o)
			o->origin = VICTIM_FROM_KMALLOC;
	}
	spin_lock_irqsave(&v->lock, flags);
	if (!__victim_may_hold(v, kind, &key, end)) {
		spin_unlock_irqrestore(&v->lock, flags);
		kfree(o);
		victim_count(v, VICTIM_STAT_INV_FILTERED, 1);
		return;
	}
	if (!o) {
		o = list_first_entry_or_null(&v->free_invs, struct victim_item,
					     list);
		if (o)
			list_del(&o->list);
	}
	if (o) {
		o->kind = kind;
		o->key = key;
		o->end = end;
		__victim_queue(v, o);
	} else {
		dropped = __victim_flush(v);
	}
	spin_unlock_irqrestore(&v->lock, flags);
	if (dropped >= 0) {
		victim_count(v, VICTIM_STAT_FLUSHES, 1);
		victim_count(v, VICTIM_STAT_PUT_DROPS, dropped);
	}
	queue_work(system_unbound_wq, &v->work);
}

static void victim_invalidate_folio(int pool, u64 ino, pgoff_t index)
{
	victim_queue_inv(victim, VICTIM_INV_RANGE, pool, ino, index, index,
			 true);
}

static void victim_invalidate_range(int pool, u64 ino, pgoff_t start,
				    pgoff_t end)
{
	if (end - start >= VICTIM_RANGE_MAX)
		victim_queue_inv(victim, VICTIM_INV_INODE, pool, ino, 0, 0,
				 false);
	else
		victim_queue_inv(victim, VICTIM_INV_RANGE, pool, ino, start,
				 end, false);
}

static void victim_invalidate_inode(int pool, u64 ino)
{
	victim_queue_inv(victim, VICTIM_INV_INODE, pool, ino, 0, 0, false);
}

static void victim_invalidate_fs(int pool)
{
	victim_queue_inv(victim, VICTIM_INV_POOL, pool, 0, 0, 0, false);
	/* Queued before any put of a pool that reuses the id. */
	ida_free(&victim->pools, pool);
}

static int victim_get_folio(int pool, u64 ino, pgoff_t index,
			    struct folio *folio)
{
	struct victim *v = victim;
	struct page *dst = folio_page(folio, 0);
	struct puma_key key;
	struct victim_item *o;
	struct folio *hosted;
	unsigned long flags;
	int err = -ENODATA;

	victim_count(v, VICTIM_STAT_GETS, 1);
	puma_key_init(&key, pool, ino, index);

	spin_lock_irqsave(&v->lock, flags);
	o = __victim_find(v, &key);
	if (o && o->kind == VICTIM_PUT) {
		/* Newer than anything hosted: serve the staged copy. */
		copy_highpage(dst, o->page);
		err = 0;
	}
	spin_unlock_irqrestore(&v->lock, flags);
	if (o) {
		if (!err)
			victim_count(v, VICTIM_STAT_STAGED_HITS, 1);
		goto out;
	}

	/*
	 * Nothing pending for the key: the hosted copy, if any, is current.
	 * No hook for the key runs meanwhile: the page cache holds @folio
	 * locked at this index (no put, no dirtying, and direct I/O's
	 * invalidation waits for the lock), and truncation and hole punching
	 * exclude reads with the inode's invalidate_lock.
	 */
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
	return err;
}

/* The activity detector's signals. */

static void victim_detector_event(enum puma_detector_kind kind,
				  unsigned long nr_pages)
{
	struct victim *v = victim;

	if (puma_detector_event(&v->det, kind, nr_pages, ktime_get_ns()) > 0)
		mod_delayed_work(system_wq, &v->detector_work, 0);
}

static void victim_refault(unsigned long nr_pages)
{
	victim_detector_event(PUMA_DETECTOR_REFAULT, nr_pages);
}

static void victim_deactivate(unsigned long nr_pages)
{
	/* No file_inactive_is_low: every deactivation is the kernel's. */
	victim_detector_event(PUMA_DETECTOR_DEACTIVATE, nr_pages);
}

static const struct cleancache_ops victim_cleancache_ops = {
	.init_fs		= victim_init_fs,
	.put_folio		= victim_put_folio,
	.get_folio		= victim_get_folio,
	.invalidate_folio	= victim_invalidate_folio,
	.invalidate_range	= victim_invalidate_range,
	.invalidate_inode	= victim_invalidate_inode,
	.invalidate_fs		= victim_invalidate_fs,
	.refault		= victim_refault,
	.deactivate		= victim_deactivate,
};

/* Only a poll ends a suspension: poll at the end of each window. */
static void victim_detector_fn(struct work_struct *work)
{
	struct victim *v = container_of(to_delayed_work(work), struct victim,
					detector_work);
	u64 now = ktime_get_ns(), when;

	if (puma_detector_poll(&v->det, now))
		pr_debug("taking pages again\n");
	if (puma_detector_next_poll(&v->det, &when))
		queue_delayed_work(system_wq, &v->detector_work,
				   nsecs_to_jiffies(when > now ? when - now : 0) + 1);
}

/* Applying the outbox: the work item, the only context that does. */

static void victim_rlru_reclaimed(struct puma_rlru *rlru,
				  const struct puma_key *key)
{
	struct victim *v = puma_rlru_priv(rlru);

	victim_count(v, VICTIM_STAT_RECLAIMED, 1);
}

static const struct puma_rlru_ops victim_rlru_ops = {
	.reclaimed = victim_rlru_reclaimed,
};

/*
 * Host the staged page of @o.  The staging page itself becomes the hosted
 * folio and a fresh page takes its place in the item; the swap is made
 * under the lock, since a get may be copying the staged page.  Returns the
 * folio whose reference the caller drops after the swap, or %NULL.
 */
static struct folio *victim_apply_put(struct victim *v, struct victim_item *o,
				      struct page **fresh)
{
	struct folio *folio = page_folio(o->page);
	int err;

	if (puma_rlru_count(v->rlru) >= v->max_pages)
		goto drop;
	*fresh = alloc_page(VICTIM_PAGE_GFP);
	if (!*fresh)
		goto drop;
	err = puma_rlru_insert(v->rlru, &o->key, folio, VICTIM_META_GFP);
	if (err == -EEXIST) {
		/* An older copy of the same data: keep the newest. */
		puma_rlru_remove(v->rlru, &o->key);
		err = puma_rlru_insert(v->rlru, &o->key, folio,
				       VICTIM_META_GFP);
	}
	if (err) {
		__free_page(*fresh);
		*fresh = NULL;
		goto drop;
	}
	victim_count(v, VICTIM_STAT_STORED, 1);
	return folio;
drop:
	victim_count(v, VICTIM_STAT_PUT_DROPS, 1);
	return NULL;
}

static void victim_apply_inv(struct victim *v, struct victim_item *o)
{
	struct puma_key key = o->key;
	unsigned long n = 0;
	u32 pool, hwm;

	switch (o->kind) {
	case VICTIM_INV_RANGE:
		for (;; key.index++) {
			n += !puma_rlru_remove(v->rlru, &key);
			if (key.index == o->end)
				break;
		}
		break;
	case VICTIM_INV_INODE:
		n = puma_rlru_remove_inode(v->rlru, key.pool, key.ino);
		break;
	case VICTIM_INV_POOL:
		n = puma_rlru_remove_pool(v->rlru, key.pool);
		break;
	default:
		spin_lock_irq(&v->lock);
		hwm = v->pool_hwm;
		spin_unlock_irq(&v->lock);
		for (pool = 0; pool < hwm; pool++) {
			n += puma_rlru_remove_pool(v->rlru, pool);
			cond_resched();
		}
	}
	victim_count(v, VICTIM_STAT_INVALIDATED, n);
}

static void victim_work_fn(struct work_struct *work)
{
	struct victim *v = container_of(work, struct victim, work);
	struct folio *hosted;
	struct victim_item *o;
	struct page *fresh;

	for (;;) {
		spin_lock_irq(&v->lock);
		o = list_first_entry_or_null(&v->outbox, struct victim_item,
					     list);
		if (!o) {
			/* Empty and nothing queued: the filters start over. */
			if (!puma_rlru_count(v->rlru)) {
				bitmap_zero(v->page_filter,
					    1UL << VICTIM_PAGE_FILTER_ORDER);
				bitmap_zero(v->inode_filter,
					    1UL << VICTIM_INODE_FILTER_ORDER);
			}
			spin_unlock_irq(&v->lock);
			break;
		}
		/* Off the outbox, but it keeps deciding gets until released. */
		list_del(&o->list);
		v->applying = o;
		spin_unlock_irq(&v->lock);

		hosted = NULL;
		fresh = NULL;
		if (o->kind == VICTIM_PUT)
			hosted = victim_apply_put(v, o, &fresh);
		else
			victim_apply_inv(v, o);

		spin_lock_irq(&v->lock);
		if (fresh)
			o->page = fresh;
		v->applying = NULL;
		__victim_release(v, o);
		spin_unlock_irq(&v->lock);
		/* The page cache of the owner holds it now. */
		if (hosted)
			folio_put(hosted);
		cond_resched();
	}
}

/* debugfs */

static int victim_stats_show(struct seq_file *m, void *unused)
{
	struct victim *v = m->private;
	struct puma_detector_stats st;
	int i;

	for (i = 0; i < VICTIM_STAT_NR; i++)
		seq_printf(m, "%s %lld\n", victim_stat_names[i],
			   percpu_counter_sum(&v->stats[i]));
	seq_printf(m, "hosted %lu\n", puma_rlru_count(v->rlru));
	seq_printf(m, "max_pages %lu\n", v->max_pages);
	puma_detector_get_stats(&v->det, ktime_get_ns(), &st);
	seq_printf(m, "detector %s\n", puma_detector_mode_name(st.mode));
	seq_printf(m, "detector_state %s\n",
		   st.suspended ? "suspended" : "taking");
	seq_printf(m, "detector_suspends %llu\n", st.suspend_count);
	seq_printf(m, "detector_last_reason %s\n", st.suspend_count ?
		   puma_detector_kind_name(st.last_reason) : "none");
	seq_printf(m, "detector_events_refault %llu\n",
		   st.events[PUMA_DETECTOR_REFAULT]);
	seq_printf(m, "detector_events_deactivate %llu\n",
		   st.events[PUMA_DETECTOR_DEACTIVATE]);
	seq_printf(m, "detector_suspended_ms %llu\n",
		   div_u64(st.time_suspended, NSEC_PER_MSEC));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(victim_stats);

/* Setup and teardown */

static void victim_free(struct victim *v)
{
	unsigned int i;

	for (i = 0; v->stages && i < staging_pages; i++)
		if (v->stages[i].page)
			__free_page(v->stages[i].page);
	kvfree(v->stages);
	kvfree(v->invs);
	bitmap_free(v->page_filter);
	bitmap_free(v->inode_filter);
	for (i = 0; i < VICTIM_STAT_NR; i++)
		percpu_counter_destroy(&v->stats[i]);
	kvfree(v);
}

static struct victim *victim_alloc(void)
{
	struct victim *v;
	unsigned int i;

	v = kvzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return NULL;
	spin_lock_init(&v->lock);
	INIT_LIST_HEAD(&v->outbox);
	INIT_LIST_HEAD(&v->free_stages);
	INIT_LIST_HEAD(&v->free_invs);
	INIT_WORK(&v->work, victim_work_fn);
	INIT_DELAYED_WORK(&v->detector_work, victim_detector_fn);
	ida_init(&v->pools);
	v->flush.kind = VICTIM_INV_ALL;
	v->flush.origin = VICTIM_FROM_FLUSH;
	v->max_pages = max_pages;
	for (i = 0; i < VICTIM_STAT_NR; i++)
		if (percpu_counter_init(&v->stats[i], 0, GFP_KERNEL))
			goto free;
	v->page_filter = bitmap_zalloc(1UL << VICTIM_PAGE_FILTER_ORDER,
				       GFP_KERNEL);
	v->inode_filter = bitmap_zalloc(1UL << VICTIM_INODE_FILTER_ORDER,
					GFP_KERNEL);
	v->stages = kvcalloc(staging_pages, sizeof(*v->stages), GFP_KERNEL);
	v->invs = kvcalloc(inv_items, sizeof(*v->invs), GFP_KERNEL);
	if (!v->page_filter || !v->inode_filter || !v->stages || !v->invs)
		goto free;
	for (i = 0; i < staging_pages; i++) {
		/* Each may become a hosted folio: movable, like the rest. */
		v->stages[i].page = alloc_page(GFP_HIGHUSER_MOVABLE);
		if (!v->stages[i].page)
			goto free;
		v->stages[i].kind = VICTIM_PUT;
		v->stages[i].origin = VICTIM_FROM_STAGES;
		list_add(&v->stages[i].list, &v->free_stages);
	}
	for (i = 0; i < inv_items; i++) {
		v->invs[i].origin = VICTIM_FROM_INVS;
		list_add(&v->invs[i].list, &v->free_invs);
	}
	return v;

free:
	victim_free(v);
	return NULL;
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
	WRITE_ONCE(victim, NULL);
	kernel_param_unlock(THIS_MODULE);
}

static int __init victim_init(void)
{
	const char *mode;
	struct victim *v;
	int err;

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

	/* The detector parameter's setter reads the mode under this lock. */
	kernel_param_lock(THIS_MODULE);
	err = puma_detector_init(&v->det, victim_detector_mode,
				 PUMA_DETECTOR_WINDOW_NS_DEFAULT);
	mode = puma_detector_mode_name(victim_detector_mode);
	if (!err)
		WRITE_ONCE(victim, v);
	kernel_param_unlock(THIS_MODULE);
	if (err)
		goto destroy;
	/* Calls init_fs for the mounted file systems: victim must be set. */
	err = cleancache_register_ops(&victim_cleancache_ops);
	if (err) {
		if (err == -EBUSY)
			pr_err("another cleancache backend is registered (puma_backend?): there can be only one; unload it first\n");
		else
			pr_err("cannot register with cleancache: %d\n", err);
		victim_unpublish();
		goto destroy;
	}
	v->debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0444, v->debugfs, v, &victim_stats_fops);
	pr_info("caching up to %lu pages, %u staging, %s, detector %s\n",
		v->max_pages, staging_pages,
		exclusive ? "exclusive" : "inclusive", mode);
	return 0;

destroy:
	puma_rlru_destroy(v->rlru);
free:
	victim_free(v);
	return err;
}

static void __exit victim_exit(void)
{
	struct victim *v = victim;
	struct victim_item *o, *tmp;

	debugfs_remove(v->debugfs);
	/* No hook runs, nor will, once this returns. */
	cleancache_unregister_ops(&victim_cleancache_ops);
	cancel_delayed_work_sync(&v->detector_work);
	flush_work(&v->work);
	/* The work drains the outbox; release what a race left behind. */
	spin_lock_irq(&v->lock);
	list_for_each_entry_safe(o, tmp, &v->outbox, list) {
		list_del(&o->list);
		__victim_release(v, o);
	}
	spin_unlock_irq(&v->lock);
	victim_unpublish();
	puma_rlru_destroy(v->rlru);
	ida_destroy(&v->pools);
	victim_free(v);
}

module_init(victim_init);
module_exit(victim_exit);

MODULE_DESCRIPTION("PUMA example: a local victim cache for clean page-cache pages");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
