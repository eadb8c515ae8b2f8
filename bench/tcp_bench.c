// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the TCP transport's secure channel costs: pages per second and
 * round trips per second over kernel TCP on 127.0.0.1, with
 * security=none, auth and encrypt, in the same run.
 *
 * A stream of messages of 32 pages (a PUT batch) goes from client to
 * server, and one-page round trips (a GET and its answer) follow; each
 * mode runs once per round, the modes interleaved, best of three rounds.
 * Under UML both ends share one CPU, so the figures are CPU cost: the
 * ratio to none is the share of the transport's throughput the channel
 * leaves.  It asserts that every page arrived intact; the figures go to
 * the log.  Run with "make bench" (UML, no debug options).
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/net_namespace.h>

#include <puma/transport.h>

#include "../kunit/transport_test_key.h"
#include "../transports/tcp_frame.h"

#define TB_PAGES	16384
#define TB_BATCH	32
#define TB_TRIPS	2048
#define TB_ROUNDS	3
#define TB_MODES	3
#define TB_PORT		17900

static const char * const tb_mode_names[TB_MODES] = {
	[PUMA_TCP_SECURITY_NONE]	= "none",
	[PUMA_TCP_SECURITY_AUTH]	= "auth",
	[PUMA_TCP_SECURITY_ENCRYPT]	= "encrypt",
};

struct tb {
	struct puma_transport_conn *client;
	struct puma_transport_conn *server;
	atomic_t pages;
	atomic_t bad;
	struct completion all_in;
	struct completion accepted;
	struct completion answered;
};

static bool tb_check(struct page *page, u32 tag)
{
	u32 *p = kmap_local_page(page);
	bool ok = p[0] == tag && p[PAGE_SIZE / 4 - 1] == ~tag;

	kunmap_local(p);
	return ok;
}

static void tb_server_recv(struct puma_transport_conn *conn,
			   struct puma_transport_msg *msg)
{
	struct tb *tb = conn->priv;
	unsigned int i;

	/* A one-page message is a round trip: send it back. */
	if (msg->nr_pages == 1) {
		if (puma_transport_send(conn, msg, PUMA_TRANSPORT_NONBLOCK))
			atomic_inc(&tb->bad);
		return;
	}
	for (i = 0; i < msg->nr_pages; i++)
		if (!tb_check(msg->pages[i], *(u32 *)msg->head + i))
			atomic_inc(&tb->bad);
	if (atomic_add_return(msg->nr_pages, &tb->pages) >= TB_PAGES)
		complete(&tb->all_in);
	puma_transport_msg_free(msg);
}

static void tb_client_recv(struct puma_transport_conn *conn,
			   struct puma_transport_msg *msg)
{
	struct tb *tb = conn->priv;

	if (!tb_check(msg->pages[0], *(u32 *)msg->head))
		atomic_inc(&tb->bad);
	puma_transport_msg_free(msg);
	complete(&tb->answered);
}

static void tb_disconnected(struct puma_transport_conn *conn, int reason)
{
}

static const struct puma_transport_conn_ops tb_server_ops = {
	.recv = tb_server_recv,
	.disconnected = tb_disconnected,
};

static const struct puma_transport_conn_ops tb_client_ops = {
	.recv = tb_client_recv,
	.disconnected = tb_disconnected,
};

static int tb_accept(struct puma_transport_listener *l,
		     struct puma_transport_conn *conn)
{
	struct tb *tb = l->priv;
	int err;

	tb->server = conn;
	err = puma_transport_conn_set_ops(conn, &tb_server_ops, tb);
	complete(&tb->accepted);
	return err;
}

static const struct puma_transport_listener_ops tb_listener_ops = {
	.accept = tb_accept,
};

static struct puma_transport_msg *tb_msg(u32 tag, unsigned int nr_pages)
{
	struct puma_transport_msg *msg;
	unsigned int i;
	u32 *p;

	msg = puma_transport_msg_alloc(sizeof(u32), nr_pages, GFP_KERNEL);
	if (IS_ERR(msg))
		return msg;
	*(u32 *)msg->head = tag;
	for (i = 0; i < nr_pages; i++) {
		p = kmap_local_page(msg->pages[i]);
		memset(p, 0x5a, PAGE_SIZE);
		p[0] = tag + i;
		p[PAGE_SIZE / 4 - 1] = ~(tag + i);
		kunmap_local(p);
	}
	return msg;
}

/* One mode, one round: ns per streamed page and per round trip. */
static void tb_run(struct kunit *test, struct puma_transport *t,
		   struct puma_transport_listener *l, struct tb *tb,
		   const char *addr, u64 *page_ns, u64 *trip_ns)
{
	struct puma_transport_msg *msg;
	ktime_t start;
	u32 i;

	init_completion(&tb->accepted);
	init_completion(&tb->all_in);
	atomic_set(&tb->pages, 0);
	tb->client = puma_transport_connect(t, addr, &tb_client_ops, tb);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tb->client));
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&tb->accepted, 30 * HZ), 0);

	start = ktime_get();
	for (i = 0; i < TB_PAGES; i += TB_BATCH) {
		msg = tb_msg(i, TB_BATCH);
		KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
		KUNIT_ASSERT_EQ(test, puma_transport_send(tb->client, msg, 0), 0);
	}
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&tb->all_in, 120 * HZ), 0);
	*page_ns = min(*page_ns, div_u64(ktime_to_ns(ktime_sub(ktime_get(), start)),
					 TB_PAGES));

	start = ktime_get();
	for (i = 0; i < TB_TRIPS; i++) {
		init_completion(&tb->answered);
		msg = tb_msg(i, 1);
		KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
		KUNIT_ASSERT_EQ(test, puma_transport_send(tb->client, msg, 0), 0);
		KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&tb->answered,
								  10 * HZ), 0);
	}
	*trip_ns = min(*trip_ns, div_u64(ktime_to_ns(ktime_sub(ktime_get(), start)),
					 TB_TRIPS));

	puma_transport_disconnect(tb->client, -ESHUTDOWN);
	puma_transport_conn_put(tb->client);
	puma_transport_conn_put(tb->server);
	tb->client = NULL;
	tb->server = NULL;
}

static void puma_tcp_bench_security_modes(struct kunit *test)
{
	u64 page_ns[TB_MODES], trip_ns[TB_MODES];
	struct net_device *lo = init_net.loopback_dev;
	int saved = READ_ONCE(puma_tcp_security);
	struct puma_transport_listener *l;
	struct puma_transport *t;
	struct key *keyring;
	char addr[32];
	int round, mode, err = 0;
	struct tb *tb;

	rtnl_lock();
	if (!(lo->flags & IFF_UP))
		err = dev_open(lo, NULL);
	rtnl_unlock();
	KUNIT_ASSERT_EQ(test, err, 0);
	tb = kunit_kzalloc(test, sizeof(*tb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, tb);
	keyring = ptk_keyring_create("puma_tcp_bench", 0x5a);
	KUNIT_ASSERT_FALSE(test, IS_ERR(keyring));
	WRITE_ONCE(puma_tcp_test_keyring, keyring);
	t = puma_transport_get("tcp");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", TB_PORT);
	l = puma_transport_listen(t, addr, &tb_listener_ops, tb);
	KUNIT_ASSERT_FALSE(test, IS_ERR(l));

	for (mode = 0; mode < TB_MODES; mode++) {
		page_ns[mode] = U64_MAX;
		trip_ns[mode] = U64_MAX;
	}
	for (round = 0; round < TB_ROUNDS; round++)
		for (mode = 0; mode < TB_MODES; mode++) {
			WRITE_ONCE(puma_tcp_security, mode);
			tb_run(test, t, l, tb, addr, &page_ns[mode],
			       &trip_ns[mode]);
		}
	KUNIT_EXPECT_EQ(test, atomic_read(&tb->bad), 0);

	for (mode = 0; mode < TB_MODES; mode++)
		kunit_info(test, "security=%s: stream %llu pages/s (%llu ns/page, x100 of none: %llu), round trip %llu ns (x100 of none: %llu)\n",
			   tb_mode_names[mode],
			   div64_u64(NSEC_PER_SEC, max(page_ns[mode], 1ULL)),
			   page_ns[mode],
			   div64_u64(page_ns[PUMA_TCP_SECURITY_NONE] * 100,
				     max(page_ns[mode], 1ULL)),
			   trip_ns[mode],
			   div64_u64(trip_ns[mode] * 100,
				     max(trip_ns[PUMA_TCP_SECURITY_NONE], 1ULL)));

	WRITE_ONCE(puma_tcp_security, saved);
	WRITE_ONCE(puma_tcp_test_keyring, NULL);
	puma_transport_listener_close(l);
	puma_transport_put(t);
	ptk_keyring_destroy(keyring);
}

static struct kunit_case puma_tcp_bench_cases[] = {
	KUNIT_CASE_SLOW(puma_tcp_bench_security_modes),
	{}
};

static struct kunit_suite puma_tcp_bench_suite = {
	.name = "puma_tcp_bench",
	.test_cases = puma_tcp_bench_cases,
};

kunit_test_suite(puma_tcp_bench_suite);

MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("Benchmark of the PUMA TCP transport's security modes");
MODULE_LICENSE("GPL");
