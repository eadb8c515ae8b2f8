// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite "puma_transport": the transport registry's rules and the
 * message helpers, with fake transports defined here.  What every real
 * transport must do is checked over each of them by the suite
 * "puma_transport_conformance" (kunit/transport_conformance_kunit.c).
 */

#include <kunit/test.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <puma/msg.h>
#include <puma/transport.h>

#include "../lib/internal.h"

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

/* A PUT of one page of @fill, built for @conn. */
static struct puma_transport_msg *msg_put(struct kunit *test,
					  const struct puma_transport_conn *conn,
					  struct puma_wire_msg *wm, u8 fill)
{
	struct puma_transport_msg *msg;
	struct page *page;

	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	memset(page_address(page), fill, PAGE_SIZE);
	*wm = (struct puma_wire_msg){ .hdr.type = PUMA_WIRE_PUT };
	wm->batch.count = 1;
	wm->batch.keys[0] = (struct puma_key){ .pool = 1, .ino = 2 };
	msg = puma_msg_build(conn, wm, &page, 1, GFP_KERNEL, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(msg));
	return msg;
}

/*
 * The data CRC is left out only for a link that authenticates the data,
 * and a received message skips its check only when the transport says
 * the link authenticated it.
 */
static void puma_msg_data_crc_skipped_only_when_authenticated(struct kunit *test)
{
	struct puma_transport *t = fake_registered(test, "ptk-msg");
	struct puma_transport_conn *conn;
	struct puma_transport_msg *msg;
	struct puma_wire_msg wm;

	KUNIT_ASSERT_PTR_EQ(test, puma_transport_get("ptk-msg"), t);
	conn = puma_transport_connect(t, "peer", &fake_conn_ops, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(conn));
	KUNIT_EXPECT_FALSE(test, puma_transport_conn_authenticated(conn));

	/* Without: the CRC is there, and a changed byte is caught. */
	msg = msg_put(test, conn, &wm, 0x5a);
	KUNIT_EXPECT_NE(test, wm.hdr.data_crc, 0);
	((u8 *)page_address(msg->pages[0]))[100] ^= 1;
	KUNIT_EXPECT_EQ(test, puma_msg_parse(msg, &wm, NULL), -EBADMSG);
	/* The same message, authenticated by the link: not checked. */
	msg->flags |= PUMA_TRANSPORT_MSG_AUTHENTICATED;
	KUNIT_EXPECT_EQ(test, puma_msg_parse(msg, &wm, NULL), 0);
	puma_transport_msg_free(msg);

	/* With: no CRC computed; unflagged, the receiver refuses it. */
	puma_transport_conn_set_authenticated(conn);
	KUNIT_EXPECT_TRUE(test, puma_transport_conn_authenticated(conn));
	msg = msg_put(test, conn, &wm, 0x5a);
	KUNIT_EXPECT_EQ(test, wm.hdr.data_crc, 0);
	KUNIT_EXPECT_EQ(test, puma_msg_parse(msg, &wm, NULL), -EBADMSG);
	msg->flags |= PUMA_TRANSPORT_MSG_AUTHENTICATED;
	KUNIT_EXPECT_EQ(test, puma_msg_parse(msg, &wm, NULL), 0);
	puma_transport_msg_free(msg);

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
	KUNIT_CASE(puma_msg_data_crc_skipped_only_when_authenticated),
	{}
};

static struct kunit_suite puma_transport_suite = {
	.name = "puma_transport",
	.test_cases = puma_transport_cases,
};

kunit_test_suite(puma_transport_suite);

MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for the PUMA transport registry");
MODULE_LICENSE("GPL");
