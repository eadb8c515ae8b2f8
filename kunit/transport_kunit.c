// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suites for the PUMA transport layer.
 *
 * puma_transport: registry rules and message helpers, with fake transports
 * defined here.
 * puma_transport_loop: the loopback transport: ordering, back-pressure,
 * disconnects and teardown.  Every case ends by tearing its connections
 * down and checking that the transport layer's object counts are back
 * where they started.
 *
 * Every wait is bounded, so a bug fails a case instead of hanging the run.
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
#include <linux/workqueue.h>

#include <puma/transport.h>

#include "../lib/internal.h"

#define PT_TIMEOUT	(10 * HZ)

static bool pt_stats_equal(const struct puma_transport_stats *a,
			   const struct puma_transport_stats *b)
{
	return a->msgs == b->msgs && a->conns == b->conns &&
	       a->listeners == b->listeners;
}

/*
 * Connection ends are freed by the transport's work items after their
 * disconnected callbacks return, so give the counts a moment to settle.
 */
static bool pt_wait_stats(const struct puma_transport_stats *want)
{
	unsigned long deadline = jiffies + PT_TIMEOUT;
	struct puma_transport_stats now;

	for (;;) {
		puma_transport_get_stats(&now);
		if (pt_stats_equal(&now, want))
			return true;
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(5000, 10000);
	}
}

/* ---- puma_transport: registry rules, with fake transports ---- */

struct fake_conn {
	struct puma_transport_conn conn;
};

struct fake_listener {
	struct puma_transport_listener listener;
};

static struct puma_transport_listener *
fake_listen(struct puma_transport *t, const char *addr,
	    const struct puma_transport_listener_ops *ops, void *priv)
{
	struct fake_listener *fl = kzalloc(sizeof(*fl), GFP_KERNEL);

	if (!fl)
		return ERR_PTR(-ENOMEM);
	puma_transport_listener_init(&fl->listener, t, ops, priv);
	return &fl->listener;
}

static void fake_listener_close(struct puma_transport_listener *listener)
{
	kfree(container_of(listener, struct fake_listener, listener));
}

/* The initial reference is the caller's: the fake delivers nothing. */
static struct puma_transport_conn *
fake_connect(struct puma_transport *t, const char *addr,
	     const struct puma_transport_conn_ops *ops, void *priv)
{
	struct fake_conn *fc = kzalloc(sizeof(*fc), GFP_KERNEL);

	if (!fc)
		return ERR_PTR(-ENOMEM);
	puma_transport_conn_init(&fc->conn, t, ops, priv);
	return &fc->conn;
}

static int fake_send(struct puma_transport_conn *conn,
		     struct puma_transport_msg *msg, unsigned int flags)
{
	puma_transport_msg_free(msg);
	return 0;
}

static void fake_disconnect(struct puma_transport_conn *conn, int reason)
{
}

static void fake_release(struct puma_transport_conn *conn)
{
	kfree(container_of(conn, struct fake_conn, conn));
}

static const struct puma_transport_ops fake_ops = {
	.listen		= fake_listen,
	.listener_close	= fake_listener_close,
	.connect	= fake_connect,
	.send		= fake_send,
	.disconnect	= fake_disconnect,
	.release	= fake_release,
};

static void fake_recv(struct puma_transport_conn *conn,
		      struct puma_transport_msg *msg)
{
	puma_transport_msg_free(msg);
}

static void fake_disconnected(struct puma_transport_conn *conn, int reason)
{
}

static const struct puma_transport_conn_ops fake_conn_ops = {
	.recv		= fake_recv,
	.disconnected	= fake_disconnected,
};

static int fake_accept(struct puma_transport_listener *listener,
		       struct puma_transport_conn *conn)
{
	return -EPERM;
}

static const struct puma_transport_listener_ops fake_listener_ops = {
	.accept		= fake_accept,
};

static void fake_unregister(void *data)
{
	puma_transport_unregister(data);
}

/* A fake transport, unregistered when the case ends, pass or fail. */
static struct puma_transport *fake_transport(struct kunit *test,
					     const char *name)
{
	struct puma_transport *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->name = name;
	t->owner = THIS_MODULE;
	t->ops = &fake_ops;
	return t;
}

static struct puma_transport *fake_registered(struct kunit *test,
					      const char *name)
{
	struct puma_transport *t = fake_transport(test, name);

	KUNIT_ASSERT_EQ(test, puma_transport_register(t), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fake_unregister,
							t), 0);
	return t;
}

static void puma_transport_register_rejects_duplicate(struct kunit *test)
{
	struct puma_transport *b = fake_transport(test, "ptk-dup");

	fake_registered(test, "ptk-dup");
	KUNIT_EXPECT_EQ(test, puma_transport_register(b), -EEXIST);
}

static void puma_transport_register_rejects_invalid_name(struct kunit *test)
{
	static const char * const bad[] = {
		"", "Loop", "with space", "a/b", "dot.", "sixteen-chars-xx",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct puma_transport *t = fake_transport(test, bad[i]);

		KUNIT_EXPECT_EQ_MSG(test, puma_transport_register(t), -EINVAL,
				    "name \"%s\"", bad[i]);
	}
	KUNIT_EXPECT_EQ(test,
			puma_transport_register(fake_transport(test, NULL)),
			-EINVAL);
}

static void puma_transport_register_accepts_longest_name(struct kunit *test)
{
	struct puma_transport *t;

	/* 15 characters: the longest allowed, with every character class. */
	fake_registered(test, "ptk-0123456789_");
	t = puma_transport_get("ptk-0123456789_");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	puma_transport_put(t);
}

static void puma_transport_register_rejects_missing_ops(struct kunit *test)
{
	struct puma_transport_ops *ops;
	struct puma_transport *t;

	ops = kunit_kzalloc(test, sizeof(*ops), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ops);
	*ops = fake_ops;
	ops->release = NULL;
	t = fake_transport(test, "ptk-noops");
	t->ops = ops;
	KUNIT_EXPECT_EQ(test, puma_transport_register(t), -EINVAL);
	t->ops = NULL;
	KUNIT_EXPECT_EQ(test, puma_transport_register(t), -EINVAL);
}

static void puma_transport_get_unknown_returns_enoent(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_get("ptk-none")), -ENOENT);
}

static void puma_transport_get_invalid_name_returns_einval(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_get("")), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_get("../loop")), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_get(NULL)), -EINVAL);
}

static void puma_transport_get_registered_returns_it(struct kunit *test)
{
	struct puma_transport *t = fake_registered(test, "ptk-get");
	struct puma_transport *got;

	got = puma_transport_get("ptk-get");
	KUNIT_ASSERT_FALSE(test, IS_ERR(got));
	KUNIT_EXPECT_PTR_EQ(test, got, t);
	puma_transport_put(got);
}

static void puma_transport_get_loop_returns_loopback(struct kunit *test)
{
	struct puma_transport *t = puma_transport_get("loop");

	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	KUNIT_EXPECT_STREQ(test, t->name, "loop");
	puma_transport_put(t);
}

static void puma_transport_unregister_in_use_returns_ebusy(struct kunit *test)
{
	struct puma_transport *t = fake_registered(test, "ptk-busy");
	struct puma_transport *got;

	got = puma_transport_get("ptk-busy");
	KUNIT_ASSERT_PTR_EQ(test, got, t);
	KUNIT_EXPECT_EQ(test, puma_transport_unregister(t), -EBUSY);
	/* Still found while refused. */
	KUNIT_EXPECT_PTR_EQ(test, puma_transport_get("ptk-busy"), t);
	puma_transport_put(t);
	puma_transport_put(got);
	KUNIT_EXPECT_EQ(test, puma_transport_unregister(t), 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_get("ptk-busy")), -ENOENT);
}

static void
puma_transport_unregister_with_live_conn_returns_ebusy(struct kunit *test)
{
	struct puma_transport *t = fake_registered(test, "ptk-conn");
	struct puma_transport_stats base, now;
	struct puma_transport_conn *conn;

	puma_transport_get_stats(&base);
	KUNIT_ASSERT_PTR_EQ(test, puma_transport_get("ptk-conn"), t);
	conn = puma_transport_connect(t, "anywhere", &fake_conn_ops, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(conn));
	puma_transport_put(t);

	/* The connection alone pins the transport. */
	KUNIT_EXPECT_EQ(test, puma_transport_unregister(t), -EBUSY);
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.conns, base.conns + 1);

	puma_transport_conn_put(conn);
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.conns, base.conns);
	KUNIT_EXPECT_EQ(test, puma_transport_unregister(t), 0);
}

static void
puma_transport_unregister_with_listener_returns_ebusy(struct kunit *test)
{
	struct puma_transport *t = fake_registered(test, "ptk-lsn");
	struct puma_transport_listener *l;
	struct puma_transport_stats base, now;

	puma_transport_get_stats(&base);
	KUNIT_ASSERT_PTR_EQ(test, puma_transport_get("ptk-lsn"), t);
	l = puma_transport_listen(t, "here", &fake_listener_ops, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(l));
	puma_transport_put(t);

	KUNIT_EXPECT_EQ(test, puma_transport_unregister(t), -EBUSY);
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.listeners, base.listeners + 1);

	puma_transport_listener_close(l);
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.listeners, base.listeners);
	KUNIT_EXPECT_EQ(test, puma_transport_unregister(t), 0);
}

static void puma_transport_unregister_unknown_returns_enoent(struct kunit *test)
{
	struct puma_transport *t = fake_transport(test, "ptk-never");

	KUNIT_EXPECT_EQ(test, puma_transport_unregister(t), -ENOENT);
}

static void puma_transport_connect_invalid_args_returns_einval(struct kunit *test)
{
	static const struct puma_transport_conn_ops half_ops = {
		.recv = fake_recv,
	};
	struct puma_transport *t = fake_registered(test, "ptk-args");
	char *long_addr;

	long_addr = kunit_kzalloc(test, PUMA_TRANSPORT_ADDR_MAX + 2, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, long_addr);
	memset(long_addr, 'a', PUMA_TRANSPORT_ADDR_MAX + 1);

	KUNIT_ASSERT_PTR_EQ(test, puma_transport_get("ptk-args"), t);
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_connect(t, "", &fake_conn_ops,
							     NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_connect(t, long_addr,
							     &fake_conn_ops,
							     NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_connect(t, "x", &half_ops,
							     NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(puma_transport_listen(t, "x", NULL, NULL)),
			-EINVAL);
	puma_transport_put(t);
}

static void puma_transport_msg_alloc_allocates_pages(struct kunit *test)
{
	struct puma_transport_stats base, now;
	struct puma_transport_msg *msg;
	unsigned int i;

	puma_transport_get_stats(&base);
	msg = puma_transport_msg_alloc(64, PUMA_TRANSPORT_MAX_PAGES, GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	KUNIT_EXPECT_EQ(test, msg->head_len, 64);
	KUNIT_EXPECT_EQ(test, msg->nr_pages, PUMA_TRANSPORT_MAX_PAGES);
	for (i = 0; i < PUMA_TRANSPORT_MAX_PAGES; i++)
		KUNIT_EXPECT_NOT_NULL(test, msg->pages[i]);
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.msgs, base.msgs + 1);
	puma_transport_msg_free(msg);
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.msgs, base.msgs);
}

static void puma_transport_msg_alloc_oversize_returns_einval(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(puma_transport_msg_alloc(0,
							 PUMA_TRANSPORT_MAX_PAGES + 1,
							 GFP_KERNEL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(puma_transport_msg_alloc(PUMA_TRANSPORT_MAX_HEAD + 1,
							 0, GFP_KERNEL)),
			-EINVAL);
}

static void puma_transport_msg_free_skips_taken_pages(struct kunit *test)
{
	struct puma_transport_msg *msg;
	struct page *page;
	u8 *p;

	msg = puma_transport_msg_alloc(8, 2, GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	page = msg->pages[1];
	msg->pages[1] = NULL;
	puma_transport_msg_free(msg);

	/* Still ours: KASAN would flag a page freed with the message. */
	p = kmap_local_page(page);
	memset(p, 0x5a, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, p[PAGE_SIZE - 1], 0x5a);
	kunmap_local(p);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	__free_page(page);
}

static void puma_transport_msg_add_page_full_returns_enospc(struct kunit *test)
{
	struct puma_transport_msg *msg;
	struct page *page;

	msg = puma_transport_msg_alloc(0, PUMA_TRANSPORT_MAX_PAGES - 1,
				       GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, puma_transport_msg_add_page(msg, page), 0);
	KUNIT_EXPECT_EQ(test, msg->nr_pages, PUMA_TRANSPORT_MAX_PAGES);

	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_EQ(test, puma_transport_msg_add_page(msg, page), -ENOSPC);
	__free_page(page);
	puma_transport_msg_free(msg);
}

static void puma_transport_send_invalid_msg_returns_einval(struct kunit *test)
{
	struct puma_transport *t = fake_registered(test, "ptk-send");
	struct puma_transport_stats base, now;
	struct puma_transport_conn *conn;
	struct puma_transport_msg *msg;

	KUNIT_ASSERT_PTR_EQ(test, puma_transport_get("ptk-send"), t);
	conn = puma_transport_connect(t, "peer", &fake_conn_ops, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(conn));
	puma_transport_get_stats(&base);

	/* A hole in the page array. */
	msg = puma_transport_msg_alloc(8, 2, GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	__free_page(msg->pages[0]);
	msg->pages[0] = NULL;
	KUNIT_EXPECT_EQ(test, puma_transport_send(conn, msg, 0), -EINVAL);

	/* An unknown flag. */
	msg = puma_transport_msg_alloc(8, 0, GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	KUNIT_EXPECT_EQ(test, puma_transport_send(conn, msg, 0x80), -EINVAL);

	/* Both consumed all the same. */
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.msgs, base.msgs);

	puma_transport_conn_put(conn);
	puma_transport_put(t);
}

static struct kunit_case puma_transport_cases[] = {
	KUNIT_CASE(puma_transport_register_rejects_duplicate),
	KUNIT_CASE(puma_transport_register_rejects_invalid_name),
	KUNIT_CASE(puma_transport_register_accepts_longest_name),
	KUNIT_CASE(puma_transport_register_rejects_missing_ops),
	KUNIT_CASE(puma_transport_get_unknown_returns_enoent),
	KUNIT_CASE(puma_transport_get_invalid_name_returns_einval),
	KUNIT_CASE(puma_transport_get_registered_returns_it),
	KUNIT_CASE(puma_transport_get_loop_returns_loopback),
	KUNIT_CASE(puma_transport_unregister_in_use_returns_ebusy),
	KUNIT_CASE(puma_transport_unregister_with_live_conn_returns_ebusy),
	KUNIT_CASE(puma_transport_unregister_with_listener_returns_ebusy),
	KUNIT_CASE(puma_transport_unregister_unknown_returns_enoent),
	KUNIT_CASE(puma_transport_connect_invalid_args_returns_einval),
	KUNIT_CASE(puma_transport_msg_alloc_allocates_pages),
	KUNIT_CASE(puma_transport_msg_alloc_oversize_returns_einval),
	KUNIT_CASE(puma_transport_msg_free_skips_taken_pages),
	KUNIT_CASE(puma_transport_msg_add_page_full_returns_enospc),
	KUNIT_CASE(puma_transport_send_invalid_msg_returns_einval),
	{}
};

static struct kunit_suite puma_transport_suite = {
	.name = "puma_transport",
	.test_cases = puma_transport_cases,
};

/* ---- puma_transport_loop: the loopback transport ---- */

#define LT_ENDS		8
#define LT_MAGIC	0x504d4c54	/* "PMLT" */

struct lt_head {
	u32 magic;
	u32 seq;
};

/* What one end's callbacks saw. */
struct lt_end {
	struct puma_transport_conn *conn;
	/* Written by recv only, which the transport serialises. */
	u32 next_seq;
	unsigned int nr_recv;
	wait_queue_head_t recv_wait;
	bool disorder;
	bool bad_content;
	bool recv_after_disconnect;
	bool take_page;
	struct page *taken;
	/* Send every message back, from recv, without waiting. */
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

struct lt_sender {
	struct work_struct work;
	struct puma_transport_conn *conn;
	struct puma_transport_msg *msg;
	int err;
	struct completion done;
};

struct lt {
	struct kunit *test;
	struct puma_transport_stats base;
	struct puma_transport *t;
	struct puma_transport_listener *listener;
	char addr[32];
	int refuse;
	bool accept_without_ops;
	unsigned int nr_clients;
	unsigned int nr_servers;
	struct lt_end client[LT_ENDS];
	struct lt_end server[LT_ENDS];
	struct lt_sender *sender;
};

static atomic_t lt_addr_seq = ATOMIC_INIT(0);
static DEFINE_SPINLOCK(lt_atomic_lock);

static void lt_recv(struct puma_transport_conn *conn,
		    struct puma_transport_msg *msg)
{
	struct lt_end *e = conn->priv;
	struct lt_head head;

	if (e->gate) {
		e->gate = false;
		complete(&e->gate_entered);
		wait_for_completion_timeout(&e->gate_open, PT_TIMEOUT);
	}
	if (atomic_read(&e->nr_disconnected))
		e->recv_after_disconnect = true;

	if (msg->head_len != sizeof(head)) {
		e->bad_content = true;
		memset(&head, 0, sizeof(head));
	} else {
		memcpy(&head, msg->head, sizeof(head));
	}
	if (head.magic != LT_MAGIC)
		e->bad_content = true;
	if (head.seq != e->next_seq)
		e->disorder = true;
	e->next_seq = head.seq + 1;
	if (msg->nr_pages) {
		u8 *p = kmap_local_page(msg->pages[0]);
		u32 first;

		memcpy(&first, p, sizeof(first));
		if (first != head.seq || p[PAGE_SIZE - 1] != (u8)head.seq)
			e->bad_content = true;
		kunmap_local(p);
		if (e->take_page && !e->taken) {
			e->taken = msg->pages[0];
			msg->pages[0] = NULL;
		}
	}
	puma_transport_msg_free(msg);
	if (e->echo) {
		struct puma_transport_msg *reply;

		/* The message is the transport's once sent: fill it first. */
		reply = puma_transport_msg_alloc(sizeof(head), 0, GFP_KERNEL);
		if (!IS_ERR(reply))
			memcpy(reply->head, &head, sizeof(head));
		if (IS_ERR(reply) ||
		    puma_transport_send(conn, reply, PUMA_TRANSPORT_NONBLOCK))
			atomic_inc(&e->echo_errors);
	}
	WRITE_ONCE(e->nr_recv, e->nr_recv + 1);
	wake_up(&e->recv_wait);
}

static void lt_disconnected(struct puma_transport_conn *conn, int reason)
{
	struct lt_end *e = conn->priv;

	e->reason = reason;
	atomic_inc(&e->nr_disconnected);
	/* complete_all: any number of waiters, teardown included. */
	complete_all(&e->disconnected);
}

static const struct puma_transport_conn_ops lt_conn_ops = {
	.recv		= lt_recv,
	.disconnected	= lt_disconnected,
};

static int lt_accept(struct puma_transport_listener *listener,
		     struct puma_transport_conn *conn)
{
	struct lt *lt = listener->priv;
	struct lt_end *e;

	if (lt->refuse)
		return lt->refuse;
	if (lt->accept_without_ops)
		return 0;
	if (lt->nr_servers == LT_ENDS)
		return -ENOSPC;
	e = &lt->server[lt->nr_servers++];
	e->conn = conn;
	return puma_transport_conn_set_ops(conn, &lt_conn_ops, e);
}

static const struct puma_transport_listener_ops lt_listener_ops = {
	.accept		= lt_accept,
};

static void lt_end_init(struct lt_end *e)
{
	init_waitqueue_head(&e->recv_wait);
	init_completion(&e->gate_entered);
	init_completion(&e->gate_open);
	init_completion(&e->disconnected);
	atomic_set(&e->nr_disconnected, 0);
	atomic_set(&e->echo_errors, 0);
}

static int lt_init(struct kunit *test)
{
	struct lt *lt;
	unsigned int i;

	lt = kunit_kzalloc(test, sizeof(*lt), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, lt);
	lt->test = test;
	/* Set first: exit releases whatever init got before failing. */
	test->priv = lt;
	for (i = 0; i < LT_ENDS; i++) {
		lt_end_init(&lt->client[i]);
		lt_end_init(&lt->server[i]);
	}
	puma_transport_get_stats(&lt->base);

	lt->t = puma_transport_get("loop");
	KUNIT_ASSERT_FALSE(test, IS_ERR(lt->t));
	snprintf(lt->addr, sizeof(lt->addr), "kunit%d",
		 atomic_inc_return(&lt_addr_seq));
	lt->listener = puma_transport_listen(lt->t, lt->addr, &lt_listener_ops,
					     lt);
	KUNIT_ASSERT_FALSE(test, IS_ERR(lt->listener));
	return 0;
}

static void lt_end_teardown(struct lt_end *e)
{
	complete_all(&e->gate_open);
	if (e->conn) {
		puma_transport_disconnect(e->conn, -ESHUTDOWN);
		wait_for_completion_timeout(&e->disconnected, PT_TIMEOUT);
		puma_transport_conn_put(e->conn);
		e->conn = NULL;
	}
	if (e->taken)
		__free_page(e->taken);
	e->taken = NULL;
}

/* Tear everything down and check that nothing was left behind. */
static void lt_exit(struct kunit *test)
{
	struct lt *lt = test->priv;
	unsigned int i;

	if (!lt)
		return;
	for (i = 0; i < LT_ENDS; i++) {
		lt_end_teardown(&lt->client[i]);
		lt_end_teardown(&lt->server[i]);
	}
	if (lt->sender)
		flush_work(&lt->sender->work);
	puma_transport_listener_close(lt->listener);
	puma_transport_put(lt->t);
	KUNIT_EXPECT_TRUE_MSG(test, pt_wait_stats(&lt->base),
			      "transport objects leaked");
}

static struct lt_end *lt_connect(struct kunit *test, struct lt *lt)
{
	struct lt_end *e;

	KUNIT_ASSERT_LT(test, lt->nr_clients, LT_ENDS);
	e = &lt->client[lt->nr_clients];
	e->conn = puma_transport_connect(lt->t, lt->addr, &lt_conn_ops, e);
	KUNIT_ASSERT_FALSE(test, IS_ERR(e->conn));
	lt->nr_clients++;
	KUNIT_ASSERT_EQ(test, lt->nr_servers, lt->nr_clients);
	return e;
}

static struct puma_transport_msg *lt_msg(struct kunit *test, u32 seq,
					 bool with_page, gfp_t gfp)
{
	struct lt_head head = { .magic = LT_MAGIC, .seq = seq };
	struct puma_transport_msg *msg;

	msg = puma_transport_msg_alloc(sizeof(head), with_page, gfp);
	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	memcpy(msg->head, &head, sizeof(head));
	if (with_page) {
		u8 *p = kmap_local_page(msg->pages[0]);

		memset(p, (u8)seq, PAGE_SIZE);
		memcpy(p, &seq, sizeof(seq));
		kunmap_local(p);
	}
	return msg;
}

static int lt_send(struct kunit *test, struct lt_end *from, u32 seq,
		   unsigned int flags)
{
	return puma_transport_send(from->conn,
				   lt_msg(test, seq, seq % 4 == 0, GFP_KERNEL),
				   flags);
}

static void lt_sender_work(struct work_struct *work)
{
	struct lt_sender *s = container_of(work, struct lt_sender, work);

	s->err = puma_transport_send(s->conn, s->msg, 0);
	complete(&s->done);
}

/* Send one message, waiting for room, from another thread. */
static struct lt_sender *lt_send_async(struct kunit *test, struct lt *lt,
				       struct lt_end *from, u32 seq)
{
	struct lt_sender *s;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	INIT_WORK(&s->work, lt_sender_work);
	init_completion(&s->done);
	s->conn = from->conn;
	s->msg = lt_msg(test, seq, false, GFP_KERNEL);
	lt->sender = s;
	queue_work(system_unbound_wq, &s->work);
	return s;
}

/*
 * Make @to's receive queue full: its first message is held in recv by the
 * gate, then non-blocking sends fill the queue.  Returns how many messages
 * were sent, gate included.
 */
static u32 lt_fill(struct kunit *test, struct lt_end *from, struct lt_end *to)
{
	u32 seq;
	int err;

	to->gate = true;
	KUNIT_ASSERT_EQ(test, lt_send(test, from, 0, 0), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&to->gate_entered,
							  PT_TIMEOUT), 0);
	for (seq = 1; seq < 100000; seq++) {
		err = lt_send(test, from, seq, PUMA_TRANSPORT_NONBLOCK);
		if (err)
			break;
	}
	KUNIT_ASSERT_EQ(test, err, -EAGAIN);
	/* The queue holds at least one message besides the one in recv. */
	KUNIT_ASSERT_GT(test, seq, 1);
	return seq;
}

static void lt_open_gate(struct lt_end *e)
{
	complete_all(&e->gate_open);
}

static bool lt_wait_recv(struct lt_end *e, unsigned int target)
{
	return wait_event_timeout(e->recv_wait,
				  READ_ONCE(e->nr_recv) >= target, PT_TIMEOUT);
}

static void puma_transport_connect_without_listener_returns_econnrefused(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *e = &lt->client[0];

	KUNIT_EXPECT_EQ(test,
			PTR_ERR(puma_transport_connect(lt->t, "kunit-nobody",
						       &lt_conn_ops, e)),
			-ECONNREFUSED);
}

static void puma_transport_connect_refused_returns_econnrefused(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct puma_transport_stats now;

	lt->refuse = -EPERM;
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(puma_transport_connect(lt->t, lt->addr,
						       &lt_conn_ops,
						       &lt->client[0])),
			-ECONNREFUSED);
	/* Both ends of the refused pair are gone at once. */
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.conns, lt->base.conns);
	KUNIT_EXPECT_EQ(test, lt->nr_servers, 0);
}

static void puma_transport_accept_without_callbacks_refuses_conn(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct puma_transport_stats now;

	lt->accept_without_ops = true;
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(puma_transport_connect(lt->t, lt->addr,
						       &lt_conn_ops,
						       &lt->client[0])),
			-ECONNREFUSED);
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.conns, lt->base.conns);
}

static void puma_transport_listen_duplicate_address_returns_eaddrinuse(struct kunit *test)
{
	struct lt *lt = test->priv;

	KUNIT_EXPECT_EQ(test,
			PTR_ERR(puma_transport_listen(lt->t, lt->addr,
						      &lt_listener_ops, lt)),
			-EADDRINUSE);
}

static void puma_transport_listener_close_keeps_established_conns(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];

	puma_transport_listener_close(lt->listener);
	lt->listener = NULL;
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(puma_transport_connect(lt->t, lt->addr,
						       &lt_conn_ops,
						       &lt->client[1])),
			-ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, lt_send(test, c, 0, 0), 0);
	KUNIT_EXPECT_TRUE(test, lt_wait_recv(s, 1));
	/* And the address can be taken again. */
	lt->listener = puma_transport_listen(lt->t, lt->addr, &lt_listener_ops,
					     lt);
	KUNIT_EXPECT_FALSE(test, IS_ERR(lt->listener));
	if (IS_ERR(lt->listener))
		lt->listener = NULL;
}

static void puma_transport_send_preserves_order(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];
	const u32 n = 3000;
	u32 seq;

	for (seq = 0; seq < n; seq++)
		KUNIT_ASSERT_EQ(test, lt_send(test, c, seq, 0), 0);
	KUNIT_ASSERT_TRUE(test, lt_wait_recv(s, n));
	KUNIT_EXPECT_EQ(test, s->nr_recv, n);
	KUNIT_EXPECT_FALSE(test, s->disorder);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
}

static void puma_transport_send_from_server_reaches_client(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];
	const u32 n = 500;
	u32 seq;

	/* Interleaved both ways; each direction keeps its own order. */
	for (seq = 0; seq < n; seq++) {
		KUNIT_ASSERT_EQ(test, lt_send(test, s, seq, 0), 0);
		KUNIT_ASSERT_EQ(test, lt_send(test, c, seq, 0), 0);
	}
	KUNIT_ASSERT_TRUE(test, lt_wait_recv(c, n));
	KUNIT_ASSERT_TRUE(test, lt_wait_recv(s, n));
	KUNIT_EXPECT_FALSE(test, c->disorder);
	KUNIT_EXPECT_FALSE(test, s->disorder);
	KUNIT_EXPECT_FALSE(test, c->bad_content);
}

static void puma_transport_recv_can_reply_nonblock(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];
	const u32 n = 20;
	u32 seq;

	s->echo = true;
	for (seq = 0; seq < n; seq++) {
		KUNIT_ASSERT_EQ(test, lt_send(test, c, seq, 0), 0);
		/* One at a time, so the replies never meet a full queue. */
		KUNIT_ASSERT_TRUE(test, lt_wait_recv(c, seq + 1));
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&s->echo_errors), 0);
	KUNIT_EXPECT_FALSE(test, c->disorder);
	KUNIT_EXPECT_FALSE(test, c->bad_content);
}

static void puma_transport_send_nonblock_full_queue_returns_eagain(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];
	struct puma_transport_stats now;
	u32 sent;

	sent = lt_fill(test, c, s);
	/* Still full while the receiver is stuck. */
	KUNIT_EXPECT_EQ(test, lt_send(test, c, sent, PUMA_TRANSPORT_NONBLOCK),
			-EAGAIN);
	/* Refused messages were freed: only the sent ones are alive. */
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.msgs, lt->base.msgs + sent);

	lt_open_gate(s);
	KUNIT_ASSERT_TRUE(test, lt_wait_recv(s, sent));
	/* Room again once drained. */
	KUNIT_EXPECT_EQ(test, lt_send(test, c, sent, PUMA_TRANSPORT_NONBLOCK), 0);
	KUNIT_ASSERT_TRUE(test, lt_wait_recv(s, sent + 1));
	KUNIT_EXPECT_FALSE(test, s->disorder);
}

static void puma_transport_send_full_queue_waits_for_room(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];
	struct lt_sender *sender;
	u32 sent;

	sent = lt_fill(test, c, s);
	sender = lt_send_async(test, lt, c, sent);
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&sender->done,
							  HZ / 5), 0);
	lt_open_gate(s);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&sender->done,
							  PT_TIMEOUT), 0);
	KUNIT_EXPECT_EQ(test, sender->err, 0);
	KUNIT_ASSERT_TRUE(test, lt_wait_recv(s, sent + 1));
	KUNIT_EXPECT_FALSE(test, s->disorder);
}

static void puma_transport_send_nonblock_in_atomic_context_succeeds(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];
	unsigned long flags;
	int err;

	/* Like a reclaim hook: IRQs off, a spinlock held. */
	spin_lock_irqsave(&lt_atomic_lock, flags);
	err = puma_transport_send(c->conn, lt_msg(test, 0, true, GFP_ATOMIC),
				  PUMA_TRANSPORT_NONBLOCK);
	spin_unlock_irqrestore(&lt_atomic_lock, flags);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_ASSERT_TRUE(test, lt_wait_recv(s, 1));
	KUNIT_EXPECT_FALSE(test, s->bad_content);
}

static void puma_transport_recv_may_take_over_page(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];
	u8 *p;

	s->take_page = true;
	/* Sequence 4 carries a page filled with 4s. */
	s->next_seq = 4;
	KUNIT_ASSERT_EQ(test, lt_send(test, c, 4, 0), 0);
	KUNIT_ASSERT_TRUE(test, lt_wait_recv(s, 1));
	KUNIT_ASSERT_NOT_NULL(test, s->taken);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
	p = kmap_local_page(s->taken);
	KUNIT_EXPECT_EQ(test, p[PAGE_SIZE - 1], 4);
	kunmap_local(p);
	KUNIT_EXPECT_EQ(test, page_ref_count(s->taken), 1);
}

static void puma_transport_disconnect_mid_stream_notifies_both_ends(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];
	struct puma_transport_stats now;

	lt_fill(test, c, s);
	puma_transport_disconnect(c->conn, -ESHUTDOWN);
	/* The queued messages went at once; the one in recv is the user's. */
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.msgs, lt->base.msgs + 1);

	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&c->disconnected,
							  PT_TIMEOUT), 0);
	lt_open_gate(s);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&s->disconnected,
							  PT_TIMEOUT), 0);
	KUNIT_EXPECT_EQ(test, c->reason, -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, s->reason, -ESHUTDOWN);
	/* Only the message already in recv was delivered. */
	KUNIT_EXPECT_EQ(test, s->nr_recv, 1);
	KUNIT_EXPECT_FALSE(test, s->recv_after_disconnect);
	msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&c->nr_disconnected), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->nr_disconnected), 1);
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.msgs, lt->base.msgs);
}

static void puma_transport_disconnect_twice_notifies_once(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];

	puma_transport_disconnect(s->conn, -EPIPE);
	puma_transport_disconnect(c->conn, -ETIMEDOUT);
	puma_transport_disconnect(s->conn, -EIO);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&c->disconnected,
							  PT_TIMEOUT), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&s->disconnected,
							  PT_TIMEOUT), 0);
	msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&c->nr_disconnected), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->nr_disconnected), 1);
	/* The first reason wins, on both ends. */
	KUNIT_EXPECT_EQ(test, c->reason, -EPIPE);
	KUNIT_EXPECT_EQ(test, s->reason, -EPIPE);
}

static void puma_transport_disconnect_without_errno_reports_econnreset(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];

	puma_transport_disconnect(c->conn, 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&c->disconnected,
							  PT_TIMEOUT), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&s->disconnected,
							  PT_TIMEOUT), 0);
	KUNIT_EXPECT_EQ(test, c->reason, -ECONNRESET);
	KUNIT_EXPECT_EQ(test, s->reason, -ECONNRESET);
}

static void puma_transport_send_after_disconnect_returns_enotconn(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];
	struct puma_transport_stats now;

	puma_transport_disconnect(s->conn, -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, lt_send(test, c, 0, 0), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, lt_send(test, s, 0, PUMA_TRANSPORT_NONBLOCK),
			-ENOTCONN);
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.msgs, lt->base.msgs);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&c->disconnected,
							  PT_TIMEOUT), 0);
	KUNIT_EXPECT_EQ(test, c->nr_recv, 0);
	KUNIT_EXPECT_EQ(test, s->nr_recv, 0);
}

static void puma_transport_disconnect_wakes_blocked_sender(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];
	struct lt_sender *sender;
	u32 sent;

	sent = lt_fill(test, c, s);
	sender = lt_send_async(test, lt, c, sent);
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&sender->done,
							  HZ / 5), 0);
	/* The receiver stays stuck: only the disconnect can wake it. */
	puma_transport_disconnect(s->conn, -ESHUTDOWN);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&sender->done,
							  PT_TIMEOUT), 0);
	KUNIT_EXPECT_EQ(test, sender->err, -ENOTCONN);
	lt_open_gate(s);
}

#define LT_FLOODERS	4

/* Sends zeroed messages until an error; no KUnit calls off the test thread. */
struct lt_flooder {
	struct work_struct work;
	struct puma_transport_conn *conn;
	unsigned int sent;
	int err;
	struct completion done;
};

static void lt_flood_work(struct work_struct *work)
{
	struct lt_flooder *f = container_of(work, struct lt_flooder, work);
	struct lt_head head = { .magic = LT_MAGIC };
	struct puma_transport_msg *msg;
	int err = 0;

	while (!err && f->sent < 100000) {
		msg = puma_transport_msg_alloc(sizeof(head), f->sent % 2,
					       GFP_KERNEL | __GFP_ZERO);
		if (IS_ERR(msg)) {
			err = PTR_ERR(msg);
			break;
		}
		memcpy(msg->head, &head, sizeof(head));
		err = puma_transport_send(f->conn, msg, 0);
		if (!err)
			WRITE_ONCE(f->sent, f->sent + 1);
	}
	f->err = err;
	complete(&f->done);
}

static void puma_transport_disconnect_racing_senders_frees_everything(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct lt_end *c = lt_connect(test, lt);
	struct lt_end *s = &lt->server[0];
	struct lt_flooder *f;
	unsigned int i;

	f = kunit_kcalloc(test, LT_FLOODERS, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	for (i = 0; i < LT_FLOODERS; i++) {
		INIT_WORK(&f[i].work, lt_flood_work);
		init_completion(&f[i].done);
		f[i].conn = i % 2 ? s->conn : c->conn;
		queue_work(system_unbound_wq, &f[i].work);
	}
	/* Every sender under way, queues filling, then pull the plug. */
	for (i = 0; i < LT_FLOODERS; i++) {
		unsigned long deadline = jiffies + PT_TIMEOUT;

		while (!READ_ONCE(f[i].sent) && time_before(jiffies, deadline))
			usleep_range(1000, 2000);
	}
	msleep(20);
	puma_transport_disconnect(c->conn, -ESHUTDOWN);
	for (i = 0; i < LT_FLOODERS; i++) {
		KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&f[i].done,
								  PT_TIMEOUT), 0);
		flush_work(&f[i].work);
		KUNIT_EXPECT_EQ(test, f[i].err, -ENOTCONN);
		KUNIT_EXPECT_GT(test, f[i].sent, 0);
	}
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&c->disconnected,
							  PT_TIMEOUT), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&s->disconnected,
							  PT_TIMEOUT), 0);
	KUNIT_EXPECT_FALSE(test, c->recv_after_disconnect);
	KUNIT_EXPECT_FALSE(test, s->recv_after_disconnect);
	KUNIT_EXPECT_FALSE(test, c->bad_content);
	KUNIT_EXPECT_FALSE(test, s->bad_content);
	/* lt_exit checks that no message or end is left. */
}

static void puma_transport_loop_no_leak_after_teardown(struct kunit *test)
{
	struct lt *lt = test->priv;
	struct puma_transport_stats now;
	unsigned int i;
	u32 seq;

	for (i = 0; i < LT_ENDS; i++)
		lt_connect(test, lt);
	/* Traffic both ways on every connection, half of them stuck full. */
	for (i = 0; i < LT_ENDS; i++) {
		struct lt_end *c = &lt->client[i], *s = &lt->server[i];

		if (i % 2)
			lt_fill(test, c, s);
		for (seq = 0; seq < 32; seq++)
			KUNIT_ASSERT_EQ(test, lt_send(test, s, seq,
						      PUMA_TRANSPORT_NONBLOCK), 0);
	}
	puma_transport_get_stats(&now);
	KUNIT_EXPECT_EQ(test, now.conns, lt->base.conns + 2 * LT_ENDS);
	KUNIT_EXPECT_GT(test, now.msgs, lt->base.msgs);

	/* Tear down from either side, mid-stream, then release it all. */
	for (i = 0; i < LT_ENDS; i++) {
		struct lt_end *c = &lt->client[i], *s = &lt->server[i];

		puma_transport_disconnect(i % 3 ? c->conn : s->conn, -ESHUTDOWN);
		lt_open_gate(s);
	}
	for (i = 0; i < LT_ENDS; i++) {
		struct lt_end *c = &lt->client[i], *s = &lt->server[i];

		KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&c->disconnected,
								  PT_TIMEOUT), 0);
		KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&s->disconnected,
								  PT_TIMEOUT), 0);
		KUNIT_EXPECT_FALSE(test, c->recv_after_disconnect);
		KUNIT_EXPECT_FALSE(test, s->recv_after_disconnect);
		puma_transport_conn_put(c->conn);
		puma_transport_conn_put(s->conn);
		c->conn = NULL;
		s->conn = NULL;
	}
	puma_transport_listener_close(lt->listener);
	lt->listener = NULL;
	KUNIT_EXPECT_TRUE(test, pt_wait_stats(&lt->base));
}

static struct kunit_case puma_transport_loop_cases[] = {
	KUNIT_CASE(puma_transport_connect_without_listener_returns_econnrefused),
	KUNIT_CASE(puma_transport_connect_refused_returns_econnrefused),
	KUNIT_CASE(puma_transport_accept_without_callbacks_refuses_conn),
	KUNIT_CASE(puma_transport_listen_duplicate_address_returns_eaddrinuse),
	KUNIT_CASE(puma_transport_listener_close_keeps_established_conns),
	KUNIT_CASE(puma_transport_send_preserves_order),
	KUNIT_CASE(puma_transport_send_from_server_reaches_client),
	KUNIT_CASE(puma_transport_recv_can_reply_nonblock),
	KUNIT_CASE(puma_transport_send_nonblock_full_queue_returns_eagain),
	KUNIT_CASE(puma_transport_send_full_queue_waits_for_room),
	KUNIT_CASE(puma_transport_send_nonblock_in_atomic_context_succeeds),
	KUNIT_CASE(puma_transport_recv_may_take_over_page),
	KUNIT_CASE(puma_transport_disconnect_mid_stream_notifies_both_ends),
	KUNIT_CASE(puma_transport_disconnect_twice_notifies_once),
	KUNIT_CASE(puma_transport_disconnect_without_errno_reports_econnreset),
	KUNIT_CASE(puma_transport_send_after_disconnect_returns_enotconn),
	KUNIT_CASE(puma_transport_disconnect_wakes_blocked_sender),
	KUNIT_CASE(puma_transport_disconnect_racing_senders_frees_everything),
	KUNIT_CASE(puma_transport_loop_no_leak_after_teardown),
	{}
};

static struct kunit_suite puma_transport_loop_suite = {
	.name = "puma_transport_loop",
	.init = lt_init,
	.exit = lt_exit,
	.test_cases = puma_transport_loop_cases,
};

kunit_test_suites(&puma_transport_suite, &puma_transport_loop_suite);

MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for the PUMA transport registry and loopback");
MODULE_LICENSE("GPL");
