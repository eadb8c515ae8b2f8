/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The identity of a cached page, one type for every component: the page
 * index, the remote LRU, the outbox and the wire protocol.
 *
 * Generic: nothing here is specific to PUMA's protocol.  Builds in user
 * space too (lib/wire_shim.h provides the types there).
 */
#ifndef _PUMA_KEY_H
#define _PUMA_KEY_H

#ifdef __KERNEL__
#include <linux/types.h>
#endif

/**
 * struct puma_key - Identity of a cached page.
 * @pool: Pool id: one per filesystem instance of the node the page is from.
 * @ino: Inode key, unique within the pool for the inode's lifetime.
 * @index: Page index within the inode, in PAGE_SIZE units.
 *
 * @index is 64 bits wide on every architecture so that a key read off a
 * link means the same on both ends; a component that indexes by
 * ``unsigned long`` refuses what does not fit.
 */
struct puma_key {
	u32 pool;
	u64 ino;
	u64 index;
};

/**
 * puma_key_init() - Fill in a key.
 * @key: The key.
 * @pool: Pool id.
 * @ino: Inode key.
 * @index: Page index.
 */
static inline void puma_key_init(struct puma_key *key, u32 pool, u64 ino,
				 u64 index)
{
	key->pool = pool;
	key->ino = ino;
	key->index = index;
}

/**
 * puma_key_equal() - Whether two keys name the same page.
 * @a: A key.
 * @b: Another key.
 *
 * Return: true if they do.
 */
static inline bool puma_key_equal(const struct puma_key *a,
				  const struct puma_key *b)
{
	return a->pool == b->pool && a->ino == b->ino && a->index == b->index;
}

#endif /* _PUMA_KEY_H */
