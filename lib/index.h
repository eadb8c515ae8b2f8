/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PUMA page index: (pool, inode key, page index) -> caller-owned entry.
 *
 * Generic, but private to puma.ko: the remote LRU (include/puma/rlru.h)
 * is its user.  Exported only for its KUnit suite.
 */
#ifndef _PUMA_LIB_INDEX_H
#define _PUMA_LIB_INDEX_H

#include <linux/atomic.h>
#include <linux/gfp_types.h>
#include <linux/percpu_counter.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <puma/key.h>

/**
 * DOC: PUMA page index
 *
 * The page index maps the identity of a cached page to an entry that the
 * caller owns (a folio, a descriptor, a tagged value made with
 * xa_mk_value()).  A page is named by a &struct puma_key: the pool it
 * belongs to (a filesystem, or a filesystem of one client), a key for its
 * inode that stays unique for the inode's lifetime, and its page index.
 *
 * Each pool keeps an xarray of inodes, and each inode an xarray of
 * entries, so that dropping an inode or a whole pool touches only its own
 * pages and a lookup costs three xarray walks, the last one over a dense
 * range of page indices.  Pool and inode nodes are created on the first
 * insert and freed (after an RCU grace period) when they become empty or
 * are erased.
 *
 * Entries follow the xarray's rules: %NULL and xarray internal entries
 * cannot be stored.  The index never dereferences an entry.
 *
 * Locking: lookups are lockless (RCU).  Insert and erase take the
 * spinlock of the inode's xarray, and the inode table's lock of the pool
 * when an inode node comes or goes.  None of the functions may be called
 * from interrupt context.  The index does not keep entries alive: a caller
 * that looks up an entry while another thread may erase and free it must
 * provide its own lifetime rule (for instance, free entries after an RCU
 * grace period and look them up under rcu_read_lock()).
 */

#define PUMA_INDEX_INODE_CACHE	256

struct puma_index_inode;

/**
 * struct puma_index - A page index.
 * @pools: Pools by id.
 * @nr_entries: Number of entries in the whole index.
 * @meta_bytes: Bytes of metadata charged, see puma_index_meta_bytes().
 * @inode_cache: Recently used inodes, by hash of (pool, inode key): finds
 *	an inode in two memory accesses instead of two xarray walks.
 *
 * Embed it in the caller's structure and set it up with puma_index_init().
 */
struct puma_index {
	struct xarray pools;
	struct percpu_counter nr_entries;
	atomic_long_t meta_bytes;
	struct puma_index_inode __rcu *inode_cache[PUMA_INDEX_INODE_CACHE];
};

/**
 * typedef puma_index_drop_fn - Called for each entry that an erase removes.
 * @key: Identity of the page.
 * @entry: The entry, no longer in the index.
 * @arg: The caller's argument.
 *
 * Called without index locks held; may sleep if the erase function's
 * caller may.  Once out of the index, @entry is the erase's alone only if
 * the owner frees entries solely on removal from the index: an owner that
 * may also free it from elsewhere (another erase by key racing with this
 * one, say) must keep it alive for this call, for instance with a
 * reference that the index's copy holds.
 */
typedef void (*puma_index_drop_fn)(const struct puma_key *key,
				   void *entry, void *arg);

/**
 * typedef puma_index_walk_fn - Called for each entry that a walk visits.
 * @key: Identity of the page.
 * @entry: The entry.
 * @arg: The caller's argument.
 *
 * Called under rcu_read_lock(); must not sleep.
 *
 * Return: 0 to continue the walk, anything else to stop it and make the
 * walk return that value.
 */
typedef int (*puma_index_walk_fn)(const struct puma_key *key,
				  void *entry, void *arg);

int puma_index_init(struct puma_index *index);
void puma_index_destroy(struct puma_index *index, puma_index_drop_fn drop,
			void *arg);

int puma_index_insert(struct puma_index *index,
		      const struct puma_key *key, void *entry, gfp_t gfp);
void *puma_index_lookup(struct puma_index *index,
			const struct puma_key *key);
void *puma_index_erase(struct puma_index *index,
		       const struct puma_key *key);
bool puma_index_erase_entry(struct puma_index *index,
			    const struct puma_key *key, void *entry);
unsigned long puma_index_erase_inode(struct puma_index *index, u32 pool,
				     u64 ino, puma_index_drop_fn drop,
				     void *arg);
unsigned long puma_index_erase_pool(struct puma_index *index, u32 pool,
				    puma_index_drop_fn drop, void *arg);

int puma_index_walk(struct puma_index *index, puma_index_walk_fn fn,
		    void *arg);
int puma_index_walk_pool(struct puma_index *index, u32 pool,
			 puma_index_walk_fn fn, void *arg);
int puma_index_walk_inode(struct puma_index *index, u32 pool, u64 ino,
			  puma_index_walk_fn fn, void *arg);

unsigned long puma_index_count(struct puma_index *index);
unsigned long puma_index_count_pool(struct puma_index *index, u32 pool);
unsigned long puma_index_count_inode(struct puma_index *index, u32 pool,
				     u64 ino);
unsigned long puma_index_meta_bytes(struct puma_index *index);
unsigned long puma_index_meta_total_bytes(void);

#endif /* _PUMA_LIB_INDEX_H */
