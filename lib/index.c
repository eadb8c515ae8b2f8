// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA page index.
 *
 * Three levels of xarrays: the index's pools by id, each pool's inodes by
 * inode key, each inode's entries by page index.  See lib/index.h
 * for the API and its rules.
 *
 * Lock ordering:
 *   index->pools.xa_lock
 *     pool->inodes.xa_lock
 *       inode->pages.xa_lock
 *
 * Each level gets its own lockdep class, since all three are xarray locks.
 *
 * Lifetime: a pool or inode node is referenced by the table that holds it
 * and by walkers and sleeping inserters that pin it.  It is unlinked from
 * its table and marked dead under both its parent's lock and its own, so a
 * thread holding its own lock can tell whether it is still reachable.  The
 * last reference frees it after an RCU grace period, which is what lets
 * lookups and the insert fast path run under rcu_read_lock() alone.
 *
 * An inode node goes away when its last entry is erased; pool nodes stay
 * until puma_index_erase_pool(), since a pool lives as long as a mounted
 * filesystem.
 *
 * Finding an inode through the two upper xarrays costs six dependent
 * memory accesses, which dominate lookups in a large index.  A small
 * direct-mapped cache of inode pointers, hashed by (pool, inode key), makes
 * it two.  A slot is only filled under the inode's lock while the inode is
 * live, and a dying inode clears its slot after it is marked dead, so a
 * slot never points to a freed inode; readers check the key and deadness.
 *
 * Metadata accounting: an owner whose keys come from a peer must charge
 * what they cost, and a page of random keys costs kilobytes of xarray
 * nodes.  The index counts a model of its memory (see
 * puma_index_meta_bytes()), changed on exactly the events that change the
 * memory, under the locks that order them, so the count never drifts:
 * a pool or inode node is charged when it enters its table and released
 * when it leaves, and a 64-index leaf of an inode's table when its first
 * entry arrives and when its last one goes.
 */

#include <linux/hash.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include <kunit/visibility.h>

#include "index.h"
#include "internal.h"

/* Entries handed to a drop callback per trip through an inode's lock. */
#define PUMA_INDEX_DRAIN_BATCH	16

struct puma_index_pool {
	struct xarray inodes;
	refcount_t ref;
	bool dead;
	unsigned long charge;		/* bytes, see puma_index_node_charge() */
	struct rcu_head rcu;
};

struct puma_index_inode {
	struct xarray pages;
	struct puma_index_pool *pool;
	u64 ino;
	u32 pool_id;
	unsigned long nr_pages;
	/* Bytes charged for the node and its occupied leaves (pages lock). */
	unsigned long charge;
	refcount_t ref;
	bool dead;
	struct rcu_head rcu;
};

static atomic_long_t puma_index_meta_total;

static struct lock_class_key puma_index_pools_lock_key;
static struct lock_class_key puma_index_inodes_lock_key;
static struct lock_class_key puma_index_pages_lock_key;

/*
 * The xarray nodes a lone @id needs in a table: one per 6-bit digit.  Ids
 * that share a prefix share nodes, so for many ids this is an upper bound.
 */
static unsigned long puma_index_path_bytes(u64 id)
{
	unsigned int digits = id ? DIV_ROUND_UP(fls64(id), XA_CHUNK_SHIFT) : 1;

	return digits * sizeof(struct xa_node);
}

/* What a pool or inode node of @size bytes with id @id costs. */
static unsigned long puma_index_node_charge(size_t size, u64 id)
{
	return kmalloc_size_roundup(size) + puma_index_path_bytes(id);
}

/* What the leaf of @idx costs: the same for every index of the leaf. */
static unsigned long puma_index_leaf_charge(unsigned long idx)
{
	return puma_index_path_bytes(idx);
}

static void puma_index_charge(struct puma_index *index, long bytes)
{
	atomic_long_add(bytes, &index->meta_bytes);
	atomic_long_add(bytes, &puma_index_meta_total);
}

/* Whether an index of @idx's leaf other than @idx holds an entry. */
static bool __puma_index_leaf_shared(struct puma_index_inode *inode,
				     unsigned long idx)
{
	unsigned long first = round_down(idx, XA_CHUNK_SIZE);
	XA_STATE(xas, &inode->pages, first);
	void *entry;

	lockdep_assert_held(&inode->pages.xa_lock);
	xas_for_each(&xas, entry, first + XA_CHUNK_SIZE - 1)
		if (xas.xa_index != idx)
			return true;
	return false;
}

/* Account for @idx's entry arriving (@sign 1) or going (-1). */
static void __puma_index_charge_leaf(struct puma_index *index,
				     struct puma_index_inode *inode,
				     unsigned long idx, int sign)
{
	unsigned long bytes;

	if (__puma_index_leaf_shared(inode, idx))
		return;
	bytes = puma_index_leaf_charge(idx);
	if (sign > 0)
		inode->charge += bytes;
	else
		inode->charge -= bytes;
	puma_index_charge(index, sign * (long)bytes);
}

/*
 * Release an unlinked inode's charge; once it is dead and empty, its
 * count no longer changes.
 */
static void puma_index_uncharge_inode(struct puma_index *index,
				      struct puma_index_inode *inode)
{
	unsigned long bytes;

	xa_lock(&inode->pages);
	bytes = inode->charge;
	inode->charge = 0;
	xa_unlock(&inode->pages);
	puma_index_charge(index, -(long)bytes);
}

static void puma_index_pool_put(struct puma_index_pool *pool)
{
	if (!refcount_dec_and_test(&pool->ref))
		return;
	WARN_ON_ONCE(puma_xa_has_entries(&pool->inodes));
	xa_destroy(&pool->inodes);
	kfree_rcu(pool, rcu);
}

static void puma_index_inode_put(struct puma_index_inode *inode)
{
	if (!refcount_dec_and_test(&inode->ref))
		return;
	WARN_ON_ONCE(puma_xa_has_entries(&inode->pages));
	xa_destroy(&inode->pages);
	kfree_rcu(inode, rcu);
}

static struct puma_index_inode __rcu **
puma_index_cache_slot(struct puma_index *index, u32 pool_id, u64 ino)
{
	return &index->inode_cache[hash_64(ino ^ ((u64)pool_id << 32),
					   ilog2(PUMA_INDEX_INODE_CACHE))];
}

/* Remember a live inode; caller holds its lock. */
static void __puma_index_cache_fill(struct puma_index *index,
				    struct puma_index_inode *inode)
{
	lockdep_assert_held(&inode->pages.xa_lock);
	if (!inode->dead)
		rcu_assign_pointer(*puma_index_cache_slot(index, inode->pool_id,
							  inode->ino), inode);
}

/* Forget a dead inode; its lock is no longer needed to keep it out. */
static void puma_index_cache_clear(struct puma_index *index,
				   struct puma_index_inode *inode)
{
	struct puma_index_inode __rcu **slot =
		puma_index_cache_slot(index, inode->pool_id, inode->ino);

	if (rcu_access_pointer(*slot) == inode)
		cmpxchg((struct puma_index_inode **)slot, inode, NULL);
}

/* Caller holds rcu_read_lock(); the result may already be dead. */
static struct puma_index_inode *
puma_index_find_inode(struct puma_index *index, u32 pool_id, u64 ino)
{
	struct puma_index_inode *inode;
	struct puma_index_pool *pool;

	inode = rcu_dereference(*puma_index_cache_slot(index, pool_id, ino));
	if (inode && inode->ino == ino && inode->pool_id == pool_id &&
	    !READ_ONCE(inode->dead))
		return inode;

	pool = xa_load(&index->pools, pool_id);
	inode = pool ? xa_load(&pool->inodes, ino) : NULL;
	if (inode) {
		xa_lock(&inode->pages);
		__puma_index_cache_fill(index, inode);
		xa_unlock(&inode->pages);
	}
	return inode;
}

static struct puma_index_pool *
puma_index_pool_get(struct puma_index *index, u32 id, gfp_t gfp)
{
	struct puma_index_pool *pool, *new;
	int err;

	rcu_read_lock();
	pool = xa_load(&index->pools, id);
	if (pool && refcount_inc_not_zero(&pool->ref)) {
		rcu_read_unlock();
		return pool;
	}
	rcu_read_unlock();

	new = kzalloc(sizeof(*new), gfp);
	if (!new)
		return ERR_PTR(-ENOMEM);
	xa_init(&new->inodes);
	lockdep_set_class(&new->inodes.xa_lock, &puma_index_inodes_lock_key);
	/* One reference for the table, one for the caller. */
	refcount_set(&new->ref, 2);

	xa_lock(&index->pools);
	pool = xa_load(&index->pools, id);
	if (pool) {
		refcount_inc(&pool->ref);
	} else {
		err = __xa_insert(&index->pools, id, new, gfp);
		if (!err) {
			pool = new;
			new->charge = puma_index_node_charge(sizeof(*new), id);
			puma_index_charge(index, new->charge);
		} else {
			pool = ERR_PTR(err == -EBUSY ? -EAGAIN : err);
		}
	}
	xa_unlock(&index->pools);

	if (pool != new)
		kfree(new);
	return pool;
}

/*
 * Return a pinned, live inode node for @key, creating the pool and inode
 * nodes as needed.  -EAGAIN means a concurrent erase won a race; retry.
 */
static struct puma_index_inode *
puma_index_inode_get(struct puma_index *index,
		     const struct puma_key *key, gfp_t gfp)
{
	struct puma_index_inode *inode, *new;
	struct puma_index_pool *pool;
	int err;

	pool = puma_index_pool_get(index, key->pool, gfp);
	if (IS_ERR(pool))
		return ERR_CAST(pool);

	rcu_read_lock();
	inode = xa_load(&pool->inodes, key->ino);
	if (inode && refcount_inc_not_zero(&inode->ref)) {
		rcu_read_unlock();
		puma_index_pool_put(pool);
		return inode;
	}
	rcu_read_unlock();

	new = kzalloc(sizeof(*new), gfp);
	if (!new) {
		puma_index_pool_put(pool);
		return ERR_PTR(-ENOMEM);
	}
	xa_init(&new->pages);
	lockdep_set_class(&new->pages.xa_lock, &puma_index_pages_lock_key);
	new->pool = pool;
	new->pool_id = key->pool;
	new->ino = key->ino;
	refcount_set(&new->ref, 2);

	xa_lock(&pool->inodes);
	inode = xa_load(&pool->inodes, key->ino);
	if (pool->dead) {
		inode = ERR_PTR(-EAGAIN);
	} else if (inode) {
		refcount_inc(&inode->ref);
	} else {
		err = __xa_insert(&pool->inodes, key->ino, new, gfp);
		if (!err) {
			inode = new;
			/* Under its table's lock: no erase sees it before. */
			new->charge = puma_index_node_charge(sizeof(*new),
							     key->ino);
			puma_index_charge(index, new->charge);
		} else {
			inode = ERR_PTR(err == -EBUSY ? -EAGAIN : err);
		}
	}
	xa_unlock(&pool->inodes);

	if (inode != new)
		kfree(new);
	puma_index_pool_put(pool);
	return inode;
}

/*
 * Store @entry in @inode.  -EAGAIN if the inode died under us: the caller
 * looks it up again.  With a blocking @gfp, __xa_insert() may drop the lock
 * to allocate, so deadness is checked again once the entry is in: whoever
 * killed the inode cannot have seen the entry yet, since we held the lock
 * from the store until now, and we take it back out.
 */
static int __puma_index_store(struct puma_index *index,
			      struct puma_index_inode *inode, pgoff_t idx,
			      void *entry, gfp_t gfp)
{
	int err;

	xa_lock(&inode->pages);
	if (inode->dead) {
		err = -EAGAIN;
		goto unlock;
	}
	err = __xa_insert(&inode->pages, idx, entry, gfp);
	if (err) {
		if (err == -EBUSY)
			err = -EEXIST;
		goto unlock;
	}
	if (unlikely(inode->dead)) {
		__xa_erase(&inode->pages, idx);
		err = -EAGAIN;
		goto unlock;
	}
	inode->nr_pages++;
	__puma_index_charge_leaf(index, inode, idx, 1);
unlock:
	xa_unlock(&inode->pages);
	if (!err)
		percpu_counter_inc(&index->nr_entries);
	return err;
}

/**
 * puma_index_init() - Set up an empty page index.
 * @index: Index to initialise.
 *
 * Context: Process context.  May sleep.
 * Return: 0, or -ENOMEM.
 */
int puma_index_init(struct puma_index *index)
{
	memset(index->inode_cache, 0, sizeof(index->inode_cache));
	atomic_long_set(&index->meta_bytes, 0);
	xa_init(&index->pools);
	lockdep_set_class(&index->pools.xa_lock, &puma_index_pools_lock_key);
	return percpu_counter_init(&index->nr_entries, 0, GFP_KERNEL);
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_init);

/**
 * puma_index_destroy() - Erase every entry and free the index.
 * @index: Index set up by puma_index_init().
 * @drop: Called for each entry removed, or %NULL.
 * @arg: Passed to @drop.
 *
 * No other thread may use the index during or after this call.
 *
 * Context: Process context.  May sleep.
 */
void puma_index_destroy(struct puma_index *index, puma_index_drop_fn drop,
			void *arg)
{
	struct puma_index_pool *pool;
	unsigned long id;

	xa_for_each(&index->pools, id, pool)
		puma_index_erase_pool(index, id, drop, arg);
	WARN_ON_ONCE(percpu_counter_sum(&index->nr_entries));
	WARN_ON_ONCE(atomic_long_read(&index->meta_bytes));
	xa_destroy(&index->pools);
	percpu_counter_destroy(&index->nr_entries);
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_destroy);

/*
 * A key's index is 64 bits wide everywhere (it may come off a link); the
 * xarrays index by unsigned long.
 */
static bool puma_index_key_fits(const struct puma_key *key)
{
	return key->index <= ULONG_MAX;
}

/**
 * puma_index_insert() - Add an entry for a page.
 * @index: Page index.
 * @key: Identity of the page.
 * @entry: Entry to store; not %NULL, not an xarray internal entry.
 * @gfp: Allocation flags for index metadata.
 *
 * Context: Any context but interrupt context.  Takes and releases the
 * index's locks.  Sleeps only if @gfp allows it.
 * Return: 0 if stored, -EEXIST if the page already has an entry, -EINVAL
 * if @entry cannot be stored or @key's index does not fit an unsigned
 * long, -ENOMEM if metadata could not be allocated.
 */
int puma_index_insert(struct puma_index *index,
		      const struct puma_key *key, void *entry, gfp_t gfp)
{
	gfp_t nowait = (gfp & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN;
	struct puma_index_inode *inode;
	int err;

	if (!entry || xa_is_internal(entry) || !puma_index_key_fits(key))
		return -EINVAL;

	/* Fast path: the inode exists and the store needs no sleep. */
	rcu_read_lock();
	inode = puma_index_find_inode(index, key->pool, key->ino);
	err = inode ? __puma_index_store(index, inode, key->index, entry,
					 nowait) : -EAGAIN;
	rcu_read_unlock();
	if (err != -EAGAIN && (err != -ENOMEM || !gfpflags_allow_blocking(gfp)))
		return err;

	do {
		inode = puma_index_inode_get(index, key, gfp);
		if (IS_ERR(inode)) {
			err = PTR_ERR(inode);
			continue;
		}
		err = __puma_index_store(index, inode, key->index, entry, gfp);
		puma_index_inode_put(inode);
	} while (err == -EAGAIN);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_insert);

/**
 * puma_index_lookup() - Find the entry for a page.
 * @index: Page index.
 * @key: Identity of the page.
 *
 * Context: Any context but interrupt context.  Takes and releases the RCU
 * read lock.
 * Return: The entry, or %NULL if the page has none.
 */
void *puma_index_lookup(struct puma_index *index,
			const struct puma_key *key)
{
	struct puma_index_inode *inode;
	void *entry = NULL;

	if (!puma_index_key_fits(key))
		return NULL;
	rcu_read_lock();
	inode = puma_index_find_inode(index, key->pool, key->ino);
	if (inode)
		entry = xa_load(&inode->pages, key->index);
	rcu_read_unlock();
	return entry;
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_lookup);

/*
 * Unlink an inode node that its last erase left empty.  Caller holds
 * rcu_read_lock(), which keeps @inode and its pool allocated.
 */
static void puma_index_reap_inode(struct puma_index *index,
				  struct puma_index_inode *inode)
{
	struct puma_index_pool *pool = inode->pool;
	bool unlinked = false;

	xa_lock(&pool->inodes);
	xa_lock(&inode->pages);
	if (!inode->dead && !inode->nr_pages) {
		WRITE_ONCE(inode->dead, true);
		unlinked = true;
	}
	xa_unlock(&inode->pages);
	if (unlinked)
		__xa_erase(&pool->inodes, inode->ino);
	xa_unlock(&pool->inodes);
	if (unlinked) {
		puma_index_cache_clear(index, inode);
		puma_index_uncharge_inode(index, inode);
		puma_index_inode_put(inode);
	}
}

/* Erase @key's entry, only if it is @match when @match is not NULL. */
static void *puma_index_erase_match(struct puma_index *index,
				    const struct puma_key *key,
				    void *match)
{
	struct puma_index_inode *inode;
	bool empty = false;
	void *entry = NULL;

	if (!puma_index_key_fits(key))
		return NULL;
	rcu_read_lock();
	inode = puma_index_find_inode(index, key->pool, key->ino);
	if (!inode)
		goto out;
	xa_lock(&inode->pages);
	if (!match) {
		entry = __xa_erase(&inode->pages, key->index);
	} else if (__xa_cmpxchg(&inode->pages, key->index, match, NULL, 0) ==
		   match) {
		entry = match;
	}
	if (entry) {
		empty = !--inode->nr_pages;
		__puma_index_charge_leaf(index, inode, key->index, -1);
	}
	xa_unlock(&inode->pages);
	if (entry)
		percpu_counter_dec(&index->nr_entries);
	if (empty)
		puma_index_reap_inode(index, inode);
out:
	rcu_read_unlock();
	return entry;
}

/**
 * puma_index_erase() - Remove the entry for a page.
 * @index: Page index.
 * @key: Identity of the page.
 *
 * Context: Any context but interrupt context.  Takes and releases the
 * index's locks.
 * Return: The entry that was removed, or %NULL if the page had none.
 */
void *puma_index_erase(struct puma_index *index,
		       const struct puma_key *key)
{
	return puma_index_erase_match(index, key, NULL);
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_erase);

/**
 * puma_index_erase_entry() - Remove a page's entry if it is a given one.
 * @index: Page index.
 * @key: Identity of the page.
 * @entry: The entry expected for @key.
 *
 * For owners that learn of an entry's end asynchronously (a folio freed by
 * reclaim) and must not remove a newer entry stored for the same page.
 *
 * Context: Any context but interrupt context.  Takes and releases the
 * index's locks.
 * Return: %true if @entry was the page's entry and has been removed.
 */
bool puma_index_erase_entry(struct puma_index *index,
			    const struct puma_key *key, void *entry)
{
	if (!entry || xa_is_internal(entry))
		return false;
	return puma_index_erase_match(index, key, entry) == entry;
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_erase_entry);

/* Take every entry out of a dead inode node, in batches. */
static unsigned long puma_index_drain_inode(struct puma_index *index,
					    struct puma_index_inode *inode,
					    puma_index_drop_fn drop, void *arg)
{
	struct puma_key key = {
		.pool = inode->pool_id,
		.ino = inode->ino,
	};
	pgoff_t indices[PUMA_INDEX_DRAIN_BATCH];
	void *entries[PUMA_INDEX_DRAIN_BATCH];
	unsigned long total = 0;
	unsigned int i, n;
	void *entry;

	do {
		XA_STATE(xas, &inode->pages, 0);

		n = 0;
		xas_lock(&xas);
		xas_for_each(&xas, entry, ULONG_MAX) {
			xas_store(&xas, NULL);
			indices[n] = xas.xa_index;
			entries[n] = entry;
			if (++n == PUMA_INDEX_DRAIN_BATCH)
				break;
		}
		inode->nr_pages -= n;
		xas_unlock(&xas);

		percpu_counter_sub(&index->nr_entries, n);
		for (i = 0; drop && i < n; i++) {
			key.index = indices[i];
			drop(&key, entries[i], arg);
		}
		total += n;
		cond_resched();
	} while (n == PUMA_INDEX_DRAIN_BATCH);
	return total;
}

/*
 * Unlink @inode from @pool; caller holds the pool's lock, and clears the
 * inode's cache slot once it has dropped it.
 */
static void __puma_index_kill_inode(struct puma_index_pool *pool,
				    struct puma_index_inode *inode)
{
	lockdep_assert_held(&pool->inodes.xa_lock);
	xa_lock(&inode->pages);
	WRITE_ONCE(inode->dead, true);
	xa_unlock(&inode->pages);
	__xa_erase(&pool->inodes, inode->ino);
}

/**
 * puma_index_erase_inode() - Remove every entry of an inode.
 * @index: Page index.
 * @pool: Pool id.
 * @ino: Inode key.
 * @drop: Called for each entry removed, or %NULL.
 * @arg: Passed to @drop.
 *
 * Entries inserted for the inode while this runs either are removed by it
 * or start a new, independent inode node.
 *
 * Context: Process context.  May sleep.
 * Return: The number of entries removed.
 */
unsigned long puma_index_erase_inode(struct puma_index *index, u32 pool,
				     u64 ino, puma_index_drop_fn drop,
				     void *arg)
{
	struct puma_index_inode *inode;
	struct puma_index_pool *p;
	unsigned long n;

	might_sleep();
	rcu_read_lock();
	p = xa_load(&index->pools, pool);
	if (!p || !refcount_inc_not_zero(&p->ref)) {
		rcu_read_unlock();
		return 0;
	}
	rcu_read_unlock();

	xa_lock(&p->inodes);
	inode = xa_load(&p->inodes, ino);
	if (inode)
		__puma_index_kill_inode(p, inode);
	xa_unlock(&p->inodes);

	n = 0;
	if (inode) {
		puma_index_cache_clear(index, inode);
		n = puma_index_drain_inode(index, inode, drop, arg);
		puma_index_uncharge_inode(index, inode);
		/* The table's reference, which the unlink handed to us. */
		puma_index_inode_put(inode);
	}
	puma_index_pool_put(p);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_erase_inode);

/**
 * puma_index_erase_pool() - Remove every entry of a pool.
 * @index: Page index.
 * @pool: Pool id.
 * @drop: Called for each entry removed, or %NULL.
 * @arg: Passed to @drop.
 *
 * Inserts racing with this call either are removed by it or create a new
 * pool with the same id.
 *
 * Context: Process context.  May sleep.
 * Return: The number of entries removed.
 */
unsigned long puma_index_erase_pool(struct puma_index *index, u32 pool,
				    puma_index_drop_fn drop, void *arg)
{
	struct puma_index_inode *inode;
	struct puma_index_pool *p;
	unsigned long n = 0;

	might_sleep();
	xa_lock(&index->pools);
	p = xa_load(&index->pools, pool);
	if (p) {
		xa_lock(&p->inodes);
		p->dead = true;
		xa_unlock(&p->inodes);
		__xa_erase(&index->pools, pool);
	}
	xa_unlock(&index->pools);
	if (!p)
		return 0;

	/* Dead: no inode can be added to it any more. */
	for (;;) {
		unsigned long ino = 0;

		xa_lock(&p->inodes);
		inode = xa_find(&p->inodes, &ino, ULONG_MAX, XA_PRESENT);
		if (inode)
			__puma_index_kill_inode(p, inode);
		xa_unlock(&p->inodes);
		if (!inode)
			break;
		puma_index_cache_clear(index, inode);
		n += puma_index_drain_inode(index, inode, drop, arg);
		puma_index_uncharge_inode(index, inode);
		puma_index_inode_put(inode);
	}
	puma_index_charge(index, -(long)p->charge);
	puma_index_pool_put(p);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_erase_pool);

static int puma_index_walk_pages(struct puma_index_inode *inode,
				 puma_index_walk_fn fn, void *arg)
{
	struct puma_key key = {
		.pool = inode->pool_id,
		.ino = inode->ino,
	};
	XA_STATE(xas, &inode->pages, 0);
	void *entry;
	int ret = 0;

	rcu_read_lock();
	xas_for_each(&xas, entry, ULONG_MAX) {
		if (xas_retry(&xas, entry))
			continue;
		key.index = xas.xa_index;
		ret = fn(&key, entry, arg);
		if (ret)
			break;
		if (need_resched()) {
			xas_pause(&xas);
			rcu_read_unlock();
			cond_resched();
			rcu_read_lock();
		}
	}
	rcu_read_unlock();
	return ret;
}

/* Visit the inodes of a pinned pool, one pinned inode at a time. */
static int puma_index_walk_inodes(struct puma_index_pool *pool,
				  puma_index_walk_fn fn, void *arg)
{
	struct puma_index_inode *inode;
	unsigned long ino = 0;
	int ret = 0;

	for (;;) {
		rcu_read_lock();
		inode = xa_find(&pool->inodes, &ino, ULONG_MAX, XA_PRESENT);
		if (inode && !refcount_inc_not_zero(&inode->ref))
			inode = ERR_PTR(-ENOENT);
		rcu_read_unlock();
		if (!inode)
			break;
		if (!IS_ERR(inode)) {
			ret = puma_index_walk_pages(inode, fn, arg);
			puma_index_inode_put(inode);
			if (ret)
				break;
		}
		if (ino == ULONG_MAX)
			break;
		ino++;
	}
	return ret;
}

static struct puma_index_pool *puma_index_pin_pool(struct puma_index *index,
						   unsigned long *id)
{
	struct puma_index_pool *pool;

	rcu_read_lock();
	do {
		pool = xa_find(&index->pools, id, U32_MAX, XA_PRESENT);
		if (pool && refcount_inc_not_zero(&pool->ref))
			break;
		if (pool)
			++*id;
	} while (pool && *id <= U32_MAX);
	rcu_read_unlock();
	return *id <= U32_MAX ? pool : NULL;
}

/**
 * puma_index_walk() - Visit every entry of the index.
 * @index: Page index.
 * @fn: Called for each entry, under rcu_read_lock().
 * @arg: Passed to @fn.
 *
 * Visits pools, inodes and pages in ascending order.  Entries inserted or
 * erased during the walk may or may not be visited.
 *
 * Context: Process context.  May sleep between calls to @fn.
 * Return: 0 after a complete walk, or the first nonzero value @fn returned.
 */
int puma_index_walk(struct puma_index *index, puma_index_walk_fn fn,
		    void *arg)
{
	struct puma_index_pool *pool;
	unsigned long id = 0;
	int ret = 0;

	might_sleep();
	while ((pool = puma_index_pin_pool(index, &id))) {
		ret = puma_index_walk_inodes(pool, fn, arg);
		puma_index_pool_put(pool);
		if (ret || id == U32_MAX)
			break;
		id++;
	}
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_walk);

/**
 * puma_index_walk_pool() - Visit every entry of a pool.
 * @index: Page index.
 * @pool: Pool id.
 * @fn: Called for each entry, under rcu_read_lock().
 * @arg: Passed to @fn.
 *
 * Context: Process context.  May sleep between calls to @fn.
 * Return: 0 after a complete walk, or the first nonzero value @fn returned.
 */
int puma_index_walk_pool(struct puma_index *index, u32 pool,
			 puma_index_walk_fn fn, void *arg)
{
	struct puma_index_pool *p;
	unsigned long id = pool;
	int ret;

	might_sleep();
	p = puma_index_pin_pool(index, &id);
	if (!p)
		return 0;
	ret = id == pool ? puma_index_walk_inodes(p, fn, arg) : 0;
	puma_index_pool_put(p);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_walk_pool);

/**
 * puma_index_walk_inode() - Visit every entry of an inode.
 * @index: Page index.
 * @pool: Pool id.
 * @ino: Inode key.
 * @fn: Called for each entry, under rcu_read_lock().
 * @arg: Passed to @fn.
 *
 * Context: Process context.  May sleep between calls to @fn.
 * Return: 0 after a complete walk, or the first nonzero value @fn returned.
 */
int puma_index_walk_inode(struct puma_index *index, u32 pool, u64 ino,
			  puma_index_walk_fn fn, void *arg)
{
	struct puma_index_inode *inode;
	int ret;

	might_sleep();
	rcu_read_lock();
	inode = puma_index_find_inode(index, pool, ino);
	if (inode && !refcount_inc_not_zero(&inode->ref))
		inode = NULL;
	rcu_read_unlock();
	if (!inode)
		return 0;
	ret = puma_index_walk_pages(inode, fn, arg);
	puma_index_inode_put(inode);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_walk_inode);

/**
 * puma_index_count() - Number of entries in the index.
 * @index: Page index.
 *
 * Exact when no insert or erase runs concurrently.
 *
 * Context: Any context but interrupt context.
 * Return: The number of entries.
 */
unsigned long puma_index_count(struct puma_index *index)
{
	return percpu_counter_sum_positive(&index->nr_entries);
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_count);

/**
 * puma_index_count_pool() - Number of entries in a pool.
 * @index: Page index.
 * @pool: Pool id.
 *
 * Sums the pool's inodes, so it costs one step per inode.
 *
 * Context: Any context but interrupt context.  Takes and releases the RCU
 * read lock.
 * Return: The number of entries.
 */
unsigned long puma_index_count_pool(struct puma_index *index, u32 pool)
{
	struct puma_index_inode *inode;
	struct puma_index_pool *p;
	unsigned long ino, n = 0;

	rcu_read_lock();
	p = xa_load(&index->pools, pool);
	if (p) {
		xa_for_each(&p->inodes, ino, inode)
			n += READ_ONCE(inode->nr_pages);
	}
	rcu_read_unlock();
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_count_pool);

/**
 * puma_index_count_inode() - Number of entries of an inode.
 * @index: Page index.
 * @pool: Pool id.
 * @ino: Inode key.
 *
 * Context: Any context but interrupt context.  Takes and releases the RCU
 * read lock.
 * Return: The number of entries.
 */
unsigned long puma_index_count_inode(struct puma_index *index, u32 pool,
				     u64 ino)
{
	struct puma_index_inode *inode;
	unsigned long n = 0;

	rcu_read_lock();
	inode = puma_index_find_inode(index, pool, ino);
	if (inode)
		n = READ_ONCE(inode->nr_pages);
	rcu_read_unlock();
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_count_inode);

/**
 * puma_index_meta_bytes() - Memory an index holds for its entries.
 * @index: Page index.
 *
 * A model, exact in what it counts: each pool and inode node's allocation
 * and, for it and for each occupied leaf of 64 page indices, one xarray
 * node per 6-bit digit of its id, the path a lone key needs.  Keys that
 * share a prefix share nodes, so this bounds the true cost from above:
 * about 20 bytes a page for a dense file, about 13 KiB for a page whose
 * inode key and index are random 64-bit numbers.  The entries themselves
 * belong to the caller and are not counted.
 *
 * Context: Any context.
 * Return: The number of bytes charged.
 */
unsigned long puma_index_meta_bytes(struct puma_index *index)
{
	return max(atomic_long_read(&index->meta_bytes), 0L);
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_meta_bytes);

/**
 * puma_index_meta_total_bytes() - Memory every index holds.
 *
 * The sum of puma_index_meta_bytes() over every index in the system.
 *
 * Context: Any context.
 * Return: The number of bytes charged.
 */
unsigned long puma_index_meta_total_bytes(void)
{
	return max(atomic_long_read(&puma_index_meta_total), 0L);
}
EXPORT_SYMBOL_IF_KUNIT(puma_index_meta_total_bytes);
