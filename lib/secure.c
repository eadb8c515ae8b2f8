// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA secure channel: the pre-shared key, the handshake, the key
 * schedule and the frames (include/puma/secure.h has the API,
 * Documentation/security.rst the protocol and the threat model).
 *
 * The parsing of everything received is in lib/secure_codec.c, without
 * crypto, so that it can be fuzzed in user space; this file adds the
 * keyring, HMAC-SHA256 (crypto API), HKDF-SHA256 over it, SHA-256 and
 * ChaCha20-Poly1305 (lib/crypto), and the state of a session.
 *
 * Every refusal of something the peer sent is counted by reason and ends
 * the session: a caller closes the connection on any error, and a session
 * that failed refuses everything after.
 *
 * Lock ordering: no locks.  A session is driven by its caller: the
 * handshake steps one at a time, then one sender at a time (seal) and one
 * receiver at a time (open), which may run concurrently as they share
 * nothing but the state, read and written with READ_ONCE()/WRITE_ONCE().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/chacha20poly1305.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <crypto/utils.h>
#include <keys/user-type.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/key.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <kunit/visibility.h>

#include <puma/secure.h>

#include "internal.h"

/* Labels of the MACs and of the key schedule; see security.rst. */
#define PUMA_SEC_LABEL_SERVER_MAC	"puma-sec v1 server mac"
#define PUMA_SEC_LABEL_CLIENT_MAC	"puma-sec v1 client mac"
#define PUMA_SEC_LABEL_C2S		"puma-sec v1 key c2s"
#define PUMA_SEC_LABEL_S2C		"puma-sec v1 key s2c"

/* Where the parts of the transcript lie: CLIENT_HELLO, then SERVER_HELLO. */
#define PUMA_SEC_NONCE_OFF	(PUMA_SEC_HS_HDR_LEN + PUMA_SEC_CAPS_LEN)
#define PUMA_SEC_SH_OFF		PUMA_SEC_CLIENT_HELLO_LEN
#define PUMA_SEC_SH_MAC_OFF	(PUMA_SEC_SH_OFF + PUMA_SEC_CLIENT_HELLO_LEN)
#define PUMA_SEC_TRANSCRIPT_LEN	(PUMA_SEC_CLIENT_HELLO_LEN + \
				 PUMA_SEC_SERVER_HELLO_LEN)

static_assert(PUMA_SEC_MAC_LEN == SHA256_DIGEST_SIZE, "MAC is HMAC-SHA256");
static_assert(PUMA_SEC_KEY_LEN == CHACHA20POLY1305_KEY_SIZE, "AEAD key");
static_assert(PUMA_SEC_TAG_LEN == CHACHA20POLY1305_AUTHTAG_SIZE, "AEAD tag");
static_assert(PUMA_SEC_PSK_MAX <= SHA256_BLOCK_SIZE,
	      "an HMAC key up to a block is used as is");

enum puma_sec_state {
	PUMA_SEC_START,			/* nothing sent or received */
	PUMA_SEC_WAIT_SERVER_HELLO,	/* client: CLIENT_HELLO sent */
	PUMA_SEC_WAIT_FINISH,		/* server: SERVER_HELLO sent */
	PUMA_SEC_ESTABLISHED,
	PUMA_SEC_FAILED,
};

struct puma_sec_session {
	bool server;
	enum puma_sec_state state;
	struct puma_sec_stats *stats;
	struct puma_sec_caps local;
	struct puma_sec_caps agreed;

	/* The handshake's; wiped and freed when it ends, either way. */
	struct crypto_shash *hmac;
	u8 psk[PUMA_SEC_PSK_MAX];
	unsigned int psk_len;
	u8 transcript[PUMA_SEC_TRANSCRIPT_LEN];

	/* Established: the sender's side, then the receiver's. */
	u8 tx_key[PUMA_SEC_KEY_LEN];
	u64 tx_counter;
	u8 rx_key[PUMA_SEC_KEY_LEN];
	u64 rx_counter;
};

/* Pre-shared key */

/*
 * The ".puma" keyring, as NVMe has ".nvme": where root puts PSKs for
 * connections made by kernel threads, whose own keyrings are not any
 * user's ("keyctl padd logon puma:psk %:.puma").
 */
static struct key *puma_sec_keyring;

int __init puma_sec_keyring_init(void)
{
	struct key *keyring;

	keyring = keyring_alloc(".puma", GLOBAL_ROOT_UID, GLOBAL_ROOT_GID,
				current_cred(),
				(KEY_POS_ALL & ~KEY_POS_SETATTR) |
				KEY_USR_VIEW | KEY_USR_READ | KEY_USR_WRITE |
				KEY_USR_SEARCH,
				KEY_ALLOC_NOT_IN_QUOTA, NULL, NULL);
	if (IS_ERR(keyring))
		return PTR_ERR(keyring);
	puma_sec_keyring = keyring;
	return 0;
}

void puma_sec_keyring_exit(void)
{
	key_revoke(puma_sec_keyring);
	key_put(puma_sec_keyring);
	puma_sec_keyring = NULL;
}

static struct key *puma_sec_keyring_find(struct key *keyring,
					 struct key_type *type,
					 const char *desc)
{
	key_ref_t ref;

	ref = keyring_search(make_key_ref(keyring, true), type, desc, true);
	if (IS_ERR(ref))
		/* keyring_search() says -EAGAIN for "none". */
		return ERR_PTR(PTR_ERR(ref) == -EAGAIN ? -ENOKEY :
			       PTR_ERR(ref));
	return key_ref_to_ptr(ref);
}

static struct key *puma_sec_key_find(struct key *keyring,
				     struct key_type *type, const char *desc)
{
	struct key *key;

	if (keyring)
		return puma_sec_keyring_find(keyring, type, desc);
	key = puma_sec_keyring_find(puma_sec_keyring, type, desc);
	if (PTR_ERR_OR_ZERO(key) != -ENOKEY)
		return key;
	/*
	 * The _rcu form never calls out to user space: the key must be
	 * there already, and a handshake never waits on /sbin/request-key.
	 */
	rcu_read_lock();
	key = request_key_rcu(type, desc, NULL);
	rcu_read_unlock();
	return key;
}

/**
 * puma_sec_psk_lookup() - Copy a pre-shared key out of the keyring.
 * @keyring: Keyring to search (and its children), or %NULL for the
 *	".puma" keyring, then the calling task's keyrings.
 * @desc: The key's description.  A "logon" key is preferred, as user
 *	space cannot read it back; a "user" key is taken if there is none.
 * @psk: Where to copy the key's bytes.
 * @size: Room at @psk.
 *
 * The caller wipes @psk with memzero_explicit() once done with it.
 *
 * Context: Process context; takes the key's semaphore.
 * Return: The key's length, or -ENOKEY if there is no such key,
 * -EKEYREJECTED, -EKEYREVOKED or -EKEYEXPIRED for a key in that state,
 * -EINVAL for an empty @desc or a key shorter than %PUMA_SEC_PSK_MIN or
 * longer than %PUMA_SEC_PSK_MAX bytes, -ENOSPC if @size is too small.
 */
int puma_sec_psk_lookup(struct key *keyring, const char *desc, u8 *psk,
			size_t size)
{
	const struct user_key_payload *payload;
	struct key *key;
	int ret;

	if (!desc || !*desc)
		return -EINVAL;
	key = puma_sec_key_find(keyring, &key_type_logon, desc);
	if (PTR_ERR_OR_ZERO(key) == -ENOKEY)
		key = puma_sec_key_find(keyring, &key_type_user, desc);
	if (IS_ERR(key))
		return PTR_ERR(key);

	down_read(&key->sem);
	ret = key_validate(key);
	if (ret)
		goto out;
	payload = user_key_payload_locked(key);
	if (!payload) {
		ret = -EKEYREVOKED;
	} else if (payload->datalen < PUMA_SEC_PSK_MIN ||
		   payload->datalen > PUMA_SEC_PSK_MAX) {
		ret = -EINVAL;
	} else if (payload->datalen > size) {
		ret = -ENOSPC;
	} else {
		memcpy(psk, payload->data, payload->datalen);
		ret = payload->datalen;
	}
out:
	up_read(&key->sem);
	key_put(key);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_psk_lookup, PUMA);

/* HMAC-SHA256 and HKDF-SHA256 */

struct puma_sec_chunk {
	const void *p;
	unsigned int len;
};

static int puma_sec_hmac(struct crypto_shash *tfm, const u8 *key,
			 unsigned int key_len,
			 const struct puma_sec_chunk *chunks, unsigned int nr,
			 u8 out[PUMA_SEC_MAC_LEN])
{
	SHASH_DESC_ON_STACK(desc, tfm);
	unsigned int i;
	int err;

	err = crypto_shash_setkey(tfm, key, key_len);
	if (err)
		return err;
	desc->tfm = tfm;
	err = crypto_shash_init(desc);
	for (i = 0; i < nr && !err; i++)
		err = crypto_shash_update(desc, chunks[i].p, chunks[i].len);
	if (!err)
		err = crypto_shash_final(desc, out);
	shash_desc_zero(desc);
	return err;
}

/*
 * HKDF (RFC 5869) with SHA-256.  Linux 6.12 has no HKDF library for other
 * users (crypto/hkdf.c came later; fs/crypto keeps its own), so these are
 * the RFC's two steps over the crypto API's hmac(sha256), nothing more.
 *
 * Extract: PRK = HMAC(salt, IKM).
 */
static int puma_sec_hkdf_extract(struct crypto_shash *tfm, const u8 *salt,
				 unsigned int salt_len, const u8 *ikm,
				 unsigned int ikm_len,
				 u8 prk[SHA256_DIGEST_SIZE])
{
	struct puma_sec_chunk c = { ikm, ikm_len };

	return puma_sec_hmac(tfm, salt, salt_len, &c, 1, prk);
}

/*
 * Expand: T(0) = "", T(i) = HMAC(PRK, T(i-1) | info | i), and the output
 * is the first @okm_len bytes of T(1) | T(2) | ...  The info is given in
 * pieces (at most two): here a label naming the key's use and direction,
 * then the transcript hash.
 */
static int puma_sec_hkdf_expand(struct crypto_shash *tfm,
				const u8 prk[SHA256_DIGEST_SIZE],
				const struct puma_sec_chunk *info,
				unsigned int nr_info, u8 *okm,
				unsigned int okm_len)
{
	struct puma_sec_chunk c[4];
	u8 t[SHA256_DIGEST_SIZE];
	unsigned int done = 0, n, j;
	u8 i = 1;
	int err = 0;

	if (okm_len > 255 * SHA256_DIGEST_SIZE || nr_info > ARRAY_SIZE(c) - 2)
		return -EINVAL;
	while (done < okm_len) {
		c[0].p = t;
		c[0].len = i > 1 ? SHA256_DIGEST_SIZE : 0;
		for (j = 0; j < nr_info; j++)
			c[1 + j] = info[j];
		c[1 + j].p = &i;
		c[1 + j].len = 1;
		err = puma_sec_hmac(tfm, prk, SHA256_DIGEST_SIZE, c, nr_info + 2,
				    t);
		if (err)
			break;
		n = min_t(unsigned int, okm_len - done, SHA256_DIGEST_SIZE);
		memcpy(okm + done, t, n);
		done += n;
		i++;
	}
	memzero_explicit(t, sizeof(t));
	return err;
}

/**
 * puma_sec_hkdf_sha256() - HKDF-SHA256 (RFC 5869), extract then expand.
 * @salt: The salt.
 * @salt_len: Its length.
 * @ikm: The input keying material.
 * @ikm_len: Its length.
 * @info: The context.
 * @info_len: Its length.
 * @okm: Where to write the output keying material.
 * @okm_len: How much of it: at most 255 * 32 bytes.
 *
 * For the KUnit suite, which checks the construction against the RFC's
 * test vectors; the sessions call the steps themselves.
 *
 * Context: Process context.
 * Return: 0, -EINVAL for a too long @okm_len, or an error of the crypto
 * API.
 */
int puma_sec_hkdf_sha256(const u8 *salt, unsigned int salt_len,
			 const u8 *ikm, unsigned int ikm_len, const u8 *info,
			 unsigned int info_len, u8 *okm, unsigned int okm_len)
{
	struct puma_sec_chunk c = { info, info_len };
	u8 prk[SHA256_DIGEST_SIZE];
	struct crypto_shash *tfm;
	int err;

	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	err = puma_sec_hkdf_extract(tfm, salt, salt_len, ikm, ikm_len, prk);
	if (!err)
		err = puma_sec_hkdf_expand(tfm, prk, &c, 1, okm, okm_len);
	memzero_explicit(prk, sizeof(prk));
	crypto_free_shash(tfm);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(puma_sec_hkdf_sha256);

/* The MAC of one side: HMAC(PSK, label | the transcript's first @len). */
static int puma_sec_transcript_mac(struct puma_sec_session *s,
				   const char *label, unsigned int len,
				   u8 mac[PUMA_SEC_MAC_LEN])
{
	struct puma_sec_chunk c[] = {
		{ label, strlen(label) },
		{ s->transcript, len },
	};

	return puma_sec_hmac(s->hmac, s->psk, s->psk_len, c, ARRAY_SIZE(c),
			     mac);
}

/*
 * The key schedule, once both MACs are known good:
 *   TH    = SHA-256(CLIENT_HELLO | SERVER_HELLO)
 *   PRK   = HKDF-Extract(salt = nonce_c | nonce_s, IKM = PSK)
 *   k_c2s = HKDF-Expand(PRK, "puma-sec v1 key c2s" | TH, 32)
 *   k_s2c = HKDF-Expand(PRK, "puma-sec v1 key s2c" | TH, 32)
 */
static int puma_sec_derive_keys(struct puma_sec_session *s)
{
	u8 salt[2 * PUMA_SEC_NONCE_LEN];
	u8 th[SHA256_DIGEST_SIZE];
	u8 prk[SHA256_DIGEST_SIZE];
	struct puma_sec_chunk c2s[] = {
		{ PUMA_SEC_LABEL_C2S, strlen(PUMA_SEC_LABEL_C2S) },
		{ th, sizeof(th) },
	};
	struct puma_sec_chunk s2c[] = {
		{ PUMA_SEC_LABEL_S2C, strlen(PUMA_SEC_LABEL_S2C) },
		{ th, sizeof(th) },
	};
	int err;

	sha256(s->transcript, sizeof(s->transcript), th);
	memcpy(salt, s->transcript + PUMA_SEC_NONCE_OFF, PUMA_SEC_NONCE_LEN);
	memcpy(salt + PUMA_SEC_NONCE_LEN,
	       s->transcript + PUMA_SEC_SH_OFF + PUMA_SEC_NONCE_OFF,
	       PUMA_SEC_NONCE_LEN);
	err = puma_sec_hkdf_extract(s->hmac, salt, sizeof(salt), s->psk,
				    s->psk_len, prk);
	if (!err)
		err = puma_sec_hkdf_expand(s->hmac, prk, c2s, ARRAY_SIZE(c2s),
					   s->server ? s->rx_key : s->tx_key,
					   PUMA_SEC_KEY_LEN);
	if (!err)
		err = puma_sec_hkdf_expand(s->hmac, prk, s2c, ARRAY_SIZE(s2c),
					   s->server ? s->tx_key : s->rx_key,
					   PUMA_SEC_KEY_LEN);
	memzero_explicit(prk, sizeof(prk));
	return err;
}

/* Sessions */

/* The handshake's secrets are needed no more, whatever its outcome. */
static void puma_sec_handshake_wipe(struct puma_sec_session *s)
{
	memzero_explicit(s->psk, sizeof(s->psk));
	s->psk_len = 0;
	crypto_free_shash(s->hmac);	/* zeroes its keyed state */
	s->hmac = NULL;
}

static void puma_sec_count(struct puma_sec_session *s, enum puma_sec_reject why)
{
	if (s->stats)
		atomic64_inc(&s->stats->rejected[why]);
}

/* Refuse what the peer sent, for @why: the session is over. */
static int puma_sec_refuse(struct puma_sec_session *s,
			   enum puma_sec_reject why, int err)
{
	puma_sec_count(s, why);
	pr_warn_ratelimited("secure channel: %s refused by the %s: %s (%d)\n",
			    s->state == PUMA_SEC_ESTABLISHED ? "frame" :
							       "handshake",
			    s->server ? "server" : "client",
			    puma_sec_reject_name(why), err);
	if (s->hmac)
		puma_sec_handshake_wipe(s);
	WRITE_ONCE(s->state, PUMA_SEC_FAILED);
	return err;
}

/* A local failure (no memory, crypto error): the session is over too. */
static int puma_sec_abort(struct puma_sec_session *s, int err)
{
	if (s->hmac)
		puma_sec_handshake_wipe(s);
	WRITE_ONCE(s->state, PUMA_SEC_FAILED);
	return err;
}

static int puma_sec_establish(struct puma_sec_session *s)
{
	int err = puma_sec_derive_keys(s);

	if (err)
		return puma_sec_abort(s, err);
	puma_sec_handshake_wipe(s);
	if (s->stats)
		atomic64_inc(&s->stats->handshakes);
	WRITE_ONCE(s->state, PUMA_SEC_ESTABLISHED);
	return 0;
}

/**
 * puma_sec_session_create() - Start one end of a secure session.
 * @cfg: Its role, key and capabilities; not referenced after the call.
 *
 * Looks the pre-shared key up now (puma_sec_psk_lookup()) and keeps a copy
 * only until the handshake ends.  A client then calls
 * puma_sec_client_hello(), a server waits for the peer's CLIENT_HELLO.
 *
 * Context: Process context; allocates with GFP_KERNEL.
 * Return: The session, or an ERR_PTR(): -EINVAL for invalid @cfg->caps,
 * -ENOMEM, or any error of puma_sec_psk_lookup() or of the crypto API's
 * allocation of hmac(sha256).
 */
struct puma_sec_session *puma_sec_session_create(const struct puma_sec_config *cfg)
{
	struct puma_sec_session *s;
	int ret;

	if (puma_sec_caps_check(&cfg->caps))
		return ERR_PTR(-EINVAL);
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->server = cfg->server;
	s->state = PUMA_SEC_START;
	s->stats = cfg->stats;
	s->local = cfg->caps;
	ret = puma_sec_psk_lookup(cfg->keyring, cfg->key_desc, s->psk,
				  sizeof(s->psk));
	if (ret < 0)
		goto fail;
	s->psk_len = ret;
	s->hmac = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(s->hmac)) {
		ret = PTR_ERR(s->hmac);
		s->hmac = NULL;
		goto fail;
	}
	return s;
fail:
	kfree_sensitive(s);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(puma_sec_session_create, PUMA);

/**
 * puma_sec_session_destroy() - End a session and wipe its keys.
 * @s: The session, or %NULL or an ERR_PTR() (nothing to do).
 *
 * Context: Process context.  No other call on @s may be running.
 */
void puma_sec_session_destroy(struct puma_sec_session *s)
{
	if (IS_ERR_OR_NULL(s))
		return;
	if (s->hmac)
		puma_sec_handshake_wipe(s);
	kfree_sensitive(s);
}
EXPORT_SYMBOL_NS_GPL(puma_sec_session_destroy, PUMA);

/**
 * puma_sec_client_hello() - Client: write the CLIENT_HELLO to send.
 * @s: A client session just created.
 * @out: Where to write the message.
 * @size: Room at @out: %PUMA_SEC_CLIENT_HELLO_LEN is enough.
 *
 * Context: Process context.
 * Return: The message's length, -EPROTO on a server session or one past
 * this step, or -ENOSPC.
 */
int puma_sec_client_hello(struct puma_sec_session *s, void *out, size_t size)
{
	struct puma_sec_hs hs = {
		.type = PUMA_SEC_CLIENT_HELLO,
		.caps = s->local,
	};
	int len;

	if (s->server || s->state != PUMA_SEC_START)
		return -EPROTO;
	if (size < PUMA_SEC_CLIENT_HELLO_LEN)
		return -ENOSPC;
	get_random_bytes(hs.nonce, sizeof(hs.nonce));
	len = puma_sec_hs_encode(&hs, s->transcript, PUMA_SEC_CLIENT_HELLO_LEN);
	if (len < 0)
		return puma_sec_abort(s, len);
	memcpy(out, s->transcript, len);
	s->state = PUMA_SEC_WAIT_SERVER_HELLO;
	return len;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_client_hello, PUMA);

/**
 * puma_sec_server_hello() - Server: answer a CLIENT_HELLO.
 * @s: A server session just created.
 * @in: The first message the peer sent, as received.
 * @len: Its length.
 * @out: Where to write the SERVER_HELLO to send.
 * @size: Room at @out: %PUMA_SEC_SERVER_HELLO_LEN is enough.
 *
 * Anything but a well-formed CLIENT_HELLO whose capabilities have some
 * version and mode in common with ours is refused and counted.  The
 * client is not authenticated yet: that is puma_sec_server_finish()'s.
 *
 * Context: Process context.
 * Return: The length of the SERVER_HELLO; -EPROTO on a client session or
 * one past this step, -ENOSPC; or, the peer refused, a negative errno of
 * puma_sec_hs_parse() or -EPROTONOSUPPORT.
 */
int puma_sec_server_hello(struct puma_sec_session *s, const void *in,
			  size_t len, void *out, size_t size)
{
	struct puma_sec_hs hs;
	enum puma_sec_reject why;
	int err;

	if (!s->server || s->state != PUMA_SEC_START)
		return -EPROTO;
	if (size < PUMA_SEC_SERVER_HELLO_LEN)
		return -ENOSPC;
	err = puma_sec_hs_parse(in, len, PUMA_SEC_CLIENT_HELLO, &hs, &why);
	if (err)
		return puma_sec_refuse(s, why, err);
	err = puma_sec_caps_negotiate(&s->local, &hs.caps, &s->agreed);
	if (err)
		return puma_sec_refuse(s, PUMA_SEC_REJ_NO_COMMON_CAPS, err);
	memcpy(s->transcript, in, PUMA_SEC_CLIENT_HELLO_LEN);

	memset(&hs, 0, sizeof(hs));
	hs.type = PUMA_SEC_SERVER_HELLO;
	hs.caps = s->local;
	get_random_bytes(hs.nonce, sizeof(hs.nonce));
	err = puma_sec_hs_encode(&hs, s->transcript + PUMA_SEC_SH_OFF,
				 PUMA_SEC_SERVER_HELLO_LEN);
	if (err < 0)
		return puma_sec_abort(s, err);
	err = puma_sec_transcript_mac(s, PUMA_SEC_LABEL_SERVER_MAC,
				      PUMA_SEC_SH_MAC_OFF,
				      s->transcript + PUMA_SEC_SH_MAC_OFF);
	if (err)
		return puma_sec_abort(s, err);
	memcpy(out, s->transcript + PUMA_SEC_SH_OFF, PUMA_SEC_SERVER_HELLO_LEN);
	s->state = PUMA_SEC_WAIT_FINISH;
	return PUMA_SEC_SERVER_HELLO_LEN;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_server_hello, PUMA);

/**
 * puma_sec_client_finish() - Client: check the SERVER_HELLO and answer.
 * @s: A client session that sent its CLIENT_HELLO.
 * @in: The server's answer, as received.
 * @len: Its length.
 * @out: Where to write the CLIENT_FINISH to send.
 * @size: Room at @out: %PUMA_SEC_CLIENT_FINISH_LEN is enough.
 *
 * The server's MAC must cover our fresh nonce under our key: a server
 * without the key, or a SERVER_HELLO recorded from another session, is
 * refused here.  The session is established on return: its keys are
 * derived and puma_sec_agreed_caps() says what was agreed.
 *
 * Context: Process context.
 * Return: The length of the CLIENT_FINISH; -EPROTO on a server session or
 * one not at this step, -ENOSPC; or, the peer refused, a negative errno
 * of puma_sec_hs_parse(), -EACCES (wrong key or replay) or
 * -EPROTONOSUPPORT; or an error of the crypto API.
 */
int puma_sec_client_finish(struct puma_sec_session *s, const void *in,
			   size_t len, void *out, size_t size)
{
	struct puma_sec_hs hs;
	enum puma_sec_reject why;
	u8 mac[PUMA_SEC_MAC_LEN];
	int err;

	if (s->server || s->state != PUMA_SEC_WAIT_SERVER_HELLO)
		return -EPROTO;
	if (size < PUMA_SEC_CLIENT_FINISH_LEN)
		return -ENOSPC;
	err = puma_sec_hs_parse(in, len, PUMA_SEC_SERVER_HELLO, &hs, &why);
	if (err)
		return puma_sec_refuse(s, why, err);
	memcpy(s->transcript + PUMA_SEC_SH_OFF, in, PUMA_SEC_SERVER_HELLO_LEN);
	err = puma_sec_transcript_mac(s, PUMA_SEC_LABEL_SERVER_MAC,
				      PUMA_SEC_SH_MAC_OFF, mac);
	if (err)
		return puma_sec_abort(s, err);
	if (crypto_memneq(mac, hs.mac, sizeof(mac)))
		return puma_sec_refuse(s, PUMA_SEC_REJ_WRONG_KEY, -EACCES);
	/* Only now are the server's capabilities its own. */
	err = puma_sec_caps_negotiate(&s->local, &hs.caps, &s->agreed);
	if (err)
		return puma_sec_refuse(s, PUMA_SEC_REJ_NO_COMMON_CAPS, err);

	memset(&hs, 0, sizeof(hs));
	hs.type = PUMA_SEC_CLIENT_FINISH;
	err = puma_sec_transcript_mac(s, PUMA_SEC_LABEL_CLIENT_MAC,
				      PUMA_SEC_TRANSCRIPT_LEN, hs.mac);
	if (err)
		return puma_sec_abort(s, err);
	err = puma_sec_hs_encode(&hs, out, size);
	if (err < 0)
		return puma_sec_abort(s, err);
	len = err;
	err = puma_sec_establish(s);
	return err ?: len;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_client_finish, PUMA);

/**
 * puma_sec_server_finish() - Server: check the CLIENT_FINISH.
 * @s: A server session that sent its SERVER_HELLO.
 * @in: The peer's second message, as received.
 * @len: Its length.
 *
 * The client's MAC must cover our fresh nonce under our key: a client
 * without the key, or a CLIENT_FINISH recorded from another session, is
 * refused here, before any frame of it is opened.  The session is
 * established on success.
 *
 * Context: Process context.
 * Return: 0; -EPROTO on a client session or one not at this step; or,
 * the peer refused, a negative errno of puma_sec_hs_parse() or -EACCES
 * (wrong key or replay); or an error of the crypto API.
 */
int puma_sec_server_finish(struct puma_sec_session *s, const void *in,
			   size_t len)
{
	struct puma_sec_hs hs;
	enum puma_sec_reject why;
	u8 mac[PUMA_SEC_MAC_LEN];
	int err;

	if (!s->server || s->state != PUMA_SEC_WAIT_FINISH)
		return -EPROTO;
	err = puma_sec_hs_parse(in, len, PUMA_SEC_CLIENT_FINISH, &hs, &why);
	if (err)
		return puma_sec_refuse(s, why, err);
	err = puma_sec_transcript_mac(s, PUMA_SEC_LABEL_CLIENT_MAC,
				      PUMA_SEC_TRANSCRIPT_LEN, mac);
	if (err)
		return puma_sec_abort(s, err);
	if (crypto_memneq(mac, hs.mac, sizeof(mac)))
		return puma_sec_refuse(s, PUMA_SEC_REJ_WRONG_KEY, -EACCES);
	return puma_sec_establish(s);
}
EXPORT_SYMBOL_NS_GPL(puma_sec_server_finish, PUMA);

/**
 * puma_sec_established() - Whether a session's handshake succeeded.
 * @s: The session.
 *
 * Context: Any context.
 * Return: True once established, until a frame is refused.
 */
bool puma_sec_established(const struct puma_sec_session *s)
{
	return READ_ONCE(s->state) == PUMA_SEC_ESTABLISHED;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_established, PUMA);

/**
 * puma_sec_agreed_caps() - What the two ends agreed on.
 * @s: An established session.
 *
 * The caller honours these: pages of @page_size, batches of at most
 * @max_batch, wire protocol version @max_version.  @modes is the one
 * protection mode puma_sec_seal() applies.
 *
 * Context: Any context.
 * Return: The agreed capabilities, valid as long as @s; or an
 * ERR_PTR(-ENOTCONN) if the session is not established.
 */
const struct puma_sec_caps *puma_sec_agreed_caps(const struct puma_sec_session *s)
{
	if (READ_ONCE(s->state) != PUMA_SEC_ESTABLISHED)
		return ERR_PTR(-ENOTCONN);
	return &s->agreed;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_agreed_caps, PUMA);

/**
 * puma_sec_seal() - Protect one frame to send.
 * @s: An established session.
 * @type: &enum puma_sec_frame_type.
 * @buf: The frame to build in place: %PUMA_SEC_FRAME_HDR_LEN bytes of
 *	room, then the payload, then %PUMA_SEC_TAG_LEN bytes of room.
 * @len: The payload's length: at most %PUMA_SEC_MAX_PAYLOAD, 0 for
 *	%PUMA_SEC_FRAME_CLOSE.
 * @size: Room at @buf.
 *
 * Writes the header, which is the AEAD's associated data, and the tag.
 * In mode encrypt the payload is encrypted in place; in mode auth it stays
 * in clear and is authenticated as associated data too.  The nonce is
 * this direction's frame counter, so no two frames under one key share it.
 *
 * Context: Any context; one sender at a time per session.
 * Return: The frame's length, -ENOTCONN if the session is not (or no
 * longer) established, -EINVAL for a bad @type or @len, -ENOSPC if @size
 * is too small, or -EOVERFLOW once 2^64 - 1 frames were sent.
 */
int puma_sec_seal(struct puma_sec_session *s, u8 type, void *buf, size_t len,
		  size_t size)
{
	struct puma_sec_frame_hdr hdr = {
		.counter = s->tx_counter,
		.len = len,
		.type = type,
	};
	u8 *p = buf;

	if (READ_ONCE(s->state) != PUMA_SEC_ESTABLISHED)
		return -ENOTCONN;
	if (!type || type > PUMA_SEC_FRAME_TYPE_MAX ||
	    len > PUMA_SEC_MAX_PAYLOAD ||
	    (type == PUMA_SEC_FRAME_CLOSE && len))
		return -EINVAL;
	if (size < PUMA_SEC_FRAME_OVERHEAD + len)
		return -ENOSPC;
	if (s->tx_counter == U64_MAX)
		return -EOVERFLOW;
	if (s->agreed.modes == PUMA_SEC_MODE_AUTH) {
		hdr.flags = PUMA_SEC_F_CLEAR;
		puma_sec_frame_hdr_encode(&hdr, p);
		chacha20poly1305_encrypt(p + PUMA_SEC_FRAME_HDR_LEN + len,
					 p + PUMA_SEC_FRAME_HDR_LEN + len, 0,
					 p, PUMA_SEC_FRAME_HDR_LEN + len,
					 hdr.counter, s->tx_key);
	} else {
		puma_sec_frame_hdr_encode(&hdr, p);
		chacha20poly1305_encrypt(p + PUMA_SEC_FRAME_HDR_LEN,
					 p + PUMA_SEC_FRAME_HDR_LEN, len,
					 p, PUMA_SEC_FRAME_HDR_LEN,
					 hdr.counter, s->tx_key);
	}
	s->tx_counter++;
	return PUMA_SEC_FRAME_OVERHEAD + len;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_seal, PUMA);

/**
 * puma_sec_open() - Check and open one received frame.
 * @s: The session.
 * @buf: The frame, as received; opened in place.
 * @len: Its length.
 * @frame: Where to describe the payload, which points into @buf.
 *
 * Checks, in order: the session is established (a peer that did not
 * finish the handshake gets nothing opened); the frame's header and
 * length (puma_sec_frame_parse()); the tag over header and payload under
 * the counter the header gives; and that counter is exactly the next one
 * expected.  Any refusal is counted by reason and ends the session.
 *
 * Context: Any context; one receiver at a time per session.
 * Return: 0; -ENOTCONN if the session already failed; or, the frame
 * refused, -EPROTO (handshake not done), a negative errno of
 * puma_sec_frame_parse(), or -EBADMSG (bad tag, or an authentic frame
 * replayed or out of order).
 */
int puma_sec_open(struct puma_sec_session *s, void *buf, size_t len,
		  struct puma_sec_frame *frame)
{
	enum puma_sec_state state = READ_ONCE(s->state);
	struct puma_sec_frame_hdr hdr;
	enum puma_sec_reject why;
	u8 *p = buf;
	bool ok;
	int err;

	if (state == PUMA_SEC_FAILED)
		return -ENOTCONN;
	if (state != PUMA_SEC_ESTABLISHED)
		return puma_sec_refuse(s, PUMA_SEC_REJ_BAD_HANDSHAKE, -EPROTO);
	err = puma_sec_frame_parse(buf, len, &hdr, &why);
	if (err)
		return puma_sec_refuse(s, why, err);
	/* The session's mode decides, never the peer's flag (AAD anyway). */
	if (s->agreed.modes == PUMA_SEC_MODE_AUTH)
		ok = chacha20poly1305_decrypt(p + PUMA_SEC_FRAME_HDR_LEN + hdr.len,
					      p + PUMA_SEC_FRAME_HDR_LEN + hdr.len,
					      PUMA_SEC_TAG_LEN,
					      p, PUMA_SEC_FRAME_HDR_LEN + hdr.len,
					      hdr.counter, s->rx_key);
	else
		ok = chacha20poly1305_decrypt(p + PUMA_SEC_FRAME_HDR_LEN,
					      p + PUMA_SEC_FRAME_HDR_LEN,
					      hdr.len + PUMA_SEC_TAG_LEN,
					      p, PUMA_SEC_FRAME_HDR_LEN,
					      hdr.counter, s->rx_key);
	if (!ok)
		return puma_sec_refuse(s, PUMA_SEC_REJ_BAD_TAG, -EBADMSG);
	if (hdr.counter != s->rx_counter) {
		/* Authentic but stale or early: nothing of it is delivered. */
		memzero_explicit(p + PUMA_SEC_FRAME_HDR_LEN, hdr.len);
		return puma_sec_refuse(s, PUMA_SEC_REJ_REPLAY_OR_REORDER,
				       -EBADMSG);
	}
	s->rx_counter++;
	frame->type = hdr.type;
	frame->payload = p + PUMA_SEC_FRAME_HDR_LEN;
	frame->len = hdr.len;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_open, PUMA);
