// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite "puma_wire": the PUMA wire protocol codec.
 *
 * Round trips of every message type, every truncation, every single-byte
 * corruption, and one case per validation rule.  Buffers handed to the
 * decoder are allocated at their exact length where it matters, so that
 * KASAN reports any read past the end.
 */

#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include <puma/wire.h>

/* Byte offsets of the wire format (Documentation/wire-protocol.rst). */
#define OFF_MAGIC	0
#define OFF_VERSION	4
#define OFF_TYPE	5
#define OFF_FLAGS	6
#define OFF_BODY_LEN	16
#define OFF_NR_PAGES	20
#define OFF_RESERVED	22
#define OFF_DATA_CRC	24
#define OFF_HDR_CRC	28
#define OFF_BODY	PUMA_WIRE_HDR_LEN
/* Batch bodies. */
#define OFF_REF_SEQ	(OFF_BODY + 0)
#define OFF_COUNT	(OFF_BODY + 8)
#define OFF_BATCH_RSVD	(OFF_BODY + 10)
#define OFF_HITS	(OFF_BODY + 12)
#define OFF_KEY0	(OFF_BODY + PUMA_WIRE_BATCH_LEN)
#define OFF_KEY_RSVD	4

struct wire_sample {
	const char *name;
	u8 type;
	u16 flags;
	u32 count;
	u32 hits;
};

static const struct wire_sample wire_samples[] = {
	{ "hello", PUMA_WIRE_HELLO, 0, 0, 0 },
	{ "put_1", PUMA_WIRE_PUT, 0, 1, 0 },
	{ "put_3", PUMA_WIRE_PUT, 0, 3, 0 },
	{ "put_32", PUMA_WIRE_PUT, 0, 32, 0 },
	{ "get_1_exclusive", PUMA_WIRE_GET, PUMA_WIRE_F_EXCLUSIVE, 1, 0 },
	{ "get_32", PUMA_WIRE_GET, 0, 32, 0 },
	{ "get_response_3_hits_2", PUMA_WIRE_GET_RESPONSE, 0, 3, 0x5 },
	{ "get_response_32_miss", PUMA_WIRE_GET_RESPONSE, 0, 32, 0 },
	{ "get_response_32_hit", PUMA_WIRE_GET_RESPONSE, 0, 32, 0xffffffff },
	{ "invalidate_page_2", PUMA_WIRE_INVALIDATE_PAGE, 0, 2, 0 },
	{ "invalidate_inode", PUMA_WIRE_INVALIDATE_INODE, 0, 0, 0 },
	{ "invalidate_pool", PUMA_WIRE_INVALIDATE_POOL, 0, 0, 0 },
	{ "suspend", PUMA_WIRE_SUSPEND, 0, 0, 0 },
	{ "resume", PUMA_WIRE_RESUME, 0, 0, 0 },
	{ "ping", PUMA_WIRE_PING, 0, 0, 0 },
	{ "pong", PUMA_WIRE_PONG, 0, 0, 0 },
	{ "error", PUMA_WIRE_ERROR, 0, 0, 0 },
	{ "reclaimed_3", PUMA_WIRE_RECLAIMED, 0, 3, 0 },
};

static void wire_sample_desc(const struct wire_sample *s, char *desc)
{
	strscpy(desc, s->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(wire_sample, wire_samples, wire_sample_desc);

/* A valid frame (header, body, pages) of a sample, and its parts. */
struct wire_frame {
	struct puma_wire_msg msg;	/* what was encoded */
	struct puma_wire_msg dec;	/* scratch for decoding */
	u8 *buf;
	u8 *out;			/* scratch for re-encoding */
	u8 *data;
	size_t len;
	size_t msg_len;
	u32 pages;
};

static void wire_build(const struct wire_sample *s, struct puma_wire_msg *m)
{
	u32 i;

	memset(m, 0, sizeof(*m));
	m->hdr.type = s->type;
	m->hdr.flags = s->flags;
	m->hdr.seq = 0x1122334455667788ULL + s->type;
	switch (s->type) {
	case PUMA_WIRE_HELLO:
		m->hello.node_id = 0x0123456789abcdefULL;
		/* An unknown capability bit must survive the round trip. */
		m->hello.caps = PUMA_WIRE_CAP_SERVER | 0x80000000U;
		m->hello.page_size = PUMA_WIRE_PAGE_SIZE;
		m->hello.max_batch = PUMA_WIRE_MAX_BATCH;
		break;
	case PUMA_WIRE_PUT:
	case PUMA_WIRE_GET:
	case PUMA_WIRE_GET_RESPONSE:
	case PUMA_WIRE_INVALIDATE_PAGE:
	case PUMA_WIRE_RECLAIMED:
		m->batch.count = s->count;
		m->batch.hits = s->hits;
		if (s->type == PUMA_WIRE_GET_RESPONSE)
			m->batch.ref_seq = 0xfedcba9876543210ULL;
		for (i = 0; i < s->count; i++) {
			m->batch.keys[i].pool = 0x80000001U + i;
			m->batch.keys[i].ino = 0xa5a5a5a500000000ULL + i;
			m->batch.keys[i].index = 0xffffffff00000000ULL | i;
		}
		break;
	case PUMA_WIRE_INVALIDATE_INODE:
		m->inode.pool = 7;
		m->inode.ino = 0x8000000000000001ULL;
		break;
	case PUMA_WIRE_INVALIDATE_POOL:
		m->pool = 0xdeadbeef;
		break;
	case PUMA_WIRE_SUSPEND:
		m->suspend_ms = 3000;
		break;
	case PUMA_WIRE_PING:
	case PUMA_WIRE_PONG:
		m->cookie = 0x0102030405060708ULL;
		break;
	case PUMA_WIRE_ERROR:
		m->error.ref_seq = 42;
		m->error.code = PUMA_WIRE_ERR_SUSPENDED;
		m->error.ref_type = PUMA_WIRE_PUT;
		break;
	}
}

static struct wire_frame *wire_frame_make(struct kunit *test,
					  const struct wire_sample *s)
{
	struct wire_frame *f;
	size_t i;
	u32 x;
	int ret;

	f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f);
	wire_build(s, &f->msg);
	if (s->type == PUMA_WIRE_PUT)
		f->pages = s->count;
	else if (s->type == PUMA_WIRE_GET_RESPONSE)
		f->pages = hweight32(s->hits);

	f->data = kunit_kmalloc(test, f->pages * PUMA_WIRE_PAGE_SIZE + 1,
				GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f->data);
	for (i = 0, x = s->type; i < f->pages * PUMA_WIRE_PAGE_SIZE; i++) {
		x = x * 1103515245U + 12345U;
		f->data[i] = x >> 16;
	}

	f->buf = kunit_kmalloc(test, PUMA_WIRE_MAX_FRAME, GFP_KERNEL);
	f->out = kunit_kmalloc(test, PUMA_WIRE_MAX_FRAME, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f->buf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f->out);
	ret = puma_wire_encode_frame(&f->msg, f->data, f->buf,
				     PUMA_WIRE_MAX_FRAME);
	KUNIT_ASSERT_GT(test, ret, 0);
	f->len = ret;
	f->msg_len = f->len - f->pages * PUMA_WIRE_PAGE_SIZE;
	return f;
}

static struct wire_frame *wire_frame_of(struct kunit *test, u8 type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(wire_samples); i++)
		if (wire_samples[i].type == type)
			return wire_frame_make(test, &wire_samples[i]);
	KUNIT_FAIL_AND_ABORT(test, "no sample of type %u", type);
	return NULL;
}

/* Recompute the header CRC, so that a change reaches the field checks. */
static void wire_fix_crc(u8 *buf, size_t msg_len)
{
	__le32 crc_le;
	u32 crc;

	crc = puma_wire_crc32c(0, buf, OFF_HDR_CRC);
	crc = puma_wire_crc32c(crc, buf + PUMA_WIRE_HDR_LEN,
			       msg_len - PUMA_WIRE_HDR_LEN);
	crc_le = cpu_to_le32(crc);
	memcpy(buf + OFF_HDR_CRC, &crc_le, sizeof(crc_le));
}

static void wire_put(u8 *p, unsigned int size, u64 val)
{
	unsigned int i;

	for (i = 0; i < size; i++, val >>= 8)
		p[i] = val & 0xff;
}

static u64 wire_total(const struct puma_wire_stats *st)
{
	u64 sum = 0;
	int i;

	for (i = 0; i < PUMA_WIRE_REJ_NR; i++)
		sum += st->rejected[i];
	return sum;
}

/*
 * Store @val (little-endian, @size bytes) at @off of a valid frame with a
 * correct header CRC and check that the frame decoder refuses it with @err,
 * counting exactly one rejection, for reason @why.  The frame is restored.
 */
static void wire_expect_reject(struct kunit *test, struct wire_frame *f,
			       unsigned int off, unsigned int size, u64 val,
			       int err, enum puma_wire_reject why)
{
	struct puma_wire_stats st = { };
	const void *data;
	u8 save[8];

	memcpy(save, f->buf + off, size);
	wire_put(f->buf + off, size, val);
	wire_fix_crc(f->buf, f->msg_len);
	KUNIT_EXPECT_EQ_MSG(test, puma_wire_decode_frame(f->buf, f->len,
							 &f->dec, &data, &st),
			    err, "offset %u = %#llx", off, val);
	KUNIT_EXPECT_EQ_MSG(test, st.rejected[why], 1,
			    "offset %u = %#llx", off, val);
	KUNIT_EXPECT_EQ(test, wire_total(&st), 1);
	memcpy(f->buf + off, save, size);
	wire_fix_crc(f->buf, f->msg_len);
}

static void wire_expect_same(struct kunit *test, const struct puma_wire_msg *a,
			     const struct puma_wire_msg *b)
{
	u32 i;

	KUNIT_EXPECT_EQ(test, a->hdr.type, b->hdr.type);
	KUNIT_EXPECT_EQ(test, a->hdr.flags, b->hdr.flags);
	KUNIT_EXPECT_EQ(test, a->hdr.seq, b->hdr.seq);
	switch (a->hdr.type) {
	case PUMA_WIRE_HELLO:
		KUNIT_EXPECT_EQ(test, a->hello.node_id, b->hello.node_id);
		KUNIT_EXPECT_EQ(test, a->hello.caps, b->hello.caps);
		KUNIT_EXPECT_EQ(test, a->hello.page_size, b->hello.page_size);
		KUNIT_EXPECT_EQ(test, a->hello.max_batch, b->hello.max_batch);
		break;
	case PUMA_WIRE_PUT:
	case PUMA_WIRE_GET:
	case PUMA_WIRE_GET_RESPONSE:
	case PUMA_WIRE_INVALIDATE_PAGE:
	case PUMA_WIRE_RECLAIMED:
		KUNIT_EXPECT_EQ(test, a->batch.ref_seq, b->batch.ref_seq);
		KUNIT_EXPECT_EQ(test, a->batch.hits, b->batch.hits);
		KUNIT_ASSERT_EQ(test, a->batch.count, b->batch.count);
		for (i = 0; i < a->batch.count; i++) {
			KUNIT_EXPECT_EQ(test, a->batch.keys[i].pool,
					b->batch.keys[i].pool);
			KUNIT_EXPECT_EQ(test, a->batch.keys[i].ino,
					b->batch.keys[i].ino);
			KUNIT_EXPECT_EQ(test, a->batch.keys[i].index,
					b->batch.keys[i].index);
		}
		break;
	case PUMA_WIRE_INVALIDATE_INODE:
		KUNIT_EXPECT_EQ(test, a->inode.pool, b->inode.pool);
		KUNIT_EXPECT_EQ(test, a->inode.ino, b->inode.ino);
		break;
	case PUMA_WIRE_INVALIDATE_POOL:
		KUNIT_EXPECT_EQ(test, a->pool, b->pool);
		break;
	case PUMA_WIRE_SUSPEND:
		KUNIT_EXPECT_EQ(test, a->suspend_ms, b->suspend_ms);
		break;
	case PUMA_WIRE_PING:
	case PUMA_WIRE_PONG:
		KUNIT_EXPECT_EQ(test, a->cookie, b->cookie);
		break;
	case PUMA_WIRE_ERROR:
		KUNIT_EXPECT_EQ(test, a->error.ref_seq, b->error.ref_seq);
		KUNIT_EXPECT_EQ(test, a->error.code, b->error.code);
		KUNIT_EXPECT_EQ(test, a->error.ref_type, b->error.ref_type);
		break;
	}
}

/* Decode from an exact-size copy, so that KASAN sees any overread. */
static int wire_decode_exact(struct kunit *test, const u8 *buf, size_t len,
			     bool whole, struct puma_wire_msg *msg, u8 **copy)
{
	const void *data;
	int ret;

	*copy = kmemdup(buf, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, *copy);
	if (whole)
		ret = puma_wire_decode_frame(*copy, len, msg, &data, NULL);
	else
		ret = puma_wire_decode(*copy, len, msg, NULL);
	return ret;
}

static void puma_wire_crc32c_matches_check_value(struct kunit *test)
{
	/* The CRC-32C check value of RFC 3720 and every CRC catalogue. */
	KUNIT_EXPECT_EQ(test, puma_wire_crc32c(0, "123456789", 9), 0xe3069283);
	KUNIT_EXPECT_EQ(test, puma_wire_crc32c(0, "", 0), 0);
}

static void puma_wire_crc32c_chains_across_pieces(struct kunit *test)
{
	u32 crc = puma_wire_crc32c(0, "1234", 4);

	KUNIT_EXPECT_EQ(test, puma_wire_crc32c(crc, "56789", 5), 0xe3069283);
}

static void puma_wire_encode_frame_round_trips(struct kunit *test)
{
	const struct wire_sample *s = test->param_value;
	struct wire_frame *f = wire_frame_make(test, s);
	const void *data;
	int ret;

	memset(&f->dec, 0xa5, sizeof(f->dec));
	ret = puma_wire_decode_frame(f->buf, f->len, &f->dec, &data, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	wire_expect_same(test, &f->msg, &f->dec);
	KUNIT_EXPECT_EQ(test, f->dec.hdr.nr_pages, f->pages);
	KUNIT_EXPECT_EQ(test, f->dec.hdr.body_len,
			f->msg_len - PUMA_WIRE_HDR_LEN);
	if (f->pages) {
		KUNIT_EXPECT_PTR_EQ(test, data,
				    (const void *)(f->buf + f->msg_len));
		KUNIT_EXPECT_MEMEQ(test, data, f->data,
				   f->pages * PUMA_WIRE_PAGE_SIZE);
	} else {
		KUNIT_EXPECT_NULL(test, data);
	}

	ret = puma_wire_encode_frame(&f->dec, data, f->out,
				     PUMA_WIRE_MAX_FRAME);
	KUNIT_ASSERT_EQ(test, ret, (int)f->len);
	KUNIT_EXPECT_MEMEQ(test, f->out, f->buf, f->len);
}

static void puma_wire_decode_handles_streamed_frame(struct kunit *test)
{
	const struct wire_sample *s = test->param_value;
	struct wire_frame *f = wire_frame_make(test, s);
	struct puma_wire_hdr hdr;
	u32 crc = 0, i;

	/* What a stream transport does: header, body, then page by page. */
	KUNIT_ASSERT_EQ(test, puma_wire_decode_header(f->buf, PUMA_WIRE_HDR_LEN,
						      &hdr, NULL), 0);
	KUNIT_EXPECT_EQ(test, PUMA_WIRE_HDR_LEN + hdr.body_len, f->msg_len);
	KUNIT_EXPECT_EQ(test, hdr.nr_pages, f->pages);
	KUNIT_ASSERT_EQ(test, puma_wire_decode(f->buf, f->msg_len, &f->dec,
					       NULL), 0);
	wire_expect_same(test, &f->msg, &f->dec);
	for (i = 0; i < hdr.nr_pages; i++)
		crc = puma_wire_crc32c(crc, f->buf + f->msg_len +
				       i * PUMA_WIRE_PAGE_SIZE,
				       PUMA_WIRE_PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, puma_wire_check_data(&hdr, crc, NULL), 0);

	/* encode() with the caller's data CRC gives the frame's prefix. */
	f->msg.hdr.data_crc = crc;
	KUNIT_ASSERT_EQ(test, puma_wire_encode(&f->msg, f->out,
					       PUMA_WIRE_MAX_MSG),
			(int)f->msg_len);
	KUNIT_EXPECT_MEMEQ(test, f->out, f->buf, f->msg_len);
}

static void puma_wire_encode_rejects_short_buffer(struct kunit *test)
{
	const struct wire_sample *s = test->param_value;
	struct wire_frame *f = wire_frame_make(test, s);
	size_t size;

	memset(f->out, 0x5a, PUMA_WIRE_MAX_FRAME);
	for (size = 0; size < f->len; size++) {
		if (size < f->msg_len)
			KUNIT_EXPECT_EQ(test, puma_wire_encode(&f->msg, f->out,
							       size),
					-ENOSPC);
		KUNIT_EXPECT_EQ(test, puma_wire_encode_frame(&f->msg, f->data,
							     f->out, size),
				-ENOSPC);
	}
	/* Nothing was written on the way. */
	KUNIT_EXPECT_NULL(test, memchr_inv(f->out, 0x5a, PUMA_WIRE_MAX_FRAME));
}

static void puma_wire_decode_rejects_truncation(struct kunit *test)
{
	const struct wire_sample *s = test->param_value;
	struct wire_frame *f = wire_frame_make(test, s);
	struct puma_wire_hdr hdr;
	const void *data;
	size_t t;
	u8 *copy;
	int ret;

	for (t = 0; t < f->len; t++) {
		if (t <= f->msg_len + PUMA_WIRE_PAGE_SIZE) {
			ret = wire_decode_exact(test, f->buf, t, true, &f->dec,
						&copy);
			kfree(copy);
		} else {
			/* Refused on length alone: spare O(n^2) copies. */
			ret = puma_wire_decode_frame(f->buf, t, &f->dec, &data,
						     NULL);
		}
		KUNIT_EXPECT_EQ_MSG(test, ret, -EMSGSIZE, "frame of %zu", t);
		if (t < f->msg_len)
			KUNIT_EXPECT_EQ_MSG(test, puma_wire_decode(f->buf, t,
								   &f->dec,
								   NULL),
					    -EMSGSIZE, "message of %zu", t);
		if (t < PUMA_WIRE_HDR_LEN)
			KUNIT_EXPECT_EQ_MSG(test,
					    puma_wire_decode_header(f->buf, t,
								    &hdr, NULL),
					    -EMSGSIZE, "header of %zu", t);
	}
}

static void puma_wire_decode_rejects_trailing_bytes(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_PUT);
	const void *data;

	KUNIT_EXPECT_EQ(test, puma_wire_decode_frame(f->buf, f->len + 1,
						     &f->dec, &data, NULL),
			-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, puma_wire_decode(f->buf, f->msg_len + 1,
					       &f->dec, NULL),
			-EMSGSIZE);
}

/*
 * Every value of every header and body byte.  Raw, the change must be
 * refused: CRC32C detects every error burst of up to 32 bits.
 */
static void puma_wire_decode_rejects_byte_corruption(struct kunit *test)
{
	const struct wire_sample *s = test->param_value;
	struct wire_frame *f = wire_frame_make(test, s);
	bool whole = f->pages <= 3;
	size_t len = whole ? f->len : f->msg_len;
	unsigned int v;
	size_t i;
	u8 *copy;

	for (i = 0; i < f->msg_len; i++) {
		for (v = 1; v < 256; v++) {
			f->buf[i] ^= v;
			KUNIT_EXPECT_LT_MSG(test,
					    wire_decode_exact(test, f->buf, len,
							      whole, &f->dec,
							      &copy),
					    0, "byte %zu ^ %#x", i, v);
			kfree(copy);
			f->buf[i] ^= v;
		}
	}
}

/*
 * Every value of every header and body byte, with the header CRC made
 * valid again: each field check is then on its own.  The message must be
 * refused, or decode to one that encodes back to the very same bytes.
 */
static void puma_wire_decode_reencodes_accepted_corruption(struct kunit *test)
{
	const struct wire_sample *s = test->param_value;
	struct wire_frame *f = wire_frame_make(test, s);
	bool whole = f->pages <= 3;
	size_t len = whole ? f->len : f->msg_len;
	unsigned int v, accepted = 0, refused = 0;
	const void *data;
	size_t i;
	u8 *copy;
	int ret;

	for (i = 0; i < f->msg_len; i++) {
		if (i >= OFF_HDR_CRC && i < PUMA_WIRE_HDR_LEN)
			continue;
		for (v = 1; v < 256; v++) {
			f->buf[i] ^= v;
			wire_fix_crc(f->buf, f->msg_len);
			ret = wire_decode_exact(test, f->buf, len, whole,
						&f->dec, &copy);
			if (ret) {
				refused++;
			} else {
				accepted++;
				data = copy + f->msg_len;
				ret = whole ?
				      puma_wire_encode_frame(&f->dec, data,
							     f->out, len) :
				      puma_wire_encode(&f->dec, f->out, len);
				KUNIT_EXPECT_EQ_MSG(test, ret, (int)len,
						    "byte %zu ^ %#x", i, v);
				KUNIT_EXPECT_MEMEQ_MSG(test, f->out, copy, len,
						       "byte %zu ^ %#x", i, v);
			}
			kfree(copy);
			f->buf[i] ^= v;
			wire_fix_crc(f->buf, f->msg_len);
		}
	}
	/* Both outcomes happen: the checks are neither absent nor blanket. */
	KUNIT_EXPECT_GT(test, refused, 0);
	if (s->type != PUMA_WIRE_RESUME)
		KUNIT_EXPECT_GT(test, accepted, 0);
	kunit_info(test, "%u accepted and re-encoded, %u refused\n",
		   accepted, refused);
}

static void puma_wire_decode_frame_rejects_data_corruption(struct kunit *test)
{
	const struct wire_sample *s = test->param_value;
	struct wire_frame *f = wire_frame_make(test, s);
	struct puma_wire_stats st = { };
	const void *data;
	size_t i, off;

	if (!f->pages)
		kunit_skip(test, "no page data");
	for (i = f->msg_len; i < f->len; i++) {
		off = (i - f->msg_len) % PUMA_WIRE_PAGE_SIZE;
		/* All of the first page, both ends of the others. */
		if (i - f->msg_len >= PUMA_WIRE_PAGE_SIZE && off &&
		    off != PUMA_WIRE_PAGE_SIZE - 1)
			continue;
		f->buf[i] ^= 0x01;
		KUNIT_EXPECT_EQ(test, puma_wire_decode_frame(f->buf, f->len,
							     &f->dec, &data,
							     &st),
				-EBADMSG);
		f->buf[i] ^= 0xff;
		KUNIT_EXPECT_EQ(test, puma_wire_decode_frame(f->buf, f->len,
							     &f->dec, &data,
							     &st),
				-EBADMSG);
		f->buf[i] ^= 0xfe;
	}
	KUNIT_EXPECT_EQ(test, st.rejected[PUMA_WIRE_REJ_DATA_CRC],
			wire_total(&st));
	KUNIT_EXPECT_EQ(test, puma_wire_decode_frame(f->buf, f->len, &f->dec,
						     &data, NULL), 0);
}

static void puma_wire_decode_header_rejects_short_buffer(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_PING);
	struct puma_wire_stats st = { };
	struct puma_wire_hdr hdr;

	KUNIT_EXPECT_EQ(test, puma_wire_decode_header(f->buf,
						      PUMA_WIRE_HDR_LEN - 1,
						      &hdr, &st),
			-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, st.rejected[PUMA_WIRE_REJ_LENGTH], 1);
	/* More than a header is fine: a stream buffer may hold more. */
	KUNIT_EXPECT_EQ(test, puma_wire_decode_header(f->buf, f->len, &hdr,
						      &st), 0);
}

static void puma_wire_decode_header_rejects_bad_magic(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_PING);

	wire_expect_reject(test, f, OFF_MAGIC, 4, 0, -EBADMSG,
			   PUMA_WIRE_REJ_MAGIC);
	wire_expect_reject(test, f, OFF_MAGIC, 1, 'p', -EBADMSG,
			   PUMA_WIRE_REJ_MAGIC);
}

static void puma_wire_decode_header_rejects_wrong_version(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_PING);

	wire_expect_reject(test, f, OFF_VERSION, 1, 0, -EPROTO,
			   PUMA_WIRE_REJ_VERSION);
	wire_expect_reject(test, f, OFF_VERSION, 1, PUMA_WIRE_VERSION + 1,
			   -EPROTO, PUMA_WIRE_REJ_VERSION);
}

static void puma_wire_decode_header_rejects_unknown_type(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_PING);

	wire_expect_reject(test, f, OFF_TYPE, 1, 0, -EBADMSG,
			   PUMA_WIRE_REJ_TYPE);
	wire_expect_reject(test, f, OFF_TYPE, 1, PUMA_WIRE_TYPE_MAX + 1,
			   -EBADMSG, PUMA_WIRE_REJ_TYPE);
	wire_expect_reject(test, f, OFF_TYPE, 1, 0xff, -EBADMSG,
			   PUMA_WIRE_REJ_TYPE);
}

static void puma_wire_decode_header_rejects_unknown_flags(struct kunit *test)
{
	struct wire_frame *put = wire_frame_of(test, PUMA_WIRE_PUT);
	struct wire_frame *get = wire_frame_of(test, PUMA_WIRE_GET);
	unsigned int bit;

	/* EXCLUSIVE is a GET flag only. */
	wire_expect_reject(test, put, OFF_FLAGS, 2, PUMA_WIRE_F_EXCLUSIVE,
			   -EBADMSG, PUMA_WIRE_REJ_FLAGS);
	for (bit = 1; bit < 16; bit++)
		wire_expect_reject(test, get, OFF_FLAGS, 2,
				   PUMA_WIRE_F_EXCLUSIVE | BIT(bit), -EBADMSG,
				   PUMA_WIRE_REJ_FLAGS);
}

static void puma_wire_decode_header_rejects_nonzero_reserved(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_PING);

	wire_expect_reject(test, f, OFF_RESERVED, 2, 1, -EBADMSG,
			   PUMA_WIRE_REJ_RESERVED);
	wire_expect_reject(test, f, OFF_RESERVED, 2, 0x8000, -EBADMSG,
			   PUMA_WIRE_REJ_RESERVED);
}

static void puma_wire_decode_header_rejects_oversize_body(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_GET);

	/* A 33-key batch, and absurd lengths. */
	wire_expect_reject(test, f, OFF_BODY_LEN, 4,
			   PUMA_WIRE_MAX_BODY + PUMA_WIRE_KEY_LEN, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, f, OFF_BODY_LEN, 4, 0x80000000, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, f, OFF_BODY_LEN, 4, 0xffffffff, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
}

static void puma_wire_decode_header_rejects_bad_body_len(struct kunit *test)
{
	struct wire_frame *get = wire_frame_of(test, PUMA_WIRE_GET);
	struct wire_frame *ping = wire_frame_of(test, PUMA_WIRE_PING);

	/* Not a whole number of keys, or no key at all. */
	wire_expect_reject(test, get, OFF_BODY_LEN, 4,
			   PUMA_WIRE_BATCH_LEN + PUMA_WIRE_KEY_LEN + 1,
			   -EMSGSIZE, PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, get, OFF_BODY_LEN, 4, PUMA_WIRE_BATCH_LEN - 1,
			   -EMSGSIZE, PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, get, OFF_BODY_LEN, 4, PUMA_WIRE_BATCH_LEN,
			   -EMSGSIZE, PUMA_WIRE_REJ_COUNT);
	/* Fixed-size bodies have one length only. */
	wire_expect_reject(test, ping, OFF_BODY_LEN, 4, 0, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, ping, OFF_BODY_LEN, 4, 16, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
}

static void puma_wire_decode_header_rejects_bad_page_count(struct kunit *test)
{
	struct wire_frame *put = wire_frame_of(test, PUMA_WIRE_PUT);
	struct wire_frame *get = wire_frame_of(test, PUMA_WIRE_GET);
	struct wire_frame *resp = wire_frame_of(test, PUMA_WIRE_GET_RESPONSE);
	struct wire_frame *ping = wire_frame_of(test, PUMA_WIRE_PING);

	KUNIT_ASSERT_EQ(test, put->msg.batch.count, 1);
	wire_expect_reject(test, put, OFF_NR_PAGES, 2, 0, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, put, OFF_NR_PAGES, 2, 2, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, put, OFF_NR_PAGES, 2, 0xffff, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, get, OFF_NR_PAGES, 2, 1, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, ping, OFF_NR_PAGES, 2, 1, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
	/* More pages than keys. */
	KUNIT_ASSERT_EQ(test, resp->msg.batch.count, 3);
	wire_expect_reject(test, resp, OFF_NR_PAGES, 2, 4, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
}

static void puma_wire_decode_header_rejects_stray_data_crc(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_GET);

	wire_expect_reject(test, f, OFF_DATA_CRC, 4, 1, -EBADMSG,
			   PUMA_WIRE_REJ_DATA_CRC);
}

static void puma_wire_decode_rejects_bad_crc(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_GET);
	struct puma_wire_stats st = { };

	f->buf[OFF_HDR_CRC] ^= 1;
	KUNIT_EXPECT_EQ(test, puma_wire_decode(f->buf, f->msg_len, &f->dec,
					       &st), -EBADMSG);
	f->buf[OFF_HDR_CRC] ^= 1;
	/* A body change is a CRC fault first. */
	f->buf[f->msg_len - 1] ^= 0x80;
	KUNIT_EXPECT_EQ(test, puma_wire_decode(f->buf, f->msg_len, &f->dec,
					       &st), -EBADMSG);
	KUNIT_EXPECT_EQ(test, st.rejected[PUMA_WIRE_REJ_CRC], 2);
	KUNIT_EXPECT_EQ(test, wire_total(&st), 2);
}

static void puma_wire_decode_rejects_count_out_of_range(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_PUT);

	wire_expect_reject(test, f, OFF_COUNT, 2, 0, -EMSGSIZE,
			   PUMA_WIRE_REJ_COUNT);
	wire_expect_reject(test, f, OFF_COUNT, 2, PUMA_WIRE_MAX_BATCH + 1,
			   -EMSGSIZE, PUMA_WIRE_REJ_COUNT);
	wire_expect_reject(test, f, OFF_COUNT, 2, 0xffff, -EMSGSIZE,
			   PUMA_WIRE_REJ_COUNT);
}

static void puma_wire_decode_rejects_count_body_len_mismatch(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_INVALIDATE_PAGE);

	KUNIT_ASSERT_EQ(test, f->msg.batch.count, 2);
	wire_expect_reject(test, f, OFF_COUNT, 2, 1, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, f, OFF_COUNT, 2, 3, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
}

static void puma_wire_decode_rejects_hits_beyond_count(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_GET_RESPONSE);

	/* Three keys, hits 0b101, two pages: move one hit past the keys. */
	KUNIT_ASSERT_EQ(test, f->msg.batch.count, 3);
	wire_expect_reject(test, f, OFF_HITS, 4, 0x9, -EBADMSG,
			   PUMA_WIRE_REJ_FIELD);
	wire_expect_reject(test, f, OFF_HITS, 4, 0x80000001, -EBADMSG,
			   PUMA_WIRE_REJ_FIELD);
}

static void puma_wire_decode_rejects_hits_not_matching_pages(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_GET_RESPONSE);

	KUNIT_ASSERT_EQ(test, f->pages, 2);
	wire_expect_reject(test, f, OFF_HITS, 4, 0x1, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, f, OFF_HITS, 4, 0x7, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
	wire_expect_reject(test, f, OFF_HITS, 4, 0, -EMSGSIZE,
			   PUMA_WIRE_REJ_LENGTH);
}

static void puma_wire_decode_rejects_nonzero_reserved_body(struct kunit *test)
{
	struct wire_frame *put = wire_frame_of(test, PUMA_WIRE_PUT);
	struct wire_frame *hello = wire_frame_of(test, PUMA_WIRE_HELLO);
	struct wire_frame *inode = wire_frame_of(test,
						 PUMA_WIRE_INVALIDATE_INODE);
	struct wire_frame *pool = wire_frame_of(test,
						PUMA_WIRE_INVALIDATE_POOL);
	struct wire_frame *susp = wire_frame_of(test, PUMA_WIRE_SUSPEND);
	struct wire_frame *err = wire_frame_of(test, PUMA_WIRE_ERROR);
	int i;

	wire_expect_reject(test, put, OFF_BATCH_RSVD, 2, 1, -EBADMSG,
			   PUMA_WIRE_REJ_RESERVED);
	wire_expect_reject(test, put, OFF_KEY0 + OFF_KEY_RSVD, 4, 1, -EBADMSG,
			   PUMA_WIRE_REJ_RESERVED);
	/* ref_seq and hits belong to GET_RESPONSE only. */
	wire_expect_reject(test, put, OFF_REF_SEQ, 8, 1, -EBADMSG,
			   PUMA_WIRE_REJ_RESERVED);
	wire_expect_reject(test, put, OFF_HITS, 4, 1, -EBADMSG,
			   PUMA_WIRE_REJ_RESERVED);
	for (i = 18; i < 24; i++)
		wire_expect_reject(test, hello, OFF_BODY + i, 1, 1, -EBADMSG,
				   PUMA_WIRE_REJ_RESERVED);
	wire_expect_reject(test, inode, OFF_BODY + 4, 4, 1, -EBADMSG,
			   PUMA_WIRE_REJ_RESERVED);
	wire_expect_reject(test, pool, OFF_BODY + 4, 4, 1, -EBADMSG,
			   PUMA_WIRE_REJ_RESERVED);
	wire_expect_reject(test, susp, OFF_BODY + 4, 4, 1, -EBADMSG,
			   PUMA_WIRE_REJ_RESERVED);
	wire_expect_reject(test, err, OFF_BODY + 11, 1, 1, -EBADMSG,
			   PUMA_WIRE_REJ_RESERVED);
	wire_expect_reject(test, err, OFF_BODY + 12, 4, 1, -EBADMSG,
			   PUMA_WIRE_REJ_RESERVED);
}

static void puma_wire_decode_rejects_unsupported_page_size(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_HELLO);

	wire_expect_reject(test, f, OFF_BODY + 12, 4, 0, -EPROTO,
			   PUMA_WIRE_REJ_VERSION);
	wire_expect_reject(test, f, OFF_BODY + 12, 4, 65536, -EPROTO,
			   PUMA_WIRE_REJ_VERSION);
}

static void puma_wire_decode_rejects_bad_max_batch(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_HELLO);

	wire_expect_reject(test, f, OFF_BODY + 16, 2, 0, -EBADMSG,
			   PUMA_WIRE_REJ_FIELD);
	wire_expect_reject(test, f, OFF_BODY + 16, 2, PUMA_WIRE_MAX_BATCH + 1,
			   -EBADMSG, PUMA_WIRE_REJ_FIELD);
}

static void puma_wire_decode_rejects_unknown_error_code(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_ERROR);

	wire_expect_reject(test, f, OFF_BODY + 8, 2, 0, -EBADMSG,
			   PUMA_WIRE_REJ_FIELD);
	wire_expect_reject(test, f, OFF_BODY + 8, 2, PUMA_WIRE_ERR_MAX + 1,
			   -EBADMSG, PUMA_WIRE_REJ_FIELD);
	/* The refused message's type: 0 (unknown) or a real one. */
	wire_expect_reject(test, f, OFF_BODY + 10, 1, PUMA_WIRE_TYPE_MAX + 1,
			   -EBADMSG, PUMA_WIRE_REJ_FIELD);
}

static void puma_wire_check_data_rejects_mismatch(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_PUT);
	struct puma_wire_stats st = { };
	u32 crc = puma_wire_crc32c(0, f->data, PUMA_WIRE_PAGE_SIZE);

	KUNIT_ASSERT_EQ(test, puma_wire_decode(f->buf, f->msg_len, &f->dec,
					       &st), 0);
	KUNIT_EXPECT_EQ(test, puma_wire_check_data(&f->dec.hdr, crc, &st), 0);
	KUNIT_EXPECT_EQ(test, puma_wire_check_data(&f->dec.hdr, ~crc, &st),
			-EBADMSG);
	KUNIT_EXPECT_EQ(test, st.rejected[PUMA_WIRE_REJ_DATA_CRC], 1);
	KUNIT_EXPECT_EQ(test, wire_total(&st), 1);
}

static void puma_wire_encode_rejects_invalid_message(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_GET);
	struct puma_wire_msg *m = &f->msg;
	u8 *out = f->out;

	KUNIT_ASSERT_GT(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG), 0);

	m->batch.count = 0;
	KUNIT_EXPECT_EQ(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG),
			-EINVAL);
	m->batch.count = PUMA_WIRE_MAX_BATCH + 1;
	KUNIT_EXPECT_EQ(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG),
			-EINVAL);
	m->batch.count = 1;

	m->hdr.flags = 0x8000;
	KUNIT_EXPECT_EQ(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG),
			-EINVAL);
	m->hdr.flags = 0;

	/* No pages, so the data CRC can only be that of nothing. */
	m->hdr.data_crc = 1;
	KUNIT_EXPECT_EQ(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG),
			-EINVAL);
	m->hdr.data_crc = 0;

	m->batch.hits = 1;
	KUNIT_EXPECT_EQ(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG),
			-EINVAL);
	m->hdr.type = PUMA_WIRE_GET_RESPONSE;
	m->batch.hits = 2;
	KUNIT_EXPECT_EQ(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG),
			-EINVAL);
	m->batch.hits = 1;
	KUNIT_EXPECT_GT(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG), 0);
	/* Pages are due, so the frame encoder needs them. */
	KUNIT_EXPECT_EQ(test, puma_wire_encode_frame(m, NULL, out,
						     PUMA_WIRE_MAX_FRAME),
			-EINVAL);

	m->hdr.type = 0;
	KUNIT_EXPECT_EQ(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG),
			-EINVAL);
	m->hdr.type = PUMA_WIRE_TYPE_MAX + 1;
	KUNIT_EXPECT_EQ(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG),
			-EINVAL);

	memset(m, 0, sizeof(*m));
	m->hdr.type = PUMA_WIRE_HELLO;
	m->hello.page_size = PUMA_WIRE_PAGE_SIZE;
	m->hello.max_batch = PUMA_WIRE_MAX_BATCH + 1;
	KUNIT_EXPECT_EQ(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG),
			-EINVAL);

	memset(m, 0, sizeof(*m));
	m->hdr.type = PUMA_WIRE_INVALIDATE_INODE;
	m->inode.index = 1;
	KUNIT_EXPECT_EQ(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG),
			-EINVAL);

	memset(m, 0, sizeof(*m));
	m->hdr.type = PUMA_WIRE_ERROR;
	KUNIT_EXPECT_EQ(test, puma_wire_encode(m, out, PUMA_WIRE_MAX_MSG),
			-EINVAL);
}

static void puma_wire_decode_counts_rejections_by_reason(struct kunit *test)
{
	struct wire_frame *f = wire_frame_of(test, PUMA_WIRE_PING);
	struct puma_wire_stats st = { };
	const void *data;
	int i;

	for (i = 0; i < 3; i++)
		puma_wire_decode(f->buf, f->msg_len - 1, &f->dec, &st);
	f->buf[OFF_MAGIC] ^= 1;
	puma_wire_decode(f->buf, f->msg_len, &f->dec, &st);
	/* NULL stats are allowed. */
	KUNIT_EXPECT_EQ(test, puma_wire_decode(f->buf, f->msg_len, &f->dec,
					       NULL), -EBADMSG);
	f->buf[OFF_MAGIC] ^= 1;
	/* A valid message counts nothing. */
	KUNIT_EXPECT_EQ(test, puma_wire_decode_frame(f->buf, f->len, &f->dec,
						     &data, &st), 0);

	KUNIT_EXPECT_EQ(test, st.rejected[PUMA_WIRE_REJ_LENGTH], 3);
	KUNIT_EXPECT_EQ(test, st.rejected[PUMA_WIRE_REJ_MAGIC], 1);
	KUNIT_EXPECT_EQ(test, wire_total(&st), 4);
}

static void puma_wire_type_name_names_every_type(struct kunit *test)
{
	unsigned int t;

	for (t = PUMA_WIRE_HELLO; t <= PUMA_WIRE_TYPE_MAX; t++)
		KUNIT_EXPECT_STRNEQ(test, puma_wire_type_name(t), "UNKNOWN");
	KUNIT_EXPECT_STREQ(test, puma_wire_type_name(PUMA_WIRE_GET_RESPONSE),
			   "GET_RESPONSE");
	KUNIT_EXPECT_STREQ(test, puma_wire_type_name(0), "UNKNOWN");
	KUNIT_EXPECT_STREQ(test, puma_wire_type_name(PUMA_WIRE_TYPE_MAX + 1),
			   "UNKNOWN");
}

static struct kunit_case puma_wire_cases[] = {
	KUNIT_CASE(puma_wire_crc32c_matches_check_value),
	KUNIT_CASE(puma_wire_crc32c_chains_across_pieces),
	KUNIT_CASE_PARAM(puma_wire_encode_frame_round_trips,
			 wire_sample_gen_params),
	KUNIT_CASE_PARAM(puma_wire_decode_handles_streamed_frame,
			 wire_sample_gen_params),
	KUNIT_CASE_PARAM(puma_wire_encode_rejects_short_buffer,
			 wire_sample_gen_params),
	KUNIT_CASE_PARAM(puma_wire_decode_rejects_truncation,
			 wire_sample_gen_params),
	KUNIT_CASE(puma_wire_decode_rejects_trailing_bytes),
	/* Every value of every byte: seconds per sample under KASAN. */
	KUNIT_CASE_PARAM_ATTR(puma_wire_decode_rejects_byte_corruption,
			      wire_sample_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE_PARAM_ATTR(puma_wire_decode_reencodes_accepted_corruption,
			      wire_sample_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE_PARAM(puma_wire_decode_frame_rejects_data_corruption,
			 wire_sample_gen_params),
	KUNIT_CASE(puma_wire_decode_header_rejects_short_buffer),
	KUNIT_CASE(puma_wire_decode_header_rejects_bad_magic),
	KUNIT_CASE(puma_wire_decode_header_rejects_wrong_version),
	KUNIT_CASE(puma_wire_decode_header_rejects_unknown_type),
	KUNIT_CASE(puma_wire_decode_header_rejects_unknown_flags),
	KUNIT_CASE(puma_wire_decode_header_rejects_nonzero_reserved),
	KUNIT_CASE(puma_wire_decode_header_rejects_oversize_body),
	KUNIT_CASE(puma_wire_decode_header_rejects_bad_body_len),
	KUNIT_CASE(puma_wire_decode_header_rejects_bad_page_count),
	KUNIT_CASE(puma_wire_decode_header_rejects_stray_data_crc),
	KUNIT_CASE(puma_wire_decode_rejects_bad_crc),
	KUNIT_CASE(puma_wire_decode_rejects_count_out_of_range),
	KUNIT_CASE(puma_wire_decode_rejects_count_body_len_mismatch),
	KUNIT_CASE(puma_wire_decode_rejects_hits_beyond_count),
	KUNIT_CASE(puma_wire_decode_rejects_hits_not_matching_pages),
	KUNIT_CASE(puma_wire_decode_rejects_nonzero_reserved_body),
	KUNIT_CASE(puma_wire_decode_rejects_unsupported_page_size),
	KUNIT_CASE(puma_wire_decode_rejects_bad_max_batch),
	KUNIT_CASE(puma_wire_decode_rejects_unknown_error_code),
	KUNIT_CASE(puma_wire_check_data_rejects_mismatch),
	KUNIT_CASE(puma_wire_encode_rejects_invalid_message),
	KUNIT_CASE(puma_wire_decode_counts_rejections_by_reason),
	KUNIT_CASE(puma_wire_type_name_names_every_type),
	{}
};

static struct kunit_suite puma_wire_suite = {
	.name = "puma_wire",
	.test_cases = puma_wire_cases,
};

kunit_test_suite(puma_wire_suite);

MODULE_DESCRIPTION("KUnit tests for the PUMA wire protocol codec");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
