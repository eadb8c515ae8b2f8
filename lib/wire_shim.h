/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Environment of the PUMA wire codec.
 *
 * lib/wire.c and lib/secure_codec.c are built both into puma.ko and into
 * user-space fuzzers and tests (tools/wire-host/).  Everything they need
 * from their surroundings is named here, so the codecs themselves contain
 * no kernel-only call.
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
#include <kunit/visibility.h>

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
#include <string.h>
#include <linux/types.h>	/* UAPI: __u8 to __u64, __le16 to __le64 */

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#define __force

#define le16_to_cpu(x) le16toh((__force __u16)(x))
#define le32_to_cpu(x) le32toh((__force __u32)(x))
#define le64_to_cpu(x) le64toh((__force __u64)(x))
#define cpu_to_le16(x) ((__force __le16)htole16(x))
#define cpu_to_le32(x) ((__force __le32)htole32(x))
#define cpu_to_le64(x) ((__force __le64)htole64(x))

#define hweight32(x) ((unsigned int)__builtin_popcount(x))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* A declaration, so that the trailing semicolon stays valid ISO C. */
#define EXPORT_SYMBOL_NS_GPL(sym, ns) static_assert(1, #sym " in " #ns)
/* The same for the symbols exported to the KUnit suites only. */
#define EXPORT_SYMBOL_IF_KUNIT(sym) static_assert(1, #sym " for KUnit")

/* Raw CRC32C register update (Castagnoli, reflected 0x82f63b78). */
static inline u32 puma_wire_shim_crc32c(u32 crc, const void *p, size_t len)
{
	static u32 table[256];
	const u8 *b = p;
	u32 i, j, c;

	/* Built on first use: the user-space programs are single-threaded. */
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
