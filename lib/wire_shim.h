/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Environment of the PUMA wire codec.
 *
 * lib/wire.c is built both into puma.ko and into user-space fuzzers and
 * tests (tools/wire-host/).  Everything it needs from its surroundings is
 * named here, so the codec itself contains no kernel-only call.
 */
#ifndef _PUMA_WIRE_SHIM_H
#define _PUMA_WIRE_SHIM_H

#ifdef __KERNEL__

#include <linux/bitops.h>
#include <linux/build_bug.h>
#include <linux/crc32c.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/byteorder.h>

/* crc32c() takes an unsigned int length; our buffers are far smaller. */
static inline u32 puma_wire_shim_crc32c(u32 crc, const void *p, size_t len)
{
	return crc32c(crc, p, len);
}

#else /* !__KERNEL__ */

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef uint16_t __le16;
typedef uint32_t __le32;
typedef uint64_t __le64;

#define __force
#define __packed __attribute__((__packed__))

#define le16_to_cpu(x) le16toh(x)
#define le32_to_cpu(x) le32toh(x)
#define le64_to_cpu(x) le64toh(x)
#define cpu_to_le16(x) htole16(x)
#define cpu_to_le32(x) htole32(x)
#define cpu_to_le64(x) htole64(x)

#define hweight32(x) ((unsigned int)__builtin_popcount(x))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* A declaration, so that the trailing semicolon stays valid ISO C. */
#define EXPORT_SYMBOL_NS_GPL(sym, ns) _Static_assert(1, #sym)

/* Raw CRC32C register update (Castagnoli, reflected 0x82f63b78). */
static inline u32 puma_wire_shim_crc32c(u32 crc, const void *p, size_t len)
{
	static u32 table[256];
	const u8 *b = p;
	u32 i, j, c;

	/* Built on first use; the user-space test programs are single-threaded. */
	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			c = i;
			for (j = 0; j < 8; j++)
				c = (c >> 1) ^ (c & 1 ? 0x82f63b78U : 0);
			table[i] = c;
		}
	}
	while (len--)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return crc;
}

#endif /* __KERNEL__ */

#endif /* _PUMA_WIRE_SHIM_H */
