// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite "puma_transport_conformance": the behaviour every PUMA
 * transport owes its users (Documentation/transports.rst), checked over
 * each registered transport through the transport API alone.  Every case
 * is parameterised by the table ptc_transports[]: loopback, TCP with
 * security=encrypt (the default) and with security=none, and virtio over
 * a region in this kernel's memory ("mem:" addresses).
 *
 * The harness assumes nothing a transport may do either way: it waits,
 * bounded, for the accept callback and for refusals instead of expecting
 * them inside connect.  Where the documented behaviour leaves a transport
 * a choice (whether the disconnect reason reaches the peer, whether a
 * disconnect is seen by both ends at once), the table says which one it
 * made and the cases check that one, strictly.
 *
 * Every case ends by tearing its connections down and checking that the
 * transport layer's object counts are back where they started.  Every
 * wait is bounded, so a bug fails a case instead of hanging the run.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#if IS_ENABLED(CONFIG_PUMA_TRANSPORT_TCP)
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/net_namespace.h>

#include "../transports/tcp_frame.h"
#include "transport_test_key.h"
#endif

#include <puma/transport.h>

#include "../lib/internal.h"
#include "transport_test_msg.h"

#define PTC_TIMEOUT	(30 * HZ)
#define PTC_ENDS	8
#define PTC_SENDERS	2
#define PTC_ADDR_LEN	48

/**
 * struct ptc_transport - what the conformance cases need to know of a transport
 * @name: the name it is registered under
 * @desc: how the case names it, if not @name (one transport, two setups)
 * @security: TCP only: the security mode its connections use
 * @addr: write the address numbered @n to @buf; distinct numbers give
 *	distinct addresses, none of them in use by anything but this suite
 * @prepare: optional, run once before the suite (e.g. bring a device up)
 * @accept_in_connect: accept, or the refusal, runs inside connect: connect
 *	returns with the peer end accepted, or fails with -ECONNREFUSED and
 *	no end left behind
 * @disconnect_is_shared: both ends share one state: a disconnect on one
 *	end fails sends on the other at once and frees every message queued
 *	to either, delivered or not
 * @carries_reason: the reason given to puma_transport_disconnect() reaches
 *	the peer; otherwise the peer sees -ECONNRESET
 * @msgs_live_until_recv: a message sent stays a live transport message
 *	until recv is given it (the transport's queue is made of them)
 * @fill_pages: payload pages per message when a case fills a peer's queue
 * @fill_settle_ms: when a non-blocking send meets a full queue, wait this
 *	long and try once more before taking the queue as full: a transport
 *	that drains its queue into buffers of its own (socket buffers) is full
 *	only once those are
 */
struct ptc_transport {
	const char *name;
	const char *desc;
	int security;
	void (*addr)(char *buf, size_t size, unsigned int n);
	int (*prepare)(void);
	bool accept_in_connect;
	bool disconnect_is_shared;
	bool carries_reason;
	bool msgs_live_until_recv;
	unsigned int fill_pages;
	unsigned int fill_settle_ms;
};

#if IS_ENABLED(CONFIG_PUMA_TRANSPORT_LOOP)
static void ptc_loop_addr(char *buf, size_t size, unsigned int n)
{
	snprintf(buf, size, "kunit-ptc%u", n);
}
#endif

#if IS_ENABLED(CONFIG_PUMA_TRANSPORT_TCP)
/*
 * Not the ports of puma_transport_tcp (17100 up), nor ephemeral ones: a
 * port of its own per address, so no case sees another's stragglers.
 */
#define PTC_TCP_PORT_BASE	17600

static void ptc_tcp_addr(char *buf, size_t size, unsigned int n)
{
	snprintf(buf, size, "127.0.0.1:%u", PTC_TCP_PORT_BASE + n);
}

static struct key *ptc_keyring;

static int ptc_tcp_prepare(void)
{
	struct net_device *lo = init_net.loopback_dev;
	int err = 0;

	/* No user space brings "lo" up here; IPv4 gives it 127.0.0.1 then. */
	rtnl_lock();
	if (!(lo->flags & IFF_UP))
		err = dev_open(lo, NULL);
	rtnl_unlock();
	if (err || ptc_keyring)
		return err;
	ptc_keyring = ptk_keyring_create("puma_ptc_kunit", 0x5a);
	if (IS_ERR(ptc_keyring)) {
		err = PTR_ERR(ptc_keyring);
		ptc_keyring = NULL;
	}
	return err;
}

static void ptc_tcp_setup(const struct ptc_transport *tp, int *saved)
{
	*saved = READ_ONCE(puma_tcp_security);
	WRITE_ONCE(puma_tcp_security, tp->security);
	WRITE_ONCE(puma_tcp_test_keyring, ptc_keyring);
}

static void ptc_tcp_restore(int saved)
{
	WRITE_ONCE(puma_tcp_security, saved);
	WRITE_ONCE(puma_tcp_test_keyring, NULL);
}
#endif

#if IS_ENABLED(CONFIG_PUMA_TRANSPORT_VIRTIO)
static void ptc_virtio_addr(char *buf, size_t size, unsigned int n)
{
	snprintf(buf, size, "mem:kunit-ptc%u", n);
}
#endif

/*
 * The transports under test.  A new transport needs only an
 * entry here: its name, how to make a fresh address, and the choices it
 * made where struct ptc_transport lists them.  No case changes.
 */
static const struct ptc_transport ptc_transports[] = {
#if IS_ENABLED(CONFIG_PUMA_TRANSPORT_LOOP)
	{
		.name			= "loop",
		.addr			= ptc_loop_addr,
		.accept_in_connect	= true,
		.disconnect_is_shared	= true,
		.carries_reason		= true,
		.msgs_live_until_recv	= true,
		.fill_pages		= 1,
	},
#endif
#if IS_ENABLED(CONFIG_PUMA_TRANSPORT_TCP)
	{
		.name			= "tcp",
		.desc			= "tcp-encrypt",
		.security		= PUMA_TCP_SECURITY_ENCRYPT,
		.addr			= ptc_tcp_addr,
		.prepare		= ptc_tcp_prepare,
		.fill_pages		= 4,
		.fill_settle_ms		= 50,
	},
	{
		.name			= "tcp",
		.desc			= "tcp-none",
		.security		= PUMA_TCP_SECURITY_NONE,
		.addr			= ptc_tcp_addr,
		.prepare		= ptc_tcp_prepare,
		.fill_pages		= 4,
		.fill_settle_ms		= 50,
	},
#endif
#if IS_ENABLED(CONFIG_PUMA_TRANSPORT_VIRTIO)
	{
		.name			= "virtio",
		.addr			= ptc_virtio_addr,
		.accept_in_connect	= true,
		.carries_reason		= true,
		.fill_pages		= 4,
		.fill_settle_ms		= 50,
	},
#endif
};

static void ptc_transport_desc(const struct ptc_transport *tp, char *desc)
{
	strscpy(desc, tp->desc ?: tp->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(ptc_transport, ptc_transports, ptc_transport_desc);

/* What one end's callbacks saw. */
struct ptc_end {
	struct puma_transport_conn *conn;
	/* Written by recv only, which the transport serialises. */
	u32 next_seq;
	unsigned int nr_recv;
	unsigned int nr_pages;
	wait_queue_head_t recv_wait;
	bool disorder;
	bool bad_content;
	bool recv_after_disconnect;
	/* Keep the first page received; the case frees it. */
	bool take_page;
	struct page *taken;
	/* Send every message back, pages and all, from recv, without waiting. */
	bool echo;
	atomic_t echo_errors;
	/* Block the first recv until the case opens the gate. */
	bool gate;
	struct completion gate_entered;
	struct completion gate_open;
	/* Written by disconnected. */
	atomic_t nr_disconnected;
	int reason;
	struct completion disconnected;
};

struct ptc_sender {
	struct work_struct work;
	struct puma_transport_conn *conn;
	struct puma_transport_msg *msg;
	int err;
	struct completion done;
};

struct ptc {
	struct kunit *test;
	const struct ptc_transport *tp;
	struct puma_transport_stats base;
	struct puma_transport *t;
	struct puma_transport_listener *listener;
	char addr[PTC_ADDR_LEN];
	/* What accept does: refuse with this errno, or set no callbacks. */
	int refuse;
	bool accept_without_ops;
	unsigned int nr_clients;
	unsigned int nr_servers;
	unsigned int nr_accept_calls;
	wait_queue_head_t accepted;
	struct ptc_end client[PTC_ENDS];
	struct ptc_end server[PTC_ENDS];
	struct ptc_sender *sender[PTC_SENDERS];
	/* TCP: the security mode to put back at exit. */
	bool tcp;
	int saved_security;
};

static atomic_t ptc_addr_seq = ATOMIC_INIT(0);
static DEFINE_SPINLOCK(ptc_atomic_lock);

/* An address nothing has used in this boot. */
static void ptc_fresh_addr(const struct ptc *ptc, char *buf)
{
	ptc->tp->addr(buf, PTC_ADDR_LEN, atomic_inc_return(&ptc_addr_seq));
}

static void ptc_recv(struct puma_transport_conn *conn,
		     struct puma_transport_msg *msg)
{
	struct ptc_end *e = conn->priv;
	struct ptm_head head = {};
	u32 i;

	if (e->gate) {
		e->gate = false;
		complete(&e->gate_entered);
		wait_for_completion_timeout(&e->gate_open, PTC_TIMEOUT);
	}
	if (atomic_read(&e->nr_disconnected))
		e->recv_after_disconnect = true;

	if (msg->head_len == sizeof(head))
		memcpy(&head, msg->head, sizeof(head));
	else
		e->bad_content = true;
	/*
	 * Pages dropped for want of memory are not expected here either;
	 * the authenticated flag is there exactly when the link is so.
	 */
	if (head.magic != PTM_MAGIC || head.nr_pages != msg->nr_pages ||
	    (msg->flags & ~PUMA_TRANSPORT_MSG_AUTHENTICATED) ||
	    !!(msg->flags & PUMA_TRANSPORT_MSG_AUTHENTICATED) !=
	    puma_transport_conn_authenticated(conn))
		e->bad_content = true;
	if (head.seq != e->next_seq)
		e->disorder = true;
	e->next_seq = head.seq + 1;
	for (i = 0; i < msg->nr_pages; i++)
		if (!ptm_page_ok(msg->pages[i], head.seq, i))
			e->bad_content = true;
	e->nr_pages += msg->nr_pages;
	if (e->take_page && !e->taken && msg->nr_pages) {
		e->taken = msg->pages[0];
		msg->pages[0] = NULL;
	}

	if (e->echo) {
		/* Checked already; the reply takes the message over. */
		if (puma_transport_send(conn, msg, PUMA_TRANSPORT_NONBLOCK))
			atomic_inc(&e->echo_errors);
	} else {
		puma_transport_msg_free(msg);
	}
	WRITE_ONCE(e->nr_recv, e->nr_recv + 1);
	wake_up(&e->recv_wait);
}

static void ptc_disconnected(struct puma_transport_conn *conn, int reason)
{
	struct ptc_end *e = conn->priv;

	e->reason = reason;
	atomic_inc(&e->nr_disconnected);
	/* complete_all: any number of waiters, teardown included. */
	complete_all(&e->disconnected);
}

static const struct puma_transport_conn_ops ptc_conn_ops = {
	.recv		= ptc_recv,
	.disconnected	= ptc_disconnected,
};

static int ptc_accept(struct puma_transport_listener *listener,
		      struct puma_transport_conn *conn)
{
	struct ptc *ptc = listener->priv;
	struct ptc_end *e;
	int err;

	WRITE_ONCE(ptc->nr_accept_calls, ptc->nr_accept_calls + 1);
	if (ptc->refuse) {
		err = ptc->refuse;
		goto out;
	}
	if (ptc->accept_without_ops) {
		err = 0;
		goto out;
	}
	if (ptc->nr_servers == PTC_ENDS) {
		err = -ENOSPC;
		goto out;
	}
	e = &ptc->server[ptc->nr_servers];
	e->conn = conn;
	err = puma_transport_conn_set_ops(conn, &ptc_conn_ops, e);
	if (!err)
		WRITE_ONCE(ptc->nr_servers, ptc->nr_servers + 1);
out:
	wake_up(&ptc->accepted);
	return err;
}

static const struct puma_transport_listener_ops ptc_listener_ops = {
	.accept		= ptc_accept,
};

static void ptc_end_init(struct ptc_end *e)
{
	init_waitqueue_head(&e->recv_wait);
	init_completion(&e->gate_entered);
	init_completion(&e->gate_open);
	init_completion(&e->disconnected);
	atomic_set(&e->nr_disconnected, 0);
	atomic_set(&e->echo_errors, 0);
}

static bool ptc_stats_settled(const struct puma_transport_stats *now,
			      const struct puma_transport_stats *want,
			      bool listeners)
{
	return now->msgs == want->msgs && now->conns == want->conns &&
	       (!listeners || now->listeners == want->listeners);
}

/*
 * Connection ends and messages are freed by the transport's threads and
 * work items after the disconnected callbacks return: give the counts a
 * moment to settle.  @listeners: compare the listener count too.
 */
static bool ptc_wait_stats(const struct puma_transport_stats *want,
			   bool listeners)
{
	unsigned long deadline = jiffies + PTC_TIMEOUT;
	struct puma_transport_stats now;

	for (;;) {
		puma_transport_get_stats(&now);
		if (ptc_stats_settled(&now, want, listeners))
			return true;
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(5000, 10000);
	}
}

static int ptc_suite_init(struct kunit_suite *suite)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(ptc_transports); i++) {
		if (!ptc_transports[i].prepare)
			continue;
		err = ptc_transports[i].prepare();
		if (err)
			return err;
	}
	return 0;
}

static void ptc_suite_exit(struct kunit_suite *suite)
{
#if IS_ENABLED(CONFIG_PUMA_TRANSPORT_TCP)
	ptk_keyring_destroy(ptc_keyring);
	ptc_keyring = NULL;
#endif
}

static int ptc_init(struct kunit *test)
{
	struct ptc *ptc;
	unsigned int i;

	ptc = kunit_kzalloc(test, sizeof(*ptc), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ptc);
	ptc->test = test;
	ptc->tp = test->param_value;
	/* Set first: exit releases whatever init got before failing. */
	test->priv = ptc;
	KUNIT_ASSERT_NOT_NULL(test, ptc->tp);
#if IS_ENABLED(CONFIG_PUMA_TRANSPORT_TCP)
	if (!strcmp(ptc->tp->name, "tcp")) {
		ptc_tcp_setup(ptc->tp, &ptc->saved_security);
		ptc->tcp = true;
	}
#endif
	for (i = 0; i < PTC_ENDS; i++) {
		ptc_end_init(&ptc->client[i]);
		ptc_end_init(&ptc->server[i]);
	}
	init_waitqueue_head(&ptc->accepted);
	puma_transport_get_stats(&ptc->base);

	ptc->t = puma_transport_get(ptc->tp->name);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(ptc->t), "transport %s: %ld",
			       ptc->tp->name, PTR_ERR(ptc->t));
	ptc_fresh_addr(ptc, ptc->addr);
	ptc->listener = puma_transport_listen(ptc->t, ptc->addr,
					      &ptc_listener_ops, ptc);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(ptc->listener), "listen %s: %ld",
			       ptc->addr, PTR_ERR(ptc->listener));
	return 0;
}

static void ptc_end_teardown(struct ptc_end *e)
{
	complete_all(&e->gate_open);
	if (e->conn) {
		puma_transport_disconnect(e->conn, -ESHUTDOWN);
		wait_for_completion_timeout(&e->disconnected, PTC_TIMEOUT);
		puma_transport_conn_put(e->conn);
		e->conn = NULL;
	}
}

/* Tear everything down and check that nothing was left behind. */
static void ptc_exit(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	unsigned int i;

	if (!ptc)
		return;
	for (i = 0; i < PTC_ENDS; i++) {
		ptc_end_teardown(&ptc->client[i]);
		ptc_end_teardown(&ptc->server[i]);
	}
	for (i = 0; i < PTC_SENDERS; i++)
		if (ptc->sender[i])
			flush_work(&ptc->sender[i]->work);
	/* Only after the ends: a received page may still be taken. */
	for (i = 0; i < PTC_ENDS; i++) {
		if (ptc->server[i].taken)
			__free_page(ptc->server[i].taken);
		if (ptc->client[i].taken)
			__free_page(ptc->client[i].taken);
	}
	if (!IS_ERR_OR_NULL(ptc->listener))
		puma_transport_listener_close(ptc->listener);
	if (!IS_ERR_OR_NULL(ptc->t))
		puma_transport_put(ptc->t);
	KUNIT_EXPECT_TRUE_MSG(test, ptc_wait_stats(&ptc->base, true),
			      "transport objects leaked");
#if IS_ENABLED(CONFIG_PUMA_TRANSPORT_TCP)
	if (ptc->tcp)
		ptc_tcp_restore(ptc->saved_security);
#endif
}

static bool ptc_wait_servers(struct ptc *ptc, unsigned int target)
{
	return wait_event_timeout(ptc->accepted,
				  READ_ONCE(ptc->nr_servers) >= target,
				  PTC_TIMEOUT);
}

/* Connect a client end and wait until the listener accepted its peer. */
static struct ptc_end *ptc_connect(struct kunit *test, struct ptc *ptc)
{
	struct ptc_end *e;

	KUNIT_ASSERT_LT(test, ptc->nr_clients, PTC_ENDS);
	e = &ptc->client[ptc->nr_clients];
	e->conn = puma_transport_connect(ptc->t, ptc->addr, &ptc_conn_ops, e);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(e->conn), "connect %s: %ld",
			       ptc->addr, PTR_ERR(e->conn));
	ptc->nr_clients++;
	if (ptc->tp->accept_in_connect)
		KUNIT_ASSERT_EQ(test, READ_ONCE(ptc->nr_servers),
				ptc->nr_clients);
	KUNIT_ASSERT_TRUE(test, ptc_wait_servers(ptc, ptc->nr_clients));
	return e;
}

static int ptc_send(struct ptc_end *from, u32 seq, u32 nr_pages,
		    unsigned int flags)
{
	struct puma_transport_msg *msg = ptm_msg(seq, nr_pages, GFP_KERNEL);

	if (IS_ERR(msg))
		return PTR_ERR(msg);
	return puma_transport_send(from->conn, msg, flags);
}

static bool ptc_wait_recv(struct ptc_end *e, unsigned int target)
{
	return wait_event_timeout(e->recv_wait,
				  READ_ONCE(e->nr_recv) >= target, PTC_TIMEOUT);
}

static bool ptc_wait_disconnected(struct ptc_end *e)
{
	return wait_for_completion_timeout(&e->disconnected, PTC_TIMEOUT);
}

static void ptc_sender_work(struct work_struct *work)
{
	struct ptc_sender *s = container_of(work, struct ptc_sender, work);

	s->err = puma_transport_send(s->conn, s->msg, 0);
	complete(&s->done);
}

/* Send one message, waiting for room, from another thread. */
static struct ptc_sender *ptc_send_async(struct kunit *test, struct ptc *ptc,
					 struct ptc_end *from, u32 seq)
{
	struct ptc_sender *s;
	unsigned int i;

	for (i = 0; i < PTC_SENDERS && ptc->sender[i]; i++)
		;
	KUNIT_ASSERT_LT(test, i, PTC_SENDERS);
	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	INIT_WORK(&s->work, ptc_sender_work);
	init_completion(&s->done);
	s->conn = from->conn;
	s->msg = ptm_msg(seq, 0, GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s->msg));
	ptc->sender[i] = s;
	queue_work(system_unbound_wq, &s->work);
	return s;
}

/*
 * Make @from's sends to @to meet a full queue: @to's first message is held
 * in recv by the gate, then non-blocking sends go until -EAGAIN.  Returns
 * how many messages were sent, gate included.
 */
static u32 ptc_fill(struct kunit *test, struct ptc *ptc, struct ptc_end *from,
		    struct ptc_end *to)
{
	unsigned int pages = ptc->tp->fill_pages;
	unsigned int settle = ptc->tp->fill_settle_ms;
	int err = 0;
	u32 seq;

	to->gate = true;
	KUNIT_ASSERT_EQ(test, ptc_send(from, 0, pages, 0), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&to->gate_entered,
							  PTC_TIMEOUT), 0);
	for (seq = 1; seq < 1000000; seq++) {
		err = ptc_send(from, seq, pages, PUMA_TRANSPORT_NONBLOCK);
		if (err == -EAGAIN && settle) {
			msleep(settle);
			err = ptc_send(from, seq, pages, PUMA_TRANSPORT_NONBLOCK);
		}
		if (err)
			break;
	}
	KUNIT_ASSERT_EQ(test, err, -EAGAIN);
	/* The queue holds at least one message besides the one in recv. */
	KUNIT_ASSERT_GT(test, seq, 1);
	return seq;
}

static void ptc_open_gate(struct ptc_end *e)
{
	complete_all(&e->gate_open);
}

/*
 * Connect to the case's listener, whose accept refuses, and check that
 * the refusal reaches the client: -ECONNREFUSED from connect, or a
 * disconnect of the end connect gave, with no message and no end left.
 */
static void ptc_expect_refused(struct kunit *test, struct ptc *ptc)
{
	struct ptc_end *e = &ptc->client[0];
	struct puma_transport_conn *conn;
	struct puma_transport_stats now;

	conn = puma_transport_connect(ptc->t, ptc->addr, &ptc_conn_ops, e);
	if (ptc->tp->accept_in_connect) {
		KUNIT_EXPECT_EQ(test, PTR_ERR(conn), -ECONNREFUSED);
		/* Both ends of the refused pair are gone at once. */
		puma_transport_get_stats(&now);
		KUNIT_EXPECT_EQ(test, now.conns, ptc->base.conns);
	} else if (IS_ERR(conn)) {
		KUNIT_EXPECT_EQ(test, PTR_ERR(conn), -ECONNREFUSED);
	} else {
		e->conn = conn;
		ptc->nr_clients++;
		KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(e));
		KUNIT_EXPECT_EQ(test, e->reason, -ECONNRESET);
		KUNIT_EXPECT_EQ(test, e->nr_recv, 0);
		puma_transport_conn_put(conn);
		e->conn = NULL;
		KUNIT_EXPECT_TRUE(test, ptc_wait_stats(&ptc->base, false));
	}
	KUNIT_EXPECT_EQ(test, READ_ONCE(ptc->nr_accept_calls), 1);
	KUNIT_EXPECT_EQ(test, ptc->nr_servers, 0);
}

static void puma_transport_connect_without_listener_returns_econnrefused(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct puma_transport_conn *conn;
	char addr[PTC_ADDR_LEN];

	ptc_fresh_addr(ptc, addr);
	conn = puma_transport_connect(ptc->t, addr, &ptc_conn_ops,
				      &ptc->client[0]);
	KUNIT_EXPECT_EQ(test, PTR_ERR(conn), -ECONNREFUSED);
	if (!IS_ERR(conn))
		ptc->client[0].conn = conn;
}

static void puma_transport_connect_refused_returns_econnrefused(struct kunit *test)
{
	struct ptc *ptc = test->priv;

	ptc->refuse = -EPERM;
	ptc_expect_refused(test, ptc);
}

static void puma_transport_accept_without_callbacks_refuses_conn(struct kunit *test)
{
	struct ptc *ptc = test->priv;

	ptc->accept_without_ops = true;
	ptc_expect_refused(test, ptc);
}

static void puma_transport_listen_duplicate_address_returns_eaddrinuse(struct kunit *test)
{
	struct ptc *ptc = test->priv;

	KUNIT_EXPECT_EQ(test,
			PTR_ERR(puma_transport_listen(ptc->t, ptc->addr,
						      &ptc_listener_ops, ptc)),
			-EADDRINUSE);
}

static void puma_transport_listener_close_keeps_established_conns(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct puma_transport_conn *conn;
	struct ptc_end *c, *s;

	ptc->server[0].echo = true;
	c = ptc_connect(test, ptc);
	s = &ptc->server[0];
	puma_transport_listener_close(ptc->listener);
	ptc->listener = NULL;
	conn = puma_transport_connect(ptc->t, ptc->addr, &ptc_conn_ops,
				      &ptc->client[1]);
	KUNIT_EXPECT_EQ(test, PTR_ERR(conn), -ECONNREFUSED);
	if (!IS_ERR(conn))
		ptc->client[1].conn = conn;

	/* Both ways, a page included. */
	KUNIT_EXPECT_EQ(test, ptc_send(c, 0, 1, 0), 0);
	KUNIT_EXPECT_TRUE(test, ptc_wait_recv(s, 1));
	KUNIT_EXPECT_TRUE(test, ptc_wait_recv(c, 1));
	KUNIT_EXPECT_FALSE(test, s->bad_content);
	KUNIT_EXPECT_FALSE(test, c->bad_content);

	/* And the address can be taken again. */
	ptc->listener = puma_transport_listen(ptc->t, ptc->addr,
					      &ptc_listener_ops, ptc);
	KUNIT_EXPECT_FALSE(test, IS_ERR(ptc->listener));
	if (IS_ERR(ptc->listener))
		ptc->listener = NULL;
}

static void puma_transport_send_preserves_order(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];
	const u32 n = 3000;
	u32 seq;

	for (seq = 0; seq < n; seq++)
		KUNIT_ASSERT_EQ(test, ptc_send(c, seq, seq % 4 == 0, 0), 0);
	KUNIT_ASSERT_TRUE(test, ptc_wait_recv(s, n));
	KUNIT_EXPECT_EQ(test, s->nr_recv, n);
	KUNIT_EXPECT_FALSE(test, s->disorder);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
}

static void puma_transport_send_large_batches_arrive_in_order(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];
	const u32 n = 256;
	u32 seq;

	for (seq = 0; seq < n; seq++)
		KUNIT_ASSERT_EQ(test,
				ptc_send(c, seq, PUMA_TRANSPORT_MAX_PAGES, 0), 0);
	KUNIT_ASSERT_TRUE(test, ptc_wait_recv(s, n));
	KUNIT_EXPECT_EQ(test, s->nr_pages, n * PUMA_TRANSPORT_MAX_PAGES);
	KUNIT_EXPECT_FALSE(test, s->disorder);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
}

static void puma_transport_send_from_server_reaches_client(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];
	const u32 n = 500;
	u32 seq;

	/* Interleaved both ways; each direction keeps its own order. */
	for (seq = 0; seq < n; seq++) {
		KUNIT_ASSERT_EQ(test, ptc_send(s, seq, seq % 4 == 0, 0), 0);
		KUNIT_ASSERT_EQ(test, ptc_send(c, seq, seq % 4 == 0, 0), 0);
	}
	KUNIT_ASSERT_TRUE(test, ptc_wait_recv(c, n));
	KUNIT_ASSERT_TRUE(test, ptc_wait_recv(s, n));
	KUNIT_EXPECT_FALSE(test, c->disorder);
	KUNIT_EXPECT_FALSE(test, s->disorder);
	KUNIT_EXPECT_FALSE(test, c->bad_content);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
}

/*
 * The server sends every message back from recv, pages and all: first a
 * burst, then one at a time.  Queues never fill, so no reply may fail.
 */
static void puma_transport_recv_can_reply_nonblock(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c, *s;
	const u32 burst = 8, n = 20;
	u32 seq, pages = 0;

	ptc->server[0].echo = true;
	c = ptc_connect(test, ptc);
	s = &ptc->server[0];
	for (seq = 0; seq < burst; seq++) {
		KUNIT_ASSERT_EQ(test, ptc_send(c, seq, seq % 3, 0), 0);
		pages += seq % 3;
	}
	KUNIT_ASSERT_TRUE(test, ptc_wait_recv(c, burst));
	for (; seq < n; seq++) {
		KUNIT_ASSERT_EQ(test, ptc_send(c, seq, seq % 3, 0), 0);
		pages += seq % 3;
		KUNIT_ASSERT_TRUE(test, ptc_wait_recv(c, seq + 1));
	}
	KUNIT_EXPECT_EQ(test, c->nr_recv, n);
	KUNIT_EXPECT_EQ(test, c->nr_pages, pages);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->echo_errors), 0);
	KUNIT_EXPECT_FALSE(test, c->disorder);
	KUNIT_EXPECT_FALSE(test, c->bad_content);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
}

/*
 * A receiver that stops reading: non-blocking sends end in -EAGAIN, the
 * refused messages are freed, the connection stays up, and once the
 * receiver resumes every accepted message arrives in order and there is
 * room again.
 */
static void puma_transport_send_nonblock_full_queue_returns_eagain(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];
	struct puma_transport_stats now;
	u32 sent;

	sent = ptc_fill(test, ptc, c, s);
	/* Still full while the receiver is stuck. */
	KUNIT_EXPECT_EQ(test, ptc_send(c, sent, 0, PUMA_TRANSPORT_NONBLOCK),
			-EAGAIN);
	/* Refused messages were freed: at most the sent ones are alive. */
	puma_transport_get_stats(&now);
	if (ptc->tp->msgs_live_until_recv)
		KUNIT_EXPECT_EQ(test, now.msgs, ptc->base.msgs + sent);
	else
		KUNIT_EXPECT_LE(test, now.msgs, ptc->base.msgs + sent);
	KUNIT_EXPECT_EQ(test, atomic_read(&c->nr_disconnected), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->nr_disconnected), 0);

	ptc_open_gate(s);
	KUNIT_ASSERT_TRUE(test, ptc_wait_recv(s, sent));
	KUNIT_EXPECT_EQ(test, s->nr_recv, sent);
	/* Room again once drained. */
	KUNIT_EXPECT_EQ(test, ptc_send(c, sent, 0, PUMA_TRANSPORT_NONBLOCK), 0);
	KUNIT_ASSERT_TRUE(test, ptc_wait_recv(s, sent + 1));
	KUNIT_EXPECT_FALSE(test, s->disorder);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
}

static void puma_transport_send_full_queue_waits_for_room(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];
	struct ptc_sender *sender;
	u32 sent;

	sent = ptc_fill(test, ptc, c, s);
	sender = ptc_send_async(test, ptc, c, sent);
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&sender->done,
							  HZ / 5), 0);
	ptc_open_gate(s);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&sender->done,
							  PTC_TIMEOUT), 0);
	KUNIT_EXPECT_EQ(test, sender->err, 0);
	KUNIT_ASSERT_TRUE(test, ptc_wait_recv(s, sent + 1));
	KUNIT_EXPECT_FALSE(test, s->disorder);
}

static void puma_transport_send_nonblock_in_atomic_context_succeeds(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];
	struct puma_transport_msg *msg;
	unsigned long flags;
	int err;

	/* Like a reclaim hook: IRQs off, a spinlock held. */
	spin_lock_irqsave(&ptc_atomic_lock, flags);
	msg = ptm_msg(0, 1, GFP_ATOMIC);
	if (IS_ERR(msg))
		err = PTR_ERR(msg);
	else
		err = puma_transport_send(c->conn, msg, PUMA_TRANSPORT_NONBLOCK);
	spin_unlock_irqrestore(&ptc_atomic_lock, flags);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_ASSERT_TRUE(test, ptc_wait_recv(s, 1));
	KUNIT_EXPECT_FALSE(test, s->bad_content);
}

static void puma_transport_recv_may_take_over_page(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];

	s->take_page = true;
	s->next_seq = 4;
	KUNIT_ASSERT_EQ(test, ptc_send(c, 4, 1, 0), 0);
	KUNIT_ASSERT_TRUE(test, ptc_wait_recv(s, 1));
	KUNIT_ASSERT_NOT_NULL(test, s->taken);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
	/* Still the sender's bytes after the message was freed. */
	KUNIT_EXPECT_TRUE(test, ptm_page_ok(s->taken, 4, 0));
	KUNIT_EXPECT_EQ(test, page_ref_count(s->taken), 1);
}

static void puma_transport_disconnect_mid_stream_notifies_both_ends(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];
	struct puma_transport_stats now;
	u32 sent;

	sent = ptc_fill(test, ptc, c, s);
	puma_transport_disconnect(c->conn, -ESHUTDOWN);
	if (ptc->tp->disconnect_is_shared) {
		/* The queued messages went at once; the one in recv is the user's. */
		puma_transport_get_stats(&now);
		KUNIT_EXPECT_EQ(test, now.msgs, ptc->base.msgs + 1);
	}

	KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(c));
	ptc_open_gate(s);
	KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(s));
	KUNIT_EXPECT_EQ(test, c->reason, -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, s->reason,
			ptc->tp->carries_reason ? -ESHUTDOWN : -ECONNRESET);
	if (ptc->tp->disconnect_is_shared) {
		/* Only the message already in recv was delivered. */
		KUNIT_EXPECT_EQ(test, s->nr_recv, 1);
	} else {
		/* What was in flight may arrive, never more, in order. */
		KUNIT_EXPECT_LE(test, s->nr_recv, sent);
	}
	KUNIT_EXPECT_FALSE(test, s->disorder);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
	KUNIT_EXPECT_FALSE(test, s->recv_after_disconnect);
	KUNIT_EXPECT_EQ(test, ptc_send(c, sent, 0, 0), -ENOTCONN);
	msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&c->nr_disconnected), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->nr_disconnected), 1);
	if (ptc->tp->disconnect_is_shared) {
		puma_transport_get_stats(&now);
		KUNIT_EXPECT_EQ(test, now.msgs, ptc->base.msgs);
	} else {
		now = ptc->base;
		now.conns += 2;
		KUNIT_EXPECT_TRUE(test, ptc_wait_stats(&now, false));
	}
}

static void puma_transport_disconnect_twice_notifies_once(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];

	puma_transport_disconnect(s->conn, -EPIPE);
	puma_transport_disconnect(c->conn, -ETIMEDOUT);
	puma_transport_disconnect(s->conn, -EIO);
	KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(c));
	KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(s));
	msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&c->nr_disconnected), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->nr_disconnected), 1);
	/* The first reason wins, on both ends where it can reach both. */
	KUNIT_EXPECT_EQ(test, s->reason, -EPIPE);
	if (ptc->tp->carries_reason) {
		KUNIT_EXPECT_EQ(test, c->reason, -EPIPE);
	} else {
		/* Its own, or the reset if the peer's close came first. */
		KUNIT_EXPECT_TRUE_MSG(test, c->reason == -ETIMEDOUT ||
				      c->reason == -ECONNRESET,
				      "reason %d", c->reason);
	}
}

static void puma_transport_disconnect_without_errno_reports_econnreset(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];

	puma_transport_disconnect(c->conn, 0);
	KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(c));
	KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(s));
	KUNIT_EXPECT_EQ(test, c->reason, -ECONNRESET);
	KUNIT_EXPECT_EQ(test, s->reason, -ECONNRESET);
}

static void puma_transport_send_after_disconnect_returns_enotconn(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];
	struct puma_transport_stats now;

	puma_transport_disconnect(s->conn, -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, ptc_send(s, 0, 1, PUMA_TRANSPORT_NONBLOCK),
			-ENOTCONN);
	/* The peer's sends fail at once, or once it was told. */
	if (ptc->tp->disconnect_is_shared)
		KUNIT_EXPECT_EQ(test, ptc_send(c, 0, 1, 0), -ENOTCONN);
	KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(c));
	KUNIT_EXPECT_EQ(test, ptc_send(c, 0, 1, 0), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, ptc_send(c, 0, 0, PUMA_TRANSPORT_NONBLOCK),
			-ENOTCONN);
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.msgs, ptc->base.msgs);
	KUNIT_EXPECT_EQ(test, c->nr_recv, 0);
	KUNIT_EXPECT_EQ(test, s->nr_recv, 0);
}

/*
 * A sender waiting for room on a receiver that stays stuck is woken by a
 * disconnect of either end: the receiver's (connection 0) or its own
 * (connection 1, where the transport's own sending may be blocked too).
 */
static void puma_transport_disconnect_wakes_blocked_sender(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_sender *sender;
	struct ptc_end *c, *s;
	unsigned int i;
	u32 sent;

	for (i = 0; i < PTC_SENDERS; i++) {
		c = ptc_connect(test, ptc);
		s = &ptc->server[i];
		sent = ptc_fill(test, ptc, c, s);
		sender = ptc_send_async(test, ptc, c, sent);
		KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&sender->done,
								  HZ / 5), 0);
		/* The receiver stays stuck: only the disconnect can wake it. */
		puma_transport_disconnect(i ? c->conn : s->conn, -ESHUTDOWN);
		KUNIT_ASSERT_NE_MSG(test,
				    wait_for_completion_timeout(&sender->done,
								PTC_TIMEOUT),
				    0, "sender %u", i);
		if (i || ptc->tp->disconnect_is_shared) {
			KUNIT_EXPECT_EQ_MSG(test, sender->err, -ENOTCONN,
					    "sender %u", i);
		} else {
			/*
			 * Until the peer's disconnect reaches this end, the
			 * stack may still take a little: the message then
			 * found room, and goes with the connection.
			 */
			KUNIT_EXPECT_TRUE_MSG(test, sender->err == -ENOTCONN ||
					      !sender->err,
					      "sender %u: %d", i, sender->err);
		}
		KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(c));
		ptc_open_gate(s);
		KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(s));
		KUNIT_EXPECT_FALSE(test, s->recv_after_disconnect);
		KUNIT_EXPECT_FALSE(test, s->disorder);
	}
}

#define PTC_FLOODERS	4

/* Sends messages until an error; no KUnit calls off the test thread. */
struct ptc_flooder {
	struct work_struct work;
	struct puma_transport_conn *conn;
	unsigned int sent;
	int err;
	struct completion done;
};

static void ptc_flood_work(struct work_struct *work)
{
	struct ptc_flooder *f = container_of(work, struct ptc_flooder, work);
	struct puma_transport_msg *msg;
	int err = 0;

	while (!err && f->sent < 100000) {
		msg = ptm_msg(f->sent, f->sent % 2, GFP_KERNEL);
		if (IS_ERR(msg)) {
			err = PTR_ERR(msg);
			break;
		}
		err = puma_transport_send(f->conn, msg, 0);
		if (!err)
			WRITE_ONCE(f->sent, f->sent + 1);
	}
	f->err = err;
	complete(&f->done);
}

static void puma_transport_disconnect_racing_senders_frees_everything(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct ptc_end *c = ptc_connect(test, ptc);
	struct ptc_end *s = &ptc->server[0];
	struct ptc_flooder *f;
	unsigned int i;

	f = kunit_kcalloc(test, PTC_FLOODERS, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	for (i = 0; i < PTC_FLOODERS; i++) {
		INIT_WORK(&f[i].work, ptc_flood_work);
		init_completion(&f[i].done);
		f[i].conn = i % 2 ? s->conn : c->conn;
		queue_work(system_unbound_wq, &f[i].work);
	}
	/* Every sender under way, queues filling, then pull the plug. */
	for (i = 0; i < PTC_FLOODERS; i++) {
		unsigned long deadline = jiffies + PTC_TIMEOUT;

		while (!READ_ONCE(f[i].sent) && time_before(jiffies, deadline))
			usleep_range(1000, 2000);
	}
	msleep(20);
	puma_transport_disconnect(c->conn, -ESHUTDOWN);
	for (i = 0; i < PTC_FLOODERS; i++) {
		KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&f[i].done,
								  PTC_TIMEOUT), 0);
		flush_work(&f[i].work);
		KUNIT_EXPECT_EQ(test, f[i].err, -ENOTCONN);
		KUNIT_EXPECT_GT(test, f[i].sent, 0);
	}
	KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(c));
	KUNIT_ASSERT_TRUE(test, ptc_wait_disconnected(s));
	KUNIT_EXPECT_FALSE(test, c->recv_after_disconnect);
	KUNIT_EXPECT_FALSE(test, s->recv_after_disconnect);
	KUNIT_EXPECT_FALSE(test, c->bad_content);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
	/* ptc_exit checks that no message or end is left. */
}

static void puma_transport_disconnect_many_mid_stream_leaves_no_objects(struct kunit *test)
{
	struct ptc *ptc = test->priv;
	struct puma_transport_stats now;
	unsigned int i;
	u32 seq;

	for (i = 0; i < PTC_ENDS; i++)
		ptc_connect(test, ptc);
	/* Traffic both ways on every connection, half of them stuck full. */
	for (i = 0; i < PTC_ENDS; i++) {
		struct ptc_end *c = &ptc->client[i], *s = &ptc->server[i];

		if (i % 2)
			ptc_fill(test, ptc, c, s);
		for (seq = 0; seq < 32; seq++)
			KUNIT_ASSERT_EQ(test, ptc_send(s, seq, seq % 4 == 0,
						       PUMA_TRANSPORT_NONBLOCK), 0);
	}
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.conns, ptc->base.conns + 2 * PTC_ENDS);
	KUNIT_EXPECT_GT(test, now.msgs, ptc->base.msgs);

	/* Tear down from either side, mid-stream, then release it all. */
	for (i = 0; i < PTC_ENDS; i++) {
		struct ptc_end *c = &ptc->client[i], *s = &ptc->server[i];

		puma_transport_disconnect(i % 3 ? c->conn : s->conn, -ESHUTDOWN);
		ptc_open_gate(s);
	}
	for (i = 0; i < PTC_ENDS; i++) {
		struct ptc_end *c = &ptc->client[i], *s = &ptc->server[i];

		KUNIT_EXPECT_TRUE(test, ptc_wait_disconnected(c));
		KUNIT_EXPECT_TRUE(test, ptc_wait_disconnected(s));
		KUNIT_EXPECT_FALSE(test, c->recv_after_disconnect);
		KUNIT_EXPECT_FALSE(test, s->recv_after_disconnect);
		puma_transport_conn_put(c->conn);
		puma_transport_conn_put(s->conn);
		c->conn = NULL;
		s->conn = NULL;
	}
	puma_transport_listener_close(ptc->listener);
	ptc->listener = NULL;
	KUNIT_EXPECT_TRUE(test, ptc_wait_stats(&ptc->base, true));
}

#define PTC_CASE(name)		KUNIT_CASE_PARAM(name, ptc_transport_gen_params)
#define PTC_CASE_SLOW(name)						\
	KUNIT_CASE_PARAM_ATTR(name, ptc_transport_gen_params,		\
			      { .speed = KUNIT_SPEED_SLOW })

static struct kunit_case puma_transport_conformance_cases[] = {
	PTC_CASE(puma_transport_connect_without_listener_returns_econnrefused),
	PTC_CASE(puma_transport_connect_refused_returns_econnrefused),
	PTC_CASE(puma_transport_accept_without_callbacks_refuses_conn),
	PTC_CASE(puma_transport_listen_duplicate_address_returns_eaddrinuse),
	PTC_CASE(puma_transport_listener_close_keeps_established_conns),
	PTC_CASE(puma_transport_send_preserves_order),
	PTC_CASE_SLOW(puma_transport_send_large_batches_arrive_in_order),
	PTC_CASE(puma_transport_send_from_server_reaches_client),
	PTC_CASE(puma_transport_recv_can_reply_nonblock),
	PTC_CASE_SLOW(puma_transport_send_nonblock_full_queue_returns_eagain),
	PTC_CASE(puma_transport_send_full_queue_waits_for_room),
	PTC_CASE(puma_transport_send_nonblock_in_atomic_context_succeeds),
	PTC_CASE(puma_transport_recv_may_take_over_page),
	PTC_CASE(puma_transport_disconnect_mid_stream_notifies_both_ends),
	PTC_CASE(puma_transport_disconnect_twice_notifies_once),
	PTC_CASE(puma_transport_disconnect_without_errno_reports_econnreset),
	PTC_CASE(puma_transport_send_after_disconnect_returns_enotconn),
	PTC_CASE_SLOW(puma_transport_disconnect_wakes_blocked_sender),
	PTC_CASE(puma_transport_disconnect_racing_senders_frees_everything),
	PTC_CASE(puma_transport_disconnect_many_mid_stream_leaves_no_objects),
	{}
};

static struct kunit_suite puma_transport_conformance_suite = {
	.name = "puma_transport_conformance",
	.suite_init = ptc_suite_init,
	.suite_exit = ptc_suite_exit,
	.init = ptc_init,
	.exit = ptc_exit,
	.test_cases = puma_transport_conformance_cases,
};

kunit_test_suite(puma_transport_conformance_suite);

MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit conformance tests for every PUMA transport");
MODULE_LICENSE("GPL");
