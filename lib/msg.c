// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA messages: the wire codec's messages in transport messages, with
 * their integrity checks (include/puma/msg.h).
 *
 * Lock ordering: none; the counters are atomic.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/string.h>

#include <puma/msg.h>
#include <puma/transport.h>

/* CRC32C of the pages' data, one after the other. */
static u32 puma_msg_data_crc(struct page *const *pages, unsigned int nr)
{
	unsigned int i;
	u32 crc = 0;
	void *p;

	for (i = 0; i < nr; i++) {
		p = kmap_local_page(pages[i]);
		crc = puma_wire_crc32c(crc, p, PAGE_SIZE);
		kunmap_local(p);
	}
	return crc;
}

/**
 * puma_msg_build() - Encode a message into a new transport message.
 * @conn: The connection it will be sent on, or %NULL for none known.
 * @wm: The message; its page count and data CRC are set here from @pages
 *	(the CRC is 0 if @conn authenticates the data).
 * @pages: Its pages, whose references move to the transport message.
 * @nr_pages: How many.
 * @gfp: Allocation flags of the transport message.
 * @stats: Counters to add to, or %NULL.
 *
 * Context: Process context if @gfp may sleep, else any context.
 * Return: The transport message, or an ERR_PTR(): -ENOMEM, or the codec's
 * error for a message it cannot encode.  On failure the pages are left
 * to the caller.
 */
struct puma_transport_msg *puma_msg_build(const struct puma_transport_conn *conn,
					  struct puma_wire_msg *wm,
					  struct page **pages,
					  unsigned int nr_pages, gfp_t gfp,
					  struct puma_msg_stats *stats)
{
	u8 head[PUMA_WIRE_MAX_MSG];
	struct puma_transport_msg *msg;
	unsigned int i;
	int len;

	wm->hdr.nr_pages = nr_pages;
	wm->hdr.data_crc = nr_pages &&
			   !(conn && puma_transport_conn_authenticated(conn)) ?
			   puma_msg_data_crc(pages, nr_pages) : 0;
	len = puma_wire_encode(wm, head, sizeof(head));
	if (len < 0)
		return ERR_PTR(len);
	msg = puma_transport_msg_alloc(len, 0, gfp);
	if (IS_ERR(msg))
		return msg;
	memcpy(msg->head, head, len);
	for (i = 0; i < nr_pages; i++)
		puma_transport_msg_add_page(msg, pages[i]);
	if (stats)
		atomic64_add(len + (u64)nr_pages * PAGE_SIZE,
			     &stats->bytes_sent);
	return msg;
}
EXPORT_SYMBOL_NS_GPL(puma_msg_build, PUMA);

/**
 * puma_msg_parse() - Decode a received message and check its data.
 * @msg: The transport message.
 * @wm: Where to decode it.
 * @stats: Counters to add to, or %NULL.
 *
 * A message whose pages the transport had no memory for
 * (%PUMA_TRANSPORT_MSG_PAGES_DROPPED) stands without them: its receiver
 * checks the flag when its type carries pages, and a GET_RESPONSE so
 * delivered is all misses.  The data CRC is not checked in a message the
 * link authenticated (%PUMA_TRANSPORT_MSG_AUTHENTICATED).
 *
 * Context: Process context (the transport's receive callback).
 * Return: 0, or a negative errno for a message to drop, logged at a
 * limited rate.
 */
int puma_msg_parse(const struct puma_transport_msg *msg,
		   struct puma_wire_msg *wm, struct puma_msg_stats *stats)
{
	unsigned int i;
	int err;

	if (stats)
		atomic64_add(msg->head_len + (u64)msg->nr_pages * PAGE_SIZE,
			     &stats->bytes_received);
	err = puma_wire_decode(msg->head, msg->head_len, wm, NULL);
	if (err)
		goto bad;
	err = -EBADMSG;
	if (msg->flags & PUMA_TRANSPORT_MSG_PAGES_DROPPED) {
		if (!wm->hdr.nr_pages || msg->nr_pages)
			goto bad;
		if (stats)
			atomic64_inc(&stats->pages_dropped);
		if (wm->hdr.type == PUMA_WIRE_GET_RESPONSE)
			wm->batch.hits = 0;
		return 0;
	}
	if (wm->hdr.nr_pages != msg->nr_pages)
		goto bad;
	for (i = 0; i < msg->nr_pages; i++)
		if (!msg->pages[i])
			goto bad;
	if (msg->flags & PUMA_TRANSPORT_MSG_AUTHENTICATED)
		return 0;
	err = puma_wire_check_data(&wm->hdr,
				   puma_msg_data_crc(msg->pages, msg->nr_pages),
				   NULL);
	if (err)
		goto bad;
	return 0;
bad:
	if (stats)
		atomic64_inc(&stats->bad);
	pr_warn_ratelimited("dropping a malformed message: %d\n", err);
	return err;
}
EXPORT_SYMBOL_NS_GPL(puma_msg_parse, PUMA);
