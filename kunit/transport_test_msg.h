/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test messages for the transport suites: a head and pages whose contents
 * name the message and the page, so that a receive callback can check
 * order and content without KUnit calls (it runs on the transport's
 * context, not the test's).
 */
#ifndef _PUMA_KUNIT_TRANSPORT_TEST_MSG_H
#define _PUMA_KUNIT_TRANSPORT_TEST_MSG_H

#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/string.h>
#include <linux/types.h>

#include <puma/transport.h>

#define PTM_MAGIC	0x4d544d50	/* "PMTM" */

struct ptm_head {
	u32 magic;
	u32 seq;
	u32 nr_pages;
};

static inline u32 ptm_word(u32 seq, u32 idx, unsigned int i)
{
	return seq * 131 + idx * 7 + i;
}

static inline void ptm_fill_page(struct page *page, u32 seq, u32 idx)
{
	u32 *p = kmap_local_page(page);
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u32); i++)
		p[i] = ptm_word(seq, idx, i);
	kunmap_local(p);
}

static inline bool ptm_page_ok(struct page *page, u32 seq, u32 idx)
{
	u32 *p = kmap_local_page(page);
	bool ok = true;
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u32) && ok; i++)
		ok = p[i] == ptm_word(seq, idx, i);
	kunmap_local(p);
	return ok;
}

/* Message @seq with @nr_pages pages, or an ERR_PTR(). */
static inline struct puma_transport_msg *ptm_msg(u32 seq, u32 nr_pages,
						  gfp_t gfp)
{
	struct ptm_head head = { .magic = PTM_MAGIC, .seq = seq,
				 .nr_pages = nr_pages };
	struct puma_transport_msg *msg;
	u32 i;

	msg = puma_transport_msg_alloc(sizeof(head), nr_pages, gfp);
	if (IS_ERR(msg))
		return msg;
	memcpy(msg->head, &head, sizeof(head));
	for (i = 0; i < nr_pages; i++)
		ptm_fill_page(msg->pages[i], seq, i);
	return msg;
}

#endif /* _PUMA_KUNIT_TRANSPORT_TEST_MSG_H */
