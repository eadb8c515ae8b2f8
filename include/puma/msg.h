/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PUMA messages: a wire protocol message (<puma/wire.h>) in a transport
 * message (<puma/transport.h>), built and parsed with its integrity
 * checks.  What a sender and a receiver of PUMA's protocol share: the
 * client, the server and the benchmarks.
 *
 * PUMA's own: the protocol between PUMA clients and servers.  The header
 * and body carry CRC32C, and the page data its own CRC32C unless the
 * link authenticates it (puma_transport_conn_authenticated(): the TCP
 * transport's secure channel), in which case the data CRC is 0 and not
 * checked.
 */
#ifndef _PUMA_MSG_H
#define _PUMA_MSG_H

#include <linux/atomic.h>
#include <linux/gfp_types.h>
#include <linux/types.h>

#include <puma/wire.h>

struct page;
struct puma_transport_conn;
struct puma_transport_msg;

/**
 * struct puma_msg_stats - What one user of the message layer sent and got.
 * @bytes_sent: Header, body and page bytes of the messages built.
 * @bytes_received: The same of the messages parsed.
 * @bad: Messages parsed and refused: malformed, or their data's CRC wrong.
 * @pages_dropped: Messages the transport delivered without their pages,
 *	for want of memory (%PUMA_TRANSPORT_MSG_PAGES_DROPPED).
 */
struct puma_msg_stats {
	atomic64_t bytes_sent;
	atomic64_t bytes_received;
	atomic64_t bad;
	atomic64_t pages_dropped;
};

struct puma_transport_msg *puma_msg_build(const struct puma_transport_conn *conn,
					  struct puma_wire_msg *wm,
					  struct page **pages,
					  unsigned int nr_pages, gfp_t gfp,
					  struct puma_msg_stats *stats);
int puma_msg_parse(const struct puma_transport_msg *msg,
		   struct puma_wire_msg *wm, struct puma_msg_stats *stats);

#endif /* _PUMA_MSG_H */
