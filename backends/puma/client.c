// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA client: the cleancache backend that sends clean pages reclaim drops
 * to a server and asks it on page-cache misses.
 *
 * Ordering is what keeps the cache correct.  Every message that changes
 * the server's state (PUT, INVALIDATE_*) goes through the library's
 * ordered outbox (<puma/outbox.h>) and one connection, so the server
 * applies them in the order the client decided them.  A GET may not
 * overtake them: a read asks the outbox first, and only when no queued
 * item concerns its key does it ask the server.  The outbox is open while
 * a session is up and closed (emptied) when it ends, as the server then
 * forgets everything it hosts for us.  When the outbox cannot keep an
 * invalidation (no item in atomic context, or a send failed), it flushes,
 * and draining the flush drops the session: the server forgets it all.
 *
 * The "present" bitmap hashes the keys worth a round trip: set by puts,
 * cleared by invalidations, served pages and the server's reclaim
 * reports, so it may only cost a miss.
 *
 * Connection states (c->state, under c->lock):
 *
 *   IDLE --connect_work--> CONNECTING --connected--> UP --disconnected--> IDLE
 *                               |                                     ^
 *                               +--- failed, or died meanwhile -------+
 *   any --puma_client_stop()--> STOPPED
 *
 * connect_work publishes c->conn while CONNECTING, before it sends HELLO,
 * so a disconnect callback either finds its connection current or arrives
 * before it was published, which connect_work then sees (connect_died)
 * and gives the connection up.  It goes UP once HELLO is queued: only
 * then may anything else be sent.  Every way back to IDLE queues
 * connect_work after the backoff, which doubles when a connection fails
 * or dies within PUMA_STABLE_UP of coming up.
 *
 * A SUSPEND from the server is a lease: PUTs start again when it runs
 * out unless the server renewed it, so a lost RESUME costs only time.
 *
 * Lock ordering:
 *   mapping->i_pages (put hook)
 *     puma_client.lock (spinlock, IRQ-safe: put runs with IRQs off)
 *       the outbox's lock (puma_outbox_open() and _close() only)
 * Transport calls are made without either.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cleancache.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include <puma/outbox.h>
#include <puma/transport.h>
#include <puma/wire.h>

#include "puma.h"
#include "trace.h"

#define PUMA_FILTER_ORDER	20
#define PUMA_INV_ITEMS		4096
/* Staging pages travel to the server, where they become hosted folios. */
#define PUMA_STAGE_GFP		GFP_HIGHUSER_MOVABLE
#define PUMA_STAGE_REFILL_GFP	(GFP_NOIO | __GFP_HIGHMEM | __GFP_MOVABLE)
#define PUMA_RECONNECT_MIN	(HZ / 10)
#define PUMA_RECONNECT_MAX	(10 * HZ)
/* A connection that lived this long resets the backoff when it ends. */
#define PUMA_STABLE_UP		(10 * HZ)
/*
 * GETs in a row that got no answer in time, with nothing at all heard from
 * the server for PUMA_SILENCE_MIN (or 4 GET timeouts if longer), before the
 * client gives up on the connection: a server that died without a reset
 * would otherwise cost every read get_timeout_us until the transport
 * notices, while a live but slow one keeps answering, late.
 */
#define PUMA_GET_TIMEOUTS_MAX	8
#define PUMA_SILENCE_MIN	HZ

/*
 * One GET in flight: up to PUMA_WIRE_MAX_BATCH consecutive pages of one
 * inode, asked in one message.  Key j of the message is for folio
 * slot[j], page first.index + slot[j].  The response path fills the
 * folios and sets @filled and @status while the request is listed.
 */
struct puma_get_req {
	struct list_head list;
	u64 seq;
	struct puma_key first;
	struct folio **folios;
	unsigned int nr_keys;
	u8 slot[PUMA_WIRE_MAX_BATCH];
	unsigned long filled;	/* bitmap over @folios */
	int status;		/* -ETIMEDOUT until answered */
	struct completion done;
};

enum puma_client_state {
	PUMA_CLIENT_IDLE,
	PUMA_CLIENT_CONNECTING,
	PUMA_CLIENT_UP,
	PUMA_CLIENT_STOPPED,
};

struct puma_client {
	spinlock_t lock;	/* everything below but the works and ida */
	struct puma_transport *transport;
	const char *addr;
	enum puma_client_state state;
	struct puma_transport_conn *conn;	/* set in UP only */
	bool connect_died;	/* CONNECTING: its connection already ended */
	unsigned long up_since;	/* jiffies the connection came up */
	bool must_reset;
	bool stopping;
	bool suspended;		/* the server asked for no PUTs for now */
	unsigned long suspended_until;	/* jiffies; when @suspended ends */
	struct list_head gets;
	atomic64_t seq;
	unsigned long *present;
	struct puma_outbox *ob;	/* open in UP only */
	struct delayed_work connect_work;
	/* Completed when the disconnect callback is done with us. */
	struct completion disconnected;
	unsigned long backoff;
	struct ida pools;
	atomic_t get_timeouts;	/* in a row; any answer resets it */
	unsigned long last_rx;	/* jiffies of the last message received */
};

static struct puma_client *puma_client;

static unsigned long puma_key_hash(const struct puma_key *key)
{
	return hash_64(key->index ^ hash_64(key->ino ^ key->pool, 64),
		       PUMA_FILTER_ORDER);
}

/*
 * Drop the session, so that the server forgets everything it hosts for
 * us: the caller then disconnects.  Until the disconnect callback has run,
 * the client is unusable: no GET may reach a server that may hold a page
 * whose invalidation was lost.
 */
static void __puma_client_reset(struct puma_client *c)
{
	lockdep_assert_held(&c->lock);
	if (!c->must_reset)
		puma_count(PUMA_STAT_RESETS, 1);
	c->must_reset = true;
}

static bool __puma_client_usable(struct puma_client *c)
{
	return c->state == PUMA_CLIENT_UP && !c->must_reset && !c->stopping;
}

/* Whether the server's SUSPEND still holds; it may expire here. */
static bool __puma_client_suspended(struct puma_client *c)
{
	lockdep_assert_held(&c->lock);
	if (c->suspended && time_after_eq(jiffies, c->suspended_until)) {
		c->suspended = false;
		puma_count(PUMA_STAT_SUSPEND_EXPIRIES, 1);
	}
	return c->suspended;
}

/* cleancache ops */

static int puma_client_init_fs(struct super_block *sb)
{
	return ida_alloc_max(&puma_client->pools, U16_MAX, GFP_KERNEL);
}

static void puma_client_put_folio(int pool, u64 ino, pgoff_t index,
				  struct folio *folio)
{
	struct puma_client *c = puma_client;
	struct puma_key key;
	unsigned long flags;
	int err = -EAGAIN;
	bool skip;

	spin_lock_irqsave(&c->lock, flags);
	skip = !__puma_client_usable(c) || __puma_client_suspended(c);
	spin_unlock_irqrestore(&c->lock, flags);
	puma_key_init(&key, pool, ino, index);
	if (!skip)
		err = puma_outbox_put(c->ob, &key, folio_page(folio, 0));
	if (!err) {
		set_bit(puma_key_hash(&key), c->present);
		puma_count(PUMA_STAT_PUTS, 1);
	} else {
		/* No staging page left, or no session to put into. */
		puma_count(err == -ENOSPC ? PUMA_STAT_PUT_DROPS :
			   PUMA_STAT_PUT_SKIPS, 1);
	}
	trace_puma_put(pool, ino, index, err);
}

/*
 * Queue an invalidation.  The outbox refuses it only when closed: with no
 * session, the server holds nothing of ours.
 */
static void puma_client_invalidate(enum puma_outbox_op op, int pool, u64 ino,
				   pgoff_t start, pgoff_t end, gfp_t gfp)
{
	struct puma_client *c = puma_client;
	struct puma_key key;

	puma_key_init(&key, pool, ino, start);
	puma_outbox_invalidate(c->ob, op, &key, end, gfp);
	if (op == PUMA_OUTBOX_INV_RANGE) {
		for (; key.index < end; key.index++)
			clear_bit(puma_key_hash(&key), c->present);
		clear_bit(puma_key_hash(&key), c->present);
	} else if (op == PUMA_OUTBOX_INV_POOL) {
		/* A hint only: forget it all rather than ask in vain. */
		bitmap_zero(c->present, 1UL << PUMA_FILTER_ORDER);
	}
}

static void puma_client_invalidate_folio(int pool, u64 ino, pgoff_t index)
{
	puma_count(PUMA_STAT_INV_PAGE, 1);
	/* Interrupts may be off: preallocated items only. */
	puma_client_invalidate(PUMA_OUTBOX_INV_RANGE, pool, ino, index, index,
			       GFP_NOWAIT);
}

static void puma_client_invalidate_range(int pool, u64 ino, pgoff_t start,
					 pgoff_t end)
{
	puma_count(PUMA_STAT_INV_RANGE, 1);
	/* A range one message cannot name costs the whole inode. */
	if (end - start >= PUMA_WIRE_MAX_BATCH)
		puma_client_invalidate(PUMA_OUTBOX_INV_INODE, pool, ino, 0, 0,
				       GFP_NOFS);
	else
		puma_client_invalidate(PUMA_OUTBOX_INV_RANGE, pool, ino, start,
				       end, GFP_NOFS);
}

static void puma_client_invalidate_inode(int pool, u64 ino)
{
	puma_count(PUMA_STAT_INV_INODE, 1);
	puma_client_invalidate(PUMA_OUTBOX_INV_INODE, pool, ino, 0, 0,
			       GFP_NOFS);
}

static void puma_client_invalidate_fs(int pool)
{
	puma_count(PUMA_STAT_INV_POOL, 1);
	puma_client_invalidate(PUMA_OUTBOX_INV_POOL, pool, 0, 0, 0, GFP_NOFS);
	/* Queued before any put of a pool that reuses the id. */
	ida_free(&puma_client->pools, pool);
}

static bool puma_client_server_silent(struct puma_client *c)
{
	unsigned long silence = max_t(unsigned long, PUMA_SILENCE_MIN,
				      4 * usecs_to_jiffies(puma_get_timeout_us));

	return time_after(jiffies, READ_ONCE(c->last_rx) + silence);
}

/* Ask for a PONG: any message from the server shows it is alive. */
static void puma_client_ping(struct puma_transport_conn *conn)
{
	struct puma_wire_msg wm = {
		.hdr.type = PUMA_WIRE_PING,
		.cookie = get_jiffies_64(),
	};
	struct puma_transport_msg *msg;

	msg = puma_msg_build(conn, &wm, NULL, 0, GFP_NOIO | __GFP_NOWARN,
			     &puma_msgs);
	if (!IS_ERR(msg) &&
	    !puma_transport_send(conn, msg, PUMA_TRANSPORT_NONBLOCK))
		puma_count(PUMA_STAT_PINGS, 1);
}

/* Key of page @i of @req's range. */
static struct puma_key puma_get_req_key(const struct puma_get_req *req,
					unsigned int i)
{
	struct puma_key key = req->first;

	key.index += i;
	return key;
}

/* After a GET that got no answer: ping a silent server, or give it up. */
static void puma_client_get_timed_out(struct puma_client *c,
				      struct puma_transport_conn *conn)
{
	if (atomic_inc_return(&c->get_timeouts) == PUMA_GET_TIMEOUTS_MAX / 2) {
		/* A live server answers, even if its GETs are slow. */
		puma_client_ping(conn);
	} else if (atomic_read(&c->get_timeouts) >= PUMA_GET_TIMEOUTS_MAX &&
		   puma_client_server_silent(c)) {
		pr_warn_ratelimited("%s: %d GETs in a row unanswered and the server silent, reconnecting\n",
				    c->addr, atomic_read(&c->get_timeouts));
		atomic_set(&c->get_timeouts, 0);
		puma_transport_disconnect(conn, -ETIMEDOUT);
	}
}

/*
 * Fill what can be filled of @nr (at most PUMA_WIRE_MAX_BATCH) locked,
 * order-0 folios, @folios[i] for page @index + i of one inode, with one
 * round trip at most: the outbox answers first for each page, then the
 * server, in one GET, for the pages the filter says it may hold.  A page
 * the server lacks costs the others nothing.  @status[i] gets folio i's
 * outcome: 0 if filled, else a negative errno (-ENODATA: nowhere).
 * Return: the bitmap of folios filled.
 */
static unsigned long __puma_client_get_folios(int pool, u64 ino,
					      pgoff_t index,
					      struct folio **folios,
					      unsigned int nr, int *status)
{
	struct puma_client *c = puma_client;
	struct puma_transport_conn *conn;
	struct puma_transport_msg *msg;
	unsigned long local = 0, ask = 0, want = 0;
	struct puma_wire_msg *wm = NULL;
	struct puma_get_req req;
	unsigned long flags;
	struct puma_key key;
	unsigned int i;
	ktime_t sent;
	int err;

	if (WARN_ON_ONCE(!nr || nr > PUMA_WIRE_MAX_BATCH))
		return 0;
	puma_count(PUMA_STAT_GETS, nr);
	puma_key_init(&req.first, pool, ino, index);
	req.folios = folios;
	req.nr_keys = 0;
	req.filled = 0;
	req.status = -ETIMEDOUT;
	init_completion(&req.done);

	/* What is still queued for a key decides before the server. */
	for (i = 0; i < nr; i++) {
		key = puma_get_req_key(&req, i);
		status[i] = puma_outbox_lookup(c->ob, &key,
					       folio_page(folios[i], 0));
		if (!status[i]) {
			__set_bit(i, &local);
			puma_count(PUMA_STAT_LOCAL_HITS, 1);
		} else if (status[i] == -ENODATA) {
			puma_count(PUMA_STAT_MISSES, 1);
		} else {
			__set_bit(i, &ask);
		}
	}
	if (!ask)
		return local;
	/*
	 * The pages worth a round trip: no message to build for the others,
	 * which is every page of a file the server never saw.
	 */
	for_each_set_bit(i, &ask, nr) {
		key = puma_get_req_key(&req, i);
		if (status[i] == -ENOENT &&
		    test_bit(puma_key_hash(&key), c->present))
			__set_bit(i, &want);
	}
	if (want) {
		wm = kzalloc(sizeof(*wm), GFP_NOIO | __GFP_NOWARN);
		if (!wm) {
			for_each_set_bit(i, &want, nr)
				status[i] = -ENOMEM;
			puma_count(PUMA_STAT_ENOMEM_CLIENT_GET, 1);
			ask &= ~want;
			want = 0;
		}
	}
	/*
	 * Nothing queued for these: the server reflects every earlier hook,
	 * unless the session is being dropped, which this checks after the
	 * lookups.
	 */
	spin_lock_irqsave(&c->lock, flags);
	if (!__puma_client_usable(c)) {
		spin_unlock_irqrestore(&c->lock, flags);
		for_each_set_bit(i, &ask, nr)
			status[i] = -ENOTCONN;
		puma_count(PUMA_STAT_GET_ERRORS, hweight_long(ask));
		goto out;
	}
	for_each_set_bit(i, &ask, nr) {
		/* -ENOENT from the outbox is a "not queued", not an error. */
		if (status[i] != -ENOENT) {
			puma_count(PUMA_STAT_GET_ERRORS, 1);
		} else if (!test_bit(i, &want)) {
			status[i] = -ENODATA;
			puma_count(PUMA_STAT_FILTERED, 1);
		} else {
			status[i] = -ETIMEDOUT;
			wm->batch.keys[req.nr_keys] = puma_get_req_key(&req, i);
			req.slot[req.nr_keys++] = i;
		}
	}
	if (!req.nr_keys) {
		spin_unlock_irqrestore(&c->lock, flags);
		goto out;
	}
	conn = c->conn;
	puma_transport_conn_get(conn);
	req.seq = atomic64_inc_return(&c->seq);
	list_add_tail(&req.list, &c->gets);
	spin_unlock_irqrestore(&c->lock, flags);

	wm->hdr.type = PUMA_WIRE_GET;
	wm->hdr.seq = req.seq;
	if (puma_exclusive)
		wm->hdr.flags = PUMA_WIRE_F_EXCLUSIVE;
	wm->batch.count = req.nr_keys;
	msg = puma_msg_build(conn, wm, NULL, 0, GFP_NOIO | __GFP_NOWARN,
			     &puma_msgs);
	if (IS_ERR(msg))
		puma_count(PUMA_STAT_ENOMEM_CLIENT_GET, 1);
	sent = ktime_get();
	err = IS_ERR(msg) ? PTR_ERR(msg) :
	      puma_transport_send(conn, msg, PUMA_TRANSPORT_NONBLOCK);
	puma_count(PUMA_STAT_GET_ROUND_TRIPS, 1);
	if (!err && wait_for_completion_timeout(&req.done,
						usecs_to_jiffies(puma_get_timeout_us))) {
		u64 us = ktime_us_delta(ktime_get(), sent);

		atomic_long_inc(&puma_get_rtt[puma_rtt_bucket(us)]);
	}

	/* The response path fills the folios only while we are listed. */
	spin_lock_irqsave(&c->lock, flags);
	if (!list_empty(&req.list))
		list_del_init(&req.list);
	spin_unlock_irqrestore(&c->lock, flags);
	if (err)
		req.status = err;
	else if (req.status != -ETIMEDOUT)
		atomic_set(&c->get_timeouts, 0);
	else
		puma_client_get_timed_out(c, conn);
	puma_transport_conn_put(conn);

	for (i = 0; i < req.nr_keys; i++) {
		unsigned int f = req.slot[i];

		if (test_bit(f, &req.filled)) {
			status[f] = 0;
			puma_count(PUMA_STAT_HITS, 1);
			continue;
		}
		status[f] = req.status ? req.status : -ENODATA;
		switch (status[f]) {
		case -ETIMEDOUT:
			puma_count(PUMA_STAT_TIMEOUTS, 1);
			break;
		case -ENODATA:
			puma_count(PUMA_STAT_MISSES, 1);
			break;
		default:
			puma_count(PUMA_STAT_GET_ERRORS, 1);
		}
	}
out:
	kfree(wm);
	return local | req.filled;
}

static int puma_client_get_folio(int pool, u64 ino, pgoff_t index,
				 struct folio *folio)
{
	int ret;

	__puma_client_get_folios(pool, ino, index, &folio, 1, &ret);
	trace_puma_get(pool, ino, index, ret);
	return ret;
}

#if IS_ENABLED(CONFIG_PUMA_BACKEND_KUNIT_TEST)
/* For the KUnit suite: a batched GET, as a readahead hook would make. */
unsigned long puma_client_test_get_folios(int pool, u64 ino, pgoff_t index,
					  struct folio **folios,
					  unsigned int nr, int *status)
{
	return __puma_client_get_folios(pool, ino, index, folios, nr, status);
}

/* For the KUnit suite: a put, as reclaim would make. */
void puma_client_test_put_folio(int pool, u64 ino, pgoff_t index,
				struct folio *folio)
{
	puma_client_put_folio(pool, ino, index, folio);
}
#endif

static const struct cleancache_ops puma_cleancache_ops = {
	.init_fs		= puma_client_init_fs,
	.put_folio		= puma_client_put_folio,
	.get_folio		= puma_client_get_folio,
	.invalidate_folio	= puma_client_invalidate_folio,
	.invalidate_range	= puma_client_invalidate_range,
	.invalidate_inode	= puma_client_invalidate_inode,
	.invalidate_fs		= puma_client_invalidate_fs,
};

/* Sending: the outbox's drain */

/* Fill @wm with @items; a PUT takes their pages into @pages. */
static int puma_client_fill(struct puma_client *c, struct puma_wire_msg *wm,
			    struct puma_outbox_item **items, unsigned int nr,
			    struct page **pages)
{
	unsigned int i, n;
	struct puma_key key;
	struct page *page;

	switch (items[0]->op) {
	case PUMA_OUTBOX_PUT:
		wm->hdr.type = PUMA_WIRE_PUT;
		for (i = 0, n = 0; i < nr; i++) {
			/* The staged page itself travels: no copy. */
			page = puma_outbox_take_page(c->ob, items[i],
						     PUMA_STAGE_REFILL_GFP);
			if (IS_ERR(page)) {
				/* That page is lost, a miss; the others go. */
				puma_count(PUMA_STAT_ENOMEM_CLIENT_PUT, 1);
				puma_count(PUMA_STAT_PUT_DROPS, 1);
				continue;
			}
			pages[n] = page;
			wm->batch.keys[n++] = items[i]->key;
		}
		if (!n)
			return -ENOMEM;
		wm->batch.count = n;
		wm->hdr.nr_pages = n;
		return 0;
	case PUMA_OUTBOX_INV_RANGE:
		/* One-page items, or one range of at most a batch. */
		wm->hdr.type = PUMA_WIRE_INVALIDATE_PAGE;
		for (i = 0; i < nr; i++) {
			key = items[i]->key;
			do {
				if (wm->batch.count == PUMA_WIRE_MAX_BATCH)
					return -EINVAL;
				wm->batch.keys[wm->batch.count++] = key;
			} while (key.index++ < items[i]->end);
		}
		return 0;
	case PUMA_OUTBOX_INV_INODE:
		wm->hdr.type = PUMA_WIRE_INVALIDATE_INODE;
		wm->inode = items[0]->key;
		return 0;
	case PUMA_OUTBOX_INV_POOL:
		wm->hdr.type = PUMA_WIRE_INVALIDATE_POOL;
		wm->pool = items[0]->key.pool;
		return 0;
	default:
		return -EINVAL;
	}
}

static int puma_client_drain(struct puma_outbox *ob,
			     struct puma_outbox_item **items, unsigned int nr,
			     void *priv)
{
	struct page *pages[PUMA_WIRE_MAX_BATCH];
	struct puma_client *c = priv;
	struct puma_transport_conn *conn;
	struct puma_transport_msg *msg;
	struct puma_wire_msg wm = {};
	bool is_put = items[0]->op == PUMA_OUTBOX_PUT;
	unsigned int i;
	int err;

	spin_lock_irq(&c->lock);
	conn = c->state == PUMA_CLIENT_UP ? c->conn : NULL;
	if (conn) {
		puma_transport_conn_get(conn);
		if (items[0]->op == PUMA_OUTBOX_INV_ALL)
			__puma_client_reset(c);
	}
	spin_unlock_irq(&c->lock);
	/* No session: the server holds nothing the items could change. */
	if (!conn)
		return 0;
	if (items[0]->op == PUMA_OUTBOX_INV_ALL) {
		/* The disconnect callback ends the session and reconnects. */
		puma_transport_disconnect(conn, -ECONNRESET);
		puma_transport_conn_put(conn);
		return 0;
	}

	err = puma_client_fill(c, &wm, items, nr, pages);
	if (err) {
		puma_transport_conn_put(conn);
		/* Fill counted its failure; a lost PUT costs only a miss. */
		return is_put ? 0 : err;
	}
	nr = wm.hdr.nr_pages;
	wm.hdr.seq = atomic64_inc_return(&c->seq);
	msg = puma_msg_build(conn, &wm, pages, nr, GFP_NOIO | __GFP_NOWARN,
			     &puma_msgs);
	if (IS_ERR(msg)) {
		for (i = 0; i < nr; i++)
			put_page(pages[i]);
		err = PTR_ERR(msg);
	} else {
		/* Sending consumes the message and its pages. */
		err = puma_transport_send(conn, msg, 0);
	}
	puma_transport_conn_put(conn);
	if (err == -ENOMEM)
		puma_count(is_put ? PUMA_STAT_ENOMEM_CLIENT_PUT :
			   PUMA_STAT_ENOMEM_CLIENT_INV_MSG, 1);
	if (is_put)
		puma_count(err ? PUMA_STAT_PUT_DROPS : PUMA_STAT_PUTS_SENT, nr);
	/*
	 * A connection already gone takes the session with it: the server
	 * forgets it all, and the outbox need not flush (nor count a reset).
	 */
	return err == -ENOTCONN ? 0 : err;
}

static const struct puma_outbox_ops puma_client_outbox_ops = {
	.drain	= puma_client_drain,
};

/* Receiving */

/*
 * A GET_RESPONSE names its request by sequence number and repeats its
 * keys in order; the pages of the hits follow in key order (the wire
 * layer checked that their number matches the hit bitmap).  Anything
 * else is a bad message, and the request times out.
 */
static void puma_client_get_response(struct puma_client *c,
				     struct puma_transport_msg *msg,
				     const struct puma_wire_msg *wm)
{
	struct puma_get_req *req;
	unsigned int j, page = 0;
	unsigned long flags;
	struct puma_key key;

	spin_lock_irqsave(&c->lock, flags);
	list_for_each_entry(req, &c->gets, list) {
		if (req->seq != wm->batch.ref_seq)
			continue;
		if (wm->batch.count != req->nr_keys)
			goto bad;
		for (j = 0; j < req->nr_keys; j++) {
			key = puma_get_req_key(req, req->slot[j]);
			if (!puma_key_equal(&key, &wm->batch.keys[j]))
				goto bad;
		}
		for (j = 0; j < req->nr_keys; j++) {
			key = wm->batch.keys[j];
			if (wm->batch.hits & BIT(j)) {
				copy_highpage(folio_page(req->folios[req->slot[j]], 0),
					      msg->pages[page++]);
				__set_bit(req->slot[j], &req->filled);
			}
			/* A miss, or a page that left the server as served. */
			if (!(wm->batch.hits & BIT(j)) || puma_exclusive)
				clear_bit(puma_key_hash(&key), c->present);
		}
		req->status = 0;
		list_del_init(&req->list);
		complete(&req->done);
		break;
	}
	spin_unlock_irqrestore(&c->lock, flags);
	return;
bad:
	spin_unlock_irqrestore(&c->lock, flags);
	puma_count(PUMA_STAT_BAD_MSGS, 1);
}

static void puma_client_recv(struct puma_transport_conn *conn,
			     struct puma_transport_msg *msg)
{
	struct puma_client *c = conn->priv;
	struct puma_wire_msg *wm;
	unsigned int i;

	WRITE_ONCE(c->last_rx, jiffies);
	wm = kmalloc(sizeof(*wm), GFP_NOIO | __GFP_NOWARN);
	if (!wm) {
		/*
		 * Nothing the server says changes what we may serve: a lost
		 * response times out, a lost report or lending state costs a
		 * miss or a lease.
		 */
		puma_count(PUMA_STAT_ENOMEM_CLIENT_RX, 1);
		goto out;
	}
	if (puma_msg_parse(msg, wm, &puma_msgs))
		goto out;
	switch (wm->hdr.type) {
	case PUMA_WIRE_GET_RESPONSE:
		puma_client_get_response(c, msg, wm);
		break;
	case PUMA_WIRE_RECLAIMED:
		/* The server's reclaim took these. */
		for (i = 0; i < wm->batch.count; i++)
			clear_bit(puma_key_hash(&wm->batch.keys[i]), c->present);
		puma_count(PUMA_STAT_RECLAIM_REPORTS, wm->batch.count);
		trace_puma_reclaim_report(wm->batch.count);
		break;
	case PUMA_WIRE_SUSPEND:
	case PUMA_WIRE_RESUME:
		/* Reads keep using what is hosted; only PUTs stop. */
		spin_lock_irq(&c->lock);
		c->suspended = wm->hdr.type == PUMA_WIRE_SUSPEND;
		/* 0: until RESUME, as the protocol allows; renewed otherwise. */
		c->suspended_until = jiffies +
			(wm->suspend_ms ? msecs_to_jiffies(wm->suspend_ms) :
			 MAX_JIFFY_OFFSET);
		spin_unlock_irq(&c->lock);
		if (wm->hdr.type == PUMA_WIRE_SUSPEND) {
			puma_count(PUMA_STAT_SUSPENDS, 1);
			trace_puma_suspend(false, "server");
		} else {
			puma_count(PUMA_STAT_RESUMES, 1);
			trace_puma_resume(false, "server");
		}
		break;
	case PUMA_WIRE_HELLO:
	case PUMA_WIRE_PONG:
		break;
	case PUMA_WIRE_ERROR:
		pr_warn_ratelimited("server error %u on message type %u\n",
				    wm->error.code, wm->error.ref_type);
		break;
	default:
		puma_count(PUMA_STAT_BAD_MSGS, 1);
		pr_warn_ratelimited("unexpected %s from the server\n",
				    puma_wire_type_name(wm->hdr.type));
	}
out:
	kfree(wm);
	puma_transport_msg_free(msg);
}

static void puma_client_disconnected(struct puma_transport_conn *conn,
				     int reason)
{
	struct puma_client *c = conn->priv;
	struct puma_get_req *req, *rtmp;
	bool was_current;

	spin_lock_irq(&c->lock);
	was_current = c->conn && c->conn == conn;
	if (!was_current && c->state == PUMA_CLIENT_CONNECTING)
		/* Before connect_work could publish it: it will see this. */
		c->connect_died = true;
	if (was_current) {
		c->conn = NULL;
		c->state = PUMA_CLIENT_IDLE;
		if (time_before(jiffies, c->up_since + PUMA_STABLE_UP))
			c->backoff = min(c->backoff * 2,
					 (unsigned long)PUMA_RECONNECT_MAX);
		else
			c->backoff = PUMA_RECONNECT_MIN;
		c->must_reset = false;
		/* A new server, or the same one restarted, starts resumed. */
		c->suspended = false;
		/* The server forgets this session's pages, and so do we. */
		puma_outbox_close(c->ob);
		bitmap_zero(c->present, 1UL << PUMA_FILTER_ORDER);
		list_for_each_entry_safe(req, rtmp, &c->gets, list) {
			req->status = -ENOTCONN;
			list_del_init(&req->list);
			complete(&req->done);
		}
	}
	spin_unlock_irq(&c->lock);
	if (!was_current)
		return;
	pr_info_ratelimited("disconnected from %s (%d)\n", c->addr, reason);
	puma_transport_conn_put(conn);
	if (!READ_ONCE(c->stopping))
		queue_delayed_work(system_unbound_wq, &c->connect_work,
				   c->backoff);
	complete(&c->disconnected);
}

static const struct puma_transport_conn_ops puma_client_conn_ops = {
	.recv		= puma_client_recv,
	.disconnected	= puma_client_disconnected,
};

/* Back to IDLE without a connection: try again after a longer wait. */
static void __puma_client_retry(struct puma_client *c)
{
	lockdep_assert_held(&c->lock);
	c->state = PUMA_CLIENT_IDLE;
	c->backoff = min(c->backoff * 2, (unsigned long)PUMA_RECONNECT_MAX);
	if (!c->stopping)
		queue_delayed_work(system_unbound_wq, &c->connect_work,
				   c->backoff);
}

static void puma_client_connect_work(struct work_struct *work)
{
	struct puma_client *c = container_of(to_delayed_work(work),
					     struct puma_client, connect_work);
	struct puma_transport_conn *conn;
	struct puma_transport_msg *msg;
	struct puma_wire_msg wm = {};
	bool abandon, up;
	int err;

	spin_lock_irq(&c->lock);
	if (c->stopping || c->state != PUMA_CLIENT_IDLE) {
		spin_unlock_irq(&c->lock);
		return;
	}
	c->state = PUMA_CLIENT_CONNECTING;
	c->connect_died = false;
	spin_unlock_irq(&c->lock);

	conn = puma_fault(PUMA_FAULT_CONNECT) ? ERR_PTR(-ENOMEM) :
	       puma_transport_connect(c->transport, c->addr,
				      &puma_client_conn_ops, c);
	if (!IS_ERR(conn) && puma_fault(PUMA_FAULT_EARLY_DEATH)) {
		/* The callback comes before we could publish the connection. */
		puma_transport_disconnect(conn, -ECONNRESET);
		msleep(100);
	}

	spin_lock_irq(&c->lock);
	if (IS_ERR(conn)) {
		__puma_client_retry(c);
		spin_unlock_irq(&c->lock);
		return;
	}
	/* Its callback came already, or never will be waited for. */
	abandon = c->connect_died || c->stopping;
	if (abandon) {
		__puma_client_retry(c);
	} else {
		/* From here its disconnect callback finds it current. */
		reinit_completion(&c->disconnected);
		c->conn = conn;
	}
	spin_unlock_irq(&c->lock);
	if (abandon) {
		puma_transport_disconnect(conn, -ECONNABORTED);
		puma_transport_conn_put(conn);
		return;
	}

	/* HELLO first: nothing else is sent before the state is UP. */
	wm.hdr.type = PUMA_WIRE_HELLO;
	wm.hello.node_id = puma_node_id();
	wm.hello.caps = PUMA_WIRE_CAP_CLIENT;
	wm.hello.page_size = PUMA_WIRE_PAGE_SIZE;
	wm.hello.max_batch = PUMA_WIRE_MAX_BATCH;
	msg = puma_fault(PUMA_FAULT_HELLO) ? ERR_PTR(-ENOMEM) :
	      puma_msg_build(conn, &wm, NULL, 0, GFP_KERNEL, &puma_msgs);
	err = IS_ERR(msg) ? PTR_ERR(msg) : puma_transport_send(conn, msg, 0);
	if (err) {
		/* The disconnect callback takes it back to IDLE. */
		pr_warn_ratelimited("%s: cannot send HELLO (%d)\n", c->addr, err);
		puma_transport_disconnect(conn, err);
		return;
	}

	spin_lock_irq(&c->lock);
	up = c->conn == conn;
	if (up) {
		c->state = PUMA_CLIENT_UP;
		puma_outbox_open(c->ob);
		c->up_since = jiffies;
		c->must_reset = false;
		c->suspended = false;
		atomic_set(&c->get_timeouts, 0);
		WRITE_ONCE(c->last_rx, jiffies);
	}
	spin_unlock_irq(&c->lock);
	if (!up)
		return;
	puma_count(PUMA_STAT_CONNECTS, 1);
	pr_info("connected to %s as node %llx\n", c->addr, puma_node_id());
}

#if IS_ENABLED(CONFIG_PUMA_BACKEND_KUNIT_TEST)
int puma_client_test_state(void)
{
	struct puma_client *c = puma_client;
	int state;

	if (!c)
		return -ENODEV;
	spin_lock_irq(&c->lock);
	state = c->state;
	spin_unlock_irq(&c->lock);
	return state;
}

bool puma_client_test_suspended(void)
{
	struct puma_client *c = puma_client;
	bool suspended;

	spin_lock_irq(&c->lock);
	suspended = __puma_client_suspended(c);
	spin_unlock_irq(&c->lock);
	return suspended;
}
#endif

static void puma_client_free(struct puma_client *c)
{
	if (!IS_ERR_OR_NULL(c->ob))
		puma_outbox_destroy(c->ob);
	bitmap_free(c->present);
	kfree(c);
}

int puma_client_start(struct puma_transport *t, const char *addr)
{
	struct puma_outbox_params op = {
		.ops = &puma_client_outbox_ops,
		.nr_stages = puma_staging_pages,
		.nr_invs = PUMA_INV_ITEMS,
		.max_batch = PUMA_WIRE_MAX_BATCH,
		.stage_gfp = PUMA_STAGE_GFP,
	};
	struct puma_client *c;
	int err;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	spin_lock_init(&c->lock);
	INIT_LIST_HEAD(&c->gets);
	INIT_DELAYED_WORK(&c->connect_work, puma_client_connect_work);
	init_completion(&c->disconnected);
	ida_init(&c->pools);
	c->transport = t;
	c->addr = addr;
	c->backoff = PUMA_RECONNECT_MIN;

	err = -ENOMEM;
	c->present = bitmap_zalloc(1UL << PUMA_FILTER_ORDER, GFP_KERNEL);
	if (!c->present)
		goto free;
	op.priv = c;
	c->ob = puma_outbox_create(&op);
	if (IS_ERR(c->ob)) {
		err = PTR_ERR(c->ob);
		goto free;
	}
	/* Opened when a session comes up. */
	puma_outbox_close(c->ob);

	puma_client = c;
	err = cleancache_register_ops(&puma_cleancache_ops);
	if (err) {
		pr_err("cannot register with cleancache: %d\n", err);
		puma_client = NULL;
		goto free;
	}
	/* Connect now, so that a test can rely on it; retry in the background. */
	puma_client_connect_work(&c->connect_work.work);
	return 0;

free:
	puma_client_free(c);
	return err;
}

/* Not while the client starts or stops (module init and exit). */
void puma_client_outbox_stats(struct puma_outbox_stats *stats)
{
	if (puma_client)
		puma_outbox_get_stats(puma_client->ob, stats);
}

void puma_client_stop(void)
{
	struct puma_client *c = puma_client;
	struct puma_transport_conn *conn;

	cleancache_unregister_ops(&puma_cleancache_ops);
	spin_lock_irq(&c->lock);
	c->stopping = true;
	spin_unlock_irq(&c->lock);
	/* Connect work seen stopping: it publishes nothing more. */
	cancel_delayed_work_sync(&c->connect_work);
	spin_lock_irq(&c->lock);
	conn = c->conn;
	if (conn)
		puma_transport_conn_get(conn);
	spin_unlock_irq(&c->lock);
	if (conn) {
		puma_transport_disconnect(conn, -ESHUTDOWN);
		puma_transport_conn_put(conn);
		/* The callback runs on the transport's context and uses c. */
		wait_for_completion(&c->disconnected);
	}
	cancel_delayed_work_sync(&c->connect_work);
	ida_destroy(&c->pools);
	puma_client = NULL;
	puma_client_free(c);
}
