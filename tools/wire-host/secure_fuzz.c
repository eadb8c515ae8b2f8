// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the PUMA secure channel parsers
 * (lib/secure_codec.c): "make secure_fuzz", then
 * "./secure_fuzz -dict=secure_fuzz.dict" (the top-level "make fuzz" does).
 *
 * The first input byte picks what the rest is parsed as: one of the three
 * handshake messages, a frame header alone (what a stream transport reads
 * first) or a whole frame.  Whatever the parser accepts must encode back
 * to the very same bytes and stay within the bounds it promises; the
 * sanitizers catch any read outside the input, which is copied to a buffer
 * of its exact length.  There is no MAC or tag to guess: those are the
 * session's step, after parsing, and the kernel's crypto.
 */

#include <stdlib.h>

#include "wire_shim.h"
#include <puma/secure.h>

int LLVMFuzzerTestOneInput(const u8 *buf, size_t len);

static void fuzz_hs(const u8 *p, size_t len, u8 type)
{
	u8 out[PUMA_SEC_HS_MAX_LEN];
	struct puma_sec_caps agreed, one, other;
	enum puma_sec_reject why = PUMA_SEC_REJ_NR;
	struct puma_sec_hs hs;
	int ret;

	if (puma_sec_hs_parse(p, len, type, &hs, &why)) {
		if (why >= PUMA_SEC_REJ_NR)
			abort();
		return;
	}
	ret = puma_sec_hs_encode(&hs, out, sizeof(out));
	if (ret != (int)len || memcmp(out, p, len))
		abort();
	if (type == PUMA_SEC_CLIENT_FINISH)
		return;
	/* Accepted capabilities are valid and negotiate symmetrically. */
	if (puma_sec_caps_check(&hs.caps))
		abort();
	ret = puma_sec_caps_negotiate(&hs.caps, &hs.caps, &agreed);
	if (ret || puma_sec_caps_check(&agreed))
		abort();
	agreed.modes = PUMA_SEC_MODE_AUTH;
	agreed.min_version = 1;
	/* Compared whole below: no stale padding. */
	memset(&one, 0, sizeof(one));
	memset(&other, 0, sizeof(other));
	ret = puma_sec_caps_negotiate(&hs.caps, &agreed, &one);
	if (ret != puma_sec_caps_negotiate(&agreed, &hs.caps, &other) ||
	    (!ret && memcmp(&one, &other, sizeof(one))))
		abort();
}

static void fuzz_frame(const u8 *p, size_t len, bool whole)
{
	u8 out[PUMA_SEC_FRAME_HDR_LEN];
	enum puma_sec_reject why = PUMA_SEC_REJ_NR;
	struct puma_sec_frame_hdr hdr;
	int ret;

	if (whole) {
		ret = puma_sec_frame_parse(p, len, &hdr, &why);
		if (!ret && len != PUMA_SEC_FRAME_OVERHEAD + hdr.len)
			abort();
	} else {
		ret = puma_sec_frame_hdr_parse(p, len, &hdr, &why);
		if (ret >= 0 && ret != (int)(PUMA_SEC_FRAME_OVERHEAD + hdr.len))
			abort();
	}
	if (ret < 0) {
		if (why >= PUMA_SEC_REJ_NR)
			abort();
		return;
	}
	if (hdr.len > PUMA_SEC_MAX_PAYLOAD || !hdr.type ||
	    hdr.type > PUMA_SEC_FRAME_TYPE_MAX)
		abort();
	puma_sec_frame_hdr_encode(&hdr, out);
	if (memcmp(out, p, sizeof(out)))
		abort();
}

int LLVMFuzzerTestOneInput(const u8 *buf, size_t len)
{
	u8 *copy;
	u8 what;

	if (!len)
		return 0;
	what = buf[0] % 5;
	buf++;
	len--;
	copy = malloc(len ? len : 1);
	if (!copy)
		return 0;
	memcpy(copy, buf, len);
	switch (what) {
	case 0:
		fuzz_hs(copy, len, PUMA_SEC_CLIENT_HELLO);
		break;
	case 1:
		fuzz_hs(copy, len, PUMA_SEC_SERVER_HELLO);
		break;
	case 2:
		fuzz_hs(copy, len, PUMA_SEC_CLIENT_FINISH);
		break;
	case 3:
		fuzz_frame(copy, len, false);
		break;
	default:
		fuzz_frame(copy, len, true);
		break;
	}
	free(copy);
	return 0;
}
