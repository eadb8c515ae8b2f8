/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PUMA secure channel: mutual authentication of two peers that share a
 * pre-shared key (PSK) from the kernel keyring, negotiation of their
 * capabilities, and authenticated (optionally encrypted) frames for every
 * message after that.
 *
 * PUMA's own: it sits between the wire codec (<puma/wire.h>) and a
 * transport.  Documentation/security.rst describes the bytes, the key
 * schedule and the threat model.
 *
 * Two parts:
 *   - the codec of the handshake messages and frame headers, pure byte
 *     code built in the kernel and in user space (lib/secure_codec.c,
 *     through lib/wire_shim.h): every length it is given is hostile;
 *   - the sessions, kernel only (lib/secure.c): keyring, HMAC-SHA256,
 *     HKDF-SHA256 and ChaCha20-Poly1305.
 */
#ifndef _PUMA_SECURE_H
#define _PUMA_SECURE_H

#ifdef __KERNEL__
#include <linux/atomic.h>
#include <linux/gfp_types.h>
#include <linux/types.h>
#endif

/* "PSEC" in the first four bytes of every handshake message. */
#define PUMA_SEC_MAGIC		0x43455350U
#define PUMA_SEC_VERSION	1
#define PUMA_SEC_NONCE_LEN	32U
#define PUMA_SEC_MAC_LEN	32U	/* HMAC-SHA256 */
#define PUMA_SEC_KEY_LEN	32U	/* ChaCha20-Poly1305 key */
#define PUMA_SEC_TAG_LEN	16U	/* Poly1305 tag */
/* Pre-shared key bounds: at least 128 bits, at most one SHA-256 block. */
#define PUMA_SEC_PSK_MIN	16U
#define PUMA_SEC_PSK_MAX	64U

#define PUMA_SEC_HS_HDR_LEN	8U
#define PUMA_SEC_CAPS_LEN	16U
#define PUMA_SEC_CLIENT_HELLO_LEN \
	(PUMA_SEC_HS_HDR_LEN + PUMA_SEC_CAPS_LEN + PUMA_SEC_NONCE_LEN)
#define PUMA_SEC_SERVER_HELLO_LEN \
	(PUMA_SEC_CLIENT_HELLO_LEN + PUMA_SEC_MAC_LEN)
#define PUMA_SEC_CLIENT_FINISH_LEN (PUMA_SEC_HS_HDR_LEN + PUMA_SEC_MAC_LEN)
/* Largest handshake message. */
#define PUMA_SEC_HS_MAX_LEN	PUMA_SEC_SERVER_HELLO_LEN

#define PUMA_SEC_FRAME_HDR_LEN	16U
/*
 * Largest frame payload: one TCP transport frame with the largest head
 * and a full batch of 4 KiB pages (16 + 4,096 + 32 * 4,096 = 135,184
 * bytes) fits, rounded up to 136 KiB.
 */
#define PUMA_SEC_MAX_PAYLOAD	(136U * 1024)
/* Bytes a frame adds around its payload. */
#define PUMA_SEC_FRAME_OVERHEAD	(PUMA_SEC_FRAME_HDR_LEN + PUMA_SEC_TAG_LEN)

/* Page sizes a peer may advertise: powers of two in this range. */
#define PUMA_SEC_PAGE_SIZE_MIN	4096U
#define PUMA_SEC_PAGE_SIZE_MAX	65536U
/* Largest max_batch a peer may advertise. */
#define PUMA_SEC_MAX_BATCH	1024U

/**
 * enum puma_sec_hs_type - Handshake message types, in the order sent.
 * @PUMA_SEC_CLIENT_HELLO: Client to server: capabilities and nonce_c.
 * @PUMA_SEC_SERVER_HELLO: Server to client: capabilities, nonce_s and
 *	the server's MAC over the transcript.
 * @PUMA_SEC_CLIENT_FINISH: Client to server: the client's MAC over the
 *	transcript.
 */
enum puma_sec_hs_type {
	PUMA_SEC_CLIENT_HELLO = 1,
	PUMA_SEC_SERVER_HELLO,
	PUMA_SEC_CLIENT_FINISH,
};

/*
 * Protection modes, as bits of &puma_sec_caps.modes.  A peer advertises
 * the modes it accepts; the session runs the strongest common one.
 */
#define PUMA_SEC_MODE_AUTH	0x01U	/* payload in clear, authenticated */
#define PUMA_SEC_MODE_ENCRYPT	0x02U	/* payload encrypted and authenticated */
#define PUMA_SEC_MODES		(PUMA_SEC_MODE_AUTH | PUMA_SEC_MODE_ENCRYPT)

/**
 * enum puma_sec_frame_type - Frame types.
 * @PUMA_SEC_FRAME_DATA: The payload is one message of the protocol above.
 * @PUMA_SEC_FRAME_CLOSE: Orderly end of the session; no payload.
 * @PUMA_SEC_FRAME_TYPE_MAX: Highest valid type.
 */
enum puma_sec_frame_type {
	PUMA_SEC_FRAME_DATA = 1,
	PUMA_SEC_FRAME_CLOSE,
	PUMA_SEC_FRAME_TYPE_MAX = PUMA_SEC_FRAME_CLOSE,
};

/* Frame header flag: the payload is in clear (mode auth). */
#define PUMA_SEC_F_CLEAR	0x01U

/**
 * enum puma_sec_reject - Why a handshake message or a frame was refused.
 * @PUMA_SEC_REJ_TRUNCATED: Shorter than its header says.
 * @PUMA_SEC_REJ_OVERSIZED: A length above its bound, or bytes after the
 *	end its header gives.
 * @PUMA_SEC_REJ_MALFORMED: Bad magic, type, flag or reserved field.
 * @PUMA_SEC_REJ_BAD_HANDSHAKE: A handshake message out of order, of an
 *	unknown version, with invalid capabilities, or a frame before the
 *	handshake ended.
 * @PUMA_SEC_REJ_WRONG_KEY: A handshake MAC did not verify: the peer does
 *	not hold our key, or replayed a message of another session (the two
 *	cannot be told apart).
 * @PUMA_SEC_REJ_NO_COMMON_CAPS: No version, page size or mode in common.
 * @PUMA_SEC_REJ_BAD_TAG: A frame's AEAD tag did not verify: header or
 *	payload modified.
 * @PUMA_SEC_REJ_REPLAY_OR_REORDER: An authentic frame whose counter is
 *	not the next one expected.
 * @PUMA_SEC_REJ_NR: Number of reasons.
 */
enum puma_sec_reject {
	PUMA_SEC_REJ_TRUNCATED,
	PUMA_SEC_REJ_OVERSIZED,
	PUMA_SEC_REJ_MALFORMED,
	PUMA_SEC_REJ_BAD_HANDSHAKE,
	PUMA_SEC_REJ_WRONG_KEY,
	PUMA_SEC_REJ_NO_COMMON_CAPS,
	PUMA_SEC_REJ_BAD_TAG,
	PUMA_SEC_REJ_REPLAY_OR_REORDER,
	PUMA_SEC_REJ_NR,
};

/**
 * struct puma_sec_caps - What a peer can do, or what a session agreed.
 * @page_size: Page data unit in bytes, a power of two from
 *	%PUMA_SEC_PAGE_SIZE_MIN to %PUMA_SEC_PAGE_SIZE_MAX; agreed: the
 *	smaller.
 * @max_batch: Largest batch accepted, 1 to %PUMA_SEC_MAX_BATCH; agreed:
 *	the smaller.
 * @min_version: Oldest PUMA wire protocol version spoken.
 * @max_version: Newest; agreed: the newest both speak (@min_version is
 *	then equal to it).
 * @modes: PUMA_SEC_MODE_* accepted; agreed: the one bit of the strongest
 *	mode both accept.
 */
struct puma_sec_caps {
	u32 page_size;
	u16 max_batch;
	u8 min_version;
	u8 max_version;
	u8 modes;
};

/**
 * struct puma_sec_hs - A decoded handshake message.
 * @type: &enum puma_sec_hs_type.
 * @caps: CLIENT_HELLO and SERVER_HELLO: the sender's capabilities.
 * @nonce: CLIENT_HELLO and SERVER_HELLO: the sender's nonce.
 * @mac: SERVER_HELLO and CLIENT_FINISH: the sender's MAC.
 */
struct puma_sec_hs {
	u8 type;
	struct puma_sec_caps caps;
	u8 nonce[PUMA_SEC_NONCE_LEN];
	u8 mac[PUMA_SEC_MAC_LEN];
};

/**
 * struct puma_sec_frame_hdr - A decoded frame header.
 * @counter: The sender's frame counter in its direction: 0, 1, 2...
 * @len: Payload bytes between the header and the tag.
 * @type: &enum puma_sec_frame_type.
 * @flags: PUMA_SEC_F_* flags.
 */
struct puma_sec_frame_hdr {
	u64 counter;
	u32 len;
	u8 type;
	u8 flags;
};

/* Codec: pure byte code (lib/secure_codec.c), also built in user space. */
int puma_sec_hs_encode(const struct puma_sec_hs *hs, void *buf, size_t size);
int puma_sec_hs_parse(const void *buf, size_t len, u8 expected_type,
		      struct puma_sec_hs *hs, enum puma_sec_reject *why);
int puma_sec_caps_check(const struct puma_sec_caps *caps);
int puma_sec_caps_negotiate(const struct puma_sec_caps *a,
			    const struct puma_sec_caps *b,
			    struct puma_sec_caps *agreed);
void puma_sec_frame_hdr_encode(const struct puma_sec_frame_hdr *hdr,
			       void *buf);
int puma_sec_frame_hdr_parse(const void *buf, size_t len,
			     struct puma_sec_frame_hdr *hdr,
			     enum puma_sec_reject *why);
int puma_sec_frame_parse(const void *buf, size_t len,
			 struct puma_sec_frame_hdr *hdr,
			 enum puma_sec_reject *why);
const char *puma_sec_reject_name(unsigned int why);

#ifdef __KERNEL__

struct key;
struct puma_sec_session;

/**
 * struct puma_sec_stats - Refusals by reason, and completed handshakes.
 * @rejected: Count per &enum puma_sec_reject.
 * @handshakes: Handshakes completed on this side.
 */
struct puma_sec_stats {
	atomic64_t rejected[PUMA_SEC_REJ_NR];
	atomic64_t handshakes;
};

/**
 * struct puma_sec_config - How one end of a session is set up.
 * @server: This end answers the handshake (else it starts it).
 * @keyring: Keyring to search for the PSK, or %NULL for the calling
 *	task's keyrings (thread, process, session, then user).
 * @key_desc: Description of the PSK: a "logon" key, or else a "user" key,
 *	of %PUMA_SEC_PSK_MIN to %PUMA_SEC_PSK_MAX bytes.
 * @caps: This end's capabilities.
 * @stats: Counters to add to, or %NULL; must outlive the session.
 */
struct puma_sec_config {
	bool server;
	struct key *keyring;
	const char *key_desc;
	struct puma_sec_caps caps;
	struct puma_sec_stats *stats;
};

/**
 * struct puma_sec_frame - A frame opened by puma_sec_open().
 * @type: &enum puma_sec_frame_type.
 * @payload: The payload, in clear, inside the buffer given.
 * @len: Its length.
 */
struct puma_sec_frame {
	u8 type;
	void *payload;
	u32 len;
};

int puma_sec_psk_lookup(struct key *keyring, const char *desc, u8 *psk,
			size_t size);

struct puma_sec_session *puma_sec_session_create(const struct puma_sec_config *cfg);
void puma_sec_session_destroy(struct puma_sec_session *s);

int puma_sec_client_hello(struct puma_sec_session *s, void *out,
			  size_t size);
int puma_sec_server_hello(struct puma_sec_session *s, const void *in,
			  size_t len, void *out, size_t size);
int puma_sec_client_finish(struct puma_sec_session *s, const void *in,
			   size_t len, void *out, size_t size);
int puma_sec_server_finish(struct puma_sec_session *s, const void *in,
			   size_t len);

bool puma_sec_established(const struct puma_sec_session *s);
const struct puma_sec_caps *puma_sec_agreed_caps(const struct puma_sec_session *s);

int puma_sec_seal(struct puma_sec_session *s, u8 type, void *buf,
		  size_t len, size_t size);
int puma_sec_open(struct puma_sec_session *s, void *buf, size_t len,
		  struct puma_sec_frame *frame);

#endif /* __KERNEL__ */

#endif /* _PUMA_SECURE_H */
