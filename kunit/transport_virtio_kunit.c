// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite "puma_transport_virtio": what is particular to the virtio
 * transport.  First its rings (transports/virtio_ring.c) in ordinary
 * memory, against a peer that lies: every index, length, flag and link it
 * can write, out of range, each refused with its reason and without an
 * access outside the ring (KASAN watches).  Then a connection over a
 * "mem:" medium whose region the test overwrites as a hostile VM would:
 * the connection closes, both ends hear why, and nothing leaks.  What
 * every transport must do, virtio included, is in
 * "puma_transport_conformance".
 *
 * Every wait is bounded, so a bug fails a case instead of hanging the run.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include <puma/transport.h>

#include "../lib/internal.h"
#include "../transports/virtio.h"
#include "../transports/virtio_ring.h"
#include "transport_test_msg.h"

#define TV_TIMEOUT	(30 * HZ)

/* One direction in ordinary memory, its sender's and receiver's state. */
struct tv_ring {
	void *dir;
	struct pvq_vring *vr;
	struct pvq_tx tx;
	struct pvq_rx rx;
	struct pvq_chain chain;
	enum pvq_err why;
};

static void tv_ring_free(void *dir)
{
	vfree(dir);
}

static struct tv_ring *tv_ring_new(struct kunit *test)
{
	struct tv_ring *r;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->dir = vzalloc(PVQ_DIR_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, r->dir);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, tv_ring_free,
							r->dir), 0);
	r->vr = r->dir;
	pvq_tx_init(&r->tx, r->dir);
	pvq_rx_init(&r->rx, r->dir);
	pvq_tx_reset(&r->tx);
	pvq_rx_reset(&r->rx);
	r->why = PVQ_ERR_NR;
	return r;
}

/* Publish message @seq of @nr_pages pages. */
static void tv_add(struct kunit *test, struct tv_ring *r, u32 seq,
		   u32 nr_pages)
{
	struct puma_transport_msg *msg = ptm_msg(seq, nr_pages, GFP_KERNEL);

	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	KUNIT_EXPECT_EQ(test, pvq_tx_add(&r->tx, msg), 0);
	puma_transport_msg_free(msg);
}

static int tv_peek(struct tv_ring *r)
{
	return pvq_rx_peek(&r->rx, &r->chain, &r->why);
}

/* The peer's hand on the ring: little-endian stores, as it would. */
static void tv_set16(__le16 *p, u16 v)
{
	WRITE_ONCE(*p, cpu_to_le16(v));
}

static void tv_set32(__le32 *p, u32 v)
{
	WRITE_ONCE(*p, cpu_to_le32(v));
}

static void pvq_rx_peek_returns_message_as_sent(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);
	struct puma_transport_msg *msg;
	struct ptm_head head;
	u32 i;

	KUNIT_EXPECT_EQ(test, tv_peek(r), 0);
	tv_add(test, r, 7, 3);
	KUNIT_ASSERT_EQ(test, tv_peek(r), 1);
	KUNIT_EXPECT_EQ(test, r->chain.head_len, sizeof(head));
	KUNIT_ASSERT_EQ(test, r->chain.nr_pages, 3);
	msg = puma_transport_msg_alloc(r->chain.head_len, r->chain.nr_pages,
				       GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	pvq_rx_copy(&r->rx, &r->chain, msg);
	memcpy(&head, msg->head, sizeof(head));
	KUNIT_EXPECT_EQ(test, head.magic, PTM_MAGIC);
	KUNIT_EXPECT_EQ(test, head.seq, 7);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_TRUE(test, ptm_page_ok(msg->pages[i], 7, i));
	puma_transport_msg_free(msg);
	pvq_rx_done(&r->rx, &r->chain);
	KUNIT_EXPECT_EQ(test, tv_peek(r), 0);
	KUNIT_EXPECT_EQ(test, pvq_tx_reclaim(&r->tx, &r->why), 1);
	KUNIT_EXPECT_EQ(test, r->tx.nr_free, PVQ_NUM);
}

static void pvq_tx_add_full_ring_returns_enospc(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);
	struct puma_transport_msg *msg;
	u32 n = 0;

	while (pvq_tx_room(&r->tx, PUMA_TRANSPORT_MAX_PAGES))
		tv_add(test, r, n++, PUMA_TRANSPORT_MAX_PAGES);
	KUNIT_EXPECT_EQ(test, n, PVQ_NUM / PVQ_MAX_CHAIN);
	msg = ptm_msg(n, PUMA_TRANSPORT_MAX_PAGES, GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	KUNIT_EXPECT_EQ(test, pvq_tx_add(&r->tx, msg), -ENOSPC);
	/* Once the receiver returns one, it fits. */
	KUNIT_ASSERT_EQ(test, tv_peek(r), 1);
	pvq_rx_done(&r->rx, &r->chain);
	KUNIT_EXPECT_EQ(test, pvq_tx_reclaim(&r->tx, &r->why), 1);
	KUNIT_EXPECT_EQ(test, pvq_tx_add(&r->tx, msg), 0);
	puma_transport_msg_free(msg);
}

static void pvq_rx_peek_avail_idx_beyond_ring_returns_eproto(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);

	tv_set16(&r->vr->avail.idx, PVQ_NUM + 1);
	KUNIT_EXPECT_EQ(test, tv_peek(r), -EPROTO);
	KUNIT_EXPECT_EQ(test, r->why, PVQ_ERR_AVAIL_IDX);
}

static void pvq_rx_peek_head_out_of_range_returns_eproto(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);

	tv_add(test, r, 0, 0);
	tv_set16(&r->vr->avail.ring[0], PVQ_NUM);
	KUNIT_EXPECT_EQ(test, tv_peek(r), -EPROTO);
	KUNIT_EXPECT_EQ(test, r->why, PVQ_ERR_HEAD);
}

static void pvq_rx_peek_foreign_address_returns_eproto(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);

	tv_add(test, r, 0, 1);
	/* Descriptor 0 pointing past the ring, as a peer would to read out. */
	WRITE_ONCE(r->vr->desc[0].addr, cpu_to_le64(PVQ_DIR_SIZE));
	KUNIT_EXPECT_EQ(test, tv_peek(r), -EPROTO);
	KUNIT_EXPECT_EQ(test, r->why, PVQ_ERR_DESC);
}

static void pvq_rx_peek_head_longer_than_buffer_returns_eproto(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);

	tv_add(test, r, 0, 0);
	tv_set32(&r->vr->desc[0].len, PVQ_BUF_SIZE + 1);
	KUNIT_EXPECT_EQ(test, tv_peek(r), -EPROTO);
	KUNIT_EXPECT_EQ(test, r->why, PVQ_ERR_DESC);
}

static void pvq_rx_peek_partial_page_returns_eproto(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);

	tv_add(test, r, 0, 2);
	tv_set32(&r->vr->desc[2].len, 100);
	KUNIT_EXPECT_EQ(test, tv_peek(r), -EPROTO);
	KUNIT_EXPECT_EQ(test, r->why, PVQ_ERR_DESC);
}

static void pvq_rx_peek_unknown_flags_returns_eproto(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);

	tv_add(test, r, 0, 0);
	/* VIRTQ_DESC_F_INDIRECT: a table elsewhere, never followed. */
	tv_set16(&r->vr->desc[0].flags, 4);
	KUNIT_EXPECT_EQ(test, tv_peek(r), -EPROTO);
	KUNIT_EXPECT_EQ(test, r->why, PVQ_ERR_DESC);
}

static void pvq_rx_peek_link_out_of_range_returns_eproto(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);

	tv_add(test, r, 0, 1);
	tv_set16(&r->vr->desc[0].next, 0xffff);
	KUNIT_EXPECT_EQ(test, tv_peek(r), -EPROTO);
	KUNIT_EXPECT_EQ(test, r->why, PVQ_ERR_CHAIN);
}

static void pvq_rx_peek_looping_chain_returns_eproto(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);

	tv_add(test, r, 0, 1);
	/* Page descriptor 1 links back to the head: a loop. */
	tv_set16(&r->vr->desc[1].flags, PVQ_DESC_F_NEXT);
	tv_set16(&r->vr->desc[1].next, 0);
	tv_set32(&r->vr->desc[0].len, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, tv_peek(r), -EPROTO);
	KUNIT_EXPECT_EQ(test, r->why, PVQ_ERR_CHAIN);
}

/* What the receiver checked is what it copies, whatever the peer does next. */
static void pvq_rx_copy_after_peer_rewrites_desc_uses_checked_copy(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);
	struct puma_transport_msg *msg;

	tv_add(test, r, 3, 1);
	KUNIT_ASSERT_EQ(test, tv_peek(r), 1);
	tv_set32(&r->vr->desc[0].len, 0xffffffff);
	tv_set16(&r->vr->desc[0].next, 0xffff);
	msg = puma_transport_msg_alloc(r->chain.head_len, r->chain.nr_pages,
				       GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	pvq_rx_copy(&r->rx, &r->chain, msg);
	KUNIT_EXPECT_TRUE(test, ptm_page_ok(msg->pages[0], 3, 0));
	puma_transport_msg_free(msg);
}

static void pvq_tx_reclaim_used_idx_beyond_inflight_returns_eproto(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);

	tv_add(test, r, 0, 0);
	tv_set16(&r->vr->used.idx, 2);
	KUNIT_EXPECT_EQ(test, pvq_tx_reclaim(&r->tx, &r->why), -EPROTO);
	KUNIT_EXPECT_EQ(test, r->why, PVQ_ERR_USED_IDX);
}

static void pvq_tx_reclaim_used_id_not_in_flight_returns_eproto(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);

	/* Descriptor 1 is the page of the chain headed by 0, not a head. */
	tv_add(test, r, 0, 1);
	tv_set32(&r->vr->used.ring[0].id, 1);
	tv_set16(&r->vr->used.idx, 1);
	KUNIT_EXPECT_EQ(test, pvq_tx_reclaim(&r->tx, &r->why), -EPROTO);
	KUNIT_EXPECT_EQ(test, r->why, PVQ_ERR_USED_ID);
}

static void pvq_tx_reclaim_same_chain_twice_returns_eproto(struct kunit *test)
{
	struct tv_ring *r = tv_ring_new(test);

	tv_add(test, r, 0, 0);
	tv_add(test, r, 1, 0);
	tv_set32(&r->vr->used.ring[0].id, 0);
	tv_set32(&r->vr->used.ring[1].id, 0);
	tv_set16(&r->vr->used.idx, 2);
	KUNIT_EXPECT_EQ(test, pvq_tx_reclaim(&r->tx, &r->why), -EPROTO);
	KUNIT_EXPECT_EQ(test, r->why, PVQ_ERR_USED_ID);
}

/* A connection over a "mem:" medium, and what each end saw. */
struct tv_end {
	struct puma_transport_conn *conn;
	atomic_t nr_recv;
	atomic_t nr_disconnected;
	int reason;
	struct completion disconnected;
};

struct tv_conn {
	struct puma_transport_stats base;
	struct puma_transport *t;
	struct puma_transport_listener *listener;
	char addr[32];
	struct tv_end client;
	struct tv_end server;
	/* With @accept_all, the listener's ends past the first. */
	bool accept_all;
	unsigned int nr_extra;
	struct tv_end extra[PVQ_MAX_CHAN + 1];
	wait_queue_head_t accepted;
};

static void tv_recv(struct puma_transport_conn *conn,
		    struct puma_transport_msg *msg)
{
	struct tv_end *e = conn->priv;

	atomic_inc(&e->nr_recv);
	puma_transport_msg_free(msg);
}

static void tv_disconnected(struct puma_transport_conn *conn, int reason)
{
	struct tv_end *e = conn->priv;

	e->reason = reason;
	atomic_inc(&e->nr_disconnected);
	complete_all(&e->disconnected);
}

static const struct puma_transport_conn_ops tv_conn_ops = {
	.recv		= tv_recv,
	.disconnected	= tv_disconnected,
};

static int tv_accept(struct puma_transport_listener *listener,
		     struct puma_transport_conn *conn)
{
	struct tv_conn *tc = listener->priv;
	struct tv_end *e = &tc->server;
	int err;

	if (tc->accept_all && tc->nr_extra < ARRAY_SIZE(tc->extra))
		e = &tc->extra[tc->nr_extra++];
	if (e->conn)
		return -EBUSY;
	err = puma_transport_conn_set_ops(conn, &tv_conn_ops, e);
	if (!err)
		WRITE_ONCE(e->conn, conn);
	wake_up(&tc->accepted);
	return err;
}

static const struct puma_transport_listener_ops tv_listener_ops = {
	.accept		= tv_accept,
};

static atomic_t tv_addr_seq = ATOMIC_INIT(0);

static int tv_init(struct kunit *test)
{
	struct tv_conn *tc;
	unsigned int i;

	tc = kunit_kzalloc(test, sizeof(*tc), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, tc);
	test->priv = tc;
	init_completion(&tc->client.disconnected);
	init_completion(&tc->server.disconnected);
	for (i = 0; i < ARRAY_SIZE(tc->extra); i++)
		init_completion(&tc->extra[i].disconnected);
	init_waitqueue_head(&tc->accepted);
	puma_transport_get_stats(&tc->base);
	tc->t = puma_transport_get("virtio");
	KUNIT_ASSERT_FALSE(test, IS_ERR(tc->t));
	snprintf(tc->addr, sizeof(tc->addr), "mem:kunit-tv%d",
		 atomic_inc_return(&tv_addr_seq));
	tc->listener = puma_transport_listen(tc->t, tc->addr,
					     &tv_listener_ops, tc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tc->listener));
	return 0;
}

static void tv_end_teardown(struct tv_end *e)
{
	if (!e->conn)
		return;
	puma_transport_disconnect(e->conn, -ESHUTDOWN);
	wait_for_completion_timeout(&e->disconnected, TV_TIMEOUT);
	puma_transport_conn_put(e->conn);
	e->conn = NULL;
}

static bool tv_wait_stats(const struct puma_transport_stats *want)
{
	unsigned long deadline = jiffies + TV_TIMEOUT;
	struct puma_transport_stats now;

	for (;;) {
		puma_transport_get_stats(&now);
		if (now.msgs == want->msgs && now.conns == want->conns &&
		    now.listeners == want->listeners)
			return true;
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(5000, 10000);
	}
}

static void tv_exit(struct kunit *test)
{
	struct tv_conn *tc = test->priv;
	unsigned int i;

	if (!tc)
		return;
	tv_end_teardown(&tc->client);
	tv_end_teardown(&tc->server);
	for (i = 0; i < ARRAY_SIZE(tc->extra); i++)
		tv_end_teardown(&tc->extra[i]);
	if (!IS_ERR_OR_NULL(tc->listener))
		puma_transport_listener_close(tc->listener);
	if (!IS_ERR_OR_NULL(tc->t))
		puma_transport_put(tc->t);
	KUNIT_EXPECT_TRUE_MSG(test, tv_wait_stats(&tc->base),
			      "transport objects leaked");
}

static void tv_connect(struct kunit *test, struct tv_conn *tc)
{
	tc->client.conn = puma_transport_connect(tc->t, tc->addr,
						 &tv_conn_ops, &tc->client);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(tc->client.conn), "connect: %ld",
			       PTR_ERR(tc->client.conn));
	KUNIT_ASSERT_TRUE(test, wait_event_timeout(tc->accepted,
						   READ_ONCE(tc->server.conn),
						   TV_TIMEOUT));
}

/* Both ends hear of the end of the connection, with @reason. */
static void tv_expect_closed(struct kunit *test, struct tv_conn *tc,
			     int reason)
{
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&tc->server.disconnected,
							  TV_TIMEOUT), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&tc->client.disconnected,
							  TV_TIMEOUT), 0);
	KUNIT_EXPECT_EQ(test, tc->server.reason, reason);
	KUNIT_EXPECT_EQ(test, tc->client.reason, reason);
}

/* Wait, bounded, until @e received @n messages. */
static bool tv_wait_recv(struct tv_end *e, int n)
{
	unsigned long deadline = jiffies + TV_TIMEOUT;

	while (atomic_read(&e->nr_recv) < n) {
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(5000, 10000);
	}
	return true;
}

static int tv_send(struct tv_end *e, u32 seq, u32 nr_pages)
{
	struct puma_transport_msg *msg = ptm_msg(seq, nr_pages, GFP_KERNEL);

	if (IS_ERR(msg))
		return PTR_ERR(msg);
	return puma_transport_send(e->conn, msg, 0);
}

/*
 * The client VM, hostile, writes an available index far ahead in its own
 * ring: the server closes with -EPROTO, counted, and tells the client.
 */
static void virtio_peer_bad_avail_idx_closes_conn(struct kunit *test)
{
	struct tv_conn *tc = test->priv;
	long before = pvq_test_err_count(PVQ_ERR_AVAIL_IDX);
	struct pvq_vring *vr;

	tv_connect(test, tc);
	KUNIT_ASSERT_EQ(test, tv_send(&tc->client, 0, 1), 0);
	KUNIT_ASSERT_TRUE(test, tv_wait_recv(&tc->server, 1));
	/* The client's sending direction on the first channel. */
	vr = pvq_test_dir(tc->addr, 0, 1);
	KUNIT_ASSERT_NOT_NULL(test, vr);
	tv_set16(&vr->avail.idx, 1 + PVQ_NUM + 7);
	tv_expect_closed(test, tc, -EPROTO);
	KUNIT_EXPECT_EQ(test, pvq_test_err_count(PVQ_ERR_AVAIL_IDX), before + 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&tc->server.nr_recv), 1);
}

/*
 * The server VM, hostile, returns a chain the client never sent: the
 * client's next send finds it and the connection closes.
 */
static void virtio_peer_bad_used_id_closes_conn(struct kunit *test)
{
	struct tv_conn *tc = test->priv;
	long before = pvq_test_err_count(PVQ_ERR_USED_ID);
	struct pvq_vring *vr;
	int err;

	tv_connect(test, tc);
	vr = pvq_test_dir(tc->addr, 0, 1);
	KUNIT_ASSERT_NOT_NULL(test, vr);
	/* A used entry with nothing sent: this send or the poll finds it. */
	tv_set32(&vr->used.ring[0].id, PVQ_NUM - 1);
	tv_set16(&vr->used.idx, 1);
	err = tv_send(&tc->client, 0, 0);
	KUNIT_EXPECT_TRUE_MSG(test, !err || err == -ENOTCONN, "send: %d", err);
	tv_expect_closed(test, tc, -EPROTO);
	KUNIT_EXPECT_GE(test, pvq_test_err_count(PVQ_ERR_USED_ID) +
			pvq_test_err_count(PVQ_ERR_USED_IDX), before + 1);
}

/* A peer that writes garbage over a whole ring: refused, never followed. */
static void virtio_peer_garbage_ring_closes_conn(struct kunit *test)
{
	struct tv_conn *tc = test->priv;
	struct pvq_vring *vr;

	tv_connect(test, tc);
	vr = pvq_test_dir(tc->addr, 0, 1);
	KUNIT_ASSERT_NOT_NULL(test, vr);
	memset(vr->desc, 0xa5, sizeof(vr->desc));
	memset(vr->avail.ring, 0x5a, sizeof(vr->avail.ring));
	tv_set16(&vr->avail.idx, 1);
	tv_expect_closed(test, tc, -EPROTO);
}

/* Every channel taken: the next connect is refused, not queued or hung. */
static void virtio_connect_all_channels_busy_returns_econnrefused(struct kunit *test)
{
	struct tv_conn *tc = test->priv;
	struct puma_transport_conn *conn[PVQ_MAX_CHAN + 1];
	struct tv_end *ends;
	unsigned int n, i;

	ends = kunit_kcalloc(test, ARRAY_SIZE(conn), sizeof(*ends), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ends);
	tc->accept_all = true;
	for (n = 0; n < ARRAY_SIZE(conn); n++) {
		init_completion(&ends[n].disconnected);
		conn[n] = puma_transport_connect(tc->t, tc->addr, &tv_conn_ops,
						 &ends[n]);
		if (IS_ERR(conn[n]))
			break;
	}
	KUNIT_EXPECT_LT(test, n, ARRAY_SIZE(conn));
	KUNIT_EXPECT_GT(test, n, 0);
	if (n < ARRAY_SIZE(conn))
		KUNIT_EXPECT_EQ(test, PTR_ERR(conn[n]), -ECONNREFUSED);
	for (i = 0; i < n; i++) {
		puma_transport_disconnect(conn[i], -ESHUTDOWN);
		KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&ends[i].disconnected,
								  TV_TIMEOUT), 0);
		puma_transport_conn_put(conn[i]);
	}
}

/* Listeners on one medium differ by port; a connect reaches its own. */
static void virtio_connect_port_reaches_its_listener(struct kunit *test)
{
	struct tv_conn *tc = test->priv;
	struct puma_transport_listener *other;
	struct puma_transport_conn *conn;
	char addr[40];
	struct tv_conn *tc2;

	tc2 = kunit_kzalloc(test, sizeof(*tc2), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, tc2);
	init_waitqueue_head(&tc2->accepted);
	init_completion(&tc2->server.disconnected);
	snprintf(addr, sizeof(addr), "%s:7", tc->addr);
	other = puma_transport_listen(tc->t, addr, &tv_listener_ops, tc2);
	KUNIT_ASSERT_FALSE(test, IS_ERR(other));
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_listen(tc->t, addr,
							    &tv_listener_ops,
							    tc2)),
			-EADDRINUSE);

	/* Port 7: the second listener; the case's own (port 0) sees nothing. */
	conn = puma_transport_connect(tc->t, addr, &tv_conn_ops, &tc->client);
	KUNIT_ASSERT_FALSE(test, IS_ERR(conn));
	tc->client.conn = conn;
	KUNIT_EXPECT_NOT_NULL(test, READ_ONCE(tc2->server.conn));
	KUNIT_EXPECT_NULL(test, READ_ONCE(tc->server.conn));
	/* Port 8: nobody. */
	snprintf(addr, sizeof(addr), "%s:8", tc->addr);
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_connect(tc->t, addr,
							     &tv_conn_ops,
							     &tc->server)),
			-ECONNREFUSED);
	tv_end_teardown(&tc->client);
	tv_end_teardown(&tc2->server);
	puma_transport_listener_close(other);
}

static void tv_unpoll(void *unused)
{
	WRITE_ONCE(pvq_test_mem_polled, false);
}

/*
 * No doorbell (ivshmem-plain, or a peer whose interrupts are lost): the
 * connection still comes up, and messages flow both ways, at the pace of
 * the tick's polls.
 */
static void virtio_no_doorbell_polls_connect_and_messages(struct kunit *test)
{
	struct tv_conn *tc = test->priv;
	u32 i;

	WRITE_ONCE(pvq_test_mem_polled, true);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, tv_unpoll, NULL), 0);
	tv_connect(test, tc);
	for (i = 0; i < 3; i++) {
		KUNIT_ASSERT_EQ(test, tv_send(&tc->client, i, 1), 0);
		KUNIT_ASSERT_EQ(test, tv_send(&tc->server, i, 2), 0);
	}
	KUNIT_EXPECT_TRUE(test, tv_wait_recv(&tc->server, 3));
	KUNIT_EXPECT_TRUE(test, tv_wait_recv(&tc->client, 3));
	KUNIT_EXPECT_EQ(test, atomic_read(&tc->server.nr_recv), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&tc->client.nr_recv), 3);
}

static void tv_dev_notify(struct pvq_medium *med, void *priv, u32 peer)
{
}

static const struct pvq_medium_ops tv_dev_ops = {
	.notify	= tv_dev_notify,
};

/*
 * A device medium that goes away (the ivshmem device removed): every
 * connection on it closes with -ENODEV, both ends hear it, and
 * unregister returns once none can touch the region, which may then go.
 */
static void virtio_medium_unregister_closes_conns(struct kunit *test)
{
	struct tv_conn *tc = test->priv;
	struct puma_transport_listener *l;
	size_t size = PAGE_SIZE + 2 * 2 * PVQ_DIR_SIZE;
	struct pvq_medium *med;
	struct tv_conn *tc2;
	void *base;

	tc2 = kunit_kzalloc(test, sizeof(*tc2), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, tc2);
	init_waitqueue_head(&tc2->accepted);
	init_completion(&tc2->server.disconnected);
	base = vzalloc(size);
	KUNIT_ASSERT_NOT_NULL(test, base);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, tv_ring_free,
							base), 0);
	med = pvq_medium_register("kunit-tv-dev", base, size, &tv_dev_ops,
				  NULL, -1);
	KUNIT_ASSERT_FALSE(test, IS_ERR(med));
	l = puma_transport_listen(tc->t, "kunit-tv-dev:3", &tv_listener_ops, tc2);
	if (IS_ERR(l))
		pvq_medium_unregister(med);
	KUNIT_ASSERT_FALSE(test, IS_ERR(l));

	/* No doorbell: the tick answers. */
	tc->client.conn = puma_transport_connect(tc->t, "kunit-tv-dev:3",
						 &tv_conn_ops, &tc->client);
	KUNIT_EXPECT_FALSE(test, IS_ERR(tc->client.conn));
	if (IS_ERR(tc->client.conn))
		tc->client.conn = NULL;
	else
		KUNIT_EXPECT_TRUE(test, wait_event_timeout(tc2->accepted,
							   READ_ONCE(tc2->server.conn),
							   TV_TIMEOUT));

	pvq_medium_unregister(med);
	if (tc->client.conn) {
		KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&tc->client.disconnected,
								  TV_TIMEOUT), 0);
		KUNIT_EXPECT_EQ(test, tc->client.reason, -ENODEV);
	}
	if (tc2->server.conn) {
		KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&tc2->server.disconnected,
								  TV_TIMEOUT), 0);
		KUNIT_EXPECT_EQ(test, tc2->server.reason, -ENODEV);
	}
	/* Gone: nothing new reaches it. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_connect(tc->t, "kunit-tv-dev:3",
							     &tv_conn_ops,
							     &tc->server)),
			-ECONNREFUSED);
	tv_end_teardown(&tc2->server);
	puma_transport_listener_close(l);
}

static struct kunit_case puma_transport_virtio_cases[] = {
	KUNIT_CASE(pvq_rx_peek_returns_message_as_sent),
	KUNIT_CASE(pvq_tx_add_full_ring_returns_enospc),
	KUNIT_CASE(pvq_rx_peek_avail_idx_beyond_ring_returns_eproto),
	KUNIT_CASE(pvq_rx_peek_head_out_of_range_returns_eproto),
	KUNIT_CASE(pvq_rx_peek_foreign_address_returns_eproto),
	KUNIT_CASE(pvq_rx_peek_head_longer_than_buffer_returns_eproto),
	KUNIT_CASE(pvq_rx_peek_partial_page_returns_eproto),
	KUNIT_CASE(pvq_rx_peek_unknown_flags_returns_eproto),
	KUNIT_CASE(pvq_rx_peek_link_out_of_range_returns_eproto),
	KUNIT_CASE(pvq_rx_peek_looping_chain_returns_eproto),
	KUNIT_CASE(pvq_rx_copy_after_peer_rewrites_desc_uses_checked_copy),
	KUNIT_CASE(pvq_tx_reclaim_used_idx_beyond_inflight_returns_eproto),
	KUNIT_CASE(pvq_tx_reclaim_used_id_not_in_flight_returns_eproto),
	KUNIT_CASE(pvq_tx_reclaim_same_chain_twice_returns_eproto),
	KUNIT_CASE(virtio_peer_bad_avail_idx_closes_conn),
	KUNIT_CASE(virtio_peer_bad_used_id_closes_conn),
	KUNIT_CASE(virtio_peer_garbage_ring_closes_conn),
	KUNIT_CASE(virtio_connect_all_channels_busy_returns_econnrefused),
	KUNIT_CASE(virtio_connect_port_reaches_its_listener),
	KUNIT_CASE(virtio_no_doorbell_polls_connect_and_messages),
	KUNIT_CASE(virtio_medium_unregister_closes_conns),
	{}
};

static struct kunit_suite puma_transport_virtio_suite = {
	.name		= "puma_transport_virtio",
	.init		= tv_init,
	.exit		= tv_exit,
	.test_cases	= puma_transport_virtio_cases,
};

kunit_test_suite(puma_transport_virtio_suite);

MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for the PUMA virtio transport");
MODULE_LICENSE("GPL");
