/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What transports/tcp_frame.h takes from the kernel's <linux/build_bug.h>
 * and <linux/kconfig.h>, for its user-space build in tools/hostile: the
 * frame layout is then the transport's own, not a copy.  Include
 * lib/wire_shim.h first (u8 to u64).
 */
#ifndef _HOSTILE_SHIM_BUILD_BUG_H
#define _HOSTILE_SHIM_BUILD_BUG_H

#include <assert.h>

/* The kernel's static_assert(), whose message is optional. */
#undef static_assert
#define static_assert(expr, ...) __hostile_static_assert(expr, ##__VA_ARGS__, #expr)
#define __hostile_static_assert(expr, msg, ...) _Static_assert(expr, msg)

/* No kernel configuration here: the KUnit-only declarations drop out. */
#define IS_ENABLED(option) 0

#endif /* _HOSTILE_SHIM_BUILD_BUG_H */
