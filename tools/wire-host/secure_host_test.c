// SPDX-License-Identifier: GPL-2.0-only
/*
 * User-space test of the PUMA secure channel codec (lib/secure_codec.c):
 * the handshake messages and frame headers, without the crypto, which is
 * the kernel's (kunit/secure_kunit.c tests it).  Built with ASan and
 * UBSan; buffers handed to the parsers are allocated at their exact
 * length, so any read past the end is caught.
 *
 * Round trip of every handshake type, every truncation, every value of
 * every byte (refused, or decoded to a message that re-encodes to the very
 * same bytes), hostile lengths, capability checks and negotiation, and
 * frame headers likewise.
 *
 * Exit status 0 if every check passed.
 */

#include <stdio.h>
#include <stdlib.h>

#include "wire_shim.h"
#include <puma/secure.h>

#include "host_check.h"

static const struct puma_sec_caps caps = {
	.page_size = 4096,
	.max_batch = 32,
	.min_version = 1,
	.max_version = 2,
	.modes = PUMA_SEC_MODES,
};

static unsigned long reencoded, refused;

static u8 *dup_exact(const u8 *buf, size_t len)
{
	u8 *p = malloc(len ? len : 1);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	memcpy(p, buf, len);
	return p;
}

static void build_hs(u8 type, struct puma_sec_hs *hs)
{
	unsigned int i;

	memset(hs, 0, sizeof(*hs));
	hs->type = type;
	hs->caps = caps;
	for (i = 0; i < PUMA_SEC_NONCE_LEN; i++)
		hs->nonce[i] = 0x40 + i;
	for (i = 0; i < PUMA_SEC_MAC_LEN; i++)
		hs->mac[i] = 0x80 + i;
}

static void test_hs(u8 type, size_t want_len)
{
	u8 buf[PUMA_SEC_HS_MAX_LEN + 1], again[PUMA_SEC_HS_MAX_LEN];
	enum puma_sec_reject why;
	struct puma_sec_hs hs, got;
	size_t len, i;
	unsigned int v;
	int ret;
	u8 *p;

	build_hs(type, &hs);
	ret = puma_sec_hs_encode(&hs, buf, sizeof(buf));
	CHECK(ret == (int)want_len, "type %u encodes to %d", type, ret);
	CHECK(puma_sec_hs_encode(&hs, buf, want_len - 1) == -ENOSPC,
	      "type %u into too small a buffer", type);

	p = dup_exact(buf, want_len);
	CHECK(!puma_sec_hs_parse(p, want_len, type, &got, &why),
	      "type %u parses", type);
	CHECK(got.type == type, "type %u", type);
	if (type != PUMA_SEC_CLIENT_FINISH) {
		CHECK(!memcmp(&got.caps, &hs.caps, sizeof(hs.caps)),
		      "type %u caps", type);
		CHECK(!memcmp(got.nonce, hs.nonce, sizeof(hs.nonce)),
		      "type %u nonce", type);
	}
	if (type != PUMA_SEC_CLIENT_HELLO)
		CHECK(!memcmp(got.mac, hs.mac, sizeof(hs.mac)),
		      "type %u mac", type);
	free(p);

	/* Every truncation, and a byte too many. */
	for (len = 0; len < want_len; len++) {
		p = dup_exact(buf, len);
		ret = puma_sec_hs_parse(p, len, type, &got, &why);
		CHECK(ret == -EMSGSIZE && why == PUMA_SEC_REJ_TRUNCATED,
		      "type %u cut to %zu: %d", type, len, ret);
		free(p);
	}
	buf[want_len] = 0;
	p = dup_exact(buf, want_len + 1);
	ret = puma_sec_hs_parse(p, want_len + 1, type, &got, &why);
	CHECK(ret == -EMSGSIZE && why == PUMA_SEC_REJ_OVERSIZED,
	      "type %u one byte long: %d", type, ret);
	free(p);

	/* Every value of every byte: refused, or the same bytes again. */
	for (i = 0; i < want_len; i++) {
		for (v = 0; v < 256; v++) {
			if (v == buf[i])
				continue;
			p = dup_exact(buf, want_len);
			p[i] = v;
			ret = puma_sec_hs_parse(p, want_len, type, &got, &why);
			if (ret) {
				refused++;
				CHECK(why < PUMA_SEC_REJ_NR, "reason %u", why);
			} else {
				reencoded++;
				CHECK(puma_sec_hs_encode(&got, again,
							 sizeof(again)) ==
				      (int)want_len &&
				      !memcmp(again, p, want_len),
				      "type %u byte %zu = %u re-encodes", type,
				      i, v);
			}
			free(p);
		}
	}

	/* Each message at any other step is out of order. */
	for (v = PUMA_SEC_CLIENT_HELLO; v <= PUMA_SEC_CLIENT_FINISH; v++) {
		if (v == type)
			continue;
		ret = puma_sec_hs_parse(buf, want_len, v, &got, &why);
		CHECK(ret == -EPROTO && why == PUMA_SEC_REJ_BAD_HANDSHAKE,
		      "type %u expected %u: %d", type, v, ret);
	}
}

static void test_hs_hostile(void)
{
	u8 buf[PUMA_SEC_HS_MAX_LEN + 64] = { 0 };
	enum puma_sec_reject why;
	struct puma_sec_hs hs;
	unsigned int body;
	int ret;

	build_hs(PUMA_SEC_CLIENT_HELLO, &hs);
	puma_sec_hs_encode(&hs, buf, sizeof(buf));
	/* Every body_len but the right one, with as many bytes there. */
	for (body = 0; body <= 0xffff; body++) {
		size_t len = PUMA_SEC_HS_HDR_LEN + body;

		if (body == PUMA_SEC_CLIENT_HELLO_LEN - PUMA_SEC_HS_HDR_LEN)
			continue;
		buf[6] = body & 0xff;
		buf[7] = body >> 8;
		ret = puma_sec_hs_parse(buf, len < sizeof(buf) ? len :
					sizeof(buf), PUMA_SEC_CLIENT_HELLO,
					&hs, &why);
		CHECK(ret < 0, "body_len %u accepted", body);
		if (body > PUMA_SEC_HS_MAX_LEN - PUMA_SEC_HS_HDR_LEN)
			CHECK(why == PUMA_SEC_REJ_OVERSIZED,
			      "body_len %u: %d", body, why);
		else
			CHECK(why == PUMA_SEC_REJ_MALFORMED,
			      "body_len %u: %d", body, why);
	}
	CHECK(puma_sec_hs_parse(buf, 0, PUMA_SEC_CLIENT_HELLO, &hs, &why) ==
	      -EMSGSIZE, "empty");
	hs.type = 0;
	CHECK(puma_sec_hs_encode(&hs, buf, sizeof(buf)) == -EINVAL, "type 0");
	hs.type = PUMA_SEC_CLIENT_FINISH + 1;
	CHECK(puma_sec_hs_encode(&hs, buf, sizeof(buf)) == -EINVAL, "type 4");
}

static void test_caps(void)
{
	struct puma_sec_caps a = caps, b = caps, ab, ba;
	unsigned int ps, mb, ma, mo;

	/* The results are compared whole: no stale padding. */
	memset(&ab, 0, sizeof(ab));
	memset(&ba, 0, sizeof(ba));
	CHECK(!puma_sec_caps_check(&caps), "caps valid");
	for (ps = 0; ps <= 2 * PUMA_SEC_PAGE_SIZE_MAX; ps += 512) {
		bool ok = ps >= PUMA_SEC_PAGE_SIZE_MIN &&
			  ps <= PUMA_SEC_PAGE_SIZE_MAX && !(ps & (ps - 1));

		a.page_size = ps;
		CHECK(!puma_sec_caps_check(&a) == ok, "page size %u", ps);
	}
	a = caps;
	a.max_batch = 0;
	CHECK(puma_sec_caps_check(&a) == -EINVAL, "max_batch 0");
	a.max_batch = PUMA_SEC_MAX_BATCH + 1;
	CHECK(puma_sec_caps_check(&a) == -EINVAL, "max_batch too big");
	a = caps;
	a.min_version = 3;
	CHECK(puma_sec_caps_check(&a) == -EINVAL, "min above max");
	a.min_version = 0;
	CHECK(puma_sec_caps_check(&a) == -EINVAL, "version 0");
	a = caps;
	a.modes = 0;
	CHECK(puma_sec_caps_check(&a) == -EINVAL, "no mode");
	a.modes = 0x04;
	CHECK(puma_sec_caps_check(&a) == -EINVAL, "unknown mode");

	/* Negotiation is symmetric, the minimum and the intersection. */
	for (ps = PUMA_SEC_PAGE_SIZE_MIN; ps <= PUMA_SEC_PAGE_SIZE_MAX;
	     ps <<= 1)
		for (mb = 1; mb <= PUMA_SEC_MAX_BATCH; mb = mb * 3 + 1)
			for (ma = 1; ma <= 4; ma++)
				for (mo = 1; mo <= PUMA_SEC_MODES; mo++) {
					int r1, r2;

					a = caps;
					a.page_size = ps;
					a.max_batch = mb;
					a.max_version = ma;
					a.modes = mo;
					b.min_version = 2;
					b.max_version = 3;
					r1 = puma_sec_caps_negotiate(&a, &b,
								     &ab);
					r2 = puma_sec_caps_negotiate(&b, &a,
								     &ba);
					CHECK(r1 == r2, "symmetric result");
					if (ma < 2) {
						CHECK(r1 == -EPROTONOSUPPORT,
						      "no common version");
						continue;
					}
					CHECK(!r1 && !memcmp(&ab, &ba,
							     sizeof(ab)),
					      "symmetric caps");
					CHECK(ab.page_size == 4096 &&
					      ab.max_batch == (mb < 32 ? mb :
							       32) &&
					      ab.max_version == (ma < 3 ? ma :
								 3),
					      "minimum");
					CHECK(ab.modes == (mo & PUMA_SEC_MODE_ENCRYPT ?
							   PUMA_SEC_MODE_ENCRYPT :
							   PUMA_SEC_MODE_AUTH),
					      "strongest common mode");
				}
}

static void test_frame_hdr(void)
{
	struct puma_sec_frame_hdr hdr = {
		.counter = 0x0102030405060708ULL,
		.len = 1000,
		.type = PUMA_SEC_FRAME_DATA,
		.flags = PUMA_SEC_F_CLEAR,
	}, got;
	u8 buf[PUMA_SEC_FRAME_HDR_LEN], again[PUMA_SEC_FRAME_HDR_LEN];
	enum puma_sec_reject why;
	size_t frame_len = PUMA_SEC_FRAME_OVERHEAD + hdr.len, len, i;
	unsigned int v;
	u8 *p, *frame;
	int ret;

	puma_sec_frame_hdr_encode(&hdr, buf);
	ret = puma_sec_frame_hdr_parse(buf, sizeof(buf), &got, &why);
	CHECK(ret == (int)frame_len, "frame length %d", ret);
	CHECK(!memcmp(&got, &hdr, sizeof(got)), "header round trip");

	for (len = 0; len < PUMA_SEC_FRAME_HDR_LEN; len++) {
		p = dup_exact(buf, len);
		ret = puma_sec_frame_hdr_parse(p, len, &got, &why);
		CHECK(ret == -EMSGSIZE && why == PUMA_SEC_REJ_TRUNCATED,
		      "header cut to %zu", len);
		free(p);
	}

	/* Whole frames: exact, one short, one long. */
	frame = calloc(1, frame_len + 1);
	memcpy(frame, buf, sizeof(buf));
	p = dup_exact(frame, frame_len);
	CHECK(!puma_sec_frame_parse(p, frame_len, &got, &why), "frame");
	free(p);
	p = dup_exact(frame, frame_len - 1);
	CHECK(puma_sec_frame_parse(p, frame_len - 1, &got, &why) ==
	      -EMSGSIZE && why == PUMA_SEC_REJ_TRUNCATED, "frame short");
	free(p);
	p = dup_exact(frame, frame_len + 1);
	CHECK(puma_sec_frame_parse(p, frame_len + 1, &got, &why) ==
	      -EMSGSIZE && why == PUMA_SEC_REJ_OVERSIZED, "frame long");
	free(p);
	free(frame);

	/* Every value of every header byte. */
	for (i = 0; i < sizeof(buf); i++) {
		for (v = 0; v < 256; v++) {
			if (v == buf[i])
				continue;
			p = dup_exact(buf, sizeof(buf));
			p[i] = v;
			ret = puma_sec_frame_hdr_parse(p, sizeof(buf), &got,
						       &why);
			if (ret < 0) {
				refused++;
				CHECK(why == PUMA_SEC_REJ_MALFORMED ||
				      why == PUMA_SEC_REJ_OVERSIZED,
				      "byte %zu = %u: reason %u", i, v, why);
			} else {
				reencoded++;
				CHECK(ret == (int)(PUMA_SEC_FRAME_OVERHEAD +
						   got.len) &&
				      got.len <= PUMA_SEC_MAX_PAYLOAD,
				      "byte %zu = %u: length %d", i, v, ret);
				puma_sec_frame_hdr_encode(&got, again);
				CHECK(!memcmp(again, p, sizeof(again)),
				      "byte %zu = %u re-encodes", i, v);
			}
			free(p);
		}
	}

	/* The largest payload passes, one more does not; CLOSE is empty. */
	hdr.flags = 0;
	hdr.len = PUMA_SEC_MAX_PAYLOAD;
	puma_sec_frame_hdr_encode(&hdr, buf);
	CHECK(puma_sec_frame_hdr_parse(buf, sizeof(buf), &got, &why) ==
	      (int)(PUMA_SEC_MAX_PAYLOAD + PUMA_SEC_FRAME_OVERHEAD), "max");
	hdr.len = PUMA_SEC_MAX_PAYLOAD + 1;
	puma_sec_frame_hdr_encode(&hdr, buf);
	CHECK(puma_sec_frame_hdr_parse(buf, sizeof(buf), &got, &why) ==
	      -EMSGSIZE && why == PUMA_SEC_REJ_OVERSIZED, "max + 1");
	hdr.len = 0xffffffffU;
	puma_sec_frame_hdr_encode(&hdr, buf);
	CHECK(puma_sec_frame_hdr_parse(buf, sizeof(buf), &got, &why) ==
	      -EMSGSIZE && why == PUMA_SEC_REJ_OVERSIZED, "len 2^32 - 1");
	hdr.type = PUMA_SEC_FRAME_CLOSE;
	hdr.len = 1;
	puma_sec_frame_hdr_encode(&hdr, buf);
	CHECK(puma_sec_frame_hdr_parse(buf, sizeof(buf), &got, &why) ==
	      -EBADMSG && why == PUMA_SEC_REJ_MALFORMED, "CLOSE with payload");
}

int main(void)
{
	unsigned int i;

	test_hs(PUMA_SEC_CLIENT_HELLO, PUMA_SEC_CLIENT_HELLO_LEN);
	test_hs(PUMA_SEC_SERVER_HELLO, PUMA_SEC_SERVER_HELLO_LEN);
	test_hs(PUMA_SEC_CLIENT_FINISH, PUMA_SEC_CLIENT_FINISH_LEN);
	test_hs_hostile();
	test_caps();
	test_frame_hdr();
	for (i = 0; i < PUMA_SEC_REJ_NR; i++)
		CHECK(strcmp(puma_sec_reject_name(i), "?"), "name of %u", i);
	CHECK(!strcmp(puma_sec_reject_name(PUMA_SEC_REJ_NR), "?"), "no name");
	/* Both outcomes must occur, or the corruption test proves nothing. */
	CHECK(reencoded > 0 && refused > 0, "corruption outcomes");
	printf("secure-host: corrupted: %lu refused, %lu re-encoded identically\n",
	       refused, reencoded);
	printf("secure-host: %lu checks, %lu failures\n", checks, failures);
	return failures ? 1 : 0;
}
