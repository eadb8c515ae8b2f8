// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA wire protocol codec.
 *
 * Pure byte-buffer code: no allocation, no locking, no global state, and
 * no kernel call except through lib/wire_shim.h, so that this file also
 * builds in user space for fuzzing.  Buffers are read and written with
 * memcpy() into naturally aligned little-endian structures, because a
 * transport may hand us any alignment.
 *
 * Layout and rules: Documentation/wire-protocol.rst.
 */

#include "wire_shim.h"
#include <puma/wire.h>

struct puma_wire_hdr_le {
	__le32 magic;
	u8 version;
	u8 type;
	__le16 flags;
	__le64 seq;
	__le32 body_len;
	__le16 nr_pages;
	__le16 reserved;
	__le32 data_crc;
	__le32 hdr_crc;		/* last: covers everything before it */
};

struct puma_wire_key_le {
	__le32 pool;
	__le32 reserved;
	__le64 ino;
	__le64 index;
};

struct puma_wire_batch_le {
	__le64 ref_seq;
	__le16 count;
	__le16 reserved;
	__le32 hits;
};

struct puma_wire_hello_le {
	__le64 node_id;
	__le32 caps;
	__le32 page_size;
	__le16 max_batch;
	__le16 reserved[3];
};

struct puma_wire_inode_le {
	__le32 pool;
	__le32 reserved;
	__le64 ino;
};

/* INVALIDATE_POOL and SUSPEND. */
struct puma_wire_u32_le {
	__le32 val;
	__le32 reserved;
};

/* PING and PONG. */
struct puma_wire_u64_le {
	__le64 val;
};

struct puma_wire_error_le {
	__le64 ref_seq;
	__le16 code;
	u8 ref_type;
	u8 reserved;
	__le32 reserved2;
};

/* The structures are the wire format: no compiler padding allowed. */
#define PUMA_WIRE_LAYOUT(type, size) \
	static_assert(sizeof(struct type) == (size), #type " layout")
PUMA_WIRE_LAYOUT(puma_wire_hdr_le, PUMA_WIRE_HDR_LEN);
PUMA_WIRE_LAYOUT(puma_wire_key_le, PUMA_WIRE_KEY_LEN);
PUMA_WIRE_LAYOUT(puma_wire_batch_le, PUMA_WIRE_BATCH_LEN);
PUMA_WIRE_LAYOUT(puma_wire_hello_le, 24);
PUMA_WIRE_LAYOUT(puma_wire_inode_le, 16);
PUMA_WIRE_LAYOUT(puma_wire_u32_le, 8);
PUMA_WIRE_LAYOUT(puma_wire_u64_le, 8);
PUMA_WIRE_LAYOUT(puma_wire_error_le, 16);
static_assert(PUMA_WIRE_MAX_BATCH <= 32, "hits is a u32 bitmap");

#define PUMA_WIRE_HDR_CRC_LEN	offsetof(struct puma_wire_hdr_le, hdr_crc)

/* Body of the batch types: a batch header and count keys. */
#define PUMA_WIRE_BODY_BATCH	0xff

enum puma_wire_pages {
	PUMA_WIRE_PAGES_NONE,	/* no page data */
	PUMA_WIRE_PAGES_COUNT,	/* one page per key */
	PUMA_WIRE_PAGES_HITS,	/* one page per hit */
};

struct puma_wire_type_info {
	const char *name;
	u16 flags;		/* flags valid on this type */
	u8 body;		/* body length, or PUMA_WIRE_BODY_BATCH */
	u8 pages;		/* enum puma_wire_pages */
};

static const struct puma_wire_type_info puma_wire_types[] = {
	[PUMA_WIRE_HELLO] = {
		"HELLO", 0, sizeof(struct puma_wire_hello_le),
		PUMA_WIRE_PAGES_NONE },
	[PUMA_WIRE_PUT] = {
		"PUT", 0, PUMA_WIRE_BODY_BATCH, PUMA_WIRE_PAGES_COUNT },
	[PUMA_WIRE_GET] = {
		"GET", PUMA_WIRE_F_EXCLUSIVE, PUMA_WIRE_BODY_BATCH,
		PUMA_WIRE_PAGES_NONE },
	[PUMA_WIRE_GET_RESPONSE] = {
		"GET_RESPONSE", 0, PUMA_WIRE_BODY_BATCH, PUMA_WIRE_PAGES_HITS },
	[PUMA_WIRE_INVALIDATE_PAGE] = {
		"INVALIDATE_PAGE", 0, PUMA_WIRE_BODY_BATCH,
		PUMA_WIRE_PAGES_NONE },
	[PUMA_WIRE_INVALIDATE_INODE] = {
		"INVALIDATE_INODE", 0, sizeof(struct puma_wire_inode_le),
		PUMA_WIRE_PAGES_NONE },
	[PUMA_WIRE_INVALIDATE_POOL] = {
		"INVALIDATE_POOL", 0, sizeof(struct puma_wire_u32_le),
		PUMA_WIRE_PAGES_NONE },
	[PUMA_WIRE_SUSPEND] = {
		"SUSPEND", 0, sizeof(struct puma_wire_u32_le),
		PUMA_WIRE_PAGES_NONE },
	[PUMA_WIRE_RESUME] = {
		"RESUME", 0, 0, PUMA_WIRE_PAGES_NONE },
	[PUMA_WIRE_PING] = {
		"PING", 0, sizeof(struct puma_wire_u64_le),
		PUMA_WIRE_PAGES_NONE },
	[PUMA_WIRE_PONG] = {
		"PONG", 0, sizeof(struct puma_wire_u64_le),
		PUMA_WIRE_PAGES_NONE },
	[PUMA_WIRE_ERROR] = {
		"ERROR", 0, sizeof(struct puma_wire_error_le),
		PUMA_WIRE_PAGES_NONE },
	[PUMA_WIRE_RECLAIMED] = {
		"RECLAIMED", 0, PUMA_WIRE_BODY_BATCH, PUMA_WIRE_PAGES_NONE },
};

/* One errno per class of fault, so callers can act on the class alone. */
static const int puma_wire_reject_errno[PUMA_WIRE_REJ_NR] = {
	[PUMA_WIRE_REJ_MAGIC]		= -EBADMSG,
	[PUMA_WIRE_REJ_VERSION]		= -EPROTO,
	[PUMA_WIRE_REJ_TYPE]		= -EBADMSG,
	[PUMA_WIRE_REJ_FLAGS]		= -EBADMSG,
	[PUMA_WIRE_REJ_RESERVED]	= -EBADMSG,
	[PUMA_WIRE_REJ_LENGTH]		= -EMSGSIZE,
	[PUMA_WIRE_REJ_COUNT]		= -EMSGSIZE,
	[PUMA_WIRE_REJ_FIELD]		= -EBADMSG,
	[PUMA_WIRE_REJ_CRC]		= -EBADMSG,
	[PUMA_WIRE_REJ_DATA_CRC]	= -EBADMSG,
};

static int puma_wire_reject(struct puma_wire_stats *stats,
			    enum puma_wire_reject why)
{
	if (stats)
		stats->rejected[why]++;
	return puma_wire_reject_errno[why];
}

static bool puma_wire_type_valid(unsigned int type)
{
	return type >= PUMA_WIRE_HELLO && type <= PUMA_WIRE_TYPE_MAX;
}

static u32 puma_wire_count_mask(u32 count)
{
	return (u32)((1ULL << count) - 1);
}

/**
 * puma_wire_crc32c() - Extend a CRC32C over a buffer.
 * @crc: CRC of the data so far; 0 to start.
 * @buf: Next bytes.
 * @len: Number of bytes.
 *
 * Standard CRC32C (Castagnoli, as in iSCSI and ext4 metadata): chaining
 * calls over consecutive pieces gives the CRC of their concatenation, and
 * the CRC of nothing is 0.  A sender computes a message's data_crc by
 * calling this once per page, mapping each page in turn.
 *
 * Context: Any context.
 * Return: The CRC32C of the data so far followed by @buf.
 */
u32 puma_wire_crc32c(u32 crc, const void *buf, size_t len)
{
	return ~puma_wire_shim_crc32c(~crc, buf, len);
}
EXPORT_SYMBOL_NS_GPL(puma_wire_crc32c, PUMA);

/* Body length and page count that @type and @count imply. */
static u32 puma_wire_body_len(const struct puma_wire_type_info *ti, u32 count)
{
	if (ti->body != PUMA_WIRE_BODY_BATCH)
		return ti->body;
	return PUMA_WIRE_BATCH_LEN + count * PUMA_WIRE_KEY_LEN;
}

/*
 * Everything a header says on its own: type, flags and lengths.  Shared by
 * the decoder and the encoder, so that we never send what we would refuse.
 */
static int puma_wire_check_hdr(const struct puma_wire_hdr *hdr,
			       struct puma_wire_stats *stats)
{
	const struct puma_wire_type_info *ti;
	u32 count = 0;

	if (!puma_wire_type_valid(hdr->type))
		return puma_wire_reject(stats, PUMA_WIRE_REJ_TYPE);
	ti = &puma_wire_types[hdr->type];
	if (hdr->flags & ~ti->flags)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_FLAGS);
	if (hdr->body_len > PUMA_WIRE_MAX_BODY)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_LENGTH);

	if (ti->body == PUMA_WIRE_BODY_BATCH) {
		if (hdr->body_len < PUMA_WIRE_BATCH_LEN ||
		    (hdr->body_len - PUMA_WIRE_BATCH_LEN) % PUMA_WIRE_KEY_LEN)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_LENGTH);
		count = (hdr->body_len - PUMA_WIRE_BATCH_LEN) /
			PUMA_WIRE_KEY_LEN;
		if (!count)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_COUNT);
		/* Above PUMA_WIRE_MAX_BATCH is caught by PUMA_WIRE_MAX_BODY. */
	} else if (hdr->body_len != ti->body) {
		return puma_wire_reject(stats, PUMA_WIRE_REJ_LENGTH);
	}

	switch (ti->pages) {
	case PUMA_WIRE_PAGES_NONE:
		if (hdr->nr_pages)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_LENGTH);
		break;
	case PUMA_WIRE_PAGES_COUNT:
		if (hdr->nr_pages != count)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_LENGTH);
		break;
	case PUMA_WIRE_PAGES_HITS:
		if (hdr->nr_pages > count)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_LENGTH);
		break;
	}

	/* The CRC32C of no data is 0: anything else is a corrupt header. */
	if (!hdr->nr_pages && hdr->data_crc)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_DATA_CRC);
	return 0;
}

/*
 * Rules on the decoded body that are not about wire-only fields (those
 * are checked while parsing).  Shared by the decoder and the encoder.
 */
static int puma_wire_check_body(const struct puma_wire_msg *msg,
				const struct puma_wire_hdr *hdr,
				struct puma_wire_stats *stats)
{
	const struct puma_wire_batch *b = &msg->batch;

	switch (hdr->type) {
	case PUMA_WIRE_HELLO:
		/* Version 1 fixes the page unit: a peer that differs can't talk. */
		if (msg->hello.page_size != PUMA_WIRE_PAGE_SIZE)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_VERSION);
		if (!msg->hello.max_batch ||
		    msg->hello.max_batch > PUMA_WIRE_MAX_BATCH)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_FIELD);
		break;
	case PUMA_WIRE_PUT:
	case PUMA_WIRE_GET:
	case PUMA_WIRE_INVALIDATE_PAGE:
	case PUMA_WIRE_RECLAIMED:
		if (!b->count || b->count > PUMA_WIRE_MAX_BATCH)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_COUNT);
		if (b->ref_seq || b->hits)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_RESERVED);
		break;
	case PUMA_WIRE_GET_RESPONSE:
		if (!b->count || b->count > PUMA_WIRE_MAX_BATCH)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_COUNT);
		if (b->hits & ~puma_wire_count_mask(b->count))
			return puma_wire_reject(stats, PUMA_WIRE_REJ_FIELD);
		if (hweight32(b->hits) != hdr->nr_pages)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_LENGTH);
		break;
	case PUMA_WIRE_INVALIDATE_INODE:
		if (msg->inode.index)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_RESERVED);
		break;
	case PUMA_WIRE_ERROR:
		if (!msg->error.code || msg->error.code > PUMA_WIRE_ERR_MAX)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_FIELD);
		if (msg->error.ref_type > PUMA_WIRE_TYPE_MAX)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_FIELD);
		break;
	}
	return 0;
}

/**
 * puma_wire_decode_header() - Validate and decode a message header.
 * @buf: At least %PUMA_WIRE_HDR_LEN bytes; only those are read.
 * @len: Bytes available at @buf.
 * @hdr: Decoded header, valid only on success.
 * @stats: Rejection counters, or NULL.
 *
 * For stream transports: read %PUMA_WIRE_HDR_LEN bytes, call this, then
 * read @hdr->body_len bytes of body and hand header and body to
 * puma_wire_decode(), then read @hdr->nr_pages pages of
 * %PUMA_WIRE_PAGE_SIZE bytes and check them with puma_wire_check_data().
 * Magic, version, type, flags, reserved fields and every length are
 * checked here, so the lengths can be trusted to size the reads.  The
 * header CRC is not: it also covers the body.
 *
 * Context: Any context.
 * Return: 0 on success; -EMSGSIZE if @len is too short or the lengths are
 * inconsistent; -EPROTO on a version mismatch; -EBADMSG on any other fault.
 */
int puma_wire_decode_header(const void *buf, size_t len,
			    struct puma_wire_hdr *hdr,
			    struct puma_wire_stats *stats)
{
	struct puma_wire_hdr_le h;

	if (len < PUMA_WIRE_HDR_LEN)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_LENGTH);
	memcpy(&h, buf, sizeof(h));

	/* Magic and version first: later fields mean nothing without them. */
	if (le32_to_cpu(h.magic) != PUMA_WIRE_MAGIC)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_MAGIC);
	if (h.version != PUMA_WIRE_VERSION)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_VERSION);
	if (h.reserved)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_RESERVED);

	hdr->seq = le64_to_cpu(h.seq);
	hdr->body_len = le32_to_cpu(h.body_len);
	hdr->data_crc = le32_to_cpu(h.data_crc);
	hdr->flags = le16_to_cpu(h.flags);
	hdr->nr_pages = le16_to_cpu(h.nr_pages);
	hdr->type = h.type;
	return puma_wire_check_hdr(hdr, stats);
}
EXPORT_SYMBOL_IF_KUNIT(puma_wire_decode_header);

static int puma_wire_decode_batch(const u8 *p, struct puma_wire_msg *msg,
				  struct puma_wire_stats *stats)
{
	struct puma_wire_batch *b = &msg->batch;
	struct puma_wire_batch_le bl;
	struct puma_wire_key_le kl;
	u32 count, i;

	memcpy(&bl, p, sizeof(bl));
	p += sizeof(bl);
	if (bl.reserved)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_RESERVED);
	b->ref_seq = le64_to_cpu(bl.ref_seq);
	b->hits = le32_to_cpu(bl.hits);
	b->count = le16_to_cpu(bl.count);
	if (!b->count || b->count > PUMA_WIRE_MAX_BATCH)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_COUNT);

	/* The count is stated twice, in body_len and here: they must agree. */
	count = (msg->hdr.body_len - PUMA_WIRE_BATCH_LEN) / PUMA_WIRE_KEY_LEN;
	if (b->count != count)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_LENGTH);

	for (i = 0; i < count; i++, p += sizeof(kl)) {
		memcpy(&kl, p, sizeof(kl));
		if (kl.reserved)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_RESERVED);
		b->keys[i].pool = le32_to_cpu(kl.pool);
		b->keys[i].ino = le64_to_cpu(kl.ino);
		b->keys[i].index = le64_to_cpu(kl.index);
	}
	return 0;
}

static int puma_wire_decode_body(const u8 *p, struct puma_wire_msg *msg,
				 struct puma_wire_stats *stats)
{
	struct puma_wire_hello_le hl;
	struct puma_wire_inode_le il;
	struct puma_wire_u32_le ul;
	struct puma_wire_u64_le ql;
	struct puma_wire_error_le el;

	switch (msg->hdr.type) {
	case PUMA_WIRE_HELLO:
		memcpy(&hl, p, sizeof(hl));
		if (hl.reserved[0] || hl.reserved[1] || hl.reserved[2])
			return puma_wire_reject(stats, PUMA_WIRE_REJ_RESERVED);
		msg->hello.node_id = le64_to_cpu(hl.node_id);
		msg->hello.caps = le32_to_cpu(hl.caps);
		msg->hello.page_size = le32_to_cpu(hl.page_size);
		msg->hello.max_batch = le16_to_cpu(hl.max_batch);
		return 0;
	case PUMA_WIRE_PUT:
	case PUMA_WIRE_GET:
	case PUMA_WIRE_GET_RESPONSE:
	case PUMA_WIRE_INVALIDATE_PAGE:
	case PUMA_WIRE_RECLAIMED:
		return puma_wire_decode_batch(p, msg, stats);
	case PUMA_WIRE_INVALIDATE_INODE:
		memcpy(&il, p, sizeof(il));
		if (il.reserved)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_RESERVED);
		msg->inode.pool = le32_to_cpu(il.pool);
		msg->inode.ino = le64_to_cpu(il.ino);
		msg->inode.index = 0;
		return 0;
	case PUMA_WIRE_INVALIDATE_POOL:
	case PUMA_WIRE_SUSPEND:
		memcpy(&ul, p, sizeof(ul));
		if (ul.reserved)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_RESERVED);
		if (msg->hdr.type == PUMA_WIRE_SUSPEND)
			msg->suspend_ms = le32_to_cpu(ul.val);
		else
			msg->pool = le32_to_cpu(ul.val);
		return 0;
	case PUMA_WIRE_PING:
	case PUMA_WIRE_PONG:
		memcpy(&ql, p, sizeof(ql));
		msg->cookie = le64_to_cpu(ql.val);
		return 0;
	case PUMA_WIRE_ERROR:
		memcpy(&el, p, sizeof(el));
		if (el.reserved || el.reserved2)
			return puma_wire_reject(stats, PUMA_WIRE_REJ_RESERVED);
		msg->error.ref_seq = le64_to_cpu(el.ref_seq);
		msg->error.code = le16_to_cpu(el.code);
		msg->error.ref_type = el.ref_type;
		return 0;
	}
	return 0;	/* RESUME: empty body */
}

/**
 * puma_wire_decode() - Validate and decode a message header and body.
 * @buf: The message: header then body, without page data.
 * @len: Exactly %PUMA_WIRE_HDR_LEN plus the header's body_len.
 * @msg: Decoded message, valid only on success.
 * @stats: Rejection counters, or NULL.
 *
 * Checks everything puma_wire_decode_header() checks, then the header CRC
 * (over header and body), then every body field: counts against lengths,
 * reserved fields, hit bitmap against count and page count, and value
 * ranges.  Never reads outside @buf[0..@len).  Page data, if any, is checked
 * separately with puma_wire_check_data().
 *
 * Context: Any context.
 * Return: 0 on success; -EMSGSIZE if @len is not the message's length or the
 * lengths and counts disagree; -EPROTO on a version or page size mismatch;
 * -EBADMSG on any other fault, CRC mismatches included.
 */
int puma_wire_decode(const void *buf, size_t len, struct puma_wire_msg *msg,
		     struct puma_wire_stats *stats)
{
	const u8 *p = buf;
	__le32 crc_le;
	u32 crc;
	int ret;

	ret = puma_wire_decode_header(buf, len, &msg->hdr, stats);
	if (ret)
		return ret;
	if (len != PUMA_WIRE_HDR_LEN + msg->hdr.body_len)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_LENGTH);

	/* CRC before the body: a corrupt body is a CRC fault, not a field's. */
	crc = puma_wire_crc32c(0, p, PUMA_WIRE_HDR_CRC_LEN);
	crc = puma_wire_crc32c(crc, p + PUMA_WIRE_HDR_LEN, msg->hdr.body_len);
	memcpy(&crc_le, p + PUMA_WIRE_HDR_CRC_LEN, sizeof(crc_le));
	if (le32_to_cpu(crc_le) != crc)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_CRC);

	ret = puma_wire_decode_body(p + PUMA_WIRE_HDR_LEN, msg, stats);
	if (ret)
		return ret;
	return puma_wire_check_body(msg, &msg->hdr, stats);
}
EXPORT_SYMBOL_NS_GPL(puma_wire_decode, PUMA);

/**
 * puma_wire_check_data() - Check the page data of a decoded message.
 * @hdr: Header decoded by puma_wire_decode_header() or puma_wire_decode().
 * @data_crc: puma_wire_crc32c() of the @hdr->nr_pages pages received.
 * @stats: Rejection counters, or NULL.
 *
 * Context: Any context.
 * Return: 0 if @data_crc matches the header, -EBADMSG otherwise.
 */
int puma_wire_check_data(const struct puma_wire_hdr *hdr, u32 data_crc,
			 struct puma_wire_stats *stats)
{
	if (hdr->data_crc != data_crc)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_DATA_CRC);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_wire_check_data, PUMA);

/* Pages of data @msg carries, for a message that passed validation. */
static u32 puma_wire_msg_pages(const struct puma_wire_msg *msg)
{
	switch (msg->hdr.type) {
	case PUMA_WIRE_PUT:
		return msg->batch.count;
	case PUMA_WIRE_GET_RESPONSE:
		return hweight32(msg->batch.hits);
	}
	return 0;
}

/*
 * Validate @msg with the decoder's own rules and derive its header: an
 * encoder that could emit what the decoder refuses would only move bugs to
 * the peer.
 */
static int puma_wire_prepare(const struct puma_wire_msg *msg, u32 data_crc,
			     struct puma_wire_hdr *hdr)
{
	const struct puma_wire_type_info *ti;
	u32 count = 0;

	if (!puma_wire_type_valid(msg->hdr.type))
		return -EINVAL;
	ti = &puma_wire_types[msg->hdr.type];
	if (ti->body == PUMA_WIRE_BODY_BATCH) {
		count = msg->batch.count;
		if (!count || count > PUMA_WIRE_MAX_BATCH)
			return -EINVAL;
	}

	*hdr = msg->hdr;
	hdr->body_len = puma_wire_body_len(ti, count);
	hdr->nr_pages = puma_wire_msg_pages(msg);
	hdr->data_crc = data_crc;
	if (puma_wire_check_hdr(hdr, NULL) ||
	    puma_wire_check_body(msg, hdr, NULL))
		return -EINVAL;
	return 0;
}

static void puma_wire_encode_batch(const struct puma_wire_batch *b, u8 *p)
{
	struct puma_wire_batch_le bl = {
		.ref_seq = cpu_to_le64(b->ref_seq),
		.count = cpu_to_le16(b->count),
		.hits = cpu_to_le32(b->hits),
	};
	struct puma_wire_key_le kl = { };
	u32 i;

	memcpy(p, &bl, sizeof(bl));
	p += sizeof(bl);
	for (i = 0; i < b->count; i++, p += sizeof(kl)) {
		kl.pool = cpu_to_le32(b->keys[i].pool);
		kl.ino = cpu_to_le64(b->keys[i].ino);
		kl.index = cpu_to_le64(b->keys[i].index);
		memcpy(p, &kl, sizeof(kl));
	}
}

static void puma_wire_encode_body(const struct puma_wire_msg *msg, u8 *p)
{
	struct puma_wire_hello_le hl = { };
	struct puma_wire_inode_le il = { };
	struct puma_wire_u32_le ul = { };
	struct puma_wire_u64_le ql = { };
	struct puma_wire_error_le el = { };

	switch (msg->hdr.type) {
	case PUMA_WIRE_HELLO:
		hl.node_id = cpu_to_le64(msg->hello.node_id);
		hl.caps = cpu_to_le32(msg->hello.caps);
		hl.page_size = cpu_to_le32(msg->hello.page_size);
		hl.max_batch = cpu_to_le16(msg->hello.max_batch);
		memcpy(p, &hl, sizeof(hl));
		break;
	case PUMA_WIRE_PUT:
	case PUMA_WIRE_GET:
	case PUMA_WIRE_GET_RESPONSE:
	case PUMA_WIRE_INVALIDATE_PAGE:
	case PUMA_WIRE_RECLAIMED:
		puma_wire_encode_batch(&msg->batch, p);
		break;
	case PUMA_WIRE_INVALIDATE_INODE:
		il.pool = cpu_to_le32(msg->inode.pool);
		il.ino = cpu_to_le64(msg->inode.ino);
		memcpy(p, &il, sizeof(il));
		break;
	case PUMA_WIRE_INVALIDATE_POOL:
		ul.val = cpu_to_le32(msg->pool);
		memcpy(p, &ul, sizeof(ul));
		break;
	case PUMA_WIRE_SUSPEND:
		ul.val = cpu_to_le32(msg->suspend_ms);
		memcpy(p, &ul, sizeof(ul));
		break;
	case PUMA_WIRE_PING:
	case PUMA_WIRE_PONG:
		ql.val = cpu_to_le64(msg->cookie);
		memcpy(p, &ql, sizeof(ql));
		break;
	case PUMA_WIRE_ERROR:
		el.ref_seq = cpu_to_le64(msg->error.ref_seq);
		el.code = cpu_to_le16(msg->error.code);
		el.ref_type = msg->error.ref_type;
		memcpy(p, &el, sizeof(el));
		break;
	}
}

/* Write the prepared header and the body of @msg; @buf is large enough. */
static int puma_wire_write(const struct puma_wire_msg *msg,
			   const struct puma_wire_hdr *hdr, u8 *buf)
{
	struct puma_wire_hdr_le h = {
		.magic = cpu_to_le32(PUMA_WIRE_MAGIC),
		.version = PUMA_WIRE_VERSION,
		.type = hdr->type,
		.flags = cpu_to_le16(hdr->flags),
		.seq = cpu_to_le64(hdr->seq),
		.body_len = cpu_to_le32(hdr->body_len),
		.nr_pages = cpu_to_le16(hdr->nr_pages),
		.data_crc = cpu_to_le32(hdr->data_crc),
	};
	u32 crc;

	puma_wire_encode_body(msg, buf + PUMA_WIRE_HDR_LEN);
	crc = puma_wire_crc32c(0, &h, PUMA_WIRE_HDR_CRC_LEN);
	crc = puma_wire_crc32c(crc, buf + PUMA_WIRE_HDR_LEN, hdr->body_len);
	h.hdr_crc = cpu_to_le32(crc);
	memcpy(buf, &h, sizeof(h));
	return PUMA_WIRE_HDR_LEN + hdr->body_len;
}

/**
 * puma_wire_encode() - Encode a message header and body.
 * @msg: Message; @msg->hdr.data_crc must be the puma_wire_crc32c() of the
 *	pages to be sent after it (0 if none).  @msg->hdr.body_len and
 *	@msg->hdr.nr_pages are ignored: they follow from type and counts.
 * @buf: Output buffer.
 * @size: Size of @buf; %PUMA_WIRE_MAX_MSG always suffices.
 *
 * The caller sends the pages itself after the returned bytes: for PUT one
 * per key, for GET_RESPONSE one per hit, in key order.
 *
 * Context: Any context.
 * Return: Bytes written; -EINVAL if @msg is not a valid message (the
 * decoder's rules); -ENOSPC if @size is too small, in which case @buf is
 * untouched.
 */
int puma_wire_encode(const struct puma_wire_msg *msg, void *buf, size_t size)
{
	struct puma_wire_hdr hdr;
	int ret;

	ret = puma_wire_prepare(msg, msg->hdr.data_crc, &hdr);
	if (ret)
		return ret;
	if (size < PUMA_WIRE_HDR_LEN + hdr.body_len)
		return -ENOSPC;
	return puma_wire_write(msg, &hdr, buf);
}
EXPORT_SYMBOL_NS_GPL(puma_wire_encode, PUMA);

/**
 * puma_wire_encode_frame() - Encode a message and its page data in one buffer.
 * @msg: Message; @msg->hdr.data_crc, body_len and nr_pages are ignored.
 * @data: The message's pages, contiguous (ignored if it carries none).
 * @buf: Output buffer.
 * @size: Size of @buf; %PUMA_WIRE_MAX_FRAME always suffices.
 *
 * For transports that move whole frames (loopback, shared memory) and for
 * tests; computes the data CRC itself.
 *
 * Context: Any context.
 * Return: Bytes written; -EINVAL if @msg is invalid or @data is NULL while
 * pages are due; -ENOSPC if @size is too small, in which case @buf is
 * untouched.
 */
int puma_wire_encode_frame(const struct puma_wire_msg *msg, const void *data,
			   void *buf, size_t size)
{
	struct puma_wire_hdr hdr;
	size_t data_len;
	int ret;

	ret = puma_wire_prepare(msg, 0, &hdr);
	if (ret)
		return ret;
	data_len = (size_t)hdr.nr_pages * PUMA_WIRE_PAGE_SIZE;
	if (data_len && !data)
		return -EINVAL;
	if (size < PUMA_WIRE_HDR_LEN + hdr.body_len + data_len)
		return -ENOSPC;

	if (data_len)
		hdr.data_crc = puma_wire_crc32c(0, data, data_len);
	ret = puma_wire_write(msg, &hdr, buf);
	if (data_len)
		memcpy((u8 *)buf + ret, data, data_len);
	return ret + (int)data_len;
}
EXPORT_SYMBOL_IF_KUNIT(puma_wire_encode_frame);

/**
 * puma_wire_decode_frame() - Validate and decode a message and its page data.
 * @buf: Header, body and page data, contiguous.
 * @len: Exactly the frame's length.
 * @msg: Decoded message, valid only on success.
 * @data: Set to the page data within @buf, or NULL if there is none.
 * @stats: Rejection counters, or NULL.
 *
 * puma_wire_decode() followed by puma_wire_check_data() over the pages.
 *
 * Context: Any context.
 * Return: 0 on success, else as puma_wire_decode(); -EBADMSG also on a page
 * data CRC mismatch.
 */
int puma_wire_decode_frame(const void *buf, size_t len,
			   struct puma_wire_msg *msg, const void **data,
			   struct puma_wire_stats *stats)
{
	const u8 *p = buf;
	size_t msg_len, data_len;
	int ret;

	ret = puma_wire_decode_header(buf, len, &msg->hdr, stats);
	if (ret)
		return ret;
	msg_len = PUMA_WIRE_HDR_LEN + msg->hdr.body_len;
	data_len = (size_t)msg->hdr.nr_pages * PUMA_WIRE_PAGE_SIZE;
	if (len != msg_len + data_len)
		return puma_wire_reject(stats, PUMA_WIRE_REJ_LENGTH);

	ret = puma_wire_decode(buf, msg_len, msg, stats);
	if (ret)
		return ret;
	ret = puma_wire_check_data(&msg->hdr,
				   puma_wire_crc32c(0, p + msg_len, data_len),
				   stats);
	if (ret)
		return ret;
	*data = data_len ? p + msg_len : NULL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(puma_wire_decode_frame);

/**
 * puma_wire_type_name() - Name of a message type, for logs.
 * @type: &enum puma_wire_type value, valid or not.
 *
 * Context: Any context.
 * Return: A static string such as "GET_RESPONSE", or "UNKNOWN".
 */
const char *puma_wire_type_name(unsigned int type)
{
	if (!puma_wire_type_valid(type))
		return "UNKNOWN";
	return puma_wire_types[type].name;
}
EXPORT_SYMBOL_NS_GPL(puma_wire_type_name, PUMA);
