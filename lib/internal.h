/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by the files of puma.ko, not part of the API.
 */
#ifndef _PUMA_LIB_INTERNAL_H
#define _PUMA_LIB_INTERNAL_H

#include <linux/xarray.h>

#include <puma/detector.h>
#include <puma/outbox.h>
#include <puma/policy.h>
#include <puma/rlru.h>
#include <puma/transport.h>

/*
 * Whether @xa holds an entry.  Not xa_empty(): a store whose allocation
 * fails half-way down leaves the nodes above it linked and empty
 * (xas_create()), so an xarray without entries may still have a head;
 * xa_destroy() frees those nodes.
 */
static inline bool puma_xa_has_entries(struct xarray *xa)
{
	unsigned long index = 0;

	return xa_find(xa, &index, ULONG_MAX, XA_PRESENT);
}

int puma_rlru_init(void);
void puma_rlru_exit(void);
int puma_sec_keyring_init(void);
void puma_sec_keyring_exit(void);

/*
 * For the KUnit suites only (EXPORT_SYMBOL_IF_KUNIT): nothing outside
 * lib/ needs them.
 */
#if IS_ENABLED(CONFIG_KUNIT)
struct folio *puma_rlru_test_folio(struct puma_rlru *rlru,
				   const struct puma_key *key);
int puma_detector_set_min_pages(struct puma_detector *det,
				enum puma_detector_kind kind,
				unsigned long nr_pages);
void puma_policy_init(struct puma_policy *policy);
bool puma_policy_inactive_is_low(const struct puma_policy *policy,
				 unsigned long inactive, unsigned long active,
				 unsigned long hosted);
void puma_transport_get_stats(struct puma_transport_stats *stats);
void puma_outbox_sync(struct puma_outbox *ob);
int puma_sec_hkdf_sha256(const u8 *salt, unsigned int salt_len,
			 const u8 *ikm, unsigned int ikm_len, const u8 *info,
			 unsigned int info_len, u8 *okm, unsigned int okm_len);
#endif

#endif /* _PUMA_LIB_INTERNAL_H */
