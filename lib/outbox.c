// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ordered staging outbox (include/puma/outbox.h has the contract).
 *
 * Items live on two lists: @queue, not yet handed to drain, and @draining,
 * the batch drain is working on.  Both decide lookups; the last item, in
 * hook order, that concerns a key decides it.  Items of one page are
 * counted in @pending by a hash of their key, and the others in @nr_wide,
 * so most lookups skip the scan.
 *
 * Closing (the store forgot everything: a session ended) drops every
 * queued item and marks the batch being drained as deciding nothing: the
 * store it was meant for is gone, and an invalidation refused while closed
 * must not leave one of its PUTs visible after a reopen.
 *
 * Lock ordering:
 *   mapping->i_pages (the put and invalidate_folio hooks)
 *     puma_outbox.lock (spinlock, IRQ-safe)
 * The lock takes no other lock and nothing called under it does;
 * &puma_outbox_ops.drain and the workqueue are called without it.
 */

#include <linux/bitmap.h>
#include <linux/bug.h>
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <kunit/visibility.h>

#include <puma/outbox.h>

#include "internal.h"

#define PUMA_OUTBOX_PAGE_FILTER_ORDER	20
#define PUMA_OUTBOX_INODE_FILTER_ORDER	16
#define PUMA_OUTBOX_PENDING_ORDER	12
/* Inodes whose page invalidations found no item, awaiting an inode one. */
#define PUMA_OUTBOX_OVERFLOW		64
#define PUMA_OUTBOX_MAX_ITEMS		65536

enum puma_outbox_origin {
	PUMA_OUTBOX_FROM_STAGES,
	PUMA_OUTBOX_FROM_INVS,
	PUMA_OUTBOX_FROM_KMALLOC,
	PUMA_OUTBOX_FROM_FLUSH,
};

struct puma_outbox_overflow {
	bool used;
	u32 pool;
	u64 ino;
};

struct puma_outbox {
	spinlock_t lock;		/* everything down to @stats */
	bool open;
	struct list_head queue;
	struct list_head draining;
	bool draining_void;		/* closed since the batch was taken */
	bool flush_queued;		/* @flush is on @queue or @draining */
	unsigned int nr_items;		/* on @queue or @draining */
	struct list_head free_stages;
	struct list_head free_invs;
	unsigned int nr_wide;
	unsigned int pending[1 << PUMA_OUTBOX_PENDING_ORDER];
	unsigned long *page_filter;
	unsigned long *inode_filter;
	unsigned int nr_overflow;
	struct puma_outbox_overflow overflow[PUMA_OUTBOX_OVERFLOW];
	struct puma_outbox_stats stats;

	struct puma_outbox_item flush;
	struct puma_outbox_item *stages;
	struct puma_outbox_item *invs;
	unsigned int nr_stages;
	unsigned int nr_invs;
	unsigned int max_batch;
	const struct puma_outbox_ops *ops;
	void *priv;
	struct workqueue_struct *wq;
	struct work_struct work;
};

/* Keys, filters and pending counts */

static u64 puma_outbox_inode_hash(u32 pool, u64 ino)
{
	return hash_64(ino ^ ((u64)pool << 48), 64);
}

static unsigned long puma_outbox_page_hash(const struct puma_key *key,
					   unsigned int order)
{
	return hash_64(key->index ^ puma_outbox_inode_hash(key->pool, key->ino),
		       order);
}

static unsigned long puma_outbox_page_bit(const struct puma_key *key)
{
	return puma_outbox_page_hash(key, PUMA_OUTBOX_PAGE_FILTER_ORDER);
}

static unsigned long puma_outbox_inode_bit(const struct puma_key *key)
{
	return hash_64(puma_outbox_inode_hash(key->pool, key->ino),
		       PUMA_OUTBOX_INODE_FILTER_ORDER);
}

static bool puma_outbox_item_is_page(const struct puma_outbox_item *o)
{
	return o->op == PUMA_OUTBOX_PUT ||
	       (o->op == PUMA_OUTBOX_INV_RANGE && o->end == o->key.index);
}

static unsigned int *__puma_outbox_counter(struct puma_outbox *ob,
					   const struct puma_outbox_item *o)
{
	if (puma_outbox_item_is_page(o))
		return &ob->pending[puma_outbox_page_hash(&o->key,
						PUMA_OUTBOX_PENDING_ORDER)];
	return &ob->nr_wide;
}

static bool puma_outbox_affects(const struct puma_outbox_item *o,
				const struct puma_key *key)
{
	if (o->op == PUMA_OUTBOX_INV_ALL)
		return true;
	if (o->key.pool != key->pool)
		return false;
	switch (o->op) {
	case PUMA_OUTBOX_INV_POOL:
		return true;
	case PUMA_OUTBOX_INV_INODE:
		return o->key.ino == key->ino;
	case PUMA_OUTBOX_INV_RANGE:
		return o->key.ino == key->ino && key->index >= o->key.index &&
		       key->index <= o->end;
	default:
		return puma_key_equal(&o->key, key);
	}
}

/* The item that decides @key: the last one that concerns it, or NULL. */
static struct puma_outbox_item *__puma_outbox_find(struct puma_outbox *ob,
						   const struct puma_key *key)
{
	struct puma_outbox_item *o, *last = NULL;

	lockdep_assert_held(&ob->lock);
	if (!ob->nr_wide &&
	    !ob->pending[puma_outbox_page_hash(key, PUMA_OUTBOX_PENDING_ORDER)])
		return NULL;
	if (!ob->draining_void)
		list_for_each_entry(o, &ob->draining, list)
			if (puma_outbox_affects(o, key))
				last = o;
	list_for_each_entry(o, &ob->queue, list)
		if (puma_outbox_affects(o, key))
			last = o;
	return last;
}

/* Could any page this invalidation names have been put? */
static bool __puma_outbox_may_hold(struct puma_outbox *ob,
				   enum puma_outbox_op op,
				   const struct puma_key *key, u64 end)
{
	struct puma_key k = *key;

	lockdep_assert_held(&ob->lock);
	switch (op) {
	case PUMA_OUTBOX_INV_RANGE:
		for (;;) {
			if (test_bit(puma_outbox_page_bit(&k), ob->page_filter))
				return true;
			if (k.index == end)
				return false;
			k.index++;
		}
	case PUMA_OUTBOX_INV_INODE:
		return test_bit(puma_outbox_inode_bit(key), ob->inode_filter);
	default:
		return true;
	}
}

static void __puma_outbox_filters_clear(struct puma_outbox *ob)
{
	lockdep_assert_held(&ob->lock);
	bitmap_zero(ob->page_filter, 1UL << PUMA_OUTBOX_PAGE_FILTER_ORDER);
	bitmap_zero(ob->inode_filter, 1UL << PUMA_OUTBOX_INODE_FILTER_ORDER);
}

/* The overflow table */

static struct puma_outbox_overflow *
__puma_outbox_overflow_find(struct puma_outbox *ob, u32 pool, u64 ino)
{
	unsigned int i;

	lockdep_assert_held(&ob->lock);
	if (!ob->nr_overflow)
		return NULL;
	for (i = 0; i < PUMA_OUTBOX_OVERFLOW; i++)
		if (ob->overflow[i].used && ob->overflow[i].pool == pool &&
		    ob->overflow[i].ino == ino)
			return &ob->overflow[i];
	return NULL;
}

/* Note @pool/@ino for an inode invalidation.  Return: false if full. */
static bool __puma_outbox_overflow_add(struct puma_outbox *ob, u32 pool,
				       u64 ino)
{
	unsigned int i;

	lockdep_assert_held(&ob->lock);
	if (__puma_outbox_overflow_find(ob, pool, ino))
		return true;
	for (i = 0; i < PUMA_OUTBOX_OVERFLOW; i++) {
		if (ob->overflow[i].used)
			continue;
		ob->overflow[i].used = true;
		ob->overflow[i].pool = pool;
		ob->overflow[i].ino = ino;
		ob->nr_overflow++;
		ob->stats.inv_overflows++;
		return true;
	}
	return false;
}

static void __puma_outbox_overflow_clear(struct puma_outbox *ob)
{
	lockdep_assert_held(&ob->lock);
	memset(ob->overflow, 0, sizeof(ob->overflow));
	ob->nr_overflow = 0;
}

/* Items: queue and release */

static void __puma_outbox_queue(struct puma_outbox *ob,
				struct puma_outbox_item *o)
{
	lockdep_assert_held(&ob->lock);
	list_add_tail(&o->list, &ob->queue);
	(*__puma_outbox_counter(ob, o))++;
	ob->nr_items++;
}

/*
 * @o is off every list: give it back where it came from.  A page that
 * drain took is replaced by its spare; the outbox's reference to it is
 * left in *@drop for the caller to put without the lock.
 */
static void __puma_outbox_release(struct puma_outbox *ob,
				  struct puma_outbox_item *o,
				  struct page **drop)
{
	lockdep_assert_held(&ob->lock);
	(*__puma_outbox_counter(ob, o))--;
	ob->nr_items--;
	*drop = NULL;
	if (o->spare) {
		*drop = o->page;
		o->page = o->spare;
		o->spare = NULL;
	}
	switch (o->origin) {
	case PUMA_OUTBOX_FROM_STAGES:
		list_add(&o->list, &ob->free_stages);
		break;
	case PUMA_OUTBOX_FROM_INVS:
		list_add(&o->list, &ob->free_invs);
		break;
	case PUMA_OUTBOX_FROM_FLUSH:
		ob->flush_queued = false;
		break;
	default:
		kfree(o);
	}
}

/* Release @o, which holds no taken page (it is not being drained). */
static void __puma_outbox_release_queued(struct puma_outbox *ob,
					 struct puma_outbox_item *o)
{
	struct page *drop;

	__puma_outbox_release(ob, o, &drop);
	WARN_ON_ONCE(drop);
}

/*
 * Forget everything: drop every queued PUT (each is older than what asks
 * for the flush) and queue the flush behind what is left, which are only
 * invalidations.  A flush being drained already empties the store of
 * every page it holds now, and the PUTs that could bring one back are
 * dropped: nothing more is needed.
 */
static void __puma_outbox_flush(struct puma_outbox *ob)
{
	struct puma_outbox_item *o, *tmp;

	lockdep_assert_held(&ob->lock);
	list_for_each_entry_safe(o, tmp, &ob->queue, list) {
		if (o->op != PUMA_OUTBOX_PUT)
			continue;
		list_del(&o->list);
		__puma_outbox_release_queued(ob, o);
		ob->stats.flush_dropped++;
	}
	/* The flush covers the inodes awaiting an inode invalidation. */
	__puma_outbox_overflow_clear(ob);
	ob->stats.flushes++;
	if (!ob->flush_queued) {
		ob->flush_queued = true;
		__puma_outbox_queue(ob, &ob->flush);
	} else if (list_first_entry_or_null(&ob->draining,
					    struct puma_outbox_item,
					    list) != &ob->flush) {
		/* Still queued: behind every invalidation, as if new. */
		list_move_tail(&ob->flush.list, &ob->queue);
	}
	queue_work(ob->wq, &ob->work);
}

/* The drain work: the only context that hands items to drain. */

/*
 * Queue an inode invalidation for each inode of the overflow table.  Once
 * queued, it decides for the inode's pages as any item does, and the
 * entry goes.
 */
static void puma_outbox_resolve_overflow(struct puma_outbox *ob)
{
	struct puma_outbox_item *o;
	unsigned int i;

	for (i = 0; i < PUMA_OUTBOX_OVERFLOW; i++) {
		o = kmalloc(sizeof(*o), GFP_NOIO | __GFP_NOWARN);
		spin_lock_irq(&ob->lock);
		if (!o) {
			ob->stats.enomem++;
			o = list_first_entry_or_null(&ob->free_invs,
						     struct puma_outbox_item,
						     list);
			if (o)
				list_del(&o->list);
		} else {
			memset(o, 0, sizeof(*o));
			o->origin = PUMA_OUTBOX_FROM_KMALLOC;
		}
		if (!ob->overflow[i].used) {
			/* Never queued: straight back, uncounted. */
			if (o && o->origin == PUMA_OUTBOX_FROM_INVS)
				list_add(&o->list, &ob->free_invs);
			else
				kfree(o);
		} else if (!o) {
			/* Nothing left to say it with. */
			__puma_outbox_flush(ob);
		} else {
			o->op = PUMA_OUTBOX_INV_INODE;
			puma_key_init(&o->key, ob->overflow[i].pool,
				      ob->overflow[i].ino, 0);
			/* Released on its own list: counted as queued first. */
			__puma_outbox_queue(ob, o);
			ob->overflow[i].used = false;
			ob->nr_overflow--;
		}
		spin_unlock_irq(&ob->lock);
		if (!READ_ONCE(ob->nr_overflow))
			return;
	}
}

/*
 * Move the next batch from @queue to @draining: PUTs, or one-page
 * invalidations, up to @max_batch, or one item of another kind.
 */
static unsigned int __puma_outbox_take_batch(struct puma_outbox *ob,
					     struct puma_outbox_item **batch)
{
	struct puma_outbox_item *o, *first;
	unsigned int n = 0;

	lockdep_assert_held(&ob->lock);
	first = list_first_entry_or_null(&ob->queue, struct puma_outbox_item,
					 list);
	if (!first)
		return 0;
	ob->draining_void = false;
	while ((o = list_first_entry_or_null(&ob->queue,
					     struct puma_outbox_item, list))) {
		if (n == ob->max_batch || o->op != first->op)
			break;
		if (n && !puma_outbox_item_is_page(o))
			break;
		list_move_tail(&o->list, &ob->draining);
		batch[n++] = o;
		if (!puma_outbox_item_is_page(o))
			break;
	}
	return n;
}

static void puma_outbox_work(struct work_struct *work)
{
	struct puma_outbox *ob = container_of(work, struct puma_outbox, work);
	struct puma_outbox_item *batch[PUMA_OUTBOX_MAX_BATCH];
	struct page *drop[PUMA_OUTBOX_MAX_BATCH];
	unsigned int n, i;
	bool lost;
	int err;

	for (;;) {
		if (READ_ONCE(ob->nr_overflow))
			puma_outbox_resolve_overflow(ob);

		spin_lock_irq(&ob->lock);
		n = __puma_outbox_take_batch(ob, batch);
		if (!n) {
			/* Nothing queued and nothing stored: start over. */
			if (ob->ops->store_empty && !ob->nr_overflow &&
			    ob->ops->store_empty(ob->priv))
				__puma_outbox_filters_clear(ob);
			spin_unlock_irq(&ob->lock);
			return;
		}
		spin_unlock_irq(&ob->lock);

		err = ob->ops->drain(ob, batch, n, ob->priv);

		spin_lock_irq(&ob->lock);
		/* Closed meanwhile: the store they were for is gone. */
		lost = err && batch[0]->op != PUMA_OUTBOX_PUT &&
		       batch[0]->op != PUMA_OUTBOX_INV_ALL &&
		       !ob->draining_void;
		for (i = 0; i < n; i++) {
			list_del(&batch[i]->list);
			__puma_outbox_release(ob, batch[i], &drop[i]);
		}
		ob->draining_void = false;
		if (err)
			ob->stats.drain_errors++;
		if (lost)
			__puma_outbox_flush(ob);
		spin_unlock_irq(&ob->lock);
		for (i = 0; i < n; i++)
			if (drop[i])
				put_page(drop[i]);
		cond_resched();
	}
}

/**
 * puma_outbox_create() - Build an outbox.
 * @params: How; see &struct puma_outbox_params.
 *
 * The outbox starts open.
 *
 * Context: Process context; sleeps.
 * Return: The outbox, ERR_PTR(-EINVAL) for bad @params, or
 * ERR_PTR(-ENOMEM).
 */
struct puma_outbox *puma_outbox_create(const struct puma_outbox_params *params)
{
	struct puma_outbox *ob;
	unsigned int i;

	if (!params->ops || !params->ops->drain ||
	    !params->nr_stages || params->nr_stages > PUMA_OUTBOX_MAX_ITEMS ||
	    !params->nr_invs || params->nr_invs > PUMA_OUTBOX_MAX_ITEMS ||
	    !params->max_batch || params->max_batch > PUMA_OUTBOX_MAX_BATCH)
		return ERR_PTR(-EINVAL);

	ob = kvzalloc(sizeof(*ob), GFP_KERNEL);
	if (!ob)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&ob->lock);
	ob->open = true;
	INIT_LIST_HEAD(&ob->queue);
	INIT_LIST_HEAD(&ob->draining);
	INIT_LIST_HEAD(&ob->free_stages);
	INIT_LIST_HEAD(&ob->free_invs);
	ob->flush.op = PUMA_OUTBOX_INV_ALL;
	ob->flush.origin = PUMA_OUTBOX_FROM_FLUSH;
	ob->ops = params->ops;
	ob->priv = params->priv;
	ob->max_batch = params->max_batch;
	ob->wq = params->wq ?: system_unbound_wq;
	INIT_WORK(&ob->work, puma_outbox_work);

	ob->page_filter = bitmap_zalloc(1UL << PUMA_OUTBOX_PAGE_FILTER_ORDER,
					GFP_KERNEL);
	ob->inode_filter = bitmap_zalloc(1UL << PUMA_OUTBOX_INODE_FILTER_ORDER,
					 GFP_KERNEL);
	ob->stages = kvcalloc(params->nr_stages, sizeof(*ob->stages),
			      GFP_KERNEL);
	ob->invs = kvcalloc(params->nr_invs, sizeof(*ob->invs), GFP_KERNEL);
	if (!ob->page_filter || !ob->inode_filter || !ob->stages || !ob->invs)
		goto free;
	for (; ob->nr_stages < params->nr_stages; ob->nr_stages++) {
		struct puma_outbox_item *o = &ob->stages[ob->nr_stages];

		o->page = alloc_page(params->stage_gfp);
		if (!o->page)
			goto free;
		o->op = PUMA_OUTBOX_PUT;
		o->origin = PUMA_OUTBOX_FROM_STAGES;
		list_add(&o->list, &ob->free_stages);
	}
	for (i = 0; i < params->nr_invs; i++) {
		ob->invs[i].origin = PUMA_OUTBOX_FROM_INVS;
		list_add(&ob->invs[i].list, &ob->free_invs);
	}
	ob->nr_invs = params->nr_invs;
	return ob;

free:
	puma_outbox_destroy(ob);
	return ERR_PTR(-ENOMEM);
}
EXPORT_SYMBOL_NS_GPL(puma_outbox_create, PUMA);

/**
 * puma_outbox_destroy() - Free an outbox.
 * @ob: The outbox; no hook may call it any more.
 *
 * Waits for the drain work, then frees every item and staging page.
 * Items still queued are not drained.
 *
 * Context: Process context; sleeps.
 */
void puma_outbox_destroy(struct puma_outbox *ob)
{
	struct puma_outbox_item *o, *tmp;
	unsigned int i;

	if (ob->ops)
		cancel_work_sync(&ob->work);
	list_for_each_entry_safe(o, tmp, &ob->queue, list) {
		list_del(&o->list);
		if (o->origin == PUMA_OUTBOX_FROM_KMALLOC)
			kfree(o);
	}
	for (i = 0; ob->stages && i < ob->nr_stages; i++) {
		if (ob->stages[i].spare)
			put_page(ob->stages[i].spare);
		put_page(ob->stages[i].page);
	}
	kvfree(ob->stages);
	kvfree(ob->invs);
	bitmap_free(ob->page_filter);
	bitmap_free(ob->inode_filter);
	kvfree(ob);
}
EXPORT_SYMBOL_NS_GPL(puma_outbox_destroy, PUMA);

/**
 * puma_outbox_open() - Take items again.
 * @ob: The outbox.
 *
 * Context: Any context.  Takes and releases the outbox's lock.
 */
void puma_outbox_open(struct puma_outbox *ob)
{
	unsigned long flags;

	spin_lock_irqsave(&ob->lock, flags);
	ob->open = true;
	spin_unlock_irqrestore(&ob->lock, flags);
}
EXPORT_SYMBOL_NS_GPL(puma_outbox_open, PUMA);

/**
 * puma_outbox_close() - The store forgot everything: forget it all too.
 * @ob: The outbox.
 *
 * Drops every queued item and clears the filters and the overflow table.
 * The batch being drained, if any, decides no lookup from now on.  Until
 * puma_outbox_open(), puts and invalidations are refused and lookups
 * answer -ESHUTDOWN.
 *
 * Context: Any context.  Takes and releases the outbox's lock.
 */
void puma_outbox_close(struct puma_outbox *ob)
{
	struct puma_outbox_item *o, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&ob->lock, flags);
	ob->open = false;
	list_for_each_entry_safe(o, tmp, &ob->queue, list) {
		list_del(&o->list);
		__puma_outbox_release_queued(ob, o);
	}
	if (!list_empty(&ob->draining))
		ob->draining_void = true;
	__puma_outbox_overflow_clear(ob);
	__puma_outbox_filters_clear(ob);
	spin_unlock_irqrestore(&ob->lock, flags);
}
EXPORT_SYMBOL_NS_GPL(puma_outbox_close, PUMA);

/**
 * puma_outbox_put() - Queue a page for the store.
 * @ob: The outbox.
 * @key: Whose data it is.
 * @src: The data, copied into a staging page before this returns.
 *
 * Context: Any context; interrupts may be off.  Takes and releases the
 * outbox's lock.
 * Return: 0 if queued; -ESHUTDOWN if closed; -ESTALE if @key's inode
 * awaits an invalidation that found no item; -ENOSPC if every staging
 * page is in use.
 */
int puma_outbox_put(struct puma_outbox *ob, const struct puma_key *key,
		    struct page *src)
{
	struct puma_outbox_item *o;
	unsigned long flags;
	int err = 0;

	spin_lock_irqsave(&ob->lock, flags);
	if (!ob->open || __puma_outbox_overflow_find(ob, key->pool, key->ino)) {
		err = ob->open ? -ESTALE : -ESHUTDOWN;
		ob->stats.put_refused++;
		goto unlock;
	}
	o = list_first_entry_or_null(&ob->free_stages, struct puma_outbox_item,
				     list);
	if (!o) {
		ob->stats.stage_full++;
		err = -ENOSPC;
		goto unlock;
	}
	list_del(&o->list);
	o->key = *key;
	copy_highpage(o->page, src);
	__set_bit(puma_outbox_page_bit(key), ob->page_filter);
	__set_bit(puma_outbox_inode_bit(key), ob->inode_filter);
	__puma_outbox_queue(ob, o);
	ob->stats.staged++;
	queue_work(ob->wq, &ob->work);
unlock:
	spin_unlock_irqrestore(&ob->lock, flags);
	return err;
}
EXPORT_SYMBOL_NS_GPL(puma_outbox_put, PUMA);

/**
 * puma_outbox_invalidate() - Queue an invalidation.
 * @ob: The outbox.
 * @op: %PUMA_OUTBOX_INV_RANGE, _INODE or _POOL.
 * @key: The first page of the range, or the inode or pool (its other
 *	fields are ignored).
 * @end: Last page of a range, inclusive; at least @key->index.
 * @gfp: Allocation flags of the item.  Without __GFP_DIRECT_RECLAIM only
 *	preallocated items are used, so that atomic context takes nothing
 *	from the page allocator.
 *
 * The invalidation is never lost: without an item, its inode goes into the
 * overflow table, or the outbox flushes (see include/puma/outbox.h).
 *
 * Context: Any context; interrupts may be off if @gfp does not allow
 * blocking.  Takes and releases the outbox's lock.
 * Return: 0, or -ESHUTDOWN if closed (the store holds nothing), or
 * -EINVAL for a bad @op or range.
 */
int puma_outbox_invalidate(struct puma_outbox *ob, enum puma_outbox_op op,
			   const struct puma_key *key, u64 end, gfp_t gfp)
{
	struct puma_outbox_item *o = NULL;
	unsigned long flags;
	int err = 0;

	if (op == PUMA_OUTBOX_PUT || op == PUMA_OUTBOX_INV_ALL ||
	    (op == PUMA_OUTBOX_INV_RANGE && end < key->index))
		return -EINVAL;
	if (gfpflags_allow_blocking(gfp)) {
		o = kmalloc(sizeof(*o), gfp | __GFP_NOWARN);
		if (o) {
			memset(o, 0, sizeof(*o));
			o->origin = PUMA_OUTBOX_FROM_KMALLOC;
		}
	}
	spin_lock_irqsave(&ob->lock, flags);
	if (!ob->open) {
		err = -ESHUTDOWN;
		goto unlock;
	}
	ob->stats.invalidations++;
	if (gfpflags_allow_blocking(gfp) && !o)
		ob->stats.enomem++;
	if (!__puma_outbox_may_hold(ob, op, key, end)) {
		ob->stats.inv_filtered++;
		goto unlock;
	}
	if (!o) {
		o = list_first_entry_or_null(&ob->free_invs,
					     struct puma_outbox_item, list);
		if (o)
			list_del(&o->list);
	}
	if (!o) {
		ob->stats.inv_pool_empty++;
		if (op != PUMA_OUTBOX_INV_RANGE ||
		    !__puma_outbox_overflow_add(ob, key->pool, key->ino))
			__puma_outbox_flush(ob);
		queue_work(ob->wq, &ob->work);
		goto unlock;
	}
	o->op = op;
	o->key = *key;
	o->end = op == PUMA_OUTBOX_INV_RANGE ? end : 0;
	__puma_outbox_queue(ob, o);
	o = NULL;
	queue_work(ob->wq, &ob->work);
unlock:
	spin_unlock_irqrestore(&ob->lock, flags);
	kfree(o);
	return err;
}
EXPORT_SYMBOL_NS_GPL(puma_outbox_invalidate, PUMA);

/**
 * puma_outbox_lookup() - What the outbox says about a page.
 * @ob: The outbox.
 * @key: The page.
 * @dst: Where to copy a staged page's data.
 *
 * The caller must keep hooks for @key from running meanwhile, as the page
 * cache does by holding the folio it reads into locked.
 *
 * Context: Any context.  Takes and releases the outbox's lock.
 * Return: 0 if a queued PUT decided and @dst holds its data; -ENODATA if
 * a queued invalidation decided (a miss); -ENOENT if no item concerns
 * @key, so the store, which reflects every earlier hook, decides;
 * -ESHUTDOWN if closed.
 */
int puma_outbox_lookup(struct puma_outbox *ob, const struct puma_key *key,
		       struct page *dst)
{
	struct puma_outbox_item *o;
	unsigned long flags;
	int err;

	spin_lock_irqsave(&ob->lock, flags);
	if (!ob->open) {
		err = -ESHUTDOWN;
	} else if (__puma_outbox_overflow_find(ob, key->pool, key->ino)) {
		err = -ENODATA;
	} else {
		o = __puma_outbox_find(ob, key);
		if (!o) {
			err = -ENOENT;
		} else if (o->op == PUMA_OUTBOX_PUT) {
			copy_highpage(dst, o->page);
			ob->stats.staged_hits++;
			err = 0;
		} else {
			err = -ENODATA;
		}
	}
	spin_unlock_irqrestore(&ob->lock, flags);
	return err;
}
EXPORT_SYMBOL_NS_GPL(puma_outbox_lookup, PUMA);

/**
 * puma_outbox_take_page() - Take a PUT's staging page instead of copying it.
 * @ob: The outbox.
 * @item: A PUT item drain was given.
 * @gfp: Allocation flags of the page that replaces it in the pool.
 *
 * The item keeps its page, and serves lookups from it, until drain
 * returns; the page then leaves the staging pool.  The caller must not
 * write to it.
 *
 * Context: The drain callback.
 * Return: The page, with a reference for the caller, or ERR_PTR(-ENOMEM)
 * if no replacement could be allocated.
 */
struct page *puma_outbox_take_page(struct puma_outbox *ob,
				   struct puma_outbox_item *item, gfp_t gfp)
{
	if (WARN_ON_ONCE(item->op != PUMA_OUTBOX_PUT || item->spare))
		return ERR_PTR(-EINVAL);
	item->spare = alloc_page(gfp | __GFP_NOWARN);
	if (!item->spare)
		return ERR_PTR(-ENOMEM);
	get_page(item->page);
	return item->page;
}
EXPORT_SYMBOL_NS_GPL(puma_outbox_take_page, PUMA);

/**
 * puma_outbox_sync() - Wait until what is queued now has been drained.
 * @ob: The outbox.
 *
 * Context: Process context; sleeps.  Not from drain.
 */
void puma_outbox_sync(struct puma_outbox *ob)
{
	queue_work(ob->wq, &ob->work);
	flush_work(&ob->work);
}
EXPORT_SYMBOL_IF_KUNIT(puma_outbox_sync);

/**
 * puma_outbox_get_stats() - Read an outbox's counters.
 * @ob: The outbox.
 * @stats: Where to put them.
 *
 * Context: Any context.  Takes and releases the outbox's lock.
 */
void puma_outbox_get_stats(struct puma_outbox *ob,
			   struct puma_outbox_stats *stats)
{
	unsigned long flags;

	spin_lock_irqsave(&ob->lock, flags);
	*stats = ob->stats;
	stats->queued = ob->nr_items;
	spin_unlock_irqrestore(&ob->lock, flags);
}
EXPORT_SYMBOL_NS_GPL(puma_outbox_get_stats, PUMA);
