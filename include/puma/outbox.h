/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ordered staging outbox: what a cache backend must still do to its
 * store, in the order its hooks ran.
 *
 * Generic: any cleancache-like backend whose store (a remote server, a
 * local remote-LRU owner) is slower than the hooks, or sleeps, can use it.
 *
 * The put and invalidate hooks run in atomic context, often under the page
 * cache's i_pages lock, and may neither sleep nor talk to the store.  They
 * queue items instead: puma_outbox_put() copies the page into a
 * preallocated staging page, puma_outbox_invalidate() queues an
 * invalidation.  One work item hands the items to the backend's
 * &puma_outbox_ops.drain, in order and in batches; an item keeps deciding
 * lookups until drain has returned.  puma_outbox_lookup() finds the last
 * item that concerns a key: a queued PUT is served from its staging page,
 * a queued invalidation is a miss, and only when no item concerns the key
 * may the backend ask its store, which by then reflects every hook call
 * made before the lookup.
 *
 * An invalidation is never lost.  When no item can be had for one in
 * atomic context, its inode is noted in a small overflow table (reads of
 * the inode miss, puts to it are refused, and the work queues one inode
 * invalidation for it); when that table is full too, the outbox flushes:
 * it drops every queued PUT and queues its one %PUMA_OUTBOX_INV_ALL item,
 * after which the store must hold nothing.  A drain that fails to apply
 * an invalidation flushes the same way.
 *
 * Two hashed filters, pages and inodes, set by put and cleared when the
 * outbox is closed or the store says it is empty, let the invalidations
 * of pages never put (most of them: every write that dirties a page calls
 * invalidate_folio) cost a bit test.
 */
#ifndef _PUMA_OUTBOX_H
#define _PUMA_OUTBOX_H

#include <linux/gfp_types.h>
#include <linux/list.h>
#include <linux/types.h>

#include <puma/key.h>

struct page;
struct puma_outbox;
struct workqueue_struct;

/* Most items one drain call is given. */
#define PUMA_OUTBOX_MAX_BATCH	64

/**
 * enum puma_outbox_op - What an item asks of the store.
 * @PUMA_OUTBOX_PUT: Hold the staged page as @key's data.
 * @PUMA_OUTBOX_INV_RANGE: Forget pages @key.index to @end of @key's inode.
 * @PUMA_OUTBOX_INV_INODE: Forget every page of @key's inode.
 * @PUMA_OUTBOX_INV_POOL: Forget every page of @key's pool.
 * @PUMA_OUTBOX_INV_ALL: Forget everything (the outbox's flush).
 */
enum puma_outbox_op {
	PUMA_OUTBOX_PUT,
	PUMA_OUTBOX_INV_RANGE,
	PUMA_OUTBOX_INV_INODE,
	PUMA_OUTBOX_INV_POOL,
	PUMA_OUTBOX_INV_ALL,
};

/**
 * struct puma_outbox_item - One queued operation, as drain sees it.
 * @list: Private to the outbox.
 * @op: &enum puma_outbox_op.
 * @origin: Private to the outbox.
 * @key: The page (PUT), the first page (INV_RANGE), the inode or the pool.
 * @end: Last page of an INV_RANGE, inclusive.
 * @page: PUT: the staging page that holds the data.  Drain may read it,
 *	or take it with puma_outbox_take_page(); it must not write it.
 * @spare: Private to the outbox.
 */
struct puma_outbox_item {
	struct list_head list;
	u8 op;
	u8 origin;
	struct puma_key key;
	u64 end;
	struct page *page;
	struct page *spare;
};

/**
 * struct puma_outbox_ops - What the backend does with its items.
 * @drain: Apply @nr items, oldest first, to the store.  A batch holds
 *	PUTs only, or one-page INV_RANGEs only, or one item of another
 *	kind.  Called from the outbox's work, one call at a time, without
 *	the outbox's lock; may sleep.  The items keep deciding lookups
 *	until it returns, so it returns only once the store reflects them
 *	(or the message carrying them is queued, in order, on the one
 *	channel the store's reads also use).  Returns 0, or a negative
 *	errno if they were not applied: lost PUTs cost only misses, lost
 *	invalidations make the outbox flush.  %PUMA_OUTBOX_INV_ALL must
 *	not fail: a store that cannot forget cannot be kept coherent.
 * @store_empty: Optional.  Whether the store holds nothing, so that the
 *	filters may start over when the outbox is empty too.  Called with
 *	the outbox's lock held and interrupts off.
 */
struct puma_outbox_ops {
	int (*drain)(struct puma_outbox *ob, struct puma_outbox_item **items,
		     unsigned int nr, void *priv);
	bool (*store_empty)(void *priv);
};

/**
 * struct puma_outbox_params - How to build an outbox.
 * @ops: The backend's operations.
 * @priv: Passed to @ops.
 * @nr_stages: Staging pages, allocated up front (1 to 65536): the most
 *	PUTs queued at once.
 * @nr_invs: Preallocated invalidation items for atomic context (1 to
 *	65536).
 * @max_batch: Most items per drain call (1 to %PUMA_OUTBOX_MAX_BATCH).
 * @stage_gfp: Allocation flags of the staging pages.
 * @wq: Workqueue of the drain work; %NULL for system_unbound_wq.
 */
struct puma_outbox_params {
	const struct puma_outbox_ops *ops;
	void *priv;
	unsigned int nr_stages;
	unsigned int nr_invs;
	unsigned int max_batch;
	gfp_t stage_gfp;
	struct workqueue_struct *wq;
};

/**
 * struct puma_outbox_stats - Counters of an outbox since it was created.
 * @staged: PUTs queued.
 * @stage_full: PUTs refused because every staging page was in use.
 * @put_refused: PUTs refused while closed, or to an overflowed inode.
 * @staged_hits: Lookups served from a staging page.
 * @invalidations: Invalidations asked for while open.
 * @inv_filtered: Of which the filters showed nothing could be held.
 * @inv_pool_empty: Of which found no item (atomic context, pool empty).
 * @inv_overflows: Inodes entered into the overflow table.
 * @flushes: Flushes queued.
 * @flush_dropped: Queued PUTs that flushes dropped.
 * @drain_errors: Drain calls that failed to apply invalidations.
 * @enomem: Item allocations that failed.
 * @queued: Items queued or being drained now.
 */
struct puma_outbox_stats {
	u64 staged;
	u64 stage_full;
	u64 put_refused;
	u64 staged_hits;
	u64 invalidations;
	u64 inv_filtered;
	u64 inv_pool_empty;
	u64 inv_overflows;
	u64 flushes;
	u64 flush_dropped;
	u64 drain_errors;
	u64 enomem;
	unsigned int queued;
};

struct puma_outbox *puma_outbox_create(const struct puma_outbox_params *params);
void puma_outbox_destroy(struct puma_outbox *ob);
void puma_outbox_open(struct puma_outbox *ob);
void puma_outbox_close(struct puma_outbox *ob);
int puma_outbox_put(struct puma_outbox *ob, const struct puma_key *key,
		    struct page *src);
int puma_outbox_invalidate(struct puma_outbox *ob, enum puma_outbox_op op,
			   const struct puma_key *key, u64 end, gfp_t gfp);
int puma_outbox_lookup(struct puma_outbox *ob, const struct puma_key *key,
		       struct page *dst);
struct page *puma_outbox_take_page(struct puma_outbox *ob,
				   struct puma_outbox_item *item, gfp_t gfp);
void puma_outbox_get_stats(struct puma_outbox *ob,
			   struct puma_outbox_stats *stats);

#endif /* _PUMA_OUTBOX_H */
