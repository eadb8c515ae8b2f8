// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA library module: page index, wire protocol codec and transport
 * registry.  The components live in their own files and export their API
 * into the PUMA symbol namespace; this file only carries the module's
 * identity.
 */

#include <linux/module.h>

MODULE_DESCRIPTION("PUMA remote page-cache library");
MODULE_LICENSE("GPL");
