// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the PUMA backend's failure paths: a session that cannot
 * apply a message is closed, the lending state reaches clients through
 * failed and lost sends, and the client's connection state machine goes
 * through every transition under injected failures.
 *
 * Built into puma_backend, whose init then leaves the roles to the suite:
 * it starts both over the loopback transport at "puma0" for its cases
 * only, so the other suites run on an mm without PUMA's policy.  A case
 * acts as a bare client where it must send what the real client never
 * would.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <puma/msg.h>
#include <puma/rlru.h>
#include <puma/transport.h>
#include <puma/wire.h>

#include "../backends/puma/puma.h"

#define KT_ADDR		"puma0"
/* Generous: conditions are polled, and CI machines stall for seconds. */
#define KT_WAIT		(10 * HZ)

static s64 kt_stat(enum puma_stat s)
{
	return percpu_counter_sum(&puma_stats[s]);
}

/* Poll @cond(@arg) for up to @timeout jiffies; its last value. */
static bool kt_wait(bool (*cond)(void *arg), void *arg, unsigned long timeout)
{
	unsigned long end = jiffies + timeout;
	bool ok = cond(arg);

	while (!ok && time_before(jiffies, end)) {
		msleep(20);
		ok = cond(arg);
	}
	return ok;
}

struct bare_client {
	struct puma_transport *transport;
	struct puma_transport_conn *conn;
	struct completion hello;
	struct completion gone;
	spinlock_t lock;		/* the lending fields */
	int last_lending;		/* SUSPEND or RESUME, 0 before any */
	unsigned int nr_lending;
};

static void bare_recv(struct puma_transport_conn *conn,
		      struct puma_transport_msg *msg)
{
	struct bare_client *bc = conn->priv;
	struct puma_wire_msg *wm = kmalloc(sizeof(*wm), GFP_KERNEL);

	if (wm && !puma_wire_decode(msg->head, msg->head_len, wm, NULL)) {
		switch (wm->hdr.type) {
		case PUMA_WIRE_HELLO:
			complete(&bc->hello);
			break;
		case PUMA_WIRE_SUSPEND:
		case PUMA_WIRE_RESUME:
			spin_lock(&bc->lock);
			bc->last_lending = wm->hdr.type;
			bc->nr_lending++;
			spin_unlock(&bc->lock);
			break;
		default:
			break;
		}
	}
	kfree(wm);
	puma_transport_msg_free(msg);
}

static void bare_disconnected(struct puma_transport_conn *conn, int reason)
{
	struct bare_client *bc = conn->priv;

	complete_all(&bc->gone);
}

static const struct puma_transport_conn_ops bare_ops = {
	.recv		= bare_recv,
	.disconnected	= bare_disconnected,
};

static int bare_last_lending(struct bare_client *bc)
{
	int type;

	spin_lock(&bc->lock);
	type = bc->last_lending;
	spin_unlock(&bc->lock);
	return type;
}

static bool bare_resumed(void *bc)
{
	return bare_last_lending(bc) == PUMA_WIRE_RESUME;
}

static bool bare_suspended(void *bc)
{
	return bare_last_lending(bc) == PUMA_WIRE_SUSPEND;
}

static int bare_send(struct bare_client *bc, const struct puma_wire_msg *wm,
		     void (*mangle)(struct puma_transport_msg *msg))
{
	u8 head[PUMA_WIRE_MAX_MSG];
	struct puma_transport_msg *msg;
	int len;

	/* Encoded as is: a case may claim pages it does not attach. */
	len = puma_wire_encode(wm, head, sizeof(head));
	if (len < 0)
		return len;
	msg = puma_transport_msg_alloc(len, 0, GFP_KERNEL);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	memcpy(msg->head, head, len);
	if (mangle)
		mangle(msg);
	return puma_transport_send(bc->conn, msg, 0);
}

/* PUT pages [@first, @first + @nr) of pool 1, inode 1, in full batches. */
static int bare_put(struct bare_client *bc, u64 first, unsigned int nr)
{
	struct page *pages[PUMA_WIRE_MAX_BATCH];
	struct puma_transport_msg *msg;
	struct puma_wire_msg *wm;
	unsigned int i, n;
	int err = 0;

	wm = kzalloc(sizeof(*wm), GFP_KERNEL);
	if (!wm)
		return -ENOMEM;
	while (nr && !err) {
		n = min_t(unsigned int, nr, PUMA_WIRE_MAX_BATCH);
		memset(wm, 0, sizeof(*wm));
		wm->hdr.type = PUMA_WIRE_PUT;
		wm->batch.count = n;
		for (i = 0; i < n; i++) {
			wm->batch.keys[i] = (struct puma_key){
				.pool = 1, .ino = 1, .index = first + i,
			};
			pages[i] = alloc_page(GFP_HIGHUSER_MOVABLE);
			if (!pages[i])
				break;
		}
		if (i < n) {
			while (i--)
				put_page(pages[i]);
			err = -ENOMEM;
			break;
		}
		msg = puma_msg_build(bc->conn, wm, pages, n, GFP_KERNEL,
				     &puma_msgs);
		if (IS_ERR(msg)) {
			err = PTR_ERR(msg);
			break;
		}
		err = puma_transport_send(bc->conn, msg, 0);
		first += n;
		nr -= n;
	}
	kfree(wm);
	return err;
}

static int bare_send_hello_as(struct bare_client *bc, u64 node)
{
	struct puma_wire_msg *wm = kzalloc(sizeof(*wm), GFP_KERNEL);
	int err;

	if (!wm)
		return -ENOMEM;
	wm->hdr.type = PUMA_WIRE_HELLO;
	wm->hello.node_id = node;
	wm->hello.caps = PUMA_WIRE_CAP_CLIENT;
	wm->hello.page_size = PUMA_WIRE_PAGE_SIZE;
	wm->hello.max_batch = PUMA_WIRE_MAX_BATCH;
	reinit_completion(&bc->hello);
	err = bare_send(bc, wm, NULL);
	kfree(wm);
	return err;
}

static int bare_send_hello(struct bare_client *bc)
{
	return bare_send_hello_as(bc, 0);
}

/* Connect to the server and exchange HELLOs, as node @node. */
static struct bare_client *bare_connect_as(struct kunit *test, u64 node)
{
	struct bare_client *bc = kunit_kzalloc(test, sizeof(*bc), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, bc);
	init_completion(&bc->hello);
	init_completion(&bc->gone);
	spin_lock_init(&bc->lock);
	bc->transport = puma_transport_get("loop");
	KUNIT_ASSERT_FALSE(test, IS_ERR(bc->transport));
	bc->conn = puma_transport_connect(bc->transport, KT_ADDR, &bare_ops,
					  bc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(bc->conn));
	KUNIT_ASSERT_EQ(test, bare_send_hello_as(bc, node), 0);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&bc->hello, KT_WAIT),
			0UL);
	return bc;
}

static struct bare_client *bare_connect(struct kunit *test)
{
	return bare_connect_as(test, 0);
}

/* Wait until the server has handled all that @bc sent before. */
static void bare_sync(struct kunit *test, struct bare_client *bc, u64 node)
{
	KUNIT_ASSERT_EQ(test, bare_send_hello_as(bc, node), 0);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&bc->hello, KT_WAIT),
			0UL);
}

static void bare_close(struct bare_client *bc)
{
	puma_transport_disconnect(bc->conn, -ESHUTDOWN);
	wait_for_completion(&bc->gone);
	puma_transport_conn_put(bc->conn);
	puma_transport_put(bc->transport);
}

static void corrupt_body(struct puma_transport_msg *msg)
{
	msg->head[msg->head_len - 1] ^= 0x5a;
}

static void puma_session_recv_undecodable_invalidation_closes_session(struct kunit *test)
{
	struct puma_wire_msg wm = {
		.hdr.type = PUMA_WIRE_INVALIDATE_INODE,
		.inode = { .pool = 1, .ino = 42 },
	};
	struct bare_client *bc = bare_connect(test);
	s64 aborts = kt_stat(PUMA_STAT_SRV_SESSION_ABORTS);

	KUNIT_ASSERT_EQ(test, bare_send(bc, &wm, corrupt_body), 0);
	/* The server ends the session rather than carry on without it. */
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&bc->gone, KT_WAIT),
			0UL);
	KUNIT_EXPECT_EQ(test, kt_stat(PUMA_STAT_SRV_SESSION_ABORTS), aborts + 1);
	bare_close(bc);
}

static void puma_session_recv_valid_invalidation_keeps_session(struct kunit *test)
{
	struct puma_wire_msg wm = {
		.hdr.type = PUMA_WIRE_INVALIDATE_INODE,
		.inode = { .pool = 1, .ino = 42 },
	};
	struct bare_client *bc = bare_connect(test);
	s64 aborts = kt_stat(PUMA_STAT_SRV_SESSION_ABORTS);

	/* The control: the same message, intact, is applied. */
	KUNIT_ASSERT_EQ(test, bare_send(bc, &wm, NULL), 0);
	KUNIT_ASSERT_EQ(test, bare_send_hello(bc), 0);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&bc->hello, KT_WAIT),
			0UL);
	KUNIT_EXPECT_FALSE(test, completion_done(&bc->gone));
	KUNIT_EXPECT_EQ(test, kt_stat(PUMA_STAT_SRV_SESSION_ABORTS), aborts);
	bare_close(bc);
}

static void drop_pages(struct puma_transport_msg *msg)
{
	while (msg->nr_pages)
		put_page(msg->pages[--msg->nr_pages]);
	msg->flags |= PUMA_TRANSPORT_MSG_PAGES_DROPPED;
}

static void puma_session_recv_put_without_pages_keeps_session(struct kunit *test)
{
	struct puma_wire_msg wm = {
		.hdr.type = PUMA_WIRE_PUT,
		.hdr.nr_pages = 1,
		.batch = { .count = 1, .keys = { { .pool = 1, .ino = 7 } } },
	};
	struct bare_client *bc = bare_connect(test);
	s64 aborts = kt_stat(PUMA_STAT_SRV_SESSION_ABORTS);
	s64 dropped = atomic64_read(&puma_msgs.pages_dropped);

	/* As a transport delivers a PUT whose pages it had no memory for. */
	KUNIT_ASSERT_EQ(test, bare_send(bc, &wm, drop_pages), 0);
	KUNIT_ASSERT_EQ(test, bare_send_hello(bc), 0);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&bc->hello, KT_WAIT),
			0UL);
	KUNIT_EXPECT_EQ(test, kt_stat(PUMA_STAT_SRV_SESSION_ABORTS), aborts);
	KUNIT_EXPECT_EQ(test, atomic64_read(&puma_msgs.pages_dropped),
			dropped + 1);
	bare_close(bc);
}

/*
 * Sharing the budget: a small cap, two bare clients that each offer
 * twice the cap.  Before any fair share, the second got nothing once
 * the first had filled the server.
 */
#define FAIR_CAP	256UL
#define FAIR_SLACK	(2 * PUMA_WIRE_MAX_BATCH + 8)

static void restore_budget(void *saved)
{
	unsigned long *v = saved;

	puma_max_hosted_pages = v[0];
	puma_max_client_pct = v[1];
}

static void set_budget(struct kunit *test, unsigned long pages,
		       unsigned int client_pct)
{
	unsigned long *saved = kunit_kcalloc(test, 2, sizeof(*saved),
					     GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, saved);
	/* An earlier case's sessions, until freed, still hold the budget. */
	KUNIT_ASSERT_EQ(test, puma_server_test_wait_settled(KT_WAIT), 0);
	saved[0] = puma_max_hosted_pages;
	saved[1] = puma_max_client_pct;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, restore_budget,
							saved), 0);
	puma_max_hosted_pages = pages;
	puma_max_client_pct = client_pct;
}

/*
 * A closed session's pages hold the budget until the server has freed
 * them, after the client saw the end: a case that measures shares waits
 * for that (set_budget()).  Before it did, a case could start while the
 * previous one's pages were still charged and no session listed them.
 */
static void puma_server_test_wait_settled_waits_for_late_free(struct kunit *test)
{
	struct bare_client *a;

	set_budget(test, FAIR_CAP, 100);
	a = bare_connect_as(test, 0xa);
	KUNIT_ASSERT_EQ(test, bare_put(a, 0, FAIR_CAP), 0);
	bare_sync(test, a, 0xa);
	set_bit(PUMA_FAULT_SLOW_FREE, &puma_faults);
	bare_close(a);
	/* The client is gone; its pages are not, for half a second. */
	KUNIT_EXPECT_GE(test, puma_rlru_total_charge(),
			FAIR_CAP - FAIR_SLACK);
	KUNIT_EXPECT_EQ(test, puma_server_test_wait_settled(KT_WAIT), 0);
	KUNIT_EXPECT_EQ(test, puma_server_test_charge(0xa), (long)-ENOENT);
	KUNIT_EXPECT_LT(test, puma_rlru_total_charge(), FAIR_SLACK);
	KUNIT_EXPECT_FALSE(test, test_and_clear_bit(PUMA_FAULT_SLOW_FREE,
						    &puma_faults));
}

static void puma_session_put_full_server_recycles_own_oldest(struct kunit *test)
{
	struct bare_client *a;
	s64 recycled = kt_stat(PUMA_STAT_SRV_RECYCLED);
	long ca;

	set_budget(test, FAIR_CAP, 100);
	a = bare_connect_as(test, 0xa);
	KUNIT_ASSERT_EQ(test, bare_put(a, 0, 2 * FAIR_CAP), 0);
	bare_sync(test, a, 0xa);
	ca = puma_server_test_charge(0xa);
	/* It keeps (nearly) the whole budget, never more. */
	KUNIT_EXPECT_LE(test, ca, (long)FAIR_CAP);
	KUNIT_EXPECT_GE(test, ca, (long)(FAIR_CAP - FAIR_SLACK));
	KUNIT_EXPECT_GE(test, kt_stat(PUMA_STAT_SRV_RECYCLED) - recycled,
			(s64)(FAIR_CAP - FAIR_SLACK));
	bare_close(a);
}

static void puma_session_put_full_server_takes_from_biggest_client(struct kunit *test)
{
	s64 fair = kt_stat(PUMA_STAT_SRV_FAIR_EVICTIONS);
	s64 reclaimed = kt_stat(PUMA_STAT_SRV_RECLAIMED);
	s64 recycled = kt_stat(PUMA_STAT_SRV_RECYCLED);
	struct bare_client *a, *b;
	long ca, cb;

	set_budget(test, FAIR_CAP, 100);
	a = bare_connect_as(test, 0xa);
	KUNIT_ASSERT_EQ(test, bare_put(a, 0, 2 * FAIR_CAP), 0);
	bare_sync(test, a, 0xa);
	b = bare_connect_as(test, 0xb);
	KUNIT_ASSERT_EQ(test, bare_put(b, 0, 2 * FAIR_CAP), 0);
	bare_sync(test, b, 0xb);
	ca = puma_server_test_charge(0xa);
	cb = puma_server_test_charge(0xb);
	/* Where the pages went, should the shares be off. */
	kunit_info(test, "cap %lu: a %ld, b %ld; fair evictions %lld, recycled %lld, reclaimed %lld\n",
		   FAIR_CAP, ca, cb, kt_stat(PUMA_STAT_SRV_FAIR_EVICTIONS) - fair,
		   kt_stat(PUMA_STAT_SRV_RECYCLED) - recycled,
		   kt_stat(PUMA_STAT_SRV_RECLAIMED) - reclaimed);
	/* Equal shares, within a batch each way; the cap holds and is used. */
	KUNIT_EXPECT_LE(test, abs(ca - cb), (long)FAIR_SLACK);
	KUNIT_EXPECT_LE(test, ca + cb, (long)FAIR_CAP + 8);
	KUNIT_EXPECT_GE(test, ca + cb, (long)(FAIR_CAP - FAIR_SLACK));
	KUNIT_EXPECT_GE(test, cb, (long)(FAIR_CAP / 2 - FAIR_SLACK));
	KUNIT_EXPECT_GE(test, kt_stat(PUMA_STAT_SRV_FAIR_EVICTIONS) - fair,
			(s64)(FAIR_CAP / 2 - FAIR_SLACK));
	bare_close(b);
	bare_close(a);
}

static void puma_session_put_over_quota_gives_back_oldest(struct kunit *test)
{
	s64 quota = kt_stat(PUMA_STAT_SRV_QUOTA_EVICTIONS);
	struct bare_client *a;
	long ca;

	set_budget(test, FAIR_CAP, 25);
	a = bare_connect_as(test, 0xa);
	KUNIT_ASSERT_EQ(test, bare_put(a, 0, FAIR_CAP), 0);
	bare_sync(test, a, 0xa);
	ca = puma_server_test_charge(0xa);
	/* A quarter of the cap though the server has room for more. */
	KUNIT_EXPECT_LE(test, ca, (long)(FAIR_CAP / 4));
	KUNIT_EXPECT_GE(test, ca, (long)(FAIR_CAP / 4 - FAIR_SLACK));
	KUNIT_EXPECT_GE(test, kt_stat(PUMA_STAT_SRV_QUOTA_EVICTIONS) - quota,
			(s64)(FAIR_CAP / 2));
	bare_close(a);
}

static void puma_server_set_lending_retries_failed_send(struct kunit *test)
{
	struct bare_client *bc = bare_connect(test);
	s64 retries;

	/* The state follows the HELLO answer. */
	KUNIT_ASSERT_TRUE(test, kt_wait(bare_resumed, bc, KT_WAIT));
	retries = kt_stat(PUMA_STAT_SRV_LENDING_RETRIES);
	set_bit(PUMA_FAULT_LENDING_SEND, &puma_faults);
	KUNIT_EXPECT_TRUE(test, puma_server_set_lending(false, "kunit"));
	KUNIT_EXPECT_TRUE(test, kt_wait(bare_suspended, bc, KT_WAIT));
	KUNIT_EXPECT_GE(test, kt_stat(PUMA_STAT_SRV_LENDING_RETRIES), retries + 1);
	KUNIT_EXPECT_TRUE(test, puma_server_set_lending(true, "kunit"));
	KUNIT_EXPECT_TRUE(test, kt_wait(bare_resumed, bc, KT_WAIT));
	clear_bit(PUMA_FAULT_LENDING_SEND, &puma_faults);
	bare_close(bc);
}

static void puma_server_set_lending_last_state_wins(struct kunit *test)
{
	struct bare_client *bc = bare_connect(test);
	int i;

	KUNIT_ASSERT_TRUE(test, kt_wait(bare_resumed, bc, KT_WAIT));
	/* Flapping: whatever is sent, the last state must arrive last. */
	for (i = 0; i < 50; i++) {
		puma_server_set_lending(false, "kunit");
		puma_server_set_lending(true, "kunit");
	}
	puma_server_set_lending(false, "kunit");
	KUNIT_EXPECT_TRUE(test, kt_wait(bare_suspended, bc, KT_WAIT));
	/* Nothing stale may follow it. */
	msleep(200);
	KUNIT_EXPECT_EQ(test, bare_last_lending(bc), (int)PUMA_WIRE_SUSPEND);
	puma_server_set_lending(true, "kunit");
	KUNIT_EXPECT_TRUE(test, kt_wait(bare_resumed, bc, KT_WAIT));
	bare_close(bc);
}

static bool client_up(void *unused)
{
	return puma_client_test_state() == 2;	/* PUMA_CLIENT_UP */
}

static bool client_suspended(void *unused)
{
	return puma_client_test_suspended();
}

static bool client_putting(void *unused)
{
	return !puma_client_test_suspended();
}

static void puma_client_suspend_lease_expires_after_lost_resume(struct kunit *test)
{
	unsigned int lease = puma_suspend_lease_ms;
	s64 expiries = kt_stat(PUMA_STAT_SUSPEND_EXPIRIES);

	KUNIT_ASSERT_TRUE(test, kt_wait(client_up, NULL, KT_WAIT));
	/* Long enough that a stalled renewal does not expire it early. */
	puma_suspend_lease_ms = 1500;
	puma_server_set_lending(false, "kunit");
	KUNIT_EXPECT_TRUE(test, kt_wait(client_suspended, NULL, KT_WAIT));
	set_bit(PUMA_FAULT_LENDING_LOST, &puma_faults);
	puma_server_set_lending(true, "kunit");
	/* The RESUME never arrives; the lease, not renewed, runs out. */
	KUNIT_EXPECT_TRUE(test, kt_wait(client_putting, NULL, KT_WAIT));
	KUNIT_EXPECT_FALSE(test, test_bit(PUMA_FAULT_LENDING_LOST,
					  &puma_faults));
	KUNIT_EXPECT_EQ(test, kt_stat(PUMA_STAT_SUSPEND_EXPIRIES), expiries + 1);
	puma_suspend_lease_ms = lease;
}

/*
 * Restart the client with @fault armed for its first connection, and
 * check it comes up with one connection counted, then stops and starts.
 */
static void restart_client_with(struct kunit *test, enum puma_fault fault)
{
	struct puma_transport *t = puma_transport_get("loop");
	s64 connects;

	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	KUNIT_ASSERT_TRUE(test, kt_wait(client_up, NULL, KT_WAIT));
	puma_client_stop();
	connects = kt_stat(PUMA_STAT_CONNECTS);
	set_bit(fault, &puma_faults);
	KUNIT_ASSERT_EQ(test, puma_client_start(t, KT_ADDR), 0);
	KUNIT_EXPECT_FALSE(test, test_bit(fault, &puma_faults));
	KUNIT_EXPECT_TRUE(test, kt_wait(client_up, NULL, 3 * KT_WAIT));
	KUNIT_EXPECT_EQ(test, kt_stat(PUMA_STAT_CONNECTS), connects + 1);
	/* What the old bugs left: stop would wait forever. */
	puma_client_stop();
	KUNIT_ASSERT_EQ(test, puma_client_start(t, KT_ADDR), 0);
	KUNIT_EXPECT_TRUE(test, kt_wait(client_up, NULL, KT_WAIT));
	/* The module holds its own reference, which the client uses. */
	puma_transport_put(t);
}

static void puma_client_connect_failure_retries(struct kunit *test)
{
	restart_client_with(test, PUMA_FAULT_CONNECT);
}

static void puma_client_hello_failure_reconnects(struct kunit *test)
{
	restart_client_with(test, PUMA_FAULT_HELLO);
}

static void puma_client_death_while_connecting_reconnects(struct kunit *test)
{
	restart_client_with(test, PUMA_FAULT_EARLY_DEATH);
}

/* Batched GETs: the real client and server, over loopback. */
#define KT_GET_POOL	901
#define KT_GET_INO	77

static u32 kt_stamp(pgoff_t index)
{
	return 0x9e3779b9U ^ (u32)index;
}

static void kt_free_folios(void *arg)
{
	struct folio **folios = arg;
	unsigned int i;

	for (i = 0; i < PUMA_WIRE_MAX_BATCH; i++)
		if (folios[i])
			folio_put(folios[i]);
}

/* PUMA_WIRE_MAX_BATCH order-0 folios, freed with the test. */
static struct folio **kt_alloc_folios(struct kunit *test)
{
	struct folio **folios;
	unsigned int i;

	folios = kunit_kcalloc(test, PUMA_WIRE_MAX_BATCH, sizeof(*folios),
			       GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, folios);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kt_free_folios,
							folios), 0);
	for (i = 0; i < PUMA_WIRE_MAX_BATCH; i++) {
		folios[i] = folio_alloc(GFP_KERNEL, 0);
		KUNIT_ASSERT_NOT_NULL(test, folios[i]);
	}
	return folios;
}

static void kt_fill(struct folio *folio, u32 v)
{
	u32 *p = kmap_local_folio(folio, 0);
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(*p); i++)
		p[i] = v;
	kunmap_local(p);
}

static bool kt_holds(struct folio *folio, u32 v)
{
	u32 *p = kmap_local_folio(folio, 0);
	unsigned int i;
	bool ok = true;

	for (i = 0; i < PAGE_SIZE / sizeof(*p) && ok; i++)
		ok = p[i] == v;
	kunmap_local(p);
	return ok;
}

struct kt_stored {
	s64 from;
	s64 nr;
};

static bool server_stored(void *arg)
{
	struct kt_stored *st = arg;

	return kt_stat(PUMA_STAT_SRV_STORED) - st->from >= st->nr;
}

/* Put page @index of the test inode for each bit of @mask; wait until stored. */
static void kt_put_pages(struct kunit *test, unsigned long mask)
{
	struct kt_stored st = {
		.from = kt_stat(PUMA_STAT_SRV_STORED),
		.nr = hweight_long(mask),
	};
	struct folio *folio = folio_alloc(GFP_KERNEL, 0);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, folio);
	for_each_set_bit(i, &mask, PUMA_WIRE_MAX_BATCH) {
		kt_fill(folio, kt_stamp(i));
		puma_client_test_put_folio(KT_GET_POOL, KT_GET_INO, i, folio);
	}
	folio_put(folio);
	KUNIT_ASSERT_TRUE(test, kt_wait(server_stored, &st, KT_WAIT));
}

static void puma_client_get_folios_one_round_trip_for_batch(struct kunit *test)
{
	unsigned long held = GENMASK(PUMA_WIRE_MAX_BATCH - 1, 0) &
			     ~(BIT(5) | BIT(17) | BIT(31));
	struct folio **folios = kt_alloc_folios(test);
	int status[PUMA_WIRE_MAX_BATCH];
	s64 trips, hits;
	unsigned long filled;
	unsigned int i;

	KUNIT_ASSERT_TRUE(test, kt_wait(client_up, NULL, KT_WAIT));
	KUNIT_ASSERT_TRUE(test, kt_wait(client_putting, NULL, KT_WAIT));
	kt_put_pages(test, held);
	trips = kt_stat(PUMA_STAT_GET_ROUND_TRIPS);
	hits = kt_stat(PUMA_STAT_HITS);
	filled = puma_client_test_get_folios(KT_GET_POOL, KT_GET_INO, 0, folios,
					     PUMA_WIRE_MAX_BATCH, status);
	/* Every page held, in one round trip; the others cost nothing. */
	KUNIT_EXPECT_EQ(test, filled, held);
	KUNIT_EXPECT_EQ(test, kt_stat(PUMA_STAT_GET_ROUND_TRIPS), trips + 1);
	KUNIT_EXPECT_EQ(test, kt_stat(PUMA_STAT_HITS),
			hits + hweight_long(held));
	for (i = 0; i < PUMA_WIRE_MAX_BATCH; i++) {
		if (!(held & BIT(i))) {
			KUNIT_EXPECT_EQ(test, status[i], -ENODATA);
			continue;
		}
		KUNIT_EXPECT_EQ(test, status[i], 0);
		KUNIT_EXPECT_TRUE_MSG(test, kt_holds(folios[i], kt_stamp(i)),
				      "page %u holds another page's data", i);
	}
}

static void puma_client_get_folios_served_pages_leave_server(struct kunit *test)
{
	struct folio **folios = kt_alloc_folios(test);
	int status[PUMA_WIRE_MAX_BATCH];
	unsigned long filled;
	s64 trips;

	KUNIT_ASSERT_TRUE(test, kt_wait(client_up, NULL, KT_WAIT));
	KUNIT_ASSERT_TRUE(test, kt_wait(client_putting, NULL, KT_WAIT));
	kt_put_pages(test, GENMASK(7, 0));
	filled = puma_client_test_get_folios(KT_GET_POOL, KT_GET_INO, 0, folios,
					     8, status);
	KUNIT_EXPECT_EQ(test, filled, GENMASK(7, 0));
	/* Exclusive: gone from the server, so no second round trip. */
	trips = kt_stat(PUMA_STAT_GET_ROUND_TRIPS);
	filled = puma_client_test_get_folios(KT_GET_POOL, KT_GET_INO, 0, folios,
					     8, status);
	KUNIT_EXPECT_EQ(test, filled, 0UL);
	KUNIT_EXPECT_EQ(test, kt_stat(PUMA_STAT_GET_ROUND_TRIPS), trips);
	KUNIT_EXPECT_EQ(test, status[0], -ENODATA);
	KUNIT_EXPECT_EQ(test, status[7], -ENODATA);
}

static struct kunit_case puma_backend_test_cases[] = {
	KUNIT_CASE(puma_session_recv_undecodable_invalidation_closes_session),
	KUNIT_CASE(puma_session_recv_valid_invalidation_keeps_session),
	KUNIT_CASE(puma_session_recv_put_without_pages_keeps_session),
	KUNIT_CASE(puma_server_test_wait_settled_waits_for_late_free),
	KUNIT_CASE(puma_session_put_full_server_recycles_own_oldest),
	KUNIT_CASE(puma_session_put_full_server_takes_from_biggest_client),
	KUNIT_CASE(puma_session_put_over_quota_gives_back_oldest),
	KUNIT_CASE(puma_server_set_lending_retries_failed_send),
	KUNIT_CASE(puma_server_set_lending_last_state_wins),
	KUNIT_CASE(puma_client_suspend_lease_expires_after_lost_resume),
	KUNIT_CASE(puma_client_get_folios_one_round_trip_for_batch),
	KUNIT_CASE(puma_client_get_folios_served_pages_leave_server),
	KUNIT_CASE(puma_client_connect_failure_retries),
	KUNIT_CASE(puma_client_hello_failure_reconnects),
	KUNIT_CASE(puma_client_death_while_connecting_reconnects),
	{}
};

static int puma_backend_suite_init(struct kunit_suite *suite)
{
	return puma_test_roles_start();
}

static void puma_backend_suite_exit(struct kunit_suite *suite)
{
	puma_test_roles_stop();
}

static struct kunit_suite puma_backend_test_suite = {
	.name = "puma_backend",
	.suite_init = puma_backend_suite_init,
	.suite_exit = puma_backend_suite_exit,
	.test_cases = puma_backend_test_cases,
};

kunit_test_suite(puma_backend_test_suite);
