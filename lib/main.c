// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA library module: page index, remote-LRU integration, wire protocol
 * codec and transport registry.  The components live in their own files
 * and export their API into the PUMA symbol namespace; this file carries
 * the module's identity and sets up the components that need it.
 */

#include <linux/module.h>

#include "internal.h"

static int __init puma_lib_init(void)
{
	return puma_rlru_init();
}

static void __exit puma_lib_exit(void)
{
	puma_rlru_exit();
}

module_init(puma_lib_init);
module_exit(puma_lib_exit);

MODULE_DESCRIPTION("PUMA remote page-cache library");
MODULE_LICENSE("GPL");
