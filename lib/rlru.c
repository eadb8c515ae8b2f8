// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA remote-LRU integration.
 *
 * Every owner (struct puma_rlru) has an inode on a private pseudo
 * filesystem; each hosted page is a folio in that inode's page cache, at
 * a "slot" index allocated from one system-wide xarray that maps slots
 * back to their entries.  ->free_folio() receives only the folio, whose
 * ->mapping is already cleared, so the slot (folio->index, which removal
 * leaves alone) is how it finds the entry.
 *
 * The owner's page index maps keys to entries; the folio itself is always
 * looked up through the page cache (filemap_get_folio() on the slot),
 * never through a cached pointer, so compaction may migrate hosted folios
 * freely.
 *
 * Lifetime: an entry has two references, one held by its folio and one by
 * the page index.  ->free_folio() drops the folio's, whoever removed the
 * folio: reclaim, puma_rlru_take() and the removal functions, or the final
 * truncation in puma_rlru_destroy().  The index's goes with the index
 * entry: ->free_folio() erases it and drops both, unless an inode or pool
 * erase took the entry out of the index first; that erase then holds the
 * index's reference while it works on the entry without the index's
 * locks, so a folio that reclaim frees meanwhile cannot free the entry
 * under it.  The last reference frees the entry after an RCU grace
 * period, as index lookups may still see it.  The owner counts its
 * entries and destroy waits for that count to reach zero, so a
 * ->free_folio() running late never finds its owner gone.
 *
 * Slots are allocated cyclically, so an owner's folios sit in its inode's
 * page cache in the order they arrived: puma_rlru_shrink() removes the
 * oldest by walking it from the start.  (After 2^32 insertions the order
 * wraps; the oldest then may be found after younger ones for a while.)
 *
 * Charges: what an owner costs is its pages plus its metadata, the entries
 * and their share of the slot table, and the page index's own
 * (puma_index_meta_bytes()), so an owner that lets a peer pick keys can
 * cap what the peer makes the node spend.
 *
 * Lock ordering: none of our own.  The functions nest the page index's
 * locks (taken and released inside its calls), the folio lock and the
 * page cache's locks in the order the page cache uses.
 */

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/migrate.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include <kunit/visibility.h>

#include <puma/rlru.h>

#include "index.h"

#include "internal.h"

#define PUMA_RLRU_MAGIC		0x50554d41	/* "PUMA" */

struct puma_rlru {
	struct puma_index index;
	struct inode *inode;
	const struct puma_rlru_ops *ops;
	void *priv;
	atomic_long_t nr_entries;
};

struct puma_rlru_entry {
	struct puma_key key;
	struct puma_rlru *owner;
	u32 slot;
	/* The folio's and the page index's, see "Lifetime" above. */
	refcount_t ref;
	/* Set by the owner before it removes the folio: do not report it. */
	bool removed_by_owner;
	struct rcu_head rcu;
};

static DEFINE_XARRAY_ALLOC(puma_rlru_slots);
static u32 puma_rlru_next_slot;		/* under puma_rlru_slots' lock */
static atomic_long_t puma_rlru_hosted[MAX_NUMNODES];
static struct vfsmount *puma_rlru_mnt;

static void puma_rlru_entry_put(struct puma_rlru_entry *entry)
{
	struct puma_rlru *owner = entry->owner;

	if (!refcount_dec_and_test(&entry->ref))
		return;
	kfree_rcu(entry, rcu);
	if (atomic_long_dec_and_test(&owner->nr_entries))
		wake_up_var(&owner->nr_entries);
}

static void puma_rlru_free_folio(struct folio *folio)
{
	struct puma_rlru_entry *entry;
	struct puma_rlru *owner;

	entry = xa_erase(&puma_rlru_slots, folio->index);
	if (WARN_ON_ONCE(!entry))
		return;
	owner = entry->owner;
	atomic_long_dec(&puma_rlru_hosted[folio_nid(folio)]);
	/*
	 * Otherwise an inode or pool erase has taken the entry: it drops the
	 * index's reference, and the owner asked for the page to go.
	 */
	if (puma_index_erase_entry(&owner->index, &entry->key, entry)) {
		if (!READ_ONCE(entry->removed_by_owner) && owner->ops &&
		    owner->ops->reclaimed)
			owner->ops->reclaimed(owner, &entry->key);
		puma_rlru_entry_put(entry);
	}
	puma_rlru_entry_put(entry);
}

/* Hosted folios are copies of clean pages: nothing may dirty them. */
static bool puma_rlru_dirty_folio(struct address_space *mapping,
				  struct folio *folio)
{
	WARN_ON_ONCE(1);
	return false;
}

static const struct address_space_operations puma_rlru_aops = {
	.dirty_folio	= puma_rlru_dirty_folio,
	.free_folio	= puma_rlru_free_folio,
	.migrate_folio	= filemap_migrate_folio,
};

static int puma_rlru_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, PUMA_RLRU_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type puma_rlru_fs_type = {
	.name			= "puma_rlru",
	.init_fs_context	= puma_rlru_init_fs_context,
	.kill_sb		= kill_anon_super,
};

int __init puma_rlru_init(void)
{
	puma_rlru_mnt = kern_mount(&puma_rlru_fs_type);
	return PTR_ERR_OR_ZERO(puma_rlru_mnt);
}

void puma_rlru_exit(void)
{
	kern_unmount(puma_rlru_mnt);
	/*
	 * No slot may be left, but the table may still hold nodes: an
	 * allocation that fails half-way down leaves the nodes above it
	 * linked and empty (xas_create()).  xa_destroy() frees them.
	 */
	WARN_ON_ONCE(puma_xa_has_entries(&puma_rlru_slots));
	xa_destroy(&puma_rlru_slots);
}

/**
 * puma_rlru_create() - Create a remote-LRU owner.
 * @ops: Callbacks, or %NULL.
 * @priv: Owner's private data, returned by puma_rlru_priv().
 *
 * Context: Process context.  May sleep.
 * Return: The owner, or ERR_PTR(-ENOMEM).
 */
struct puma_rlru *puma_rlru_create(const struct puma_rlru_ops *ops,
				   void *priv)
{
	struct puma_rlru *rlru;
	struct inode *inode;
	int err;

	rlru = kzalloc(sizeof(*rlru), GFP_KERNEL);
	if (!rlru)
		return ERR_PTR(-ENOMEM);
	err = puma_index_init(&rlru->index);
	if (err)
		goto free;
	inode = new_inode(puma_rlru_mnt->mnt_sb);
	if (!inode) {
		err = -ENOMEM;
		goto destroy_index;
	}
	inode->i_mode = S_IFREG;
	inode->i_mapping->a_ops = &puma_rlru_aops;
	mapping_set_gfp_mask(inode->i_mapping, GFP_HIGHUSER_MOVABLE);
	/*
	 * No shadow entries when reclaim frees a hosted folio: a hosted
	 * page never refaults, and a refault would activate a slot's next
	 * folio.
	 */
	mapping_set_exiting(inode->i_mapping);
	rlru->inode = inode;
	rlru->ops = ops;
	rlru->priv = priv;
	return rlru;

destroy_index:
	puma_index_destroy(&rlru->index, NULL, NULL);
free:
	kfree(rlru);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_create, PUMA);

/**
 * puma_rlru_priv() - The owner's private data.
 * @rlru: Remote-LRU owner.
 *
 * Context: Any context.
 * Return: The @priv given to puma_rlru_create().
 */
void *puma_rlru_priv(struct puma_rlru *rlru)
{
	return rlru->priv;
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_priv, PUMA);

/**
 * puma_rlru_insert() - Host a page.
 * @rlru: Remote-LRU owner.
 * @key: Identity of the page.
 * @folio: An order-0 folio holding the page's data, not in any page cache
 *	nor on an LRU list (for instance fresh from folio_alloc()).
 * @gfp: Allocation flags for metadata.
 *
 * On success the folio is in the owner's page cache and on the inactive
 * file LRU (a caller that wants it active marks it accessed twice with
 * folio_mark_accessed(), as a page read twice); the caller keeps its own
 * reference and drops it with folio_put() when done.  Use
 * %GFP_HIGHUSER_MOVABLE pages so compaction can move hosted folios.
 *
 * Context: Process context.  Sleeps only if @gfp allows.
 * Return: 0, -EEXIST if @key is already hosted, -EINVAL if @folio is not
 * order-0, -ENOMEM, -ENOSPC when every slot is in use.
 */
int puma_rlru_insert(struct puma_rlru *rlru, const struct puma_key *key,
		     struct folio *folio, gfp_t gfp)
{
	struct puma_rlru_entry *entry;
	u32 slot;
	int err;

	if (folio_test_large(folio) || folio->mapping || folio_test_lru(folio))
		return -EINVAL;
	entry = kmalloc(sizeof(*entry), gfp);
	if (!entry)
		return -ENOMEM;
	entry->key = *key;
	entry->owner = rlru;
	entry->removed_by_owner = false;
	refcount_set(&entry->ref, 2);

	/* 1 means the slots wrapped around: still a slot. */
	err = xa_alloc_cyclic(&puma_rlru_slots, &slot, entry, xa_limit_32b,
			      &puma_rlru_next_slot, gfp);
	if (err < 0)
		goto free;
	entry->slot = slot;
	/* Counted before it is published, so destroy waits for it. */
	atomic_long_inc(&rlru->nr_entries);
	err = puma_index_insert(&rlru->index, key, entry, gfp);
	if (err) {
		xa_erase(&puma_rlru_slots, slot);
		atomic_long_dec(&rlru->nr_entries);
		goto free;
	}

	err = filemap_add_folio(rlru->inode->i_mapping, folio, slot, gfp);
	if (err) {
		xa_erase(&puma_rlru_slots, slot);
		/* Unless a racing inode or pool erase holds it. */
		if (puma_index_erase_entry(&rlru->index, key, entry))
			puma_rlru_entry_put(entry);
		/* The reference a folio would have held. */
		puma_rlru_entry_put(entry);
		return err;
	}
	atomic_long_inc(&puma_rlru_hosted[folio_nid(folio)]);
	folio_mark_uptodate(folio);
	folio_unlock(folio);
	return 0;

free:
	/* Never published: no reader can hold it. */
	kfree(entry);
	return err;
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_insert, PUMA);

static bool puma_rlru_key_equal(const struct puma_key *a,
				const struct puma_key *b)
{
	return a->pool == b->pool && a->ino == b->ino && a->index == b->index;
}

/*
 * Find the hosted folio of @key and take a reference on it.  The folio
 * may have been freed and its slot reused since the index lookup: callers
 * that act on it check the slot's entry again under the folio lock.
 */
static struct folio *puma_rlru_get(struct puma_rlru *rlru,
				   const struct puma_key *key)
{
	struct puma_rlru_entry *entry;
	struct folio *folio;
	u32 slot = 0;

	rcu_read_lock();
	entry = puma_index_lookup(&rlru->index, key);
	if (entry)
		slot = entry->slot;
	rcu_read_unlock();
	if (!entry)
		return NULL;
	folio = filemap_get_folio(rlru->inode->i_mapping, slot);
	return IS_ERR(folio) ? NULL : folio;
}

#if IS_ENABLED(CONFIG_KUNIT)
/* For the KUnit suite: the hosted folio of @key, referenced, or NULL. */
struct folio *puma_rlru_test_folio(struct puma_rlru *rlru,
				   const struct puma_key *key)
{
	return puma_rlru_get(rlru, key);
}
EXPORT_SYMBOL_IF_KUNIT(puma_rlru_test_folio);
#endif

/*
 * Remove a referenced folio from the page cache without reporting it, if
 * it still hosts @key, or if it is @match's folio when @match is not NULL.
 * While the folio is locked and in our mapping, its entry cannot be freed:
 * it holds a reference.
 *
 * Return: 0 if removed, -ENOENT if reclaim or another remover got there
 * first, -EBUSY if the folio could not be removed and stays hosted.
 */
static int puma_rlru_evict(struct puma_rlru *rlru, struct folio *folio,
			   const struct puma_key *key,
			   const struct puma_rlru_entry *match)
{
	struct address_space *mapping = rlru->inode->i_mapping;
	struct puma_rlru_entry *entry;
	pgoff_t slot = folio->index;
	bool ours = false;

	folio_lock(folio);
	if (folio->mapping == mapping) {
		entry = xa_load(&puma_rlru_slots, slot);
		if (match)
			ours = entry == match;
		else
			ours = entry && puma_rlru_key_equal(&entry->key, key);
		if (ours)
			WRITE_ONCE(entry->removed_by_owner, true);
	}
	folio_unlock(folio);
	if (!ours)
		return -ENOENT;
	/* Clean and unmapped: this removes it and calls ->free_folio(). */
	return invalidate_inode_pages2_range(mapping, slot, slot) ? -EBUSY : 0;
}

/*
 * Whether a referenced folio still hosts @key.  A folio leaves our mapping
 * only once, and our reference keeps it from being reused, so a folio
 * still in the mapping has held the same page all along.
 */
static bool puma_rlru_holds(struct puma_rlru *rlru, struct folio *folio,
			    const struct puma_key *key)
{
	struct puma_rlru_entry *entry;
	bool match;

	if (READ_ONCE(folio->mapping) != rlru->inode->i_mapping)
		return false;
	rcu_read_lock();
	entry = xa_load(&puma_rlru_slots, folio->index);
	match = entry && entry->owner == rlru &&
		puma_rlru_key_equal(&entry->key, key);
	rcu_read_unlock();
	return match;
}

/**
 * puma_rlru_copy() - Copy a hosted page, leaving it hosted.
 * @rlru: Remote-LRU owner.
 * @key: Identity of the page.
 * @dst: Page to fill.
 *
 * The hosted folio is not marked accessed: it stays on the inactive list.
 *
 * Context: Process context.  May sleep.
 * Return: 0, or -ENOENT if @key is not hosted.
 */
int puma_rlru_copy(struct puma_rlru *rlru, const struct puma_key *key,
		   struct page *dst)
{
	struct folio *folio;
	int err = 0;

	folio = puma_rlru_get(rlru, key);
	if (!folio)
		return -ENOENT;
	/* Uptodate and never written again: no lock needed to read it. */
	copy_highpage(dst, folio_page(folio, 0));
	/*
	 * The slot may have been reused for another page since the lookup;
	 * checked after the copy, a reuse cannot slip in between.  A folio
	 * that reclaim freed meanwhile no longer maps to an entry: miss.
	 */
	if (!puma_rlru_holds(rlru, folio, key))
		err = -ENOENT;
	folio_put(folio);
	return err;
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_copy, PUMA);

/**
 * puma_rlru_take() - Stop hosting a page and hand its folio over.
 * @rlru: Remote-LRU owner.
 * @key: Identity of the page.
 *
 * For exclusive caching: the page leaves the host as it is served.
 *
 * Context: Process context.  May sleep.
 * Return: The folio, no longer in any page cache, with a reference the
 * caller drops with folio_put(); or %NULL if @key is not hosted.
 */
struct folio *puma_rlru_take(struct puma_rlru *rlru,
			     const struct puma_key *key)
{
	struct folio *folio;

	folio = puma_rlru_get(rlru, key);
	if (!folio)
		return NULL;
	if (puma_rlru_evict(rlru, folio, key, NULL)) {
		folio_put(folio);
		return NULL;
	}
	return folio;
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_take, PUMA);

/**
 * puma_rlru_remove() - Stop hosting a page.
 * @rlru: Remote-LRU owner.
 * @key: Identity of the page.
 *
 * Context: Process context.  May sleep.
 * Return: 0 if the page was hosted and this call removed it, -ENOENT if it
 * was not hosted (or reclaim took it first), -EBUSY if it could not be
 * removed and is still hosted: an owner that must not serve it any more
 * has to stop using @rlru.
 */
int puma_rlru_remove(struct puma_rlru *rlru, const struct puma_key *key)
{
	struct folio *folio;
	int err;

	folio = puma_rlru_get(rlru, key);
	if (!folio)
		return -ENOENT;
	err = puma_rlru_evict(rlru, folio, key, NULL);
	folio_put(folio);
	return err;
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_remove, PUMA);

/*
 * An inode or pool erase took @data out of the index; we hold the index's
 * reference on it, which keeps it alive even if reclaim frees its folio
 * meanwhile (and the slot then goes to another page: only @data's folio
 * is removed).  A folio that cannot be removed is no longer in the index,
 * so it is never served; reclaim or destroy frees it.
 */
static void puma_rlru_drop(const struct puma_key *key, void *data,
			   void *arg)
{
	struct puma_rlru_entry *entry = data;
	struct puma_rlru *rlru = arg;
	struct folio *folio;

	folio = filemap_get_folio(rlru->inode->i_mapping, entry->slot);
	if (!IS_ERR(folio)) {
		puma_rlru_evict(rlru, folio, key, entry);
		folio_put(folio);
	}
	puma_rlru_entry_put(entry);
}

/**
 * puma_rlru_remove_inode() - Stop hosting every page of an inode.
 * @rlru: Remote-LRU owner.
 * @pool: Pool id.
 * @ino: Inode key.
 *
 * Context: Process context.  May sleep.
 * Return: The number of pages that were hosted.
 */
unsigned long puma_rlru_remove_inode(struct puma_rlru *rlru, u32 pool,
				     u64 ino)
{
	return puma_index_erase_inode(&rlru->index, pool, ino, puma_rlru_drop,
				      rlru);
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_remove_inode, PUMA);

/**
 * puma_rlru_remove_pool() - Stop hosting every page of a pool.
 * @rlru: Remote-LRU owner.
 * @pool: Pool id.
 *
 * Context: Process context.  May sleep.
 * Return: The number of pages that were hosted.
 */
unsigned long puma_rlru_remove_pool(struct puma_rlru *rlru, u32 pool)
{
	return puma_index_erase_pool(&rlru->index, pool, puma_rlru_drop, rlru);
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_remove_pool, PUMA);

/**
 * puma_rlru_destroy() - Stop hosting everything and free the owner.
 * @rlru: Remote-LRU owner, not used by anyone else any more.
 *
 * Nothing is reported through &puma_rlru_ops.reclaimed for the pages this
 * removes, though a report for a folio that reclaim was freeing at the
 * same moment may still arrive before this returns.
 *
 * Context: Process context.  May sleep.
 */
void puma_rlru_destroy(struct puma_rlru *rlru)
{
	puma_index_destroy(&rlru->index, puma_rlru_drop, rlru);
	/* Folios whose index entries a racing reclaim already erased. */
	truncate_inode_pages_final(rlru->inode->i_mapping);
	wait_var_event(&rlru->nr_entries, !atomic_long_read(&rlru->nr_entries));
	iput(rlru->inode);
	kfree(rlru);
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_destroy, PUMA);

/**
 * puma_rlru_count() - Number of pages an owner hosts.
 * @rlru: Remote-LRU owner.
 *
 * Context: Any context.
 * Return: The number of hosted folios not yet freed.
 */
unsigned long puma_rlru_count(struct puma_rlru *rlru)
{
	return atomic_long_read(&rlru->nr_entries);
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_count, PUMA);

/**
 * puma_rlru_node_count() - Number of hosted pages on a NUMA node.
 * @nid: Node id.
 *
 * Counts the folios of every owner in the system.
 *
 * Context: Any context.
 * Return: The number of hosted folios on @nid, 0 for an invalid @nid.
 */
unsigned long puma_rlru_node_count(int nid)
{
	if (nid < 0 || nid >= MAX_NUMNODES)
		return 0;
	return atomic_long_read(&puma_rlru_hosted[nid]);
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_node_count, PUMA);

/**
 * puma_rlru_shrink() - Stop hosting an owner's oldest pages.
 * @rlru: Remote-LRU owner.
 * @nr: How many pages to remove at most.
 *
 * For an owner over its share of a budget.  The pages go as if reclaim
 * had taken them: each is reported through &puma_rlru_ops.reclaimed, so
 * the page's client learns that it is gone.
 *
 * Context: Process context.  May sleep.
 * Return: The number of pages removed, at most @nr.
 */
unsigned long puma_rlru_shrink(struct puma_rlru *rlru, unsigned long nr)
{
	struct address_space *mapping = rlru->inode->i_mapping;
	unsigned long removed = 0;
	struct folio_batch fbatch;
	pgoff_t start = 0, first, last;
	unsigned int n;

	folio_batch_init(&fbatch);
	while (removed < nr) {
		n = filemap_get_folios(mapping, &start, ULONG_MAX, &fbatch);
		if (!n)
			break;
		n = min_t(unsigned long, n, nr - removed);
		first = fbatch.folios[0]->index;
		last = fbatch.folios[n - 1]->index;
		folio_batch_release(&fbatch);
		/*
		 * The range holds only the folios just found: slots are
		 * given out in increasing order.  A folio that reclaim
		 * frees meanwhile counts as removed: it is gone either way.
		 */
		invalidate_inode_pages2_range(mapping, first, last);
		removed += n;
		if (last == ULONG_MAX)
			break;
		start = last + 1;
		cond_resched();
	}
	return removed;
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_shrink, PUMA);

/* An entry and its share of a full leaf of the slot table. */
#define PUMA_RLRU_ENTRY_BYTES \
	(sizeof(struct puma_rlru_entry) + sizeof(struct xa_node) / XA_CHUNK_SIZE)

/**
 * puma_rlru_charge() - What an owner costs the node, in pages.
 * @rlru: Remote-LRU owner.
 *
 * Its hosted pages, plus its metadata rounded up to pages: its entries,
 * their share of the slot table, and its page index
 * (puma_index_meta_bytes() of lib/index.h, a bound from above).  A peer
 * that picks random keys makes each page cost about four times its size.
 *
 * Context: Any context.
 * Return: The number of pages charged to @rlru.
 */
unsigned long puma_rlru_charge(struct puma_rlru *rlru)
{
	unsigned long n = puma_rlru_count(rlru);

	return n + DIV_ROUND_UP(n * PUMA_RLRU_ENTRY_BYTES +
				puma_index_meta_bytes(&rlru->index),
				PAGE_SIZE);
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_charge, PUMA);

/**
 * puma_rlru_total_charge() - What every owner costs the node, in pages.
 *
 * The sum of puma_rlru_charge() over every owner in the system, from
 * system-wide counters: it costs no walk over owners.
 *
 * Context: Any context.
 * Return: The number of pages charged to all owners.
 */
unsigned long puma_rlru_total_charge(void)
{
	unsigned long n = 0;
	int nid;

	for_each_node(nid)
		n += puma_rlru_node_count(nid);
	return n + DIV_ROUND_UP(n * PUMA_RLRU_ENTRY_BYTES +
				puma_index_meta_total_bytes(), PAGE_SIZE);
}
EXPORT_SYMBOL_NS_GPL(puma_rlru_total_charge, PUMA);
