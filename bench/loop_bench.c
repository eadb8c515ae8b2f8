// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-page cost of PUMA's put and get paths over the loopback transport.
 *
 * The same steps as the backend, with the library's parts: a put copies
 * the page into a staged page (the reclaim hook's work), then a batch of
 * 32 is encoded with its data CRC, sent, checked on arrival and hosted in
 * a remote-LRU owner without a copy.  A get encodes a one-key GET, the
 * server takes the hosted folio and answers with it, and the client checks
 * the CRC and copies the data into its own page.  Times are per page, best
 * of three rounds, beside a plain page copy measured in the same run.
 *
 * It asserts that every page arrived and came back intact; the figures go
 * to the log.  Run with "make bench" (UML, no debug options).
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include <puma/msg.h>
#include <puma/rlru.h>
#include <puma/transport.h>
#include <puma/wire.h>

#define LB_PAGES	8192
#define LB_ROUNDS	3
#define LB_BATCH	PUMA_WIRE_MAX_BATCH

struct lb {
	struct kunit *test;
	struct puma_transport *t;
	struct puma_transport_listener *l;
	struct puma_transport_conn *client;
	struct puma_transport_conn *server;
	struct puma_rlru *rlru;
	struct puma_wire_msg *srv_wm;
	struct puma_wire_msg *cli_wm;
	struct page *dst;
	atomic_t stored;
	atomic_t errors;
	struct completion stored_all;
	struct completion answered;
	bool hit;
};

static int lb_send(struct puma_transport_conn *conn,
		   struct puma_wire_msg *wm, struct page **pages, unsigned int n)
{
	struct puma_transport_msg *msg;

	msg = puma_msg_build(conn, wm, pages, n, GFP_KERNEL, NULL);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	return puma_transport_send(conn, msg, 0);
}

static bool lb_parse(struct puma_transport_msg *msg, struct puma_wire_msg *wm)
{
	return !puma_msg_parse(msg, wm, NULL);
}

static void lb_server_recv(struct puma_transport_conn *conn,
			   struct puma_transport_msg *msg)
{
	struct lb *lb = conn->priv;
	struct puma_wire_msg *wm = lb->srv_wm;
	struct puma_key key;
	struct page *page = NULL;
	struct folio *folio;
	unsigned int i;

	if (!lb_parse(msg, wm)) {
		atomic_inc(&lb->errors);
		goto out;
	}
	if (wm->hdr.type == PUMA_WIRE_PUT) {
		for (i = 0; i < wm->batch.count; i++) {
			key = (struct puma_key){ 1, wm->batch.keys[i].ino,
						       wm->batch.keys[i].index };
			folio = page_folio(msg->pages[i]);
			msg->pages[i] = NULL;
			if (puma_rlru_insert(lb->rlru, &key, folio, GFP_KERNEL))
				atomic_inc(&lb->errors);
			folio_put(folio);
		}
		if (atomic_add_return(wm->batch.count, &lb->stored) >= LB_PAGES)
			complete(&lb->stored_all);
		goto out;
	}
	/* GET: answer with the hosted folio, taken exclusively. */
	key = (struct puma_key){ 1, wm->batch.keys[0].ino,
				       wm->batch.keys[0].index };
	folio = puma_rlru_take(lb->rlru, &key);
	wm->hdr = (struct puma_wire_hdr){ .type = PUMA_WIRE_GET_RESPONSE };
	wm->batch.ref_seq = 1;
	wm->batch.hits = folio ? 1 : 0;
	if (folio)
		page = folio_page(folio, 0);
	if (lb_send(conn, wm, &page, folio ? 1 : 0))
		atomic_inc(&lb->errors);
out:
	puma_transport_msg_free(msg);
}

static void lb_client_recv(struct puma_transport_conn *conn,
			   struct puma_transport_msg *msg)
{
	struct lb *lb = conn->priv;

	lb->hit = false;
	if (lb_parse(msg, lb->cli_wm) && lb->cli_wm->batch.hits == 1) {
		copy_highpage(lb->dst, msg->pages[0]);
		lb->hit = true;
	}
	puma_transport_msg_free(msg);
	complete(&lb->answered);
}

static void lb_disconnected(struct puma_transport_conn *conn, int reason)
{
}

static const struct puma_transport_conn_ops lb_server_ops = {
	.recv = lb_server_recv,
	.disconnected = lb_disconnected,
};

static const struct puma_transport_conn_ops lb_client_ops = {
	.recv = lb_client_recv,
	.disconnected = lb_disconnected,
};

static int lb_accept(struct puma_transport_listener *l,
		     struct puma_transport_conn *conn)
{
	struct lb *lb = l->priv;

	lb->server = conn;
	return puma_transport_conn_set_ops(conn, &lb_server_ops, lb);
}

static const struct puma_transport_listener_ops lb_listener_ops = {
	.accept = lb_accept,
};

/* Nanoseconds per page since @start, for @n pages. */
static u64 lb_per_page(ktime_t start, unsigned long n)
{
	return div_u64(ktime_to_ns(ktime_sub(ktime_get(), start)), n);
}

static void lb_fill(struct page *page, unsigned long i)
{
	u64 *p = kmap_local_page(page);
	unsigned int w;

	for (w = 0; w < PAGE_SIZE / sizeof(u64); w++)
		p[w] = i * 512 + w;
	kunmap_local(p);
}

static bool lb_check(struct page *page, unsigned long i)
{
	u64 *p = kmap_local_page(page);
	bool ok = p[0] == i * 512 && p[511] == i * 512 + 511;

	kunmap_local(p);
	return ok;
}

static void puma_loop_bench_put_get(struct kunit *test)
{
	u64 copy_ns = U64_MAX, put_ns = U64_MAX, get_ns = U64_MAX, ns;
	struct page *pages[LB_BATCH], *src, *stage;
	unsigned long i, bad = 0;
	struct lb *lb;
	ktime_t start;
	int round, n;

	lb = kunit_kzalloc(test, sizeof(*lb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, lb);
	lb->srv_wm = kunit_kzalloc(test, sizeof(*lb->srv_wm), GFP_KERNEL);
	lb->cli_wm = kunit_kzalloc(test, sizeof(*lb->cli_wm), GFP_KERNEL);
	src = alloc_page(GFP_KERNEL);
	lb->dst = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, lb->srv_wm && lb->cli_wm && src && lb->dst);
	lb->t = puma_transport_get("loop");
	KUNIT_ASSERT_FALSE(test, IS_ERR(lb->t));
	lb->l = puma_transport_listen(lb->t, "bench", &lb_listener_ops, lb);
	KUNIT_ASSERT_FALSE(test, IS_ERR(lb->l));
	lb->client = puma_transport_connect(lb->t, "bench", &lb_client_ops, lb);
	KUNIT_ASSERT_FALSE(test, IS_ERR(lb->client));

	for (round = 0; round < LB_ROUNDS; round++) {
		lb->rlru = puma_rlru_create(NULL, lb);
		KUNIT_ASSERT_FALSE(test, IS_ERR(lb->rlru));
		atomic_set(&lb->stored, 0);
		init_completion(&lb->stored_all);

		/* Baseline: what a put must do at least, one page copy. */
		stage = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, stage);
		start = ktime_get();
		for (i = 0; i < LB_PAGES; i++)
			copy_highpage(stage, src);
		copy_ns = min(copy_ns, lb_per_page(start, LB_PAGES));
		__free_page(stage);

		/* Put: stage a copy, batch, encode, send, host on arrival. */
		start = ktime_get();
		for (i = 0; i < LB_PAGES; i += LB_BATCH) {
			struct puma_wire_msg *wm = lb->cli_wm;

			memset(wm, 0, sizeof(*wm));
			wm->hdr.type = PUMA_WIRE_PUT;
			for (n = 0; n < LB_BATCH; n++) {
				pages[n] = alloc_page(GFP_KERNEL);
				KUNIT_ASSERT_NOT_NULL(test, pages[n]);
				lb_fill(src, i + n);
				copy_highpage(pages[n], src);
				wm->batch.keys[n] = (struct puma_key){
					.pool = 1, .ino = 7, .index = i + n };
			}
			wm->batch.count = LB_BATCH;
			wm->hdr.nr_pages = LB_BATCH;
			KUNIT_ASSERT_EQ(test, lb_send(lb->client, wm, pages,
						      LB_BATCH), 0);
		}
		KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&lb->stored_all,
								  60 * HZ), 0);
		put_ns = min(put_ns, lb_per_page(start, LB_PAGES));

		/* Get: one round trip per page, as a read miss does. */
		start = ktime_get();
		for (i = 0; i < LB_PAGES; i++) {
			struct puma_wire_msg *wm = lb->cli_wm;

			memset(wm, 0, sizeof(*wm));
			wm->hdr.type = PUMA_WIRE_GET;
			wm->hdr.seq = i + 1;
			wm->hdr.flags = PUMA_WIRE_F_EXCLUSIVE;
			wm->batch.count = 1;
			wm->batch.keys[0] = (struct puma_key){
				.pool = 1, .ino = 7, .index = i };
			init_completion(&lb->answered);
			KUNIT_ASSERT_EQ(test, lb_send(lb->client, wm, NULL, 0), 0);
			KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&lb->answered,
									  10 * HZ), 0);
			bad += !lb->hit || !lb_check(lb->dst, i);
		}
		get_ns = min(get_ns, lb_per_page(start, LB_PAGES));
		KUNIT_EXPECT_EQ(test, puma_rlru_count(lb->rlru), 0UL);
		puma_rlru_destroy(lb->rlru);
	}
	KUNIT_EXPECT_EQ(test, bad, 0UL);
	KUNIT_EXPECT_EQ(test, atomic_read(&lb->errors), 0);

	ns = copy_ns ? copy_ns : 1;
	kunit_info(test, "per page: copy_ns=%llu put_ns=%llu get_ns=%llu put_over_copy_x100=%llu get_over_copy_x100=%llu\n",
		   copy_ns, put_ns, get_ns, div64_u64(put_ns * 100, ns),
		   div64_u64(get_ns * 100, ns));

	puma_transport_disconnect(lb->client, -ESHUTDOWN);
	puma_transport_conn_put(lb->client);
	puma_transport_conn_put(lb->server);
	puma_transport_listener_close(lb->l);
	puma_transport_put(lb->t);
	__free_page(src);
	__free_page(lb->dst);
}

static struct kunit_case puma_loop_bench_cases[] = {
	KUNIT_CASE_SLOW(puma_loop_bench_put_get),
	{}
};

static struct kunit_suite puma_loop_bench_suite = {
	.name = "puma_loop_bench",
	.test_cases = puma_loop_bench_cases,
};

kunit_test_suite(puma_loop_bench_suite);

MODULE_DESCRIPTION("Per-page cost of PUMA's put and get over loopback");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
