// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA library module (puma.ko).  Generic components: the remote-LRU
 * integration (rlru.c, over the private page index in index.c), the
 * ordered staging outbox (outbox.c), the activity detector and its
 * watcher (detector.c) and the transport registry (transport.c).  PUMA's
 * own: the wire protocol codec (wire.c), the secure channel (secure.c,
 * secure_codec.c; it owns the ".puma" keyring) and the deactivation
 * policy (policy.c).  Each exports its API into the PUMA symbol namespace; this
 * file carries the module's identity and sets up the components that
 * need it.
 */

#include <linux/module.h>

#include "internal.h"

static int __init puma_lib_init(void)
{
	int err;

	err = puma_sec_keyring_init();
	if (err)
		return err;
	err = puma_rlru_init();
	if (err)
		puma_sec_keyring_exit();
	return err;
}

static void __exit puma_lib_exit(void)
{
	puma_rlru_exit();
	puma_sec_keyring_exit();
}

module_init(puma_lib_init);
module_exit(puma_lib_exit);

MODULE_DESCRIPTION("PUMA remote page-cache library");
MODULE_LICENSE("GPL");
