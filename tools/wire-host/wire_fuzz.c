// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the PUMA wire codec: "make fuzz", then
 * "./wire_fuzz -max_len=140000".  Any input must be refused or decode to a
 * message that encodes back to the very same bytes; the sanitizers catch
 * any read outside the input.
 *
 * The fuzzer could never guess a CRC32C, so both CRCs of the input are
 * made valid before decoding (when the lengths it states fit): the field
 * checks are what is being fuzzed.
 */

#include <stdlib.h>

#include "wire_shim.h"
#include <puma/wire.h>

static u8 out[PUMA_WIRE_MAX_FRAME];

static void fix_crcs(u8 *buf, size_t len)
{
	u32 body_len, msg_len, crc;

	if (len < PUMA_WIRE_HDR_LEN)
		return;
	memcpy(&body_len, buf + 16, 4);
	body_len = le32toh(body_len);
	if (body_len > len - PUMA_WIRE_HDR_LEN)
		return;
	msg_len = PUMA_WIRE_HDR_LEN + body_len;
	crc = htole32(puma_wire_crc32c(0, buf + msg_len, len - msg_len));
	memcpy(buf + 24, &crc, 4);
	crc = puma_wire_crc32c(0, buf, 28);
	crc = htole32(puma_wire_crc32c(crc, buf + PUMA_WIRE_HDR_LEN, body_len));
	memcpy(buf + 28, &crc, 4);
}

int LLVMFuzzerTestOneInput(const u8 *buf, size_t len);

int LLVMFuzzerTestOneInput(const u8 *buf, size_t len)
{
	struct puma_wire_msg msg;
	struct puma_wire_hdr hdr;
	const void *data;
	u8 *copy;
	int ret;

	/* The stream path reads the header alone first. */
	if (!puma_wire_decode_header(buf, len, &hdr, NULL) &&
	    len >= PUMA_WIRE_HDR_LEN + hdr.body_len)
		puma_wire_decode(buf, PUMA_WIRE_HDR_LEN + hdr.body_len, &msg,
				 NULL);

	/* An exact-size copy, so that ASan sees any overread. */
	copy = malloc(len ? len : 1);
	if (!copy)
		return 0;
	memcpy(copy, buf, len);
	fix_crcs(copy, len);
	if (!puma_wire_decode_frame(copy, len, &msg, &data, NULL)) {
		ret = puma_wire_encode_frame(&msg, data, out, sizeof(out));
		if (ret != (int)len || memcmp(out, copy, len))
			abort();
	}
	free(copy);
	return 0;
}
