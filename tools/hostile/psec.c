// SPDX-License-Identifier: GPL-2.0
/*
 * The secure channel's session (lib/secure.c) in user space, for the
 * hostile peer: the same states, checks, refusal reasons, transcript,
 * key schedule and frames, over OpenSSL's HMAC-SHA256, HKDF-SHA256,
 * SHA-256 and ChaCha20-Poly1305.  The byte codec is lib/secure_codec.c
 * itself.  Documentation/security.rst describes the protocol.
 *
 * The kernel's chacha20poly1305_encrypt() takes a u64 nonce and starts
 * ChaCha20 from the state {counter 0, 0, le32 lo, le32 hi}: as an RFC
 * 8439 12-byte nonce, four zero bytes then the u64 in little endian
 * (psec_nonce()); the rest of the construction is RFC 8439's.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "hostile.h"

/* Labels of the MACs and of the key schedule (lib/secure.c). */
#define LABEL_SERVER_MAC	"puma-sec v1 server mac"
#define LABEL_CLIENT_MAC	"puma-sec v1 client mac"
#define LABEL_C2S		"puma-sec v1 key c2s"
#define LABEL_S2C		"puma-sec v1 key s2c"

/* Where the parts of the transcript lie: CLIENT_HELLO, then SERVER_HELLO. */
#define NONCE_OFF	(PUMA_SEC_HS_HDR_LEN + PUMA_SEC_CAPS_LEN)
#define SH_OFF		PUMA_SEC_CLIENT_HELLO_LEN
#define SH_MAC_OFF	(SH_OFF + PUMA_SEC_CLIENT_HELLO_LEN)

int random_bytes(void *buf, size_t len)
{
	u8 *p = buf;
	ssize_t n;

	while (len) {
		n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

/* Where the handshake nonces come from; the self test makes them fixed. */
int (*psec_random)(void *buf, size_t len) = random_bytes;

int sha256(const void *buf, size_t len, u8 out[32])
{
	unsigned int n = 32;

	return EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) ? 0 : -EIO;
}

/* HMAC-SHA256 over the concatenation of @c, as lib/secure.c's chunks. */
int hmac_sha256(const u8 *key, size_t key_len, const struct chunk *c,
		unsigned int nr, u8 out[32])
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t out_len = 0;
	unsigned int i;
	int ok;

	ok = ctx && EVP_MAC_init(ctx, key, key_len, params);
	for (i = 0; ok && i < nr; i++)
		ok = EVP_MAC_update(ctx, c[i].p, c[i].len);
	ok = ok && EVP_MAC_final(ctx, out, &out_len, 32) && out_len == 32;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -EIO;
}

/* HKDF-SHA256, extract then expand (RFC 5869); empty salt or info omitted. */
int hkdf_sha256(const u8 *salt, size_t salt_len, const u8 *ikm,
		size_t ikm_len, const u8 *info, size_t info_len, u8 *okm,
		size_t okm_len)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[5], *p = params;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int ok;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)ikm, ikm_len);
	if (salt_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)salt, salt_len);
	if (info_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
							 (void *)info, info_len);
	*p = OSSL_PARAM_construct_end();
	ok = ctx && EVP_KDF_derive(ctx, okm, okm_len, params) > 0;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -EIO;
}

/* The 12-byte nonce of chacha20poly1305_encrypt(..., u64 nonce, ...). */
void psec_nonce(u8 nonce[12], u64 counter)
{
	__le64 le = cpu_to_le64(counter);

	memset(nonce, 0, 4);
	memcpy(nonce + 4, &le, sizeof(le));
}

void *aead_ctx_new(void)
{
	return EVP_CIPHER_CTX_new();
}

void aead_ctx_free(void *ctx)
{
	EVP_CIPHER_CTX_free(ctx);
}

/* ChaCha20-Poly1305 in place: @len bytes at @buf, after @aad. */
static int aead(EVP_CIPHER_CTX *c, int enc, const u8 key[32],
		const u8 nonce[12], const u8 *aad, size_t aad_len, u8 *buf,
		size_t len, u8 tag[16])
{
	int n, ok;

	if (aad_len > INT32_MAX || len > INT32_MAX)
		return -EINVAL;
	ok = EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce,
			       enc);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag);
	if (ok && aad_len)
		ok = EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len);
	if (ok && len)
		ok = EVP_CipherUpdate(c, buf, &n, buf, (int)len);
	/* On opening, the final step is the tag check. */
	if (ok)
		ok = EVP_CipherFinal_ex(c, buf + len, &n) > 0;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag);
	if (!ok && !enc)
		OPENSSL_cleanse(buf, len);	/* nothing of it is delivered */
	return ok ? 0 : enc ? -EIO : -EBADMSG;
}

int aead_seal(void *ctx, const u8 key[32], const u8 nonce[12],
	      const u8 *aad, size_t aad_len, u8 *buf, size_t len, u8 tag[16])
{
	return aead(ctx, 1, key, nonce, aad, aad_len, buf, len, tag);
}

int aead_open(void *ctx, const u8 key[32], const u8 nonce[12],
	      const u8 *aad, size_t aad_len, u8 *buf, size_t len,
	      const u8 tag[16])
{
	u8 t[16];

	memcpy(t, tag, sizeof(t));
	return aead(ctx, 0, key, nonce, aad, aad_len, buf, len, t);
}

/* What transports/tcp.c offers (puma_tcp_sec_caps()), with our modes. */
void psec_caps(struct puma_sec_caps *caps, u8 modes)
{
	*caps = (struct puma_sec_caps) {
		.page_size	= HOSTILE_PAGE,
		.max_batch	= TP_MAX_PAGES,
		.min_version	= PUMA_TCP_PROTO_VERSION,
		.max_version	= PUMA_TCP_PROTO_VERSION,
		.modes		= modes,
	};
}

const char *psec_mode_name(u8 modes)
{
	switch (modes) {
	case PUMA_SEC_MODE_AUTH:
		return "auth";
	case PUMA_SEC_MODE_ENCRYPT:
		return "encrypt";
	case PUMA_SEC_MODES:
		return "both";
	}
	return "?";
}

int psec_init(struct psec *s, bool server, const u8 *psk, size_t psk_len,
	      const struct puma_sec_caps *caps)
{
	memset(s, 0, sizeof(*s));
	if (puma_sec_caps_check(caps) || psk_len < PUMA_SEC_PSK_MIN ||
	    psk_len > PUMA_SEC_PSK_MAX)
		return -EINVAL;
	s->aead = aead_ctx_new();
	if (!s->aead)
		return -ENOMEM;
	s->server = server;
	s->state = PSEC_START;
	s->local = *caps;
	memcpy(s->psk, psk, psk_len);
	s->psk_len = psk_len;
	s->why = -1;
	return 0;
}

void psec_free(struct psec *s)
{
	aead_ctx_free(s->aead);
	OPENSSL_cleanse(s, sizeof(*s));
}

/* Refuse what the peer sent, for @why: the session is over. */
static int psec_refuse(struct psec *s, enum puma_sec_reject why, int err)
{
	s->why = why;
	s->state = PSEC_FAILED;
	return err;
}

/* A local failure: the session is over too, nothing counted. */
static int psec_abort(struct psec *s, int err)
{
	s->state = PSEC_FAILED;
	return err;
}

/* The MAC of one side: HMAC(PSK, label | the transcript's first @len). */
static int psec_transcript_mac(struct psec *s, const char *label, size_t len,
			       u8 mac[32])
{
	struct chunk c[] = {
		{ label, strlen(label) },
		{ s->transcript, len },
	};

	return hmac_sha256(s->psk, s->psk_len, c, 2, mac);
}

/*
 * The key schedule, once both MACs are known good:
 *   TH    = SHA-256(CLIENT_HELLO | SERVER_HELLO)
 *   PRK   = HKDF-Extract(salt = nonce_c | nonce_s, IKM = PSK)
 *   k_c2s = HKDF-Expand(PRK, "puma-sec v1 key c2s" | TH, 32)
 *   k_s2c = HKDF-Expand(PRK, "puma-sec v1 key s2c" | TH, 32)
 * lib/secure.c passes the info in two pieces, label then TH: the same
 * bytes as one.
 */
static int psec_derive_keys(struct psec *s)
{
	u8 salt[2 * PUMA_SEC_NONCE_LEN], info[64];
	size_t c2s = strlen(LABEL_C2S), s2c = strlen(LABEL_S2C);
	int err;

	static_assert(sizeof(LABEL_C2S) - 1 + 32 <= sizeof(info), "info");
	static_assert(sizeof(LABEL_S2C) - 1 + 32 <= sizeof(info), "info");
	memcpy(salt, s->transcript + NONCE_OFF, PUMA_SEC_NONCE_LEN);
	memcpy(salt + PUMA_SEC_NONCE_LEN, s->transcript + SH_OFF + NONCE_OFF,
	       PUMA_SEC_NONCE_LEN);

	memcpy(info, LABEL_C2S, c2s);
	err = sha256(s->transcript, sizeof(s->transcript), info + c2s);
	if (!err)
		err = hkdf_sha256(salt, sizeof(salt), s->psk, s->psk_len, info,
				  c2s + 32, s->server ? s->rx_key : s->tx_key, 32);
	if (err)
		return err;
	memmove(info + s2c, info + c2s, 32);
	memcpy(info, LABEL_S2C, s2c);
	return hkdf_sha256(salt, sizeof(salt), s->psk, s->psk_len, info,
			   s2c + 32, s->server ? s->tx_key : s->rx_key, 32);
}

/* The handshake's secrets are needed no more: wipe them, as the kernel. */
static int psec_establish(struct psec *s)
{
	int err = psec_derive_keys(s);

	if (err)
		return psec_abort(s, err);
	OPENSSL_cleanse(s->psk, sizeof(s->psk));
	s->state = PSEC_ESTABLISHED;
	return 0;
}

int psec_client_hello(struct psec *s, u8 *out, size_t size)
{
	struct puma_sec_hs hs = {
		.type = PUMA_SEC_CLIENT_HELLO,
		.caps = s->local,
	};
	int len;

	if (s->server || s->state != PSEC_START)
		return -EPROTO;
	if (size < PUMA_SEC_CLIENT_HELLO_LEN)
		return -ENOSPC;
	if (psec_random(hs.nonce, sizeof(hs.nonce)))
		return psec_abort(s, -EIO);
	len = puma_sec_hs_encode(&hs, s->transcript, PUMA_SEC_CLIENT_HELLO_LEN);
	if (len < 0)
		return psec_abort(s, len);
	memcpy(out, s->transcript, len);
	s->state = PSEC_WAIT_SERVER_HELLO;
	return len;
}

int psec_server_hello(struct psec *s, const u8 *in, size_t len, u8 *out,
		      size_t size)
{
	struct puma_sec_hs hs;
	enum puma_sec_reject why;
	int err;

	if (!s->server || s->state != PSEC_START)
		return -EPROTO;
	if (size < PUMA_SEC_SERVER_HELLO_LEN)
		return -ENOSPC;
	err = puma_sec_hs_parse(in, len, PUMA_SEC_CLIENT_HELLO, &hs, &why);
	if (err)
		return psec_refuse(s, why, err);
	err = puma_sec_caps_negotiate(&s->local, &hs.caps, &s->agreed);
	if (err)
		return psec_refuse(s, PUMA_SEC_REJ_NO_COMMON_CAPS, err);
	memcpy(s->transcript, in, PUMA_SEC_CLIENT_HELLO_LEN);

	memset(&hs, 0, sizeof(hs));
	hs.type = PUMA_SEC_SERVER_HELLO;
	hs.caps = s->local;
	if (psec_random(hs.nonce, sizeof(hs.nonce)))
		return psec_abort(s, -EIO);
	err = puma_sec_hs_encode(&hs, s->transcript + SH_OFF,
				 PUMA_SEC_SERVER_HELLO_LEN);
	if (err < 0)
		return psec_abort(s, err);
	err = psec_transcript_mac(s, LABEL_SERVER_MAC, SH_MAC_OFF,
				  s->transcript + SH_MAC_OFF);
	if (err)
		return psec_abort(s, err);
	memcpy(out, s->transcript + SH_OFF, PUMA_SEC_SERVER_HELLO_LEN);
	s->state = PSEC_WAIT_FINISH;
	return PUMA_SEC_SERVER_HELLO_LEN;
}

int psec_client_finish(struct psec *s, const u8 *in, size_t len, u8 *out,
		       size_t size)
{
	struct puma_sec_hs hs;
	enum puma_sec_reject why;
	u8 mac[32];
	int err;

	if (s->server || s->state != PSEC_WAIT_SERVER_HELLO)
		return -EPROTO;
	if (size < PUMA_SEC_CLIENT_FINISH_LEN)
		return -ENOSPC;
	err = puma_sec_hs_parse(in, len, PUMA_SEC_SERVER_HELLO, &hs, &why);
	if (err)
		return psec_refuse(s, why, err);
	memcpy(s->transcript + SH_OFF, in, PUMA_SEC_SERVER_HELLO_LEN);
	err = psec_transcript_mac(s, LABEL_SERVER_MAC, SH_MAC_OFF, mac);
	if (err)
		return psec_abort(s, err);
	s->server_mac_ok = !CRYPTO_memcmp(mac, hs.mac, sizeof(mac));
	if (!s->server_mac_ok && !s->ignore_server_mac)
		return psec_refuse(s, PUMA_SEC_REJ_WRONG_KEY, -EACCES);
	err = puma_sec_caps_negotiate(&s->local, &hs.caps, &s->agreed);
	if (err)
		return psec_refuse(s, PUMA_SEC_REJ_NO_COMMON_CAPS, err);

	memset(&hs, 0, sizeof(hs));
	hs.type = PUMA_SEC_CLIENT_FINISH;
	err = psec_transcript_mac(s, LABEL_CLIENT_MAC, PSEC_TRANSCRIPT_LEN,
				  hs.mac);
	if (err)
		return psec_abort(s, err);
	err = puma_sec_hs_encode(&hs, out, size);
	if (err < 0)
		return psec_abort(s, err);
	len = err;
	err = psec_establish(s);
	return err ? err : (int)len;
}

int psec_server_finish(struct psec *s, const u8 *in, size_t len)
{
	struct puma_sec_hs hs;
	enum puma_sec_reject why;
	u8 mac[32];
	int err;

	if (!s->server || s->state != PSEC_WAIT_FINISH)
		return -EPROTO;
	err = puma_sec_hs_parse(in, len, PUMA_SEC_CLIENT_FINISH, &hs, &why);
	if (err)
		return psec_refuse(s, why, err);
	err = psec_transcript_mac(s, LABEL_CLIENT_MAC, PSEC_TRANSCRIPT_LEN, mac);
	if (err)
		return psec_abort(s, err);
	if (CRYPTO_memcmp(mac, hs.mac, sizeof(mac)))
		return psec_refuse(s, PUMA_SEC_REJ_WRONG_KEY, -EACCES);
	return psec_establish(s);
}

/*
 * puma_sec_seal(): the header is the associated data; in mode encrypt the
 * payload is encrypted in place, in mode auth it stays in clear and is
 * associated data too (nothing encrypted).  The tag follows the payload.
 */
int psec_seal(struct psec *s, u8 type, u8 *buf, size_t len, size_t size)
{
	struct puma_sec_frame_hdr hdr = {
		.counter = s->tx_counter,
		.len = len,
		.type = type,
	};
	u8 nonce[12];
	int err;

	if (s->state != PSEC_ESTABLISHED)
		return -ENOTCONN;
	if (!type || type > PUMA_SEC_FRAME_TYPE_MAX ||
	    len > PUMA_SEC_MAX_PAYLOAD || (type == PUMA_SEC_FRAME_CLOSE && len))
		return -EINVAL;
	if (size < PUMA_SEC_FRAME_OVERHEAD + len)
		return -ENOSPC;
	if (s->tx_counter == UINT64_MAX)
		return -EOVERFLOW;
	psec_nonce(nonce, hdr.counter);
	if (s->agreed.modes == PUMA_SEC_MODE_AUTH) {
		hdr.flags = PUMA_SEC_F_CLEAR;
		puma_sec_frame_hdr_encode(&hdr, buf);
		err = aead_seal(s->aead, s->tx_key, nonce, buf,
				PUMA_SEC_FRAME_HDR_LEN + len,
				buf + PUMA_SEC_FRAME_HDR_LEN + len, 0,
				buf + PUMA_SEC_FRAME_HDR_LEN + len);
	} else {
		puma_sec_frame_hdr_encode(&hdr, buf);
		err = aead_seal(s->aead, s->tx_key, nonce, buf,
				PUMA_SEC_FRAME_HDR_LEN,
				buf + PUMA_SEC_FRAME_HDR_LEN, len,
				buf + PUMA_SEC_FRAME_HDR_LEN + len);
	}
	if (err)
		return err;
	s->tx_counter++;
	return PUMA_SEC_FRAME_OVERHEAD + len;
}

/*
 * puma_sec_open(): session established, header and length, tag under the
 * header's counter, then the counter is exactly the next one.  The mode
 * is the session's, never the frame's CLEAR flag.
 */
int psec_open(struct psec *s, u8 *buf, size_t len, u8 *type, u8 **payload,
	      u32 *plen)
{
	struct puma_sec_frame_hdr hdr;
	enum puma_sec_reject why;
	u8 nonce[12], *p;
	int err;

	if (s->state == PSEC_FAILED)
		return -ENOTCONN;
	if (s->state != PSEC_ESTABLISHED)
		return psec_refuse(s, PUMA_SEC_REJ_BAD_HANDSHAKE, -EPROTO);
	err = puma_sec_frame_parse(buf, len, &hdr, &why);
	if (err)
		return psec_refuse(s, why, err);
	p = buf + PUMA_SEC_FRAME_HDR_LEN;
	psec_nonce(nonce, hdr.counter);
	if (s->agreed.modes == PUMA_SEC_MODE_AUTH)
		err = aead_open(s->aead, s->rx_key, nonce, buf,
				PUMA_SEC_FRAME_HDR_LEN + hdr.len, p + hdr.len, 0,
				p + hdr.len);
	else
		err = aead_open(s->aead, s->rx_key, nonce, buf,
				PUMA_SEC_FRAME_HDR_LEN, p, hdr.len, p + hdr.len);
	if (err == -EBADMSG)
		return psec_refuse(s, PUMA_SEC_REJ_BAD_TAG, -EBADMSG);
	if (err)
		return psec_abort(s, err);
	if (hdr.counter != s->rx_counter) {
		/* Authentic but stale or early: nothing of it is delivered. */
		OPENSSL_cleanse(p, hdr.len);
		return psec_refuse(s, PUMA_SEC_REJ_REPLAY_OR_REORDER, -EBADMSG);
	}
	s->rx_counter++;
	*type = hdr.type;
	*payload = p;
	*plen = hdr.len;
	return 0;
}
