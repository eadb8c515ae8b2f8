// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA secure channel codec: the handshake messages and frame headers
 * (include/puma/secure.h), without any cryptography.
 *
 * Pure byte-buffer code, like lib/wire.c: no allocation, no global state
 * and no kernel call except through lib/wire_shim.h, so that the parsers
 * also build in user space for the host test and the fuzzer
 * (tools/wire-host/).  Every length in a buffer comes from the peer and is
 * checked against the buffer's own length before anything after it is
 * read.
 *
 * Lock ordering: no locks.
 *
 * Layout: Documentation/security.rst.
 */

#include "wire_shim.h"
#include <puma/secure.h>

struct puma_sec_hs_hdr_le {
	__le32 magic;
	u8 version;
	u8 type;
	__le16 body_len;
};

struct puma_sec_caps_le {
	__le32 page_size;
	__le16 max_batch;
	u8 min_version;
	u8 max_version;
	u8 modes;
	u8 reserved[7];
};

struct puma_sec_frame_hdr_le {
	__le32 len;
	u8 type;
	u8 flags;
	__le16 reserved;
	__le64 counter;
};

static_assert(sizeof(struct puma_sec_hs_hdr_le) == PUMA_SEC_HS_HDR_LEN,
	      "puma_sec_hs_hdr_le layout");
static_assert(sizeof(struct puma_sec_caps_le) == PUMA_SEC_CAPS_LEN,
	      "puma_sec_caps_le layout");
static_assert(sizeof(struct puma_sec_frame_hdr_le) == PUMA_SEC_FRAME_HDR_LEN,
	      "puma_sec_frame_hdr_le layout");
/* A frame's total length must fit the int the parsers return. */
static_assert(PUMA_SEC_MAX_PAYLOAD + PUMA_SEC_FRAME_OVERHEAD < (1U << 30),
	      "frame length fits an int");

/* One errno per class of fault, so callers can act on the class alone. */
static const int puma_sec_reject_errno[PUMA_SEC_REJ_NR] = {
	[PUMA_SEC_REJ_TRUNCATED]	= -EMSGSIZE,
	[PUMA_SEC_REJ_OVERSIZED]	= -EMSGSIZE,
	[PUMA_SEC_REJ_MALFORMED]	= -EBADMSG,
	[PUMA_SEC_REJ_BAD_HANDSHAKE]	= -EPROTO,
	[PUMA_SEC_REJ_WRONG_KEY]	= -EACCES,
	[PUMA_SEC_REJ_NO_COMMON_CAPS]	= -EPROTONOSUPPORT,
	[PUMA_SEC_REJ_BAD_TAG]		= -EBADMSG,
	[PUMA_SEC_REJ_REPLAY_OR_REORDER] = -EBADMSG,
};

static const char *const puma_sec_reject_names[PUMA_SEC_REJ_NR] = {
	[PUMA_SEC_REJ_TRUNCATED]	= "truncated",
	[PUMA_SEC_REJ_OVERSIZED]	= "oversized",
	[PUMA_SEC_REJ_MALFORMED]	= "malformed",
	[PUMA_SEC_REJ_BAD_HANDSHAKE]	= "bad_handshake",
	[PUMA_SEC_REJ_WRONG_KEY]	= "wrong_key",
	[PUMA_SEC_REJ_NO_COMMON_CAPS]	= "no_common_caps",
	[PUMA_SEC_REJ_BAD_TAG]		= "bad_tag",
	[PUMA_SEC_REJ_REPLAY_OR_REORDER] = "replay_or_reorder",
};

static int puma_sec_reject(enum puma_sec_reject *why, enum puma_sec_reject r)
{
	if (why)
		*why = r;
	return puma_sec_reject_errno[r];
}

/**
 * puma_sec_reject_name() - Name of a reason for refusal.
 * @why: &enum puma_sec_reject.
 *
 * Context: Any context.
 * Return: A static string, "?" for a value out of range.
 */
const char *puma_sec_reject_name(unsigned int why)
{
	return why < PUMA_SEC_REJ_NR ? puma_sec_reject_names[why] : "?";
}
EXPORT_SYMBOL_NS_GPL(puma_sec_reject_name, PUMA);

/* Body length of a handshake message type, 0 for an unknown type. */
static u32 puma_sec_hs_body_len(unsigned int type)
{
	switch (type) {
	case PUMA_SEC_CLIENT_HELLO:
		return PUMA_SEC_CLIENT_HELLO_LEN - PUMA_SEC_HS_HDR_LEN;
	case PUMA_SEC_SERVER_HELLO:
		return PUMA_SEC_SERVER_HELLO_LEN - PUMA_SEC_HS_HDR_LEN;
	case PUMA_SEC_CLIENT_FINISH:
		return PUMA_SEC_CLIENT_FINISH_LEN - PUMA_SEC_HS_HDR_LEN;
	}
	return 0;
}

static bool puma_sec_is_pow2(u32 v)
{
	return v && !(v & (v - 1));
}

/**
 * puma_sec_caps_check() - Check that capabilities are well formed.
 * @caps: The capabilities, local or received.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL if a field is out of its range (see
 * &struct puma_sec_caps) or @modes has no known bit or an unknown one.
 */
int puma_sec_caps_check(const struct puma_sec_caps *caps)
{
	if (!puma_sec_is_pow2(caps->page_size) ||
	    caps->page_size < PUMA_SEC_PAGE_SIZE_MIN ||
	    caps->page_size > PUMA_SEC_PAGE_SIZE_MAX)
		return -EINVAL;
	if (!caps->max_batch || caps->max_batch > PUMA_SEC_MAX_BATCH)
		return -EINVAL;
	if (!caps->min_version || caps->min_version > caps->max_version)
		return -EINVAL;
	if (!caps->modes || (caps->modes & ~PUMA_SEC_MODES))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_caps_check, PUMA);

/**
 * puma_sec_caps_negotiate() - What two peers agree on.
 * @a: One peer's capabilities, checked with puma_sec_caps_check().
 * @b: The other's, likewise.
 * @agreed: The result: the smaller page size and batch, the newest
 *	version both speak, and the strongest mode both accept.
 *
 * Symmetric in @a and @b, so that each end computes the same result from
 * the two HELLOs without a third message.
 *
 * Context: Any context.
 * Return: 0, or -EPROTONOSUPPORT if the peers have no version or no mode
 * in common (@agreed is then undefined).
 */
int puma_sec_caps_negotiate(const struct puma_sec_caps *a,
			    const struct puma_sec_caps *b,
			    struct puma_sec_caps *agreed)
{
	u8 lo = a->min_version > b->min_version ? a->min_version :
						  b->min_version;
	u8 hi = a->max_version < b->max_version ? a->max_version :
						  b->max_version;
	u8 modes = a->modes & b->modes;

	if (lo > hi || !modes)
		return -EPROTONOSUPPORT;
	agreed->page_size = a->page_size < b->page_size ? a->page_size :
							  b->page_size;
	agreed->max_batch = a->max_batch < b->max_batch ? a->max_batch :
							  b->max_batch;
	agreed->min_version = hi;
	agreed->max_version = hi;
	agreed->modes = modes & PUMA_SEC_MODE_ENCRYPT ? PUMA_SEC_MODE_ENCRYPT :
							PUMA_SEC_MODE_AUTH;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_caps_negotiate, PUMA);

/**
 * puma_sec_hs_encode() - Encode a handshake message.
 * @hs: The message; @hs->type decides which fields are used.
 * @buf: Where to write it.
 * @size: Room at @buf.
 *
 * Context: Any context.
 * Return: The message length, -EINVAL for an unknown type, or -ENOSPC if
 * @size is too small.
 */
int puma_sec_hs_encode(const struct puma_sec_hs *hs, void *buf, size_t size)
{
	u32 body_len = puma_sec_hs_body_len(hs->type);
	struct puma_sec_hs_hdr_le h;
	struct puma_sec_caps_le c;
	u8 *p = buf;

	if (!body_len)
		return -EINVAL;
	if (size < PUMA_SEC_HS_HDR_LEN + body_len)
		return -ENOSPC;
	h.magic = cpu_to_le32(PUMA_SEC_MAGIC);
	h.version = PUMA_SEC_VERSION;
	h.type = hs->type;
	h.body_len = cpu_to_le16(body_len);
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	if (hs->type != PUMA_SEC_CLIENT_FINISH) {
		memset(&c, 0, sizeof(c));
		c.page_size = cpu_to_le32(hs->caps.page_size);
		c.max_batch = cpu_to_le16(hs->caps.max_batch);
		c.min_version = hs->caps.min_version;
		c.max_version = hs->caps.max_version;
		c.modes = hs->caps.modes;
		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
		memcpy(p, hs->nonce, PUMA_SEC_NONCE_LEN);
		p += PUMA_SEC_NONCE_LEN;
	}
	if (hs->type != PUMA_SEC_CLIENT_HELLO) {
		memcpy(p, hs->mac, PUMA_SEC_MAC_LEN);
		p += PUMA_SEC_MAC_LEN;
	}
	return p - (u8 *)buf;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_hs_encode, PUMA);

/**
 * puma_sec_hs_parse() - Decode and check a received handshake message.
 * @buf: The message, as received.
 * @len: Its length.
 * @expected_type: The only &enum puma_sec_hs_type acceptable now.
 * @hs: Where to decode it.
 * @why: Set to the reason on refusal, or %NULL.
 *
 * Checks, in order: the header is whole; magic; version; type; the body
 * length is the type's; the buffer holds exactly header and body; the
 * capabilities' reserved bytes are zero and their fields in range.  No
 * MAC is checked here: that is the session's step.
 *
 * Context: Any context.
 * Return: 0, or a negative errno (see &enum puma_sec_reject).
 */
int puma_sec_hs_parse(const void *buf, size_t len, u8 expected_type,
		      struct puma_sec_hs *hs, enum puma_sec_reject *why)
{
	struct puma_sec_hs_hdr_le h;
	struct puma_sec_caps_le c;
	const u8 *p = buf;
	u32 body_len;
	size_t i;

	if (len < PUMA_SEC_HS_HDR_LEN)
		return puma_sec_reject(why, PUMA_SEC_REJ_TRUNCATED);
	memcpy(&h, p, sizeof(h));
	p += sizeof(h);
	if (le32_to_cpu(h.magic) != PUMA_SEC_MAGIC)
		return puma_sec_reject(why, PUMA_SEC_REJ_MALFORMED);
	if (h.version != PUMA_SEC_VERSION)
		return puma_sec_reject(why, PUMA_SEC_REJ_BAD_HANDSHAKE);
	if (!puma_sec_hs_body_len(h.type))
		return puma_sec_reject(why, PUMA_SEC_REJ_MALFORMED);
	if (h.type != expected_type)
		return puma_sec_reject(why, PUMA_SEC_REJ_BAD_HANDSHAKE);
	body_len = le16_to_cpu(h.body_len);
	if (body_len > PUMA_SEC_HS_MAX_LEN - PUMA_SEC_HS_HDR_LEN)
		return puma_sec_reject(why, PUMA_SEC_REJ_OVERSIZED);
	if (body_len != puma_sec_hs_body_len(h.type))
		return puma_sec_reject(why, PUMA_SEC_REJ_MALFORMED);
	if (len < PUMA_SEC_HS_HDR_LEN + body_len)
		return puma_sec_reject(why, PUMA_SEC_REJ_TRUNCATED);
	if (len > PUMA_SEC_HS_HDR_LEN + body_len)
		return puma_sec_reject(why, PUMA_SEC_REJ_OVERSIZED);

	memset(hs, 0, sizeof(*hs));
	hs->type = h.type;
	if (h.type != PUMA_SEC_CLIENT_FINISH) {
		memcpy(&c, p, sizeof(c));
		p += sizeof(c);
		for (i = 0; i < sizeof(c.reserved); i++)
			if (c.reserved[i])
				return puma_sec_reject(why,
						       PUMA_SEC_REJ_MALFORMED);
		hs->caps.page_size = le32_to_cpu(c.page_size);
		hs->caps.max_batch = le16_to_cpu(c.max_batch);
		hs->caps.min_version = c.min_version;
		hs->caps.max_version = c.max_version;
		hs->caps.modes = c.modes;
		if (puma_sec_caps_check(&hs->caps))
			return puma_sec_reject(why, PUMA_SEC_REJ_BAD_HANDSHAKE);
		memcpy(hs->nonce, p, PUMA_SEC_NONCE_LEN);
		p += PUMA_SEC_NONCE_LEN;
	}
	if (h.type != PUMA_SEC_CLIENT_HELLO)
		memcpy(hs->mac, p, PUMA_SEC_MAC_LEN);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_hs_parse, PUMA);

/**
 * puma_sec_frame_hdr_encode() - Encode a frame header.
 * @hdr: The header.
 * @buf: Where to write it: %PUMA_SEC_FRAME_HDR_LEN bytes.
 *
 * Context: Any context.
 */
void puma_sec_frame_hdr_encode(const struct puma_sec_frame_hdr *hdr,
			       void *buf)
{
	struct puma_sec_frame_hdr_le h = {
		.len = cpu_to_le32(hdr->len),
		.type = hdr->type,
		.flags = hdr->flags,
		.counter = cpu_to_le64(hdr->counter),
	};

	memcpy(buf, &h, sizeof(h));
}
EXPORT_SYMBOL_NS_GPL(puma_sec_frame_hdr_encode, PUMA);

/**
 * puma_sec_frame_hdr_parse() - Decode and check a frame header alone.
 * @buf: At least the header's bytes, as received.
 * @len: How many bytes there are at @buf.
 * @hdr: Where to decode it.
 * @why: Set to the reason on refusal, or %NULL.
 *
 * What a stream transport calls once it has read the header, to learn
 * how many bytes the whole frame takes before reading them.
 *
 * Context: Any context.
 * Return: The length of the whole frame (header, payload and tag), or a
 * negative errno (see &enum puma_sec_reject).
 */
int puma_sec_frame_hdr_parse(const void *buf, size_t len,
			     struct puma_sec_frame_hdr *hdr,
			     enum puma_sec_reject *why)
{
	struct puma_sec_frame_hdr_le h;

	if (len < PUMA_SEC_FRAME_HDR_LEN)
		return puma_sec_reject(why, PUMA_SEC_REJ_TRUNCATED);
	memcpy(&h, buf, sizeof(h));
	if (h.reserved || (h.flags & ~PUMA_SEC_F_CLEAR) || !h.type ||
	    h.type > PUMA_SEC_FRAME_TYPE_MAX)
		return puma_sec_reject(why, PUMA_SEC_REJ_MALFORMED);
	hdr->len = le32_to_cpu(h.len);
	if (hdr->len > PUMA_SEC_MAX_PAYLOAD)
		return puma_sec_reject(why, PUMA_SEC_REJ_OVERSIZED);
	if (h.type == PUMA_SEC_FRAME_CLOSE && hdr->len)
		return puma_sec_reject(why, PUMA_SEC_REJ_MALFORMED);
	hdr->type = h.type;
	hdr->flags = h.flags;
	hdr->counter = le64_to_cpu(h.counter);
	return PUMA_SEC_FRAME_OVERHEAD + hdr->len;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_frame_hdr_parse, PUMA);

/**
 * puma_sec_frame_parse() - Decode and check a whole received frame.
 * @buf: The frame.
 * @len: Its length as received.
 * @hdr: Where to decode its header.
 * @why: Set to the reason on refusal, or %NULL.
 *
 * The header's checks (puma_sec_frame_hdr_parse()), then the buffer must
 * hold exactly the frame the header describes.  The tag is not checked
 * here: that is the session's step.
 *
 * Context: Any context.
 * Return: 0, or a negative errno (see &enum puma_sec_reject).
 */
int puma_sec_frame_parse(const void *buf, size_t len,
			 struct puma_sec_frame_hdr *hdr,
			 enum puma_sec_reject *why)
{
	int frame_len = puma_sec_frame_hdr_parse(buf, len, hdr, why);

	if (frame_len < 0)
		return frame_len;
	if (len < (size_t)frame_len)
		return puma_sec_reject(why, PUMA_SEC_REJ_TRUNCATED);
	if (len > (size_t)frame_len)
		return puma_sec_reject(why, PUMA_SEC_REJ_OVERSIZED);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_sec_frame_parse, PUMA);
