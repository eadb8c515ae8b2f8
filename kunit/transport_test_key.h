/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Keyrings for the suites that run the TCP transport with security on:
 * the transport takes its pre-shared key from puma_tcp_test_keyring when
 * set, so no case depends on the keyrings of the task that runs it.
 */
#ifndef _PUMA_KUNIT_TRANSPORT_TEST_KEY_H
#define _PUMA_KUNIT_TRANSPORT_TEST_KEY_H

#include <linux/cred.h>
#include <linux/err.h>
#include <linux/key.h>
#include <linux/string.h>
#include <linux/types.h>

/* The transport's default key= description. */
#define PTK_KEY_DESC	"puma:psk"

/*
 * A keyring named @name holding a 32-byte logon key PTK_KEY_DESC, every
 * byte @fill; with @fill 0, an empty keyring.
 * Return: The keyring, or an ERR_PTR().
 */
static inline struct key *ptk_keyring_create(const char *name, u8 fill)
{
	struct key *keyring;
	u8 psk[32];
	key_ref_t ref;

	keyring = keyring_alloc(name, current_fsuid(), current_fsgid(),
				current_cred(),
				KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_SEARCH,
				KEY_ALLOC_NOT_IN_QUOTA, NULL, NULL);
	if (IS_ERR(keyring) || !fill)
		return keyring;
	memset(psk, fill, sizeof(psk));
	ref = key_create_or_update(make_key_ref(keyring, true), "logon",
				   PTK_KEY_DESC, psk, sizeof(psk),
				   KEY_POS_ALL | KEY_USR_VIEW,
				   KEY_ALLOC_NOT_IN_QUOTA);
	if (IS_ERR(ref)) {
		key_put(keyring);
		return ERR_CAST(ref);
	}
	key_ref_put(ref);
	return keyring;
}

static inline void ptk_keyring_destroy(struct key *keyring)
{
	if (IS_ERR_OR_NULL(keyring))
		return;
	keyring_clear(keyring);
	key_put(keyring);
}

#endif /* _PUMA_KUNIT_TRANSPORT_TEST_KEY_H */
