// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the PUMA secure channel (lib/secure.c and
 * lib/secure_codec.c).
 *
 * The pre-shared keys live in a keyring the suite creates and passes to
 * the sessions, so the tests neither depend on nor touch the keyrings of
 * the task running them.  A client and a server session talk through
 * buffers: the test carries each message across, and can record, replay,
 * cut or modify it on the way, as a hostile network would.
 */

#include <kunit/resource.h>
#include <kunit/test.h>
#include <crypto/hash.h>
#include <keys/user-type.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/key.h>
#include <linux/key-type.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <puma/secure.h>

#include "../lib/internal.h"

#define KT_KEY_A	"puma:kunit-a"		/* a logon key */
#define KT_KEY_B	"puma-kunit-b"		/* a user key */
#define KT_PAYLOAD	200

static const u8 kt_psk_a[32] = "0123456789abcdef0123456789abcdef";
static const u8 kt_psk_b[32] = "fedcba9876543210fedcba9876543210";

static struct key *kt_keyring;

static const struct puma_sec_caps kt_caps = {
	.page_size = 4096,
	.max_batch = 32,
	.min_version = 1,
	.max_version = 2,
	.modes = PUMA_SEC_MODES,
};

struct kt_pair {
	struct puma_sec_stats cst, sst;	/* client's and server's counters */
	struct puma_sec_session *c, *s;
	u8 ch[PUMA_SEC_CLIENT_HELLO_LEN];
	u8 sh[PUMA_SEC_SERVER_HELLO_LEN];
	u8 fin[PUMA_SEC_CLIENT_FINISH_LEN];
};

KUNIT_DEFINE_ACTION_WRAPPER(kt_session_destroy, puma_sec_session_destroy,
			    struct puma_sec_session *);

static int kt_add_key(const char *type, const char *desc, const void *data,
		      size_t len)
{
	key_ref_t ref;

	ref = key_create_or_update(make_key_ref(kt_keyring, true), type, desc,
				   data, len, KEY_POS_ALL | KEY_USR_VIEW,
				   KEY_ALLOC_NOT_IN_QUOTA);
	if (IS_ERR(ref))
		return PTR_ERR(ref);
	key_ref_put(ref);
	return 0;
}

static struct puma_sec_session *kt_session(struct kunit *test, bool server,
					   const char *key,
					   const struct puma_sec_caps *caps,
					   struct puma_sec_stats *stats)
{
	struct puma_sec_config cfg = {
		.server = server,
		.keyring = kt_keyring,
		.key_desc = key,
		.caps = *caps,
		.stats = stats,
	};
	struct puma_sec_session *s = puma_sec_session_create(&cfg);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, kt_session_destroy, s));
	return s;
}

static struct kt_pair *kt_pair(struct kunit *test, const char *ckey,
			       const char *skey,
			       const struct puma_sec_caps *ccaps,
			       const struct puma_sec_caps *scaps)
{
	struct kt_pair *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->c = kt_session(test, false, ckey, ccaps, &p->cst);
	p->s = kt_session(test, true, skey, scaps, &p->sst);
	return p;
}

static u64 kt_count(struct puma_sec_stats *st, enum puma_sec_reject why)
{
	return atomic64_read(&st->rejected[why]);
}

static u64 kt_total(struct puma_sec_stats *st)
{
	u64 n = 0;
	int i;

	for (i = 0; i < PUMA_SEC_REJ_NR; i++)
		n += kt_count(st, i);
	return n;
}

/* The first two messages, each carried across and recorded. */
static void kt_hellos(struct kunit *test, struct kt_pair *p)
{
	KUNIT_ASSERT_EQ(test, (int)sizeof(p->ch),
			puma_sec_client_hello(p->c, p->ch, sizeof(p->ch)));
	KUNIT_ASSERT_EQ(test, (int)sizeof(p->sh),
			puma_sec_server_hello(p->s, p->ch, sizeof(p->ch),
					      p->sh, sizeof(p->sh)));
}

/* A whole handshake between two sessions sharing a key. */
static struct kt_pair *kt_established(struct kunit *test,
				      const struct puma_sec_caps *ccaps,
				      const struct puma_sec_caps *scaps)
{
	struct kt_pair *p = kt_pair(test, KT_KEY_A, KT_KEY_A, ccaps, scaps);

	kt_hellos(test, p);
	KUNIT_ASSERT_EQ(test, (int)sizeof(p->fin),
			puma_sec_client_finish(p->c, p->sh, sizeof(p->sh),
					       p->fin, sizeof(p->fin)));
	KUNIT_ASSERT_EQ(test, 0, puma_sec_server_finish(p->s, p->fin,
							sizeof(p->fin)));
	return p;
}

/* Room for a frame, and a byte after it for the oversize cases. */
static u8 *kt_frame_buf(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, KT_PAYLOAD + PUMA_SEC_FRAME_OVERHEAD + 1,
				GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	return buf;
}

static void kt_fill(u8 *payload, u8 seed)
{
	int i;

	for (i = 0; i < KT_PAYLOAD; i++)
		payload[i] = seed + i;
}

/* Seal a frame of KT_PAYLOAD bytes from @seed; returns the frame length. */
static int kt_seal(struct kunit *test, struct puma_sec_session *s, u8 *buf,
		   u8 seed)
{
	int len;

	kt_fill(buf + PUMA_SEC_FRAME_HDR_LEN, seed);
	len = puma_sec_seal(s, PUMA_SEC_FRAME_DATA, buf, KT_PAYLOAD,
			    KT_PAYLOAD + PUMA_SEC_FRAME_OVERHEAD);
	KUNIT_ASSERT_EQ(test, len, (int)(KT_PAYLOAD + PUMA_SEC_FRAME_OVERHEAD));
	return len;
}

/* Open a frame and check it carries the payload of @seed. */
static void kt_open_ok(struct kunit *test, struct puma_sec_session *s,
		       u8 *buf, int len, u8 seed)
{
	u8 want[KT_PAYLOAD];
	struct puma_sec_frame f;

	kt_fill(want, seed);
	KUNIT_ASSERT_EQ(test, 0, puma_sec_open(s, buf, len, &f));
	KUNIT_EXPECT_EQ(test, f.type, PUMA_SEC_FRAME_DATA);
	KUNIT_EXPECT_EQ(test, f.len, KT_PAYLOAD);
	KUNIT_EXPECT_PTR_EQ(test, f.payload, (void *)(buf + PUMA_SEC_FRAME_HDR_LEN));
	KUNIT_EXPECT_MEMEQ(test, f.payload, want, KT_PAYLOAD);
}

/* Open must refuse @buf for @why, count it once and end the session. */
static void kt_open_refused(struct kunit *test, struct puma_sec_session *s,
			    struct puma_sec_stats *st, u8 *buf, size_t len,
			    enum puma_sec_reject why, int err)
{
	struct puma_sec_frame f;

	KUNIT_EXPECT_EQ(test, err, puma_sec_open(s, buf, len, &f));
	KUNIT_EXPECT_EQ(test, 1, kt_count(st, why));
	KUNIT_EXPECT_EQ(test, 1, kt_total(st));
	KUNIT_EXPECT_FALSE(test, puma_sec_established(s));
	/* Nothing more is opened, nor counted twice. */
	KUNIT_EXPECT_EQ(test, -ENOTCONN, puma_sec_open(s, buf, len, &f));
	KUNIT_EXPECT_EQ(test, 1, kt_total(st));
}

/*
 * A CLIENT_FINISH computed by a client that holds @psk and does not care
 * whether the server's MAC was right: HMAC-SHA256(PSK, "puma-sec v1
 * client mac" | CLIENT_HELLO | SERVER_HELLO), as security.rst says.
 */
static void kt_forge_finish(struct kunit *test, const u8 *psk,
			    unsigned int psk_len, const u8 *ch, const u8 *sh,
			    u8 *fin)
{
	static const char label[] = "puma-sec v1 client mac";
	struct puma_sec_hs hs = { .type = PUMA_SEC_CLIENT_FINISH };
	struct crypto_shash *tfm;

	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, tfm);
	{
		SHASH_DESC_ON_STACK(desc, tfm);

		desc->tfm = tfm;
		KUNIT_ASSERT_EQ(test, 0, crypto_shash_setkey(tfm, psk, psk_len));
		KUNIT_ASSERT_EQ(test, 0, crypto_shash_init(desc));
		KUNIT_ASSERT_EQ(test, 0, crypto_shash_update(desc, label,
							     strlen(label)));
		KUNIT_ASSERT_EQ(test, 0,
				crypto_shash_update(desc, ch,
						    PUMA_SEC_CLIENT_HELLO_LEN));
		KUNIT_ASSERT_EQ(test, 0,
				crypto_shash_update(desc, sh,
						    PUMA_SEC_SERVER_HELLO_LEN));
		KUNIT_ASSERT_EQ(test, 0, crypto_shash_final(desc, hs.mac));
	}
	crypto_free_shash(tfm);
	KUNIT_ASSERT_EQ(test, (int)PUMA_SEC_CLIENT_FINISH_LEN,
			puma_sec_hs_encode(&hs, fin, PUMA_SEC_CLIENT_FINISH_LEN));
}

/* Keyring */

static void puma_sec_psk_lookup_finds_logon_and_user_keys(struct kunit *test)
{
	u8 psk[PUMA_SEC_PSK_MAX];

	KUNIT_EXPECT_EQ(test, (int)sizeof(kt_psk_a),
			puma_sec_psk_lookup(kt_keyring, KT_KEY_A, psk,
					    sizeof(psk)));
	KUNIT_EXPECT_MEMEQ(test, psk, kt_psk_a, sizeof(kt_psk_a));
	KUNIT_EXPECT_EQ(test, (int)sizeof(kt_psk_b),
			puma_sec_psk_lookup(kt_keyring, KT_KEY_B, psk,
					    sizeof(psk)));
	KUNIT_EXPECT_MEMEQ(test, psk, kt_psk_b, sizeof(kt_psk_b));
	memzero_explicit(psk, sizeof(psk));
}

static void puma_sec_psk_lookup_missing_key_returns_enokey(struct kunit *test)
{
	struct puma_sec_config cfg = {
		.keyring = kt_keyring,
		.key_desc = "puma:kunit-absent",
		.caps = kt_caps,
	};
	u8 psk[PUMA_SEC_PSK_MAX];

	KUNIT_EXPECT_EQ(test, -ENOKEY,
			puma_sec_psk_lookup(kt_keyring, "puma:kunit-absent",
					    psk, sizeof(psk)));
	/* The task's own keyrings, without any call out to user space. */
	KUNIT_EXPECT_EQ(test, -ENOKEY,
			puma_sec_psk_lookup(NULL, "puma:kunit-absent", psk,
					    sizeof(psk)));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			puma_sec_psk_lookup(kt_keyring, "", psk, sizeof(psk)));
	KUNIT_EXPECT_PTR_EQ(test, ERR_PTR(-ENOKEY),
			    puma_sec_session_create(&cfg));
	cfg.server = true;
	KUNIT_EXPECT_PTR_EQ(test, ERR_PTR(-ENOKEY),
			    puma_sec_session_create(&cfg));
}

static void puma_sec_psk_lookup_rejected_key_returns_ekeyrejected(struct kunit *test)
{
	u8 psk[PUMA_SEC_PSK_MAX];
	struct key *key;

	key = key_alloc(&key_type_user, "puma-kunit-rejected",
			current_fsuid(), current_fsgid(), current_cred(),
			KEY_POS_ALL | KEY_USR_VIEW, KEY_ALLOC_NOT_IN_QUOTA,
			NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, key);
	KUNIT_EXPECT_EQ(test, 0, key_reject_and_link(key, 3600, EKEYREJECTED,
						     kt_keyring, NULL));
	key_put(key);
	KUNIT_EXPECT_EQ(test, -EKEYREJECTED,
			puma_sec_psk_lookup(kt_keyring, "puma-kunit-rejected",
					    psk, sizeof(psk)));
}

static void puma_sec_psk_lookup_revoked_key_returns_ekeyrevoked(struct kunit *test)
{
	u8 psk[PUMA_SEC_PSK_MAX];
	key_ref_t ref;

	ref = key_create_or_update(make_key_ref(kt_keyring, true), "user",
				   "puma-kunit-revoked", kt_psk_a,
				   sizeof(kt_psk_a), KEY_POS_ALL | KEY_USR_VIEW,
				   KEY_ALLOC_NOT_IN_QUOTA);
	KUNIT_ASSERT_FALSE(test, IS_ERR(ref));
	key_revoke(key_ref_to_ptr(ref));
	key_ref_put(ref);
	KUNIT_EXPECT_EQ(test, -EKEYREVOKED,
			puma_sec_psk_lookup(kt_keyring, "puma-kunit-revoked",
					    psk, sizeof(psk)));
}

static void puma_sec_psk_lookup_bad_length_returns_einval(struct kunit *test)
{
	static const u8 big[PUMA_SEC_PSK_MAX + 1];
	u8 psk[PUMA_SEC_PSK_MAX];

	KUNIT_ASSERT_EQ(test, 0, kt_add_key("user", "puma-kunit-short",
					    kt_psk_a, PUMA_SEC_PSK_MIN - 1));
	KUNIT_ASSERT_EQ(test, 0, kt_add_key("user", "puma-kunit-long", big,
					    sizeof(big)));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			puma_sec_psk_lookup(kt_keyring, "puma-kunit-short",
					    psk, sizeof(psk)));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			puma_sec_psk_lookup(kt_keyring, "puma-kunit-long",
					    psk, sizeof(psk)));
	KUNIT_EXPECT_EQ(test, -ENOSPC,
			puma_sec_psk_lookup(kt_keyring, KT_KEY_A, psk,
					    PUMA_SEC_PSK_MIN));
}

/* Key schedule */

/*
 * RFC 5869, appendix A, test cases 1 (two output blocks) and 3 (no salt,
 * no info): the HKDF written out over hmac(sha256) is the RFC's.
 */
static void puma_sec_hkdf_sha256_matches_rfc5869(struct kunit *test)
{
	static const u8 salt[] = {
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
		0x0a, 0x0b, 0x0c,
	};
	static const u8 info[] = {
		0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
	};
	static const u8 okm1[42] = {
		0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43,
		0x4f, 0x64, 0xd0, 0x36, 0x2f, 0x2a, 0x2d, 0x2d, 0x0a, 0x90,
		0xcf, 0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56, 0xec, 0xc4,
		0xc5, 0xbf, 0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18,
		0x58, 0x65,
	};
	static const u8 okm3[42] = {
		0x8d, 0xa4, 0xe7, 0x75, 0xa5, 0x63, 0xc1, 0x8f, 0x71, 0x5f,
		0x80, 0x2a, 0x06, 0x3c, 0x5a, 0x31, 0xb8, 0xa1, 0x1f, 0x5c,
		0x5e, 0xe1, 0x87, 0x9e, 0xc3, 0x45, 0x4e, 0x5f, 0x3c, 0x73,
		0x8d, 0x2d, 0x9d, 0x20, 0x13, 0x95, 0xfa, 0xa4, 0xb6, 0x1a,
		0x96, 0xc8,
	};
	u8 ikm[22], okm[42];

	memset(ikm, 0x0b, sizeof(ikm));
	KUNIT_ASSERT_EQ(test, 0, puma_sec_hkdf_sha256(salt, sizeof(salt), ikm,
						      sizeof(ikm), info,
						      sizeof(info), okm,
						      sizeof(okm)));
	KUNIT_EXPECT_MEMEQ(test, okm, okm1, sizeof(okm));
	KUNIT_ASSERT_EQ(test, 0, puma_sec_hkdf_sha256(NULL, 0, ikm,
						      sizeof(ikm), NULL, 0,
						      okm, sizeof(okm)));
	KUNIT_EXPECT_MEMEQ(test, okm, okm3, sizeof(okm));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			puma_sec_hkdf_sha256(salt, sizeof(salt), ikm,
					     sizeof(ikm), info, sizeof(info),
					     okm, 255 * 32 + 1));
}

/* Handshake */

static void puma_sec_client_finish_same_key_derives_direction_keys(struct kunit *test)
{
	struct kt_pair *p = kt_established(test, &kt_caps, &kt_caps);
	u8 *c2s = kt_frame_buf(test), *s2c = kt_frame_buf(test);
	u8 *echo = kt_frame_buf(test);
	int len;

	KUNIT_EXPECT_TRUE(test, puma_sec_established(p->c));
	KUNIT_EXPECT_TRUE(test, puma_sec_established(p->s));
	KUNIT_EXPECT_EQ(test, 1, atomic64_read(&p->cst.handshakes));
	KUNIT_EXPECT_EQ(test, 1, atomic64_read(&p->sst.handshakes));

	/* Each side opens what the other sealed: the keys match. */
	len = kt_seal(test, p->c, c2s, 1);
	memcpy(echo, c2s, len);
	kt_open_ok(test, p->s, c2s, len, 1);
	KUNIT_ASSERT_EQ(test, len, kt_seal(test, p->s, s2c, 1));
	kt_open_ok(test, p->c, s2c, len, 1);

	/* Same plaintext, same counter, other direction: other key. */
	kt_seal(test, p->c, c2s, 2);
	kt_seal(test, p->s, s2c, 2);
	KUNIT_EXPECT_MEMNEQ(test, c2s, s2c, len);

	/* A frame reflected to its own sender does not open. */
	kt_open_refused(test, p->c, &p->cst, echo, len, PUMA_SEC_REJ_BAD_TAG,
			-EBADMSG);
}

static void puma_sec_client_finish_wrong_key_refused(struct kunit *test)
{
	struct kt_pair *p = kt_pair(test, KT_KEY_A, KT_KEY_B, &kt_caps,
				    &kt_caps);

	kt_hellos(test, p);
	KUNIT_EXPECT_EQ(test, -EACCES,
			puma_sec_client_finish(p->c, p->sh, sizeof(p->sh),
					       p->fin, sizeof(p->fin)));
	KUNIT_EXPECT_EQ(test, 1, kt_count(&p->cst, PUMA_SEC_REJ_WRONG_KEY));
	KUNIT_EXPECT_EQ(test, 1, kt_total(&p->cst));
	KUNIT_EXPECT_FALSE(test, puma_sec_established(p->c));
	KUNIT_EXPECT_TRUE(test, IS_ERR(puma_sec_agreed_caps(p->c)));
	KUNIT_EXPECT_EQ(test, -ENOTCONN,
			puma_sec_seal(p->c, PUMA_SEC_FRAME_CLOSE, p->fin, 0,
				      sizeof(p->fin)));
}

static void puma_sec_server_finish_wrong_key_refused(struct kunit *test)
{
	struct kt_pair *p = kt_pair(test, KT_KEY_A, KT_KEY_A, &kt_caps,
				    &kt_caps);
	u8 *frame = kt_frame_buf(test);

	kt_hellos(test, p);
	kt_forge_finish(test, kt_psk_b, sizeof(kt_psk_b), p->ch, p->sh,
			p->fin);
	KUNIT_EXPECT_EQ(test, -EACCES,
			puma_sec_server_finish(p->s, p->fin, sizeof(p->fin)));
	KUNIT_EXPECT_EQ(test, 1, kt_count(&p->sst, PUMA_SEC_REJ_WRONG_KEY));
	KUNIT_EXPECT_FALSE(test, puma_sec_established(p->s));

	/* The same forgery with the right key passes: the test is sound. */
	p = kt_pair(test, KT_KEY_A, KT_KEY_A, &kt_caps, &kt_caps);
	kt_hellos(test, p);
	kt_forge_finish(test, kt_psk_a, sizeof(kt_psk_a), p->ch, p->sh,
			p->fin);
	KUNIT_EXPECT_EQ(test, 0,
			puma_sec_server_finish(p->s, p->fin, sizeof(p->fin)));
	/* And frames under the keys it did not derive are refused. */
	KUNIT_ASSERT_EQ(test, 0, kt_total(&p->sst));
	memset(frame, 0, KT_PAYLOAD + PUMA_SEC_FRAME_OVERHEAD);
	puma_sec_frame_hdr_encode(&(struct puma_sec_frame_hdr){
		.len = KT_PAYLOAD, .type = PUMA_SEC_FRAME_DATA }, frame);
	kt_open_refused(test, p->s, &p->sst, frame,
			KT_PAYLOAD + PUMA_SEC_FRAME_OVERHEAD,
			PUMA_SEC_REJ_BAD_TAG, -EBADMSG);
}

static void puma_sec_open_before_handshake_refused(struct kunit *test)
{
	struct kt_pair *p = kt_pair(test, KT_KEY_A, KT_KEY_A, &kt_caps,
				    &kt_caps);
	u8 *frame = kt_frame_buf(test);

	/* A peer that skips the handshake: its first frame is refused. */
	puma_sec_frame_hdr_encode(&(struct puma_sec_frame_hdr){
		.len = KT_PAYLOAD, .type = PUMA_SEC_FRAME_DATA }, frame);
	kt_open_refused(test, p->s, &p->sst, frame,
			KT_PAYLOAD + PUMA_SEC_FRAME_OVERHEAD,
			PUMA_SEC_REJ_BAD_HANDSHAKE, -EPROTO);
	/* ... and so is a CLIENT_HELLO after it: the session is over. */
	KUNIT_ASSERT_EQ(test, (int)sizeof(p->ch),
			puma_sec_client_hello(p->c, p->ch, sizeof(p->ch)));
	KUNIT_EXPECT_EQ(test, -EPROTO,
			puma_sec_server_hello(p->s, p->ch, sizeof(p->ch),
					      p->sh, sizeof(p->sh)));

	/* A frame in place of the CLIENT_HELLO is no CLIENT_HELLO. */
	p = kt_pair(test, KT_KEY_A, KT_KEY_A, &kt_caps, &kt_caps);
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			puma_sec_server_hello(p->s, frame,
					      KT_PAYLOAD + PUMA_SEC_FRAME_OVERHEAD,
					      p->sh, sizeof(p->sh)));
	KUNIT_EXPECT_EQ(test, 1, kt_count(&p->sst, PUMA_SEC_REJ_MALFORMED));
}

static void puma_sec_client_finish_replayed_server_hello_refused(struct kunit *test)
{
	struct kt_pair *old = kt_established(test, &kt_caps, &kt_caps);
	struct kt_pair *p = kt_pair(test, KT_KEY_A, KT_KEY_A, &kt_caps,
				    &kt_caps);

	/* A fresh client, answered with a recorded SERVER_HELLO. */
	KUNIT_ASSERT_EQ(test, (int)sizeof(p->ch),
			puma_sec_client_hello(p->c, p->ch, sizeof(p->ch)));
	KUNIT_EXPECT_EQ(test, -EACCES,
			puma_sec_client_finish(p->c, old->sh, sizeof(old->sh),
					       p->fin, sizeof(p->fin)));
	KUNIT_EXPECT_EQ(test, 1, kt_count(&p->cst, PUMA_SEC_REJ_WRONG_KEY));
	KUNIT_EXPECT_FALSE(test, puma_sec_established(p->c));
}

static void puma_sec_server_finish_replayed_finish_refused(struct kunit *test)
{
	struct kt_pair *old = kt_established(test, &kt_caps, &kt_caps);
	struct kt_pair *p = kt_pair(test, KT_KEY_A, KT_KEY_A, &kt_caps,
				    &kt_caps);

	/* The recorded CLIENT_HELLO gets a fresh server nonce... */
	KUNIT_ASSERT_EQ(test, (int)sizeof(p->sh),
			puma_sec_server_hello(p->s, old->ch, sizeof(old->ch),
					      p->sh, sizeof(p->sh)));
	KUNIT_EXPECT_MEMNEQ(test, p->sh, old->sh, sizeof(p->sh));
	/* ... which the recorded CLIENT_FINISH does not cover. */
	KUNIT_EXPECT_EQ(test, -EACCES,
			puma_sec_server_finish(p->s, old->fin,
					       sizeof(old->fin)));
	KUNIT_EXPECT_EQ(test, 1, kt_count(&p->sst, PUMA_SEC_REJ_WRONG_KEY));
	KUNIT_EXPECT_FALSE(test, puma_sec_established(p->s));
}

static void puma_sec_hs_parse_hostile_lengths_refused(struct kunit *test)
{
	struct kt_pair *p = kt_pair(test, KT_KEY_A, KT_KEY_A, &kt_caps,
				    &kt_caps);
	u8 buf[PUMA_SEC_HS_MAX_LEN + 8];
	enum puma_sec_reject why;
	struct puma_sec_hs hs;
	size_t len;

	KUNIT_ASSERT_EQ(test, (int)sizeof(p->ch),
			puma_sec_client_hello(p->c, p->ch, sizeof(p->ch)));
	/* Every truncation of a good CLIENT_HELLO. */
	for (len = 0; len < sizeof(p->ch); len++) {
		KUNIT_EXPECT_EQ(test, -EMSGSIZE,
				puma_sec_hs_parse(p->ch, len,
						  PUMA_SEC_CLIENT_HELLO, &hs,
						  &why));
		KUNIT_EXPECT_EQ(test, why, PUMA_SEC_REJ_TRUNCATED);
	}
	/* A byte too many. */
	memcpy(buf, p->ch, sizeof(p->ch));
	KUNIT_EXPECT_EQ(test, -EMSGSIZE,
			puma_sec_hs_parse(buf, sizeof(p->ch) + 1,
					  PUMA_SEC_CLIENT_HELLO, &hs, &why));
	KUNIT_EXPECT_EQ(test, why, PUMA_SEC_REJ_OVERSIZED);
	/* body_len far beyond any message, with the bytes there. */
	buf[6] = 0xff;
	buf[7] = 0xff;
	KUNIT_EXPECT_EQ(test, -EMSGSIZE,
			puma_sec_hs_parse(buf, sizeof(buf),
					  PUMA_SEC_CLIENT_HELLO, &hs, &why));
	KUNIT_EXPECT_EQ(test, why, PUMA_SEC_REJ_OVERSIZED);
	/* body_len of another type (SERVER_HELLO's), bytes there too. */
	buf[6] = PUMA_SEC_SERVER_HELLO_LEN - PUMA_SEC_HS_HDR_LEN;
	buf[7] = 0;
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			puma_sec_hs_parse(buf, PUMA_SEC_SERVER_HELLO_LEN,
					  PUMA_SEC_CLIENT_HELLO, &hs, &why));
	KUNIT_EXPECT_EQ(test, why, PUMA_SEC_REJ_MALFORMED);
	/* A short body_len with a buffer to match. */
	buf[6] = 1;
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			puma_sec_hs_parse(buf, PUMA_SEC_HS_HDR_LEN + 1,
					  PUMA_SEC_CLIENT_HELLO, &hs, &why));
	KUNIT_EXPECT_EQ(test, why, PUMA_SEC_REJ_MALFORMED);
	/* The right message at the wrong step. */
	KUNIT_EXPECT_EQ(test, -EPROTO,
			puma_sec_hs_parse(p->ch, sizeof(p->ch),
					  PUMA_SEC_CLIENT_FINISH, &hs, &why));
	KUNIT_EXPECT_EQ(test, why, PUMA_SEC_REJ_BAD_HANDSHAKE);
	/* A capability out of range: page size not a power of two. */
	memcpy(buf, p->ch, sizeof(p->ch));
	buf[PUMA_SEC_HS_HDR_LEN] = 1;
	KUNIT_EXPECT_EQ(test, -EPROTO,
			puma_sec_hs_parse(buf, sizeof(p->ch),
					  PUMA_SEC_CLIENT_HELLO, &hs, &why));
	KUNIT_EXPECT_EQ(test, why, PUMA_SEC_REJ_BAD_HANDSHAKE);

	/* The session refuses a truncated CLIENT_HELLO, counted. */
	KUNIT_EXPECT_EQ(test, -EMSGSIZE,
			puma_sec_server_hello(p->s, p->ch, sizeof(p->ch) - 1,
					      p->sh, sizeof(p->sh)));
	KUNIT_EXPECT_EQ(test, 1, kt_count(&p->sst, PUMA_SEC_REJ_TRUNCATED));
	KUNIT_EXPECT_FALSE(test, puma_sec_established(p->s));
	/* And the client zeros where a SERVER_HELLO belongs. */
	memset(buf, 0, sizeof(buf));
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			puma_sec_client_finish(p->c, buf, sizeof(buf), p->fin,
					       sizeof(p->fin)));
	KUNIT_EXPECT_EQ(test, 1, kt_count(&p->cst, PUMA_SEC_REJ_MALFORMED));
}

static void puma_sec_caps_negotiate_picks_minimum_and_intersection(struct kunit *test)
{
	struct puma_sec_caps a = kt_caps, b = kt_caps, agreed;
	const struct puma_sec_caps *got;
	struct kt_pair *p;

	/* Compared whole with what the sessions agreed: no stale padding. */
	memset(&agreed, 0, sizeof(agreed));

	a.page_size = 16384;
	a.max_batch = 8;
	a.min_version = 1;
	a.max_version = 3;
	b.page_size = 4096;
	b.max_batch = 32;
	b.min_version = 2;
	b.max_version = 2;
	b.modes = PUMA_SEC_MODE_AUTH;
	KUNIT_ASSERT_EQ(test, 0, puma_sec_caps_negotiate(&a, &b, &agreed));
	KUNIT_EXPECT_EQ(test, agreed.page_size, 4096);
	KUNIT_EXPECT_EQ(test, agreed.max_batch, 8);
	KUNIT_EXPECT_EQ(test, agreed.max_version, 2);
	KUNIT_EXPECT_EQ(test, agreed.modes, PUMA_SEC_MODE_AUTH);

	/* Both ends of a handshake agree the same, and can read it. */
	p = kt_established(test, &a, &b);
	got = puma_sec_agreed_caps(p->c);
	KUNIT_ASSERT_FALSE(test, IS_ERR(got));
	KUNIT_EXPECT_MEMEQ(test, got, &agreed, sizeof(agreed));
	got = puma_sec_agreed_caps(p->s);
	KUNIT_ASSERT_FALSE(test, IS_ERR(got));
	KUNIT_EXPECT_MEMEQ(test, got, &agreed, sizeof(agreed));

	/* Encrypt wins when both accept it. */
	b.modes = PUMA_SEC_MODES;
	KUNIT_ASSERT_EQ(test, 0, puma_sec_caps_negotiate(&a, &b, &agreed));
	KUNIT_EXPECT_EQ(test, agreed.modes, PUMA_SEC_MODE_ENCRYPT);

	/* No common version, no common mode. */
	b.min_version = 4;
	b.max_version = 4;
	KUNIT_EXPECT_EQ(test, -EPROTONOSUPPORT,
			puma_sec_caps_negotiate(&a, &b, &agreed));
	b = kt_caps;
	a.modes = PUMA_SEC_MODE_ENCRYPT;
	b.modes = PUMA_SEC_MODE_AUTH;
	KUNIT_EXPECT_EQ(test, -EPROTONOSUPPORT,
			puma_sec_caps_negotiate(&a, &b, &agreed));

	/* A server with no mode in common refuses the CLIENT_HELLO. */
	p = kt_pair(test, KT_KEY_A, KT_KEY_A, &a, &b);
	KUNIT_ASSERT_EQ(test, (int)sizeof(p->ch),
			puma_sec_client_hello(p->c, p->ch, sizeof(p->ch)));
	KUNIT_EXPECT_EQ(test, -EPROTONOSUPPORT,
			puma_sec_server_hello(p->s, p->ch, sizeof(p->ch),
					      p->sh, sizeof(p->sh)));
	KUNIT_EXPECT_EQ(test, 1,
			kt_count(&p->sst, PUMA_SEC_REJ_NO_COMMON_CAPS));

	/* Capabilities out of range are no session's. */
	a = kt_caps;
	a.page_size = 4097;
	KUNIT_EXPECT_EQ(test, -EINVAL, puma_sec_caps_check(&a));
	a = kt_caps;
	a.max_batch = 0;
	KUNIT_EXPECT_EQ(test, -EINVAL, puma_sec_caps_check(&a));
	a = kt_caps;
	a.modes = 0x80;
	KUNIT_EXPECT_EQ(test, -EINVAL, puma_sec_caps_check(&a));
	KUNIT_EXPECT_PTR_EQ(test, ERR_PTR(-EINVAL),
			    puma_sec_session_create(&(struct puma_sec_config){
				.keyring = kt_keyring, .key_desc = KT_KEY_A,
				.caps = a }));
}

/* Frames */

static void puma_sec_open_tampered_payload_refused(struct kunit *test)
{
	struct kt_pair *p = kt_established(test, &kt_caps, &kt_caps);
	u8 *buf = kt_frame_buf(test);
	int len = kt_seal(test, p->c, buf, 3);

	buf[PUMA_SEC_FRAME_HDR_LEN + 17] ^= 0x01;
	kt_open_refused(test, p->s, &p->sst, buf, len, PUMA_SEC_REJ_BAD_TAG,
			-EBADMSG);
}

static void puma_sec_open_tampered_tag_refused(struct kunit *test)
{
	struct kt_pair *p = kt_established(test, &kt_caps, &kt_caps);
	u8 *buf = kt_frame_buf(test);
	int len = kt_seal(test, p->c, buf, 3);

	buf[len - 1] ^= 0x80;
	kt_open_refused(test, p->s, &p->sst, buf, len, PUMA_SEC_REJ_BAD_TAG,
			-EBADMSG);
}

static void puma_sec_open_tampered_header_refused(struct kunit *test)
{
	static const unsigned int bytes[] = { 5, 8, 15 };	/* flags, counter */
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bytes); i++) {
		struct kt_pair *p = kt_established(test, &kt_caps, &kt_caps);
		u8 *buf = kt_frame_buf(test);
		int len = kt_seal(test, p->c, buf, 4);

		buf[bytes[i]] ^= 0x01;
		kt_open_refused(test, p->s, &p->sst, buf, len,
				PUMA_SEC_REJ_BAD_TAG, -EBADMSG);
	}
}

static void puma_sec_open_replayed_frame_refused(struct kunit *test)
{
	struct kt_pair *p = kt_established(test, &kt_caps, &kt_caps);
	u8 *buf = kt_frame_buf(test), *copy = kt_frame_buf(test);
	int len = kt_seal(test, p->c, buf, 5);

	memcpy(copy, buf, len);
	kt_open_ok(test, p->s, buf, len, 5);
	kt_open_refused(test, p->s, &p->sst, copy, len,
			PUMA_SEC_REJ_REPLAY_OR_REORDER, -EBADMSG);
}

static void puma_sec_open_reordered_frame_refused(struct kunit *test)
{
	struct kt_pair *p = kt_established(test, &kt_caps, &kt_caps);
	u8 *first = kt_frame_buf(test), *second = kt_frame_buf(test);
	int len;

	len = kt_seal(test, p->c, first, 6);
	kt_seal(test, p->c, second, 7);
	kt_open_refused(test, p->s, &p->sst, second, len,
			PUMA_SEC_REJ_REPLAY_OR_REORDER, -EBADMSG);
}

static void puma_sec_open_truncated_frame_refused(struct kunit *test)
{
	static const size_t cuts[] = { 0, PUMA_SEC_FRAME_HDR_LEN - 1, 1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cuts); i++) {
		struct kt_pair *p = kt_established(test, &kt_caps, &kt_caps);
		u8 *buf = kt_frame_buf(test);
		int len = kt_seal(test, p->c, buf, 8);

		/* Nothing, part of the header, or all but the last byte. */
		kt_open_refused(test, p->s, &p->sst, buf,
				cuts[i] == 1 ? len - 1 : cuts[i],
				PUMA_SEC_REJ_TRUNCATED, -EMSGSIZE);
	}
}

static void puma_sec_open_oversized_frame_refused(struct kunit *test)
{
	struct kt_pair *p = kt_established(test, &kt_caps, &kt_caps);
	u8 *buf = kt_frame_buf(test);
	int len = kt_seal(test, p->c, buf, 9);
	u8 big[PUMA_SEC_FRAME_HDR_LEN];

	/* A header claiming more than any frame may carry. */
	puma_sec_frame_hdr_encode(&(struct puma_sec_frame_hdr){
		.len = PUMA_SEC_MAX_PAYLOAD + 1, .type = PUMA_SEC_FRAME_DATA },
		big);
	kt_open_refused(test, p->s, &p->sst, big, sizeof(big),
			PUMA_SEC_REJ_OVERSIZED, -EMSGSIZE);

	/* A good frame with a byte after its end. */
	p = kt_established(test, &kt_caps, &kt_caps);
	len = kt_seal(test, p->c, buf, 9);
	kt_open_refused(test, p->s, &p->sst, buf, len + 1,
			PUMA_SEC_REJ_OVERSIZED, -EMSGSIZE);

	/* The sender refuses to build one. */
	KUNIT_EXPECT_EQ(test, -EINVAL,
			puma_sec_seal(p->c, PUMA_SEC_FRAME_DATA, buf,
				      PUMA_SEC_MAX_PAYLOAD + 1, SIZE_MAX));
	KUNIT_EXPECT_EQ(test, -ENOSPC,
			puma_sec_seal(p->c, PUMA_SEC_FRAME_DATA, buf,
				      KT_PAYLOAD, KT_PAYLOAD));
}

static void puma_sec_seal_auth_mode_payload_clear_but_checked(struct kunit *test)
{
	struct puma_sec_caps auth = kt_caps;
	struct kt_pair *p;
	u8 *buf = kt_frame_buf(test);
	u8 want[KT_PAYLOAD];
	int len;

	auth.modes = PUMA_SEC_MODE_AUTH;
	p = kt_established(test, &kt_caps, &auth);
	len = kt_seal(test, p->c, buf, 10);
	kt_fill(want, 10);
	/* On the wire, the payload reads as it was written. */
	KUNIT_EXPECT_MEMEQ(test, buf + PUMA_SEC_FRAME_HDR_LEN, want,
			   KT_PAYLOAD);
	KUNIT_EXPECT_EQ(test, buf[5], PUMA_SEC_F_CLEAR);
	kt_open_ok(test, p->s, buf, len, 10);

	/* One bit of the clear payload changed is caught. */
	len = kt_seal(test, p->c, buf, 11);
	buf[PUMA_SEC_FRAME_HDR_LEN + KT_PAYLOAD - 1] ^= 0x40;
	kt_open_refused(test, p->s, &p->sst, buf, len, PUMA_SEC_REJ_BAD_TAG,
			-EBADMSG);
}

static void puma_sec_seal_encrypt_mode_hides_payload(struct kunit *test)
{
	struct kt_pair *p = kt_established(test, &kt_caps, &kt_caps);
	u8 *buf = kt_frame_buf(test), *again = kt_frame_buf(test);
	u8 want[KT_PAYLOAD];
	int len, i, same = 0;

	KUNIT_ASSERT_EQ(test, puma_sec_agreed_caps(p->c)->modes,
			PUMA_SEC_MODE_ENCRYPT);
	len = kt_seal(test, p->c, buf, 12);
	kt_fill(want, 12);
	for (i = 0; i < KT_PAYLOAD; i++)
		same += buf[PUMA_SEC_FRAME_HDR_LEN + i] == want[i];
	/* A keystream byte equals the plaintext's one time in 256. */
	KUNIT_EXPECT_LT(test, same, 8);
	KUNIT_EXPECT_EQ(test, buf[5], 0);
	/* The same plaintext again: the counter moved, so does the text. */
	kt_seal(test, p->c, again, 12);
	KUNIT_EXPECT_MEMNEQ(test, buf + PUMA_SEC_FRAME_HDR_LEN,
			    again + PUMA_SEC_FRAME_HDR_LEN, KT_PAYLOAD);
	kt_open_ok(test, p->s, buf, len, 12);
	kt_open_ok(test, p->s, again, len, 12);

	/* An orderly close, with no payload, goes through too. */
	KUNIT_ASSERT_EQ(test, (int)PUMA_SEC_FRAME_OVERHEAD,
			puma_sec_seal(p->s, PUMA_SEC_FRAME_CLOSE, buf, 0,
				      PUMA_SEC_FRAME_OVERHEAD));
	{
		struct puma_sec_frame f;

		KUNIT_EXPECT_EQ(test, 0, puma_sec_open(p->c, buf,
						       PUMA_SEC_FRAME_OVERHEAD,
						       &f));
		KUNIT_EXPECT_EQ(test, f.type, PUMA_SEC_FRAME_CLOSE);
		KUNIT_EXPECT_EQ(test, f.len, 0);
	}
}

static int puma_sec_suite_init(struct kunit_suite *suite)
{
	int err;

	kt_keyring = keyring_alloc("puma_sec_kunit", current_fsuid(),
				   current_fsgid(), current_cred(),
				   KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_SEARCH,
				   KEY_ALLOC_NOT_IN_QUOTA, NULL, NULL);
	if (IS_ERR(kt_keyring))
		return PTR_ERR(kt_keyring);
	err = kt_add_key("logon", KT_KEY_A, kt_psk_a, sizeof(kt_psk_a));
	if (!err)
		err = kt_add_key("user", KT_KEY_B, kt_psk_b, sizeof(kt_psk_b));
	if (err) {
		key_put(kt_keyring);
		kt_keyring = NULL;
	}
	return err;
}

static void puma_sec_suite_exit(struct kunit_suite *suite)
{
	if (kt_keyring) {
		keyring_clear(kt_keyring);
		key_put(kt_keyring);
		kt_keyring = NULL;
	}
}

static struct kunit_case puma_secure_test_cases[] = {
	KUNIT_CASE(puma_sec_psk_lookup_finds_logon_and_user_keys),
	KUNIT_CASE(puma_sec_psk_lookup_missing_key_returns_enokey),
	KUNIT_CASE(puma_sec_psk_lookup_rejected_key_returns_ekeyrejected),
	KUNIT_CASE(puma_sec_psk_lookup_revoked_key_returns_ekeyrevoked),
	KUNIT_CASE(puma_sec_psk_lookup_bad_length_returns_einval),
	KUNIT_CASE(puma_sec_hkdf_sha256_matches_rfc5869),
	KUNIT_CASE(puma_sec_client_finish_same_key_derives_direction_keys),
	KUNIT_CASE(puma_sec_client_finish_wrong_key_refused),
	KUNIT_CASE(puma_sec_server_finish_wrong_key_refused),
	KUNIT_CASE(puma_sec_open_before_handshake_refused),
	KUNIT_CASE(puma_sec_client_finish_replayed_server_hello_refused),
	KUNIT_CASE(puma_sec_server_finish_replayed_finish_refused),
	KUNIT_CASE(puma_sec_hs_parse_hostile_lengths_refused),
	KUNIT_CASE(puma_sec_caps_negotiate_picks_minimum_and_intersection),
	KUNIT_CASE(puma_sec_open_tampered_payload_refused),
	KUNIT_CASE(puma_sec_open_tampered_tag_refused),
	KUNIT_CASE(puma_sec_open_tampered_header_refused),
	KUNIT_CASE(puma_sec_open_replayed_frame_refused),
	KUNIT_CASE(puma_sec_open_reordered_frame_refused),
	KUNIT_CASE(puma_sec_open_truncated_frame_refused),
	KUNIT_CASE(puma_sec_open_oversized_frame_refused),
	KUNIT_CASE(puma_sec_seal_auth_mode_payload_clear_but_checked),
	KUNIT_CASE(puma_sec_seal_encrypt_mode_hides_payload),
	{}
};

static struct kunit_suite puma_secure_test_suite = {
	.name = "puma_secure",
	.suite_init = puma_sec_suite_init,
	.suite_exit = puma_sec_suite_exit,
	.test_cases = puma_secure_test_cases,
};

kunit_test_suite(puma_secure_test_suite);

MODULE_DESCRIPTION("KUnit tests for the PUMA secure channel");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
