/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PUMA remote-LRU integration: hosted pages as folios on the kernel's LRU.
 *
 * Generic: any cache that keeps pages for others can host them so.
 */
#ifndef _PUMA_RLRU_H
#define _PUMA_RLRU_H

#include <linux/gfp_types.h>
#include <linux/types.h>

#include <puma/key.h>

struct folio;
struct page;
struct puma_rlru;

/**
 * DOC: PUMA remote-LRU integration
 *
 * A node that hosts pages for others keeps each one in a real page-cache
 * folio of a private address space on an internal mount, so the folio
 * sits on the inactive file LRU of its node and the kernel's own reclaim
 * frees it exactly as it frees local clean cache: no list of our own, no
 * polling of free memory.  Hosted folios are never marked accessed and
 * leave no shadow entries when reclaimed, so they are never activated:
 * local pages, which can be, keep priority.
 *
 * When reclaim frees a hosted folio, the address space's ->free_folio()
 * tells this component, which removes the page from its index and reports
 * the page's key to the owner through &puma_rlru_ops.reclaimed, so the
 * owner can tell the page's client.  Folios that the owner removes itself
 * (served, invalidated) are not reported.
 *
 * Hosted folios are counted per NUMA node for the whole system
 * (puma_rlru_node_count()) and per owner (puma_rlru_count()).  What they
 * cost with their metadata is charged in pages per owner
 * (puma_rlru_charge()) and for all (puma_rlru_total_charge()), and an
 * owner over its share of a budget gives back its oldest pages with
 * puma_rlru_shrink().
 */

/**
 * struct puma_rlru_ops - Callbacks of a remote-LRU owner.
 * @reclaimed: Reclaim freed the hosted folio of @key.  Called once per
 *	reclaimed folio, from reclaim: must not sleep nor allocate memory
 *	with direct reclaim.  May be %NULL.
 */
struct puma_rlru_ops {
	void (*reclaimed)(struct puma_rlru *rlru,
			  const struct puma_key *key);
};

struct puma_rlru *puma_rlru_create(const struct puma_rlru_ops *ops,
				   void *priv);
void puma_rlru_destroy(struct puma_rlru *rlru);
void *puma_rlru_priv(struct puma_rlru *rlru);

int puma_rlru_insert(struct puma_rlru *rlru, const struct puma_key *key,
		     struct folio *folio, gfp_t gfp);
int puma_rlru_copy(struct puma_rlru *rlru, const struct puma_key *key,
		   struct page *dst);
struct folio *puma_rlru_take(struct puma_rlru *rlru,
			     const struct puma_key *key);
int puma_rlru_remove(struct puma_rlru *rlru, const struct puma_key *key);
unsigned long puma_rlru_remove_inode(struct puma_rlru *rlru, u32 pool,
				     u64 ino);
unsigned long puma_rlru_remove_pool(struct puma_rlru *rlru, u32 pool);

unsigned long puma_rlru_shrink(struct puma_rlru *rlru, unsigned long nr);

unsigned long puma_rlru_count(struct puma_rlru *rlru);
unsigned long puma_rlru_node_count(int nid);
unsigned long puma_rlru_charge(struct puma_rlru *rlru);
unsigned long puma_rlru_total_charge(void);

#endif /* _PUMA_RLRU_H */
