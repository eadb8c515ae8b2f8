// SPDX-License-Identifier: GPL-2.0-only
/*
 * User-space test of the PUMA wire codec (lib/wire.c), built with ASan and
 * UBSan: round trip of every message type, every truncation, every
 * single-byte corruption, and targeted rejections.  Buffers handed to the
 * decoder are allocated at their exact length, so any read past the end
 * is caught by ASan.
 *
 * Exit status 0 if every check passed.
 */

#include <stdio.h>
#include <stdlib.h>

#include "wire_shim.h"
#include <puma/wire.h>

#include "host_check.h"

struct sample {
	const char *name;
	u8 type;
	u16 flags;
	u32 count;
	u32 hits;
};

static const struct sample samples[] = {
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

static void build(const struct sample *s, struct puma_wire_msg *m)
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

static u32 sample_pages(const struct sample *s)
{
	if (s->type == PUMA_WIRE_PUT)
		return s->count;
	if (s->type == PUMA_WIRE_GET_RESPONSE)
		return (u32)__builtin_popcount(s->hits);
	return 0;
}

static u8 *make_data(u32 pages, u32 seed)
{
	size_t len = (size_t)pages * PUMA_WIRE_PAGE_SIZE;
	u8 *d = malloc(len ? len : 1);
	u32 x = seed * 2654435761U + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245U + 12345U;
		d[i] = (u8)(x >> 16);
	}
	return d;
}

/* Compare the fields a type defines; decoded-only fields are skipped. */
static int msg_equal(const struct puma_wire_msg *a,
		     const struct puma_wire_msg *b)
{
	if (a->hdr.type != b->hdr.type || a->hdr.flags != b->hdr.flags ||
	    a->hdr.seq != b->hdr.seq)
		return 0;
	switch (a->hdr.type) {
	case PUMA_WIRE_HELLO:
		return a->hello.node_id == b->hello.node_id &&
		       a->hello.caps == b->hello.caps &&
		       a->hello.page_size == b->hello.page_size &&
		       a->hello.max_batch == b->hello.max_batch;
	case PUMA_WIRE_PUT:
	case PUMA_WIRE_GET:
	case PUMA_WIRE_GET_RESPONSE:
	case PUMA_WIRE_INVALIDATE_PAGE:
	case PUMA_WIRE_RECLAIMED:
		if (a->batch.count != b->batch.count ||
		    a->batch.hits != b->batch.hits ||
		    a->batch.ref_seq != b->batch.ref_seq)
			return 0;
		for (u32 i = 0; i < a->batch.count; i++)
			if (a->batch.keys[i].pool != b->batch.keys[i].pool ||
			    a->batch.keys[i].ino != b->batch.keys[i].ino ||
			    a->batch.keys[i].index != b->batch.keys[i].index)
				return 0;
		return 1;
	case PUMA_WIRE_INVALIDATE_INODE:
		return a->inode.pool == b->inode.pool &&
		       a->inode.ino == b->inode.ino;
	case PUMA_WIRE_INVALIDATE_POOL:
		return a->pool == b->pool;
	case PUMA_WIRE_SUSPEND:
		return a->suspend_ms == b->suspend_ms;
	case PUMA_WIRE_RESUME:
		return 1;
	case PUMA_WIRE_PING:
	case PUMA_WIRE_PONG:
		return a->cookie == b->cookie;
	case PUMA_WIRE_ERROR:
		return a->error.ref_seq == b->error.ref_seq &&
		       a->error.code == b->error.code &&
		       a->error.ref_type == b->error.ref_type;
	}
	return 0;
}

/* Recompute the header CRC, so a corruption reaches the field checks. */
static void fix_crc(u8 *buf, size_t msg_len)
{
	u32 crc = puma_wire_crc32c(0, buf, 28);

	crc = puma_wire_crc32c(crc, buf + PUMA_WIRE_HDR_LEN,
			       msg_len - PUMA_WIRE_HDR_LEN);
	crc = htole32(crc);
	memcpy(buf + 28, &crc, 4);
}

/* Decode from an exact-size copy so that ASan sees any overread. */
static int decode_exact(const u8 *buf, size_t len, struct puma_wire_msg *m,
			const void **data, const u8 **copy)
{
	u8 *c = malloc(len ? len : 1);
	int ret;

	memcpy(c, buf, len);
	ret = puma_wire_decode_frame(c, len, m, data, NULL);
	*copy = c;
	return ret;
}

/* Exact-size decode of a whole frame, or of its header and body only. */
static int corrupt_decode(const u8 *buf, size_t len, bool whole,
			  struct puma_wire_msg *m, const u8 **copy)
{
	const void *data;
	u8 *c;

	if (whole)
		return decode_exact(buf, len, m, &data, copy);
	c = malloc(len);
	memcpy(c, buf, len);
	*copy = c;
	return puma_wire_decode(c, len, m, NULL);
}

static u8 frame[PUMA_WIRE_MAX_FRAME], out[PUMA_WIRE_MAX_FRAME];

static unsigned long reencoded, refused;

/*
 * With the header CRC made valid again, a corrupted message must be
 * refused or decode to one that encodes back to the very same bytes.
 */
static void check_reencode(const struct sample *s, size_t i, int v,
			   size_t msg_len, size_t clen, bool whole)
{
	struct puma_wire_msg d;
	const u8 *copy;
	int ret;

	fix_crc(frame, msg_len);
	ret = corrupt_decode(frame, clen, whole, &d, &copy);
	if (ret) {
		refused++;
	} else {
		reencoded++;
		if (whole)
			ret = puma_wire_encode_frame(&d, copy + msg_len, out,
						     sizeof(out));
		else
			ret = puma_wire_encode(&d, out, sizeof(out));
		CHECK(ret == (int)clen && !memcmp(out, copy, clen),
		      "%s: byte %zu ^ %#x re-encodes differently", s->name, i,
		      v);
	}
	free((void *)copy);
}

static void test_crc(void)
{
	CHECK(puma_wire_crc32c(0, "123456789", 9) == 0xe3069283,
	      "CRC32C check value");
	CHECK(puma_wire_crc32c(puma_wire_crc32c(0, "1234", 4), "56789", 5) ==
	      0xe3069283, "CRC32C chaining");
	CHECK(puma_wire_crc32c(0, "", 0) == 0, "CRC32C of nothing");
}

static void test_sample(const struct sample *s)
{
	struct puma_wire_msg m, d;
	struct puma_wire_hdr h;
	u32 pages = sample_pages(s);
	size_t data_len = (size_t)pages * PUMA_WIRE_PAGE_SIZE;
	u8 *data = make_data(pages, s->type + s->count);
	const void *dp;
	const u8 *copy;
	size_t len, msg_len, clen, t, i;
	bool whole;
	u32 crc;
	int ret, v;

	build(s, &m);
	ret = puma_wire_encode_frame(&m, data, frame, sizeof(frame));
	CHECK(ret > 0, "%s: encode_frame %d", s->name, ret);
	if (ret <= 0)
		goto out;
	len = ret;
	msg_len = len - data_len;

	/* Round trip, frame form. */
	memset(&d, 0xa5, sizeof(d));
	ret = decode_exact(frame, len, &d, &dp, &copy);
	CHECK(ret == 0, "%s: decode_frame %d", s->name, ret);
	CHECK(msg_equal(&m, &d), "%s: round trip differs", s->name);
	CHECK(d.hdr.nr_pages == pages, "%s: nr_pages %u", s->name,
	      d.hdr.nr_pages);
	CHECK(d.hdr.body_len == msg_len - PUMA_WIRE_HDR_LEN, "%s: body_len",
	      s->name);
	CHECK(pages ? dp == copy + msg_len && !memcmp(dp, data, data_len) :
	      !dp, "%s: data pointer", s->name);
	free((void *)copy);

	/* Round trip, stream form: header, body, then page by page. */
	ret = puma_wire_decode_header(frame, PUMA_WIRE_HDR_LEN, &h, NULL);
	CHECK(ret == 0 && h.body_len + PUMA_WIRE_HDR_LEN == msg_len &&
	      h.nr_pages == pages, "%s: decode_header %d", s->name, ret);
	ret = puma_wire_decode(frame, msg_len, &d, NULL);
	CHECK(ret == 0 && msg_equal(&m, &d), "%s: decode %d", s->name, ret);
	for (crc = 0, i = 0; i < pages; i++)
		crc = puma_wire_crc32c(crc, frame + msg_len +
				       i * PUMA_WIRE_PAGE_SIZE,
				       PUMA_WIRE_PAGE_SIZE);
	CHECK(puma_wire_check_data(&d.hdr, crc, NULL) == 0, "%s: data crc",
	      s->name);
	m.hdr.data_crc = crc;
	ret = puma_wire_encode(&m, out, sizeof(out));
	CHECK(ret == (int)msg_len && !memcmp(out, frame, msg_len),
	      "%s: encode differs from encode_frame", s->name);

	/* Encoders never overflow: every short buffer is refused. */
	for (t = 0; t < len; t++) {
		if (t < msg_len)
			CHECK(puma_wire_encode(&m, out, t) == -ENOSPC,
			      "%s: encode into %zu", s->name, t);
		CHECK(puma_wire_encode_frame(&m, data, out, t) == -ENOSPC,
		      "%s: encode_frame into %zu", s->name, t);
	}

	/* Every truncation is rejected. */
	for (t = 0; t < len; t++) {
		if (t <= msg_len + PUMA_WIRE_PAGE_SIZE) {
			ret = decode_exact(frame, t, &d, &dp, &copy);
			free((void *)copy);
		} else {
			/* Rejected on length alone; spare the O(n^2) copies. */
			ret = puma_wire_decode_frame(frame, t, &d, &dp, NULL);
		}
		CHECK(ret < 0, "%s: truncation to %zu accepted", s->name, t);
		if (t < msg_len) {
			ret = puma_wire_decode(frame, t, &d, NULL);
			CHECK(ret == -EMSGSIZE, "%s: decode of %zu: %d",
			      s->name, t, ret);
		}
		if (t < PUMA_WIRE_HDR_LEN)
			CHECK(puma_wire_decode_header(frame, t, &h, NULL) ==
			      -EMSGSIZE, "%s: header of %zu", s->name, t);
	}
	/* A trailing byte is rejected too. */
	CHECK(puma_wire_decode_frame(frame, len + 1, &d, &dp, NULL) ==
	      -EMSGSIZE, "%s: trailing byte", s->name);

	/*
	 * Every single-byte corruption of header and body: raw, it must be
	 * rejected (CRC32C catches any error burst up to 32 bits); with the
	 * header CRC recomputed, it must be rejected or decode to a message
	 * that re-encodes to the very same bytes.  Frames with more than
	 * three pages are checked at message level (header and body), which
	 * is all the corruption can reach, to keep the run short.
	 */
	whole = pages <= 3;
	clen = whole ? len : msg_len;
	for (i = 0; i < msg_len; i++) {
		for (v = 1; v < 256; v++) {
			frame[i] ^= v;
			ret = corrupt_decode(frame, clen, whole, &d, &copy);
			free((void *)copy);
			CHECK(ret < 0, "%s: byte %zu ^ %#x accepted", s->name,
			      i, v);
			/* The CRC field itself cannot be "fixed". */
			if (i < 28 || i >= PUMA_WIRE_HDR_LEN)
				check_reencode(s, i, v, msg_len, clen, whole);
			/* Restore byte and CRC. */
			frame[i] ^= v;
			fix_crc(frame, msg_len);
		}
	}
	CHECK(puma_wire_decode_frame(frame, len, &d, &dp, NULL) == 0,
	      "%s: frame not restored", s->name);

	/*
	 * Page data: every byte of the first two pages and the first and last
	 * byte of every page, with three patterns (all 255 would cost
	 * 255 CRCs of the whole frame per byte for nothing: CRC32C detects
	 * every error burst up to 32 bits by construction).
	 */
	for (i = msg_len; i < len; i++) {
		size_t off = (i - msg_len) % PUMA_WIRE_PAGE_SIZE;
		static const u8 pat[] = { 0x01, 0x80, 0xff };

		if (i - msg_len >= 2 * PUMA_WIRE_PAGE_SIZE && off &&
		    off != PUMA_WIRE_PAGE_SIZE - 1)
			continue;
		for (v = 0; v < 3; v++) {
			frame[i] ^= pat[v];
			ret = puma_wire_decode_frame(frame, len, &d, &dp, NULL);
			CHECK(ret == -EBADMSG, "%s: data byte %zu ^ %#x: %d",
			      s->name, i, pat[v], ret);
			frame[i] ^= pat[v];
		}
	}
out:
	free(data);
}

/*
 * Set byte @off of the valid frame to @val, make the header CRC valid
 * again and check that the decoder refuses it with @err, counting one
 * rejection for @why.  The frame is restored.
 */
static void try_reject(size_t len, size_t msg_len, int off, u8 val, int err,
		       enum puma_wire_reject why)
{
	struct puma_wire_stats st = { };
	struct puma_wire_msg d;
	const void *dp;
	u8 save = frame[off];
	int ret;

	frame[off] = val;
	fix_crc(frame, msg_len);
	ret = puma_wire_decode_frame(frame, len, &d, &dp, &st);
	CHECK(ret == err && st.rejected[why] == 1, "offset %d = %#x: %d", off,
	      val, ret);
	frame[off] = save;
	fix_crc(frame, msg_len);
}

/* Single-byte changes to a 3-page PUT, with the header CRC made valid. */
static const struct {
	int off;
	u8 val;
	int err;
	enum puma_wire_reject why;
} rejects[] = {
	{ 0, 'X', -EBADMSG, PUMA_WIRE_REJ_MAGIC },
	{ 4, PUMA_WIRE_VERSION + 1, -EPROTO, PUMA_WIRE_REJ_VERSION },
	{ 5, 0, -EBADMSG, PUMA_WIRE_REJ_TYPE },
	{ 5, PUMA_WIRE_TYPE_MAX + 1, -EBADMSG, PUMA_WIRE_REJ_TYPE },
	{ 6, PUMA_WIRE_F_EXCLUSIVE, -EBADMSG, PUMA_WIRE_REJ_FLAGS },
	{ 7, 0x80, -EBADMSG, PUMA_WIRE_REJ_FLAGS },
	{ 19, 0x80, -EMSGSIZE, PUMA_WIRE_REJ_LENGTH },	/* body_len huge */
	{ 20, 4, -EMSGSIZE, PUMA_WIRE_REJ_LENGTH },	/* nr_pages != count */
	{ 22, 1, -EBADMSG, PUMA_WIRE_REJ_RESERVED },
	{ 24, 0, -EBADMSG, PUMA_WIRE_REJ_DATA_CRC },
	{ 32, 1, -EBADMSG, PUMA_WIRE_REJ_RESERVED },	/* ref_seq on PUT */
	{ 40, 0, -EMSGSIZE, PUMA_WIRE_REJ_COUNT },	/* count 0 */
	{ 40, 33, -EMSGSIZE, PUMA_WIRE_REJ_COUNT },	/* count 33 */
	{ 40, 2, -EMSGSIZE, PUMA_WIRE_REJ_LENGTH },	/* count vs body */
	{ 42, 1, -EBADMSG, PUMA_WIRE_REJ_RESERVED },
	{ 44, 1, -EBADMSG, PUMA_WIRE_REJ_RESERVED },	/* hits on PUT */
	{ 52, 1, -EBADMSG, PUMA_WIRE_REJ_RESERVED },	/* key reserved */
};

static void test_rejections(void)
{
	struct puma_wire_msg m;
	size_t i;
	struct sample put3 = { "put_3", PUMA_WIRE_PUT, 0, 3, 0 };
	u8 *data = make_data(3, 1);
	int len, msg_len;

	build(&put3, &m);
	len = puma_wire_encode_frame(&m, data, frame, sizeof(frame));
	msg_len = len - 3 * PUMA_WIRE_PAGE_SIZE;

	for (i = 0; i < ARRAY_SIZE(rejects); i++)
		try_reject(len, msg_len, rejects[i].off, rejects[i].val,
			   rejects[i].err, rejects[i].why);

	/* The encoder refuses what the decoder would. */
	m.batch.count = 0;
	CHECK(puma_wire_encode(&m, out, sizeof(out)) == -EINVAL, "count 0");
	m.batch.count = PUMA_WIRE_MAX_BATCH + 1;
	CHECK(puma_wire_encode(&m, out, sizeof(out)) == -EINVAL, "count 33");
	m.batch.count = 3;
	m.hdr.flags = PUMA_WIRE_F_EXCLUSIVE;
	CHECK(puma_wire_encode(&m, out, sizeof(out)) == -EINVAL, "flags");
	m.hdr.flags = 0;
	m.hdr.data_crc = 0;
	m.hdr.type = PUMA_WIRE_GET;
	CHECK(puma_wire_encode(&m, out, sizeof(out)) > 0, "GET");
	m.hdr.data_crc = 1;
	CHECK(puma_wire_encode(&m, out, sizeof(out)) == -EINVAL,
	      "data_crc without data");
	m.hdr.data_crc = 0;
	m.hdr.type = PUMA_WIRE_GET_RESPONSE;
	m.batch.hits = 0x8;
	CHECK(puma_wire_encode(&m, out, sizeof(out)) == -EINVAL,
	      "hit beyond count");
	m.hdr.type = 0;
	CHECK(puma_wire_encode(&m, out, sizeof(out)) == -EINVAL, "type 0");
	CHECK(puma_wire_encode_frame(&m, NULL, out, sizeof(out)) == -EINVAL,
	      "frame type 0");
	free(data);
}

int main(void)
{
	size_t i;

	test_crc();
	for (i = 0; i < ARRAY_SIZE(samples); i++)
		test_sample(&samples[i]);
	test_rejections();
	/* Both outcomes must occur, or the corruption test proves nothing. */
	CHECK(reencoded > 0 && refused > 0, "corruption outcomes");
	printf("wire-host: corrupted with valid CRC: %lu refused, %lu re-encoded identically\n",
	       refused, reencoded);
	printf("wire-host: %lu checks, %lu failures\n", checks, failures);
	return failures ? 1 : 0;
}
