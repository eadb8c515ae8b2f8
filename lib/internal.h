/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by the files of puma.ko, not part of the API.
 */
#ifndef _PUMA_LIB_INTERNAL_H
#define _PUMA_LIB_INTERNAL_H

int puma_rlru_init(void);
void puma_rlru_exit(void);

#endif /* _PUMA_LIB_INTERNAL_H */
