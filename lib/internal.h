/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by the files of puma.ko, not part of the API.
 */
#ifndef _PUMA_LIB_INTERNAL_H
#define _PUMA_LIB_INTERNAL_H

#include <puma/rlru.h>

int puma_rlru_init(void);
void puma_rlru_exit(void);

#if IS_ENABLED(CONFIG_KUNIT)
struct folio *puma_rlru_test_folio(struct puma_rlru *rlru,
				   const struct puma_key *key);
#endif

#endif /* _PUMA_LIB_INTERNAL_H */
