// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite "puma_transport_tcp": what is particular to the TCP transport,
 * over real kernel TCP on 127.0.0.1: address syntax, frames that a broken
 * or hostile peer sends from a raw kernel socket, receive-side memory
 * shortage and the keepalive, all with security=none; then the secure
 * channel on the stream, against raw-socket peers that run the handshake
 * with the library's session API and then lie.  What every transport must do, TCP included,
 * is in "puma_transport_conformance" (kunit/transport_conformance_kunit.c).
 * Every case ends by tearing its connections down and checking that the
 * transport layer's object counts are back where they started.
 *
 * Every wait is bounded, so a bug fails a case instead of hanging the run.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/inet.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/random.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include <puma/secure.h>
#include <puma/transport.h>

#include "../lib/internal.h"
#include "transport_test_key.h"
#include "transport_test_msg.h"

#include "../transports/tcp_frame.h"

#define TT_TIMEOUT	(30 * HZ)
#define TT_ENDS		8
#define TT_PORT_BASE	17100

/* What one end's callbacks saw. */
struct tt_end {
	struct puma_transport_conn *conn;
	/* Written by recv only, which the transport serialises. */
	u32 next_seq;
	unsigned int nr_recv;
	unsigned int nr_pages;
	bool disorder;
	bool bad_content;
	/* Send every message back, pages and all, without waiting. */
	bool echo;
	atomic_t echo_errors;
	wait_queue_head_t recv_wait;
	/* Messages that came without their pages (no memory for them). */
	unsigned int nr_pages_dropped;
	/* Messages the link authenticated (PUMA_TRANSPORT_MSG_AUTHENTICATED). */
	unsigned int nr_authenticated;
	/* Written by disconnected. */
	atomic_t nr_disconnected;
	int reason;
	struct completion disconnected;
};

struct tt {
	struct kunit *test;
	struct puma_transport_stats base;
	struct puma_transport *t;
	struct puma_transport_listener *listener;
	char addr[32];
	int port;
	unsigned int nr_clients;
	unsigned int nr_servers;
	wait_queue_head_t accepted;
	struct tt_end client[TT_ENDS];
	struct tt_end server[TT_ENDS];
	/* Send a message on each accepted connection from accept itself. */
	bool send_on_accept;
	struct socket *raw;
	int saved_security;
	unsigned int saved_max_accepted;
	unsigned int saved_max_handshakes;
	struct puma_sec_session *sec;	/* a raw peer's */
};

/* The transport's key, another key of the same name, and no key. */
static struct key *tt_keyring, *tt_wrong_keyring, *tt_empty_keyring;

static atomic_t tt_port_seq = ATOMIC_INIT(0);

static void tt_recv(struct puma_transport_conn *conn,
		    struct puma_transport_msg *msg)
{
	struct tt_end *e = conn->priv;
	struct ptm_head head = {};
	u32 i;

	if (msg->head_len == sizeof(head))
		memcpy(&head, msg->head, sizeof(head));
	if (msg->flags & PUMA_TRANSPORT_MSG_PAGES_DROPPED) {
		e->nr_pages_dropped++;
		if (msg->nr_pages || !head.nr_pages)
			e->bad_content = true;
	} else if (head.nr_pages != msg->nr_pages) {
		e->bad_content = true;
	}
	if (head.magic != PTM_MAGIC)
		e->bad_content = true;
	if (msg->flags & PUMA_TRANSPORT_MSG_AUTHENTICATED)
		e->nr_authenticated++;
	if (head.seq != e->next_seq)
		e->disorder = true;
	e->next_seq = head.seq + 1;
	for (i = 0; i < msg->nr_pages; i++)
		if (!ptm_page_ok(msg->pages[i], head.seq, i))
			e->bad_content = true;
	e->nr_pages += msg->nr_pages;
	if (e->echo) {
		/* Pages already checked; the reply takes them over. */
		if (puma_transport_send(conn, msg, PUMA_TRANSPORT_NONBLOCK))
			atomic_inc(&e->echo_errors);
	} else {
		puma_transport_msg_free(msg);
	}
	WRITE_ONCE(e->nr_recv, e->nr_recv + 1);
	wake_up(&e->recv_wait);
}

static void tt_disconnected(struct puma_transport_conn *conn, int reason)
{
	struct tt_end *e = conn->priv;

	e->reason = reason;
	atomic_inc(&e->nr_disconnected);
	complete_all(&e->disconnected);
}

static const struct puma_transport_conn_ops tt_conn_ops = {
	.recv		= tt_recv,
	.disconnected	= tt_disconnected,
};

static int tt_send(struct tt_end *from, u32 seq, u32 nr_pages,
		   unsigned int flags);

static int tt_accept(struct puma_transport_listener *listener,
		     struct puma_transport_conn *conn)
{
	struct tt *tt = listener->priv;
	struct tt_end *e;
	int err;

	if (tt->nr_servers == TT_ENDS)
		return -ENOSPC;
	e = &tt->server[tt->nr_servers];
	e->conn = conn;
	/* Echo mode is set by the case before it connects. */
	err = puma_transport_conn_set_ops(conn, &tt_conn_ops, e);
	if (!err && tt->send_on_accept)
		tt_send(e, 0, 1, PUMA_TRANSPORT_NONBLOCK);
	if (!err) {
		WRITE_ONCE(tt->nr_servers, tt->nr_servers + 1);
		wake_up(&tt->accepted);
	}
	return err;
}

static const struct puma_transport_listener_ops tt_listener_ops = {
	.accept		= tt_accept,
};

static void tt_end_init(struct tt_end *e)
{
	init_waitqueue_head(&e->recv_wait);
	init_completion(&e->disconnected);
	atomic_set(&e->nr_disconnected, 0);
	atomic_set(&e->echo_errors, 0);
}

static bool tt_stats_equal(const struct puma_transport_stats *a,
			   const struct puma_transport_stats *b)
{
	return a->msgs == b->msgs && a->conns == b->conns &&
	       a->listeners == b->listeners;
}

/* Ends are freed by their receive threads after "disconnected": settle. */
static bool tt_wait_stats(const struct puma_transport_stats *want)
{
	unsigned long deadline = jiffies + TT_TIMEOUT;
	struct puma_transport_stats now;

	for (;;) {
		puma_transport_get_stats(&now);
		if (tt_stats_equal(&now, want))
			return true;
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(5000, 10000);
	}
}

static int tt_suite_init(struct kunit_suite *suite)
{
	struct net_device *lo = init_net.loopback_dev;
	int err = 0;

	/* No user space brings "lo" up here; IPv4 gives it 127.0.0.1 then. */
	rtnl_lock();
	if (!(lo->flags & IFF_UP))
		err = dev_open(lo, NULL);
	rtnl_unlock();
	if (err)
		return err;
	tt_keyring = ptk_keyring_create("puma_tt_kunit", 0x5a);
	tt_wrong_keyring = ptk_keyring_create("puma_tt_kunit_wrong", 0xa5);
	tt_empty_keyring = ptk_keyring_create("puma_tt_kunit_empty", 0);
	if (IS_ERR(tt_keyring))
		return PTR_ERR(tt_keyring);
	if (IS_ERR(tt_wrong_keyring))
		return PTR_ERR(tt_wrong_keyring);
	return PTR_ERR_OR_ZERO(tt_empty_keyring);
}

static void tt_suite_exit(struct kunit_suite *suite)
{
	ptk_keyring_destroy(tt_keyring);
	ptk_keyring_destroy(tt_wrong_keyring);
	ptk_keyring_destroy(tt_empty_keyring);
	tt_keyring = NULL;
	tt_wrong_keyring = NULL;
	tt_empty_keyring = NULL;
}

static int tt_init(struct kunit *test)
{
	struct tt *tt;
	unsigned int i;

	tt = kunit_kzalloc(test, sizeof(*tt), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, tt);
	tt->test = test;
	test->priv = tt;
	for (i = 0; i < TT_ENDS; i++) {
		tt_end_init(&tt->client[i]);
		tt_end_init(&tt->server[i]);
	}
	init_waitqueue_head(&tt->accepted);
	puma_transport_get_stats(&tt->base);
	/* The framing cases speak it in clear; the secure ones switch. */
	tt->saved_security = READ_ONCE(puma_tcp_security);
	WRITE_ONCE(puma_tcp_security, PUMA_TCP_SECURITY_NONE);
	WRITE_ONCE(puma_tcp_test_keyring, tt_keyring);
	tt->saved_max_accepted = READ_ONCE(puma_tcp_max_accepted);
	tt->saved_max_handshakes = READ_ONCE(puma_tcp_max_handshakes);

	tt->t = puma_transport_get("tcp");
	KUNIT_ASSERT_FALSE(test, IS_ERR(tt->t));
	/* A fresh port per case: no case sees another's stragglers. */
	tt->port = TT_PORT_BASE + atomic_inc_return(&tt_port_seq);
	snprintf(tt->addr, sizeof(tt->addr), "127.0.0.1:%d", tt->port);
	tt->listener = puma_transport_listen(tt->t, tt->addr, &tt_listener_ops,
					     tt);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tt->listener));
	return 0;
}

static void tt_end_teardown(struct tt_end *e)
{
	if (e->conn) {
		puma_transport_disconnect(e->conn, -ESHUTDOWN);
		wait_for_completion_timeout(&e->disconnected, TT_TIMEOUT);
		puma_transport_conn_put(e->conn);
		e->conn = NULL;
	}
}

static void tt_exit(struct kunit *test)
{
	struct tt *tt = test->priv;
	unsigned int i;

	if (!tt)
		return;
	if (tt->raw)
		sock_release(tt->raw);
	puma_sec_session_destroy(tt->sec);
	for (i = 0; i < TT_ENDS; i++) {
		tt_end_teardown(&tt->client[i]);
		tt_end_teardown(&tt->server[i]);
	}
	if (!IS_ERR_OR_NULL(tt->listener))
		puma_transport_listener_close(tt->listener);
	puma_transport_put(tt->t);
	KUNIT_EXPECT_TRUE_MSG(test, tt_wait_stats(&tt->base),
			      "transport objects leaked");
	WRITE_ONCE(puma_tcp_security, tt->saved_security);
	WRITE_ONCE(puma_tcp_test_keyring, NULL);
	WRITE_ONCE(puma_tcp_max_accepted, tt->saved_max_accepted);
	WRITE_ONCE(puma_tcp_max_handshakes, tt->saved_max_handshakes);
	puma_tcp_allowed_peers[0] = '\0';
}

static int tt_send(struct tt_end *from, u32 seq, u32 nr_pages,
		   unsigned int flags)
{
	struct puma_transport_msg *msg = ptm_msg(seq, nr_pages, GFP_KERNEL);

	if (IS_ERR(msg))
		return PTR_ERR(msg);
	return puma_transport_send(from->conn, msg, flags);
}

static bool tt_wait_servers(struct tt *tt, unsigned int target)
{
	return wait_event_timeout(tt->accepted,
				  READ_ONCE(tt->nr_servers) >= target,
				  TT_TIMEOUT);
}

/* Connect a client end and wait until the listener accepted its peer. */
static struct tt_end *tt_connect(struct kunit *test, struct tt *tt)
{
	unsigned int want = tt->nr_clients + 1;
	struct tt_end *e;

	KUNIT_ASSERT_LT(test, tt->nr_clients, TT_ENDS);
	e = &tt->client[tt->nr_clients];
	e->conn = puma_transport_connect(tt->t, tt->addr, &tt_conn_ops, e);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->conn));
	tt->nr_clients++;
	KUNIT_ASSERT_TRUE(test, tt_wait_servers(tt, want));
	return e;
}

static bool tt_wait_recv(struct tt_end *e, unsigned int target)
{
	return wait_event_timeout(e->recv_wait,
				  READ_ONCE(e->nr_recv) >= target, TT_TIMEOUT);
}

static bool tt_wait_disconnected(struct tt_end *e)
{
	return wait_for_completion_timeout(&e->disconnected, TT_TIMEOUT);
}

/* A raw kernel TCP socket connected to the case's listener. */
static struct socket *tt_raw_connect(struct kunit *test, struct tt *tt)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(tt->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct socket *sock;

	KUNIT_ASSERT_EQ(test, sock_create_kern(&init_net, AF_INET, SOCK_STREAM,
					       IPPROTO_TCP, &sock), 0);
	tt->raw = sock;
	WRITE_ONCE(sock->sk->sk_rcvtimeo, TT_TIMEOUT);
	KUNIT_ASSERT_EQ(test, kernel_connect(sock, (struct sockaddr *)&sin,
					     sizeof(sin), 0), 0);
	return sock;
}

static void tt_raw_send(struct kunit *test, struct socket *sock,
			const void *buf, size_t len)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };

	KUNIT_ASSERT_EQ(test, kernel_sendmsg(sock, &msg, &kv, 1, len),
			(int)len);
}

static void puma_tcp_bad_address_returns_einval(struct kunit *test)
{
	static const char * const bad[] = {
		"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
		"127.0.0.1:80x", ":80", "localhost:80", "1.2.3:80",
		"[::1:80", "::1]:80", "[]:80",
	};
	struct tt *tt = test->priv;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct puma_transport_listener *l;
		struct puma_transport_conn *conn;

		conn = puma_transport_connect(tt->t, bad[i], &tt_conn_ops,
					      &tt->client[0]);
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(conn), -EINVAL,
				    "connect %s", bad[i]);
		l = puma_transport_listen(tt->t, bad[i], &tt_listener_ops, tt);
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(l), -EINVAL,
				    "listen %s", bad[i]);
	}
}

/* A peer that announces a message and closes halfway through it. */
static void puma_tcp_peer_close_mid_message_disconnects(struct kunit *test)
{
	struct puma_tcp_frame frame = {
		.magic = cpu_to_le32(PUMA_TCP_FRAME_MAGIC),
		.type = PUMA_TCP_FRAME_MSG,
		.page_shift = PAGE_SHIFT,
		.nr_pages = cpu_to_le16(2),
		.head_len = cpu_to_le32(sizeof(struct ptm_head)),
	};
	struct tt *tt = test->priv;
	struct socket *raw;
	struct tt_end *s;
	u8 *half;

	half = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, half);
	raw = tt_raw_connect(test, tt);
	KUNIT_ASSERT_TRUE(test, tt_wait_servers(tt, 1));
	s = &tt->server[0];
	tt_raw_send(test, raw, &frame, sizeof(frame));
	tt_raw_send(test, raw, half, sizeof(struct ptm_head) + PAGE_SIZE / 2);
	sock_release(raw);
	tt->raw = NULL;
	KUNIT_ASSERT_TRUE(test, tt_wait_disconnected(s));
	KUNIT_EXPECT_EQ(test, s->reason, -ECONNRESET);
	KUNIT_EXPECT_EQ(test, s->nr_recv, 0);
}

/*
 * Garbage from a raw socket closes that connection with -EPROTO; the
 * listener and a well-behaved client on it carry on.
 */
static void puma_tcp_garbage_closes_only_that_conn(struct kunit *test)
{
	struct tt *tt = test->priv;
	struct tt_end *c, *bad;
	struct socket *raw;
	u8 junk[64];

	c = tt_connect(test, tt);
	tt->server[0].echo = true;
	raw = tt_raw_connect(test, tt);
	KUNIT_ASSERT_TRUE(test, tt_wait_servers(tt, 2));
	bad = &tt->server[1];
	get_random_bytes(junk, sizeof(junk));
	/* Not a frame by chance: the magic is wrong. */
	junk[0] = ~PUMA_TCP_FRAME_MAGIC & 0xff;
	tt_raw_send(test, raw, junk, sizeof(junk));
	KUNIT_ASSERT_TRUE(test, tt_wait_disconnected(bad));
	KUNIT_EXPECT_EQ(test, bad->reason, -EPROTO);
	KUNIT_EXPECT_EQ(test, bad->nr_recv, 0);

	KUNIT_ASSERT_EQ(test, tt_send(c, 0, 2, 0), 0);
	KUNIT_ASSERT_TRUE(test, tt_wait_recv(c, 1));
	KUNIT_EXPECT_FALSE(test, c->bad_content);
	KUNIT_EXPECT_EQ(test, atomic_read(&c->nr_disconnected), 0);
}

/*
 * Without memory for a message's pages, the receiver reads past them and
 * delivers the head alone; the stream stays in step and the connection up.
 */
static void puma_tcp_rx_pages_without_memory_deliver_head(struct kunit *test)
{
	struct tt *tt = test->priv;
	struct tt_end *c, *s;

	c = tt_connect(test, tt);
	s = &tt->server[0];
	set_bit(PUMA_TCP_FAULT_RX_PAGES, &puma_tcp_test_faults);
	KUNIT_ASSERT_EQ(test, tt_send(c, 0, 4, 0), 0);
	KUNIT_ASSERT_EQ(test, tt_send(c, 1, 2, 0), 0);
	KUNIT_ASSERT_TRUE(test, tt_wait_recv(s, 2));
	KUNIT_EXPECT_EQ(test, s->nr_pages_dropped, 1U);
	KUNIT_EXPECT_EQ(test, s->nr_pages, 2U);
	/* security=none: nothing is said to be authenticated. */
	KUNIT_EXPECT_EQ(test, s->nr_authenticated, 0U);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
	KUNIT_EXPECT_FALSE(test, s->disorder);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->nr_disconnected), 0);
	KUNIT_EXPECT_FALSE(test, test_bit(PUMA_TCP_FAULT_RX_PAGES,
					  &puma_tcp_test_faults));
}

/*
 * An accepted connection whose receive thread does not start is torn
 * down after the work its user queued on it (a send from accept) is done
 * with the socket: KASAN reports it otherwise.
 */
static void puma_tcp_accept_rx_start_failure_waits_for_work(struct kunit *test)
{
	struct tt *tt = test->priv;
	struct tt_end *c;

	tt->send_on_accept = true;
	set_bit(PUMA_TCP_FAULT_ACCEPT_START, &puma_tcp_test_faults);
	c = &tt->client[tt->nr_clients];
	c->conn = puma_transport_connect(tt->t, tt->addr, &tt_conn_ops, c);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c->conn));
	tt->nr_clients++;
	KUNIT_ASSERT_TRUE(test, tt_wait_servers(tt, 1));
	/* The server end is told it is gone; the client sees the close. */
	KUNIT_EXPECT_TRUE(test, tt_wait_disconnected(&tt->server[0]));
	KUNIT_EXPECT_TRUE(test, tt_wait_disconnected(c));
	KUNIT_EXPECT_FALSE(test, test_bit(PUMA_TCP_FAULT_ACCEPT_START,
					  &puma_tcp_test_faults));
}

/* Well-formed frames that break a limit are refused the same way. */
static void puma_tcp_oversized_frame_closes_conn(struct kunit *test)
{
	static const struct {
		u8 type;
		u8 page_shift;
		u16 nr_pages;
		u32 head_len;
		u32 reserved;
	} bad[] = {
		{ PUMA_TCP_FRAME_MSG, PAGE_SHIFT, PUMA_TRANSPORT_MAX_PAGES + 1, 8, 0 },
		{ PUMA_TCP_FRAME_MSG, PAGE_SHIFT, 0, PUMA_TRANSPORT_MAX_HEAD + 1, 0 },
		{ PUMA_TCP_FRAME_MSG, PAGE_SHIFT + 1, 1, 8, 0 },
		{ PUMA_TCP_FRAME_MSG, PAGE_SHIFT, 0, 8, 1 },
		{ PUMA_TCP_FRAME_PING, PAGE_SHIFT, 0, 8, 0 },
		{ 0, PAGE_SHIFT, 0, 8, 0 },
		{ PUMA_TCP_FRAME_PONG + 1, PAGE_SHIFT, 0, 8, 0 },
	};
	struct tt *tt = test->priv;
	unsigned int i;

	KUNIT_ASSERT_LE(test, ARRAY_SIZE(bad), TT_ENDS);
	for (i = 0; i < ARRAY_SIZE(bad) && i < TT_ENDS; i++) {
		struct puma_tcp_frame frame = {
			.magic = cpu_to_le32(PUMA_TCP_FRAME_MAGIC),
			.type = bad[i].type,
			.page_shift = bad[i].page_shift,
			.nr_pages = cpu_to_le16(bad[i].nr_pages),
			.head_len = cpu_to_le32(bad[i].head_len),
			.reserved = cpu_to_le32(bad[i].reserved),
		};
		struct socket *raw;
		struct tt_end *s;

		raw = tt_raw_connect(test, tt);
		KUNIT_ASSERT_TRUE(test, tt_wait_servers(tt, i + 1));
		s = &tt->server[i];
		tt_raw_send(test, raw, &frame, sizeof(frame));
		KUNIT_ASSERT_TRUE_MSG(test, tt_wait_disconnected(s), "frame %u", i);
		KUNIT_EXPECT_EQ_MSG(test, s->reason, -EPROTO, "frame %u", i);
		KUNIT_EXPECT_EQ(test, s->nr_recv, 0);
		/* Done with this end: make room for the next one. */
		puma_transport_conn_put(s->conn);
		s->conn = NULL;
		sock_release(raw);
		tt->raw = NULL;
	}
}

/*
 * A peer that is connected but silent gets a PING after one keepalive
 * period, and is dropped with -ETIMEDOUT when it never answers.
 */
static void puma_tcp_silent_peer_gets_ping_then_timeout(struct kunit *test)
{
	struct tt *tt = test->priv;
	struct puma_tcp_frame frame;
	struct msghdr msg = {};
	struct socket *raw;
	struct kvec kv;
	struct tt_end *s;
	unsigned long start;
	int ret;

	raw = tt_raw_connect(test, tt);
	KUNIT_ASSERT_TRUE(test, tt_wait_servers(tt, 1));
	s = &tt->server[0];
	start = jiffies;
	kv.iov_base = &frame;
	kv.iov_len = sizeof(frame);
	ret = kernel_recvmsg(raw, &msg, &kv, 1, sizeof(frame), MSG_WAITALL);
	KUNIT_ASSERT_EQ(test, ret, (int)sizeof(frame));
	KUNIT_EXPECT_EQ(test, le32_to_cpu(frame.magic), PUMA_TCP_FRAME_MAGIC);
	KUNIT_EXPECT_EQ(test, frame.type, PUMA_TCP_FRAME_PING);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(frame.head_len), 0);

	KUNIT_ASSERT_TRUE(test, tt_wait_disconnected(s));
	KUNIT_EXPECT_EQ(test, s->reason, -ETIMEDOUT);
	/* Default dead_ms is 10 s: not before it, and not much after. */
	KUNIT_EXPECT_GE(test, jiffies_to_msecs(jiffies - start), 8000);
	KUNIT_EXPECT_LE(test, jiffies_to_msecs(jiffies - start), 19000);
}

/* A peer that answers PINGs keeps its connection however long it idles. */
static void puma_tcp_idle_conn_stays_up(struct kunit *test)
{
	struct tt *tt = test->priv;
	struct tt_end *c, *s;

	c = tt_connect(test, tt);
	s = &tt->server[0];
	/* Longer than dead_ms (10 s), with nothing sent by either user. */
	msleep(12000);
	KUNIT_EXPECT_EQ(test, atomic_read(&c->nr_disconnected), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->nr_disconnected), 0);
	s->echo = true;
	KUNIT_ASSERT_EQ(test, tt_send(c, 0, 1, 0), 0);
	KUNIT_ASSERT_TRUE(test, tt_wait_recv(c, 1));
	KUNIT_EXPECT_FALSE(test, c->bad_content);
}

/* Receive exactly @len bytes on a raw socket, or fail the case. */
static void tt_raw_recv(struct kunit *test, struct socket *sock, void *buf,
			size_t len)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {};

	KUNIT_ASSERT_EQ(test, kernel_recvmsg(sock, &msg, &kv, 1, len,
					     MSG_WAITALL), (int)len);
}

/* True once the peer closed @sock: a receive sees the end of the stream. */
static bool tt_raw_closed(struct socket *sock)
{
	struct msghdr msg = {};
	struct kvec kv;
	u8 byte;
	int ret;

	kv.iov_base = &byte;
	kv.iov_len = 1;
	do {
		ret = kernel_recvmsg(sock, &msg, &kv, 1, 1, 0);
	} while (ret > 0);
	return ret == 0 || ret == -ECONNRESET;
}

/*
 * A raw socket that runs the client side of the handshake with the key
 * in @keyring, through the library's session API, as the transport does.
 * Return: puma_sec_client_finish()'s result: the CLIENT_FINISH's length,
 * sent, or the error that refused the server's hello.
 */
static int tt_raw_handshake(struct kunit *test, struct tt *tt,
			    struct key *keyring, struct socket **rawp)
{
	struct puma_sec_config cfg = {
		.keyring = keyring,
		.key_desc = PTK_KEY_DESC,
		.caps = {
			.page_size = PAGE_SIZE,
			.max_batch = PUMA_TRANSPORT_MAX_PAGES,
			.min_version = PUMA_TCP_PROTO_VERSION,
			.max_version = PUMA_TCP_PROTO_VERSION,
			.modes = PUMA_SEC_MODE_ENCRYPT,
		},
	};
	u8 in[PUMA_SEC_HS_MAX_LEN], out[PUMA_SEC_HS_MAX_LEN];
	struct socket *raw;
	int n;

	tt->sec = puma_sec_session_create(&cfg);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tt->sec));
	raw = tt_raw_connect(test, tt);
	*rawp = raw;
	n = puma_sec_client_hello(tt->sec, out, sizeof(out));
	KUNIT_ASSERT_EQ(test, n, (int)PUMA_SEC_CLIENT_HELLO_LEN);
	tt_raw_send(test, raw, out, n);
	tt_raw_recv(test, raw, in, PUMA_SEC_SERVER_HELLO_LEN);
	n = puma_sec_client_finish(tt->sec, in, PUMA_SEC_SERVER_HELLO_LEN, out,
				   sizeof(out));
	if (n > 0)
		tt_raw_send(test, raw, out, n);
	return n;
}

/* Seal the transport frame of test message @seq with one page into @buf. */
static int tt_seal_msg(struct kunit *test, struct tt *tt, u8 *buf,
		       size_t size, u32 seq)
{
	struct puma_transport_msg *msg = ptm_msg(seq, 1, GFP_KERNEL);
	u8 *p = buf + PUMA_SEC_FRAME_HDR_LEN;
	struct puma_tcp_frame frame = {
		.magic = cpu_to_le32(PUMA_TCP_FRAME_MAGIC),
		.type = PUMA_TCP_FRAME_MSG,
		.page_shift = PAGE_SHIFT,
		.nr_pages = cpu_to_le16(1),
		.head_len = cpu_to_le32(sizeof(struct ptm_head)),
	};
	size_t len;
	int n;

	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	memcpy(p, &frame, sizeof(frame));
	memcpy(p + sizeof(frame), msg->head, msg->head_len);
	len = sizeof(frame) + msg->head_len;
	memcpy_from_page(p + len, msg->pages[0], 0, PAGE_SIZE);
	len += PAGE_SIZE;
	puma_transport_msg_free(msg);
	n = puma_sec_seal(tt->sec, PUMA_SEC_FRAME_DATA, buf, len, size);
	KUNIT_ASSERT_GT(test, n, 0);
	return n;
}

#define TT_SEALED_SIZE	(PUMA_SEC_FRAME_OVERHEAD + \
			 sizeof(struct puma_tcp_frame) + \
			 sizeof(struct ptm_head) + PAGE_SIZE)

/* With security=auth, then encrypt, both ends authenticate; pages arrive intact. */
static void puma_tcp_secure_conn_carries_pages_both_ways(struct kunit *test)
{
	static const int modes[] = {
		PUMA_TCP_SECURITY_AUTH, PUMA_TCP_SECURITY_ENCRYPT,
	};
	struct tt *tt = test->priv;
	struct tt_end *c, *s;
	unsigned int m;
	u32 i;

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		WRITE_ONCE(puma_tcp_security, modes[m]);
		c = tt_connect(test, tt);
		s = &tt->server[m];
		s->echo = true;
		for (i = 0; i < 16; i++)
			KUNIT_ASSERT_EQ(test, tt_send(c, i, i % 3 ? 8 : 0, 0), 0);
		KUNIT_ASSERT_EQ(test, tt_send(c, 16, PUMA_TRANSPORT_MAX_PAGES, 0), 0);
		KUNIT_ASSERT_TRUE(test, tt_wait_recv(c, 17));
		KUNIT_EXPECT_FALSE(test, c->bad_content);
		KUNIT_EXPECT_FALSE(test, c->disorder);
		KUNIT_EXPECT_FALSE(test, s->bad_content);
		KUNIT_EXPECT_EQ(test, atomic_read(&s->echo_errors), 0);
		/* Every message on a secure link comes flagged as such. */
		KUNIT_EXPECT_EQ(test, c->nr_authenticated, c->nr_recv);
		KUNIT_EXPECT_EQ(test, s->nr_authenticated, s->nr_recv);
	}
}

/*
 * An auth peer and an encrypt listener share no mode: the listener closes
 * after the CLIENT_HELLO, never downgrading.
 */
static void puma_tcp_secure_mode_mismatch_refused(struct kunit *test)
{
	struct puma_sec_config cfg = {
		.keyring = tt_keyring,
		.key_desc = PTK_KEY_DESC,
		.caps = {
			.page_size = PAGE_SIZE,
			.max_batch = PUMA_TRANSPORT_MAX_PAGES,
			.min_version = PUMA_TCP_PROTO_VERSION,
			.max_version = PUMA_TCP_PROTO_VERSION,
			.modes = PUMA_SEC_MODE_AUTH,
		},
	};
	u8 out[PUMA_SEC_HS_MAX_LEN];
	struct tt *tt = test->priv;
	struct socket *raw;
	int n;

	WRITE_ONCE(puma_tcp_security, PUMA_TCP_SECURITY_ENCRYPT);
	tt->sec = puma_sec_session_create(&cfg);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tt->sec));
	raw = tt_raw_connect(test, tt);
	n = puma_sec_client_hello(tt->sec, out, sizeof(out));
	KUNIT_ASSERT_GT(test, n, 0);
	tt_raw_send(test, raw, out, n);
	KUNIT_EXPECT_TRUE(test, tt_raw_closed(raw));
	KUNIT_EXPECT_EQ(test, READ_ONCE(tt->nr_servers), 0);
}

/* Without the key, connect fails: no connection, nothing sent in clear. */
static void puma_tcp_secure_connect_without_key_returns_enokey(struct kunit *test)
{
	struct tt *tt = test->priv;
	struct puma_transport_conn *conn;

	WRITE_ONCE(puma_tcp_security, PUMA_TCP_SECURITY_ENCRYPT);
	WRITE_ONCE(puma_tcp_test_keyring, tt_empty_keyring);
	conn = puma_transport_connect(tt->t, tt->addr, &tt_conn_ops,
				      &tt->client[0]);
	KUNIT_EXPECT_EQ(test, PTR_ERR(conn), -ENOKEY);
	KUNIT_EXPECT_EQ(test, READ_ONCE(tt->nr_servers), 0);
}

/*
 * A peer whose key differs: our hello's MAC does not verify with its key,
 * and the CLIENT_FINISH it sends anyway gets the connection closed,
 * never accepted.
 */
static void puma_tcp_secure_wrong_key_never_accepted(struct kunit *test)
{
	struct puma_sec_hs fin = { .type = PUMA_SEC_CLIENT_FINISH };
	u8 buf[PUMA_SEC_CLIENT_FINISH_LEN];
	struct tt *tt = test->priv;
	struct socket *raw;

	WRITE_ONCE(puma_tcp_security, PUMA_TCP_SECURITY_ENCRYPT);
	KUNIT_EXPECT_EQ(test, tt_raw_handshake(test, tt, tt_wrong_keyring, &raw),
			-EACCES);
	get_random_bytes(fin.mac, sizeof(fin.mac));
	KUNIT_ASSERT_EQ(test, puma_sec_hs_encode(&fin, buf, sizeof(buf)),
			(int)sizeof(buf));
	tt_raw_send(test, raw, buf, sizeof(buf));
	KUNIT_EXPECT_TRUE(test, tt_raw_closed(raw));
	KUNIT_EXPECT_EQ(test, READ_ONCE(tt->nr_servers), 0);
}

/*
 * A peer that trickles its CLIENT_HELLO, a byte every half second, never
 * lets the receive timeout fire; the handshake's own deadline (dead_ms,
 * 10 s) closes it, long before the 28 s the hello would take.
 */
static void puma_tcp_secure_trickled_handshake_times_out(struct kunit *test)
{
	struct tt *tt = test->priv;
	unsigned long start;
	struct socket *raw;
	u8 byte = 0;
	int i, ret;

	WRITE_ONCE(puma_tcp_security, PUMA_TCP_SECURITY_ENCRYPT);
	raw = tt_raw_connect(test, tt);
	start = jiffies;
	for (i = 0; i < PUMA_SEC_CLIENT_HELLO_LEN - 1; i++) {
		struct kvec kv = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr msg = { .msg_flags = MSG_DONTWAIT };

		/* The end of the stream: the server closed it. */
		ret = kernel_recvmsg(raw, &msg, &kv, 1, 1, MSG_DONTWAIT);
		if (ret == 0 || ret == -ECONNRESET)
			break;
		tt_raw_send(test, raw, &byte, 1);
		msleep(500);
	}
	KUNIT_EXPECT_LT(test, i, (int)PUMA_SEC_CLIENT_HELLO_LEN - 1);
	KUNIT_EXPECT_GE(test, jiffies_to_msecs(jiffies - start), 8000);
	KUNIT_EXPECT_LE(test, jiffies_to_msecs(jiffies - start), 16000);
	KUNIT_EXPECT_EQ(test, READ_ONCE(tt->nr_servers), 0);
}

/*
 * Beyond max_handshakes connections in their handshake, a new one is
 * closed at once; one that authenticates leaves the count, so a flood of
 * silent connections never keeps a real client out for longer than the
 * handshake deadline.
 */
static void puma_tcp_secure_max_handshakes_closes_extra_conns(struct kunit *test)
{
	struct tt *tt = test->priv;
	struct socket *silent, *extra;
	unsigned long start;

	WRITE_ONCE(puma_tcp_security, PUMA_TCP_SECURITY_ENCRYPT);
	WRITE_ONCE(puma_tcp_max_handshakes, 1);
	/* Authenticated and handed over: no longer in its handshake. */
	tt_connect(test, tt);
	silent = tt_raw_connect(test, tt);
	tt->raw = NULL;
	start = jiffies;
	extra = tt_raw_connect(test, tt);
	KUNIT_EXPECT_TRUE(test, tt_raw_closed(extra));
	/* At once, not at the handshake's deadline (dead_ms). */
	KUNIT_EXPECT_LT(test, jiffies_to_msecs(jiffies - start), 2000);
	sock_release(extra);
	tt->raw = NULL;
	/* The silent one goes: its slot is free again. */
	sock_release(silent);
	msleep(500);
	tt_connect(test, tt);
}

/* A peer speaking the clear framing to a secure listener is never accepted. */
static void puma_tcp_secure_plaintext_peer_never_accepted(struct kunit *test)
{
	struct puma_tcp_frame frame = {
		.magic = cpu_to_le32(PUMA_TCP_FRAME_MAGIC),
		.type = PUMA_TCP_FRAME_MSG,
		.page_shift = PAGE_SHIFT,
		.head_len = cpu_to_le32(sizeof(struct ptm_head)),
	};
	struct ptm_head head = { .magic = PTM_MAGIC };
	struct tt *tt = test->priv;
	struct socket *raw;
	u8 *buf;

	WRITE_ONCE(puma_tcp_security, PUMA_TCP_SECURITY_ENCRYPT);
	buf = kunit_kzalloc(test, PUMA_SEC_CLIENT_HELLO_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memcpy(buf, &frame, sizeof(frame));
	memcpy(buf + sizeof(frame), &head, sizeof(head));
	raw = tt_raw_connect(test, tt);
	tt_raw_send(test, raw, buf, PUMA_SEC_CLIENT_HELLO_LEN);
	KUNIT_EXPECT_TRUE(test, tt_raw_closed(raw));
	KUNIT_EXPECT_EQ(test, READ_ONCE(tt->nr_servers), 0);
}

/*
 * A raw peer holding the key, authenticated by a security=encrypt
 * listener: its socket in *@rawp, the accepted end returned.
 */
static struct tt_end *tt_secure_peer(struct kunit *test, struct tt *tt,
				     struct socket **rawp)
{
	WRITE_ONCE(puma_tcp_security, PUMA_TCP_SECURITY_ENCRYPT);
	KUNIT_ASSERT_GT(test, tt_raw_handshake(test, tt, tt_keyring, rawp), 0);
	KUNIT_ASSERT_TRUE(test, tt_wait_servers(tt, 1));
	return &tt->server[0];
}

/*
 * A peer with the key, then one sealed frame delivered (the raw peer's
 * frames are right), then the same frame modified: closed, not delivered.
 */
static void puma_tcp_secure_tampered_frame_closes_conn(struct kunit *test)
{
	struct tt *tt = test->priv;
	struct socket *raw;
	struct tt_end *s;
	u8 *buf;
	int n;

	buf = kunit_kzalloc(test, TT_SEALED_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	s = tt_secure_peer(test, tt, &raw);
	n = tt_seal_msg(test, tt, buf, TT_SEALED_SIZE, 0);
	tt_raw_send(test, raw, buf, n);
	KUNIT_ASSERT_TRUE(test, tt_wait_recv(s, 1));
	KUNIT_EXPECT_FALSE(test, s->bad_content);

	n = tt_seal_msg(test, tt, buf, TT_SEALED_SIZE, 1);
	/* One bit of the page's ciphertext. */
	buf[n - PUMA_SEC_TAG_LEN - 100] ^= 0x04;
	tt_raw_send(test, raw, buf, n);
	KUNIT_ASSERT_TRUE(test, tt_wait_disconnected(s));
	KUNIT_EXPECT_EQ(test, s->reason, -EPROTO);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->nr_recv), 1);
}

/* The same authentic frame sent twice: the copy closes the connection. */
static void puma_tcp_secure_replayed_frame_closes_conn(struct kunit *test)
{
	struct tt *tt = test->priv;
	struct socket *raw;
	struct tt_end *s;
	u8 *buf;
	int n;

	buf = kunit_kzalloc(test, TT_SEALED_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	s = tt_secure_peer(test, tt, &raw);
	n = tt_seal_msg(test, tt, buf, TT_SEALED_SIZE, 0);
	tt_raw_send(test, raw, buf, n);
	tt_raw_send(test, raw, buf, n);
	KUNIT_ASSERT_TRUE(test, tt_wait_disconnected(s));
	KUNIT_EXPECT_EQ(test, s->reason, -EPROTO);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->nr_recv), 1);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
}

/* A header announcing more than any frame of ours is refused before reading. */
static void puma_tcp_secure_oversized_frame_closes_conn(struct kunit *test)
{
	struct puma_sec_frame_hdr hdr = {
		.len = PUMA_SEC_MAX_PAYLOAD,
		.type = PUMA_SEC_FRAME_DATA,
	};
	struct tt *tt = test->priv;
	u8 buf[PUMA_SEC_FRAME_HDR_LEN];
	struct socket *raw;
	struct tt_end *s;

	s = tt_secure_peer(test, tt, &raw);
	puma_sec_frame_hdr_encode(&hdr, buf);
	tt_raw_send(test, raw, buf, sizeof(buf));
	KUNIT_ASSERT_TRUE(test, tt_wait_disconnected(s));
	KUNIT_EXPECT_EQ(test, s->reason, -EPROTO);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->nr_recv), 0);
}

/* Beyond max_accepted, a new connection is closed at once, until one goes. */
static void puma_tcp_max_accepted_closes_extra_conns(struct kunit *test)
{
	struct tt *tt = test->priv;
	struct socket *a, *b, *extra;

	WRITE_ONCE(puma_tcp_max_accepted, 2);
	a = tt_raw_connect(test, tt);
	b = tt_raw_connect(test, tt);
	tt->raw = NULL;
	extra = tt_raw_connect(test, tt);
	KUNIT_EXPECT_TRUE(test, tt_wait_servers(tt, 2));
	KUNIT_EXPECT_TRUE(test, tt_raw_closed(extra));
	KUNIT_EXPECT_EQ(test, READ_ONCE(tt->nr_servers), 2);
	sock_release(extra);
	tt->raw = NULL;
	/* One goes: room for one more. */
	sock_release(a);
	KUNIT_EXPECT_TRUE(test, tt_wait_disconnected(&tt->server[0]));
	extra = tt_raw_connect(test, tt);
	KUNIT_EXPECT_TRUE(test, tt_wait_servers(tt, 3));
	sock_release(b);
}

/* With allowed_peers set, only the peers it names are accepted. */
static void puma_tcp_allowed_peers_closes_others(struct kunit *test)
{
	struct tt *tt = test->priv;
	struct socket *raw;

	strscpy(puma_tcp_allowed_peers, "10.9.9.9, ::2",
		PUMA_TCP_ALLOWED_PEERS_MAX);
	raw = tt_raw_connect(test, tt);
	KUNIT_EXPECT_TRUE(test, tt_raw_closed(raw));
	KUNIT_EXPECT_EQ(test, READ_ONCE(tt->nr_servers), 0);
	sock_release(raw);
	tt->raw = NULL;

	strscpy(puma_tcp_allowed_peers, "10.9.9.9,127.0.0.1\n",
		PUMA_TCP_ALLOWED_PEERS_MAX);
	tt_raw_connect(test, tt);
	KUNIT_EXPECT_TRUE(test, tt_wait_servers(tt, 1));
}

/*
 * A peer that sends (PINGs: its receive side stays alive) but never
 * reads: once the socket buffers are full, the send times out after
 * dead_ms and the connection ends with -ETIMEDOUT.
 */
static void puma_tcp_peer_not_reading_times_out(struct kunit *test)
{
	struct puma_tcp_frame ping = {
		.magic = cpu_to_le32(PUMA_TCP_FRAME_MAGIC),
		.type = PUMA_TCP_FRAME_PING,
		.page_shift = PAGE_SHIFT,
	};
	struct tt *tt = test->priv;
	unsigned long first_send, full;
	struct socket *raw;
	struct tt_end *s;
	u32 seq = 0;

	raw = tt_raw_connect(test, tt);
	KUNIT_ASSERT_TRUE(test, tt_wait_servers(tt, 1));
	s = &tt->server[0];
	first_send = jiffies;
	while (tt_send(s, seq, 8, PUMA_TRANSPORT_NONBLOCK) == 0 && seq < 100000)
		seq++;
	KUNIT_EXPECT_LT(test, seq, 100000);
	full = jiffies;
	while (!completion_done(&s->disconnected) &&
	       time_before(jiffies, full + 30 * HZ)) {
		tt_raw_send(test, raw, &ping, sizeof(ping));
		msleep(500);
	}
	KUNIT_ASSERT_TRUE(test, completion_done(&s->disconnected));
	KUNIT_EXPECT_EQ(test, s->reason, -ETIMEDOUT);
	/*
	 * Not before dead_ms (10 s) of a stalled send, which began after the
	 * first send: the fill loop itself may run for seconds on a loaded
	 * machine, and the stall may begin anywhere in it.
	 */
	KUNIT_EXPECT_GE(test, jiffies_to_msecs(jiffies - first_send), 9500);
}

static struct kunit_case puma_transport_tcp_cases[] = {
	KUNIT_CASE(puma_tcp_bad_address_returns_einval),
	KUNIT_CASE(puma_tcp_peer_close_mid_message_disconnects),
	KUNIT_CASE(puma_tcp_garbage_closes_only_that_conn),
	KUNIT_CASE(puma_tcp_oversized_frame_closes_conn),
	KUNIT_CASE(puma_tcp_rx_pages_without_memory_deliver_head),
	KUNIT_CASE(puma_tcp_accept_rx_start_failure_waits_for_work),
	KUNIT_CASE_SLOW(puma_tcp_silent_peer_gets_ping_then_timeout),
	KUNIT_CASE_SLOW(puma_tcp_idle_conn_stays_up),
	KUNIT_CASE(puma_tcp_max_accepted_closes_extra_conns),
	KUNIT_CASE(puma_tcp_allowed_peers_closes_others),
	KUNIT_CASE_SLOW(puma_tcp_peer_not_reading_times_out),
	KUNIT_CASE_SLOW(puma_tcp_secure_trickled_handshake_times_out),
	KUNIT_CASE(puma_tcp_secure_conn_carries_pages_both_ways),
	KUNIT_CASE(puma_tcp_secure_mode_mismatch_refused),
	KUNIT_CASE(puma_tcp_secure_connect_without_key_returns_enokey),
	KUNIT_CASE(puma_tcp_secure_wrong_key_never_accepted),
	KUNIT_CASE(puma_tcp_secure_plaintext_peer_never_accepted),
	KUNIT_CASE(puma_tcp_secure_max_handshakes_closes_extra_conns),
	KUNIT_CASE(puma_tcp_secure_tampered_frame_closes_conn),
	KUNIT_CASE(puma_tcp_secure_replayed_frame_closes_conn),
	KUNIT_CASE(puma_tcp_secure_oversized_frame_closes_conn),
	{}
};

static struct kunit_suite puma_transport_tcp_suite = {
	.name = "puma_transport_tcp",
	.suite_init = tt_suite_init,
	.suite_exit = tt_suite_exit,
	.init = tt_init,
	.exit = tt_exit,
	.test_cases = puma_transport_tcp_cases,
};

kunit_test_suite(puma_transport_tcp_suite);

MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for the PUMA TCP transport");
MODULE_LICENSE("GPL");
