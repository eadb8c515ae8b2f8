// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA client: the cleancache backend that sends clean pages reclaim drops
 * to a server and asks it on page-cache misses.
 *
 * Ordering is what keeps the cache correct.  Every message that changes
 * the server's state (PUT, INVALIDATE_*) goes through one ordered outbox
 * and one connection, so the server applies them in the order the client
 * decided them.  A GET may not overtake them: before asking the server, a
 * read looks for its key in the outbox and in the batch being sent, and
 * the last item there decides (a queued PUT is served locally, a queued
 * invalidation is a miss).  When an invalidation cannot be queued or sent,
 * the client drops the session, which makes the server forget everything
 * it hosts for it.
 *
 * Invalidations from atomic context (a folio being dirtied) take items
 * from a preallocated pool.  When a burst of writes empties it, the page's
 * inode is marked in a small overflow table instead, reads of that inode
 * miss, and the send work queues one inode invalidation for it: a burst
 * costs that file's remote copies, not the session.  Only a full table
 * resets the session.
 *
 * Two bitmaps hash the keys: "sent" (a PUT may have reached the server in
 * this session; only cleared when the session ends, so it never hides an
 * invalidation that is needed) and "present" (worth a round trip; cleared
 * by invalidations, served pages and the server's reclaim reports, so it
 * may only cost a miss).
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
 *   puma_client.lock (spinlock, IRQ-safe: put runs with IRQs off)
 * nests inside the page cache's i_pages lock (put hook) and takes no
 * other lock.  Transport calls are made without it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cleancache.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include <puma/transport.h>
#include <puma/wire.h>

#include "puma.h"
#include "trace.h"

#define PUMA_FILTER_ORDER	20
#define PUMA_INV_ITEMS		4096
/* Inodes whose page invalidations overflowed, awaiting an inode one. */
#define PUMA_INV_OVERFLOW	64
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

enum puma_out_kind {
	PUMA_OUT_PUT,
	PUMA_OUT_INV_PAGE,
	PUMA_OUT_INV_INODE,
	PUMA_OUT_INV_POOL,
};

/* One outbox item: a staged page, or an invalidation. */
struct puma_out {
	struct list_head list;
	enum puma_out_kind kind;
	bool pooled;		/* from a preallocated pool, else kmalloc */
	struct puma_key key;
	struct page *page;	/* PUMA_OUT_PUT: the page's data */
};

struct puma_get_req {
	struct list_head list;
	u64 seq;
	struct puma_key key;
	struct folio *folio;
	int status;
	struct completion done;
};

enum puma_client_state {
	PUMA_CLIENT_IDLE,
	PUMA_CLIENT_CONNECTING,
	PUMA_CLIENT_UP,
	PUMA_CLIENT_STOPPED,
};

/* An inode whose page invalidations did not fit in the pool. */
struct puma_inv_overflow {
	bool used;
	int pool;
	u64 ino;
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
	unsigned int nr_overflow;
	struct puma_inv_overflow overflow[PUMA_INV_OVERFLOW];
	struct list_head outbox;
	struct list_head sending;
	unsigned int nr_outbox;
	struct list_head free_stages;
	struct list_head free_invs;
	struct puma_out *stages;
	struct puma_out *invs;
	struct list_head gets;
	atomic64_t seq;
	unsigned long *sent;
	unsigned long *present;
	struct work_struct send_work;
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

static bool puma_out_affects(const struct puma_out *o,
			     const struct puma_key *key)
{
	if (o->key.pool != key->pool)
		return false;
	switch (o->kind) {
	case PUMA_OUT_INV_POOL:
		return true;
	case PUMA_OUT_INV_INODE:
		return o->key.ino == key->ino;
	default:
		return o->key.ino == key->ino && o->key.index == key->index;
	}
}

/* Last queued item that decides @key's fate, or NULL. */
static struct puma_out *__puma_outbox_find(struct puma_client *c,
					   const struct puma_key *key)
{
	struct puma_out *o, *last = NULL;

	lockdep_assert_held(&c->lock);
	list_for_each_entry(o, &c->sending, list)
		if (puma_out_affects(o, key))
			last = o;
	list_for_each_entry(o, &c->outbox, list)
		if (puma_out_affects(o, key))
			last = o;
	return last;
}

static void __puma_out_release(struct puma_client *c, struct puma_out *o)
{
	lockdep_assert_held(&c->lock);
	if (!o->pooled)
		kfree(o);
	else if (o->kind == PUMA_OUT_PUT)
		list_add(&o->list, &c->free_stages);
	else
		list_add(&o->list, &c->free_invs);
}

static void __puma_outbox_queue(struct puma_client *c, struct puma_out *o)
{
	lockdep_assert_held(&c->lock);
	list_add_tail(&o->list, &c->outbox);
	c->nr_outbox++;
}

/*
 * Drop the session: the server forgets what it hosts for us when the
 * connection goes.  Callable from any context; the work does the rest.
 */
static void __puma_client_reset(struct puma_client *c)
{
	lockdep_assert_held(&c->lock);
	if (!c->must_reset)
		puma_count(PUMA_STAT_RESETS, 1);
	c->must_reset = true;
	queue_work(system_unbound_wq, &c->send_work);
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

static struct puma_inv_overflow *
__puma_overflow_find(struct puma_client *c, int pool, u64 ino)
{
	unsigned int i;

	lockdep_assert_held(&c->lock);
	if (!c->nr_overflow)
		return NULL;
	for (i = 0; i < PUMA_INV_OVERFLOW; i++)
		if (c->overflow[i].used && c->overflow[i].pool == pool &&
		    c->overflow[i].ino == ino)
			return &c->overflow[i];
	return NULL;
}

/*
 * Note that @pool/@ino has a page invalidation that found no item.
 * Return: false if the table is full.
 */
static bool __puma_overflow_add(struct puma_client *c, int pool, u64 ino)
{
	unsigned int i;

	lockdep_assert_held(&c->lock);
	if (__puma_overflow_find(c, pool, ino))
		return true;
	for (i = 0; i < PUMA_INV_OVERFLOW; i++) {
		if (c->overflow[i].used)
			continue;
		c->overflow[i].used = true;
		c->overflow[i].pool = pool;
		c->overflow[i].ino = ino;
		c->nr_overflow++;
		return true;
	}
	return false;
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
	struct puma_out *o;
	unsigned long flags;
	bool kick;

	spin_lock_irqsave(&c->lock, flags);
	if (!__puma_client_usable(c) || __puma_client_suspended(c) ||
	    __puma_overflow_find(c, pool, ino)) {
		spin_unlock_irqrestore(&c->lock, flags);
		puma_count(PUMA_STAT_PUT_SKIPS, 1);
		trace_puma_put(pool, ino, index, -EAGAIN);
		return;
	}
	o = list_first_entry_or_null(&c->free_stages, struct puma_out, list);
	if (!o) {
		spin_unlock_irqrestore(&c->lock, flags);
		puma_count(PUMA_STAT_PUT_DROPS, 1);
		trace_puma_put(pool, ino, index, -ENOSPC);
		return;
	}
	list_del(&o->list);
	puma_key_init(&o->key, pool, ino, index);
	copy_highpage(o->page, folio_page(folio, 0));
	__puma_outbox_queue(c, o);
	set_bit(puma_key_hash(&o->key), c->sent);
	set_bit(puma_key_hash(&o->key), c->present);
	kick = c->nr_outbox >= PUMA_WIRE_MAX_BATCH || c->nr_outbox == 1;
	spin_unlock_irqrestore(&c->lock, flags);
	puma_count(PUMA_STAT_PUTS, 1);
	trace_puma_put(pool, ino, index, 0);
	if (kick)
		queue_work(system_unbound_wq, &c->send_work);
}

static void puma_client_queue_inv(struct puma_client *c, enum puma_out_kind kind,
				  int pool, u64 ino, pgoff_t index, bool atomic)
{
	struct puma_key key;
	struct puma_out *o = NULL;
	unsigned long flags;

	puma_key_init(&key, pool, ino, index);
	if (!atomic) {
		o = kmalloc(sizeof(*o), GFP_NOFS | __GFP_NOWARN);
		if (o)
			o->pooled = false;
		else
			puma_count(PUMA_STAT_ENOMEM_CLIENT_INV, 1);
	}
	spin_lock_irqsave(&c->lock, flags);
	if (!__puma_client_usable(c))
		goto unlock;
	if (kind == PUMA_OUT_INV_PAGE &&
	    !test_bit(puma_key_hash(&key), c->sent))
		goto unlock;	/* never sent in this session */
	if (!o) {
		o = list_first_entry_or_null(&c->free_invs, struct puma_out,
					     list);
		if (!o && kind == PUMA_OUT_INV_PAGE &&
		    __puma_overflow_add(c, pool, ino)) {
			/* The send work invalidates the whole inode. */
			puma_count(PUMA_STAT_INV_OVERFLOWS, 1);
			clear_bit(puma_key_hash(&key), c->present);
			queue_work(system_unbound_wq, &c->send_work);
			goto unlock;
		}
		if (!o) {
			/* Cannot tell the server: make it forget everything. */
			__puma_client_reset(c);
			goto unlock;
		}
		list_del(&o->list);
	}
	o->kind = kind;
	o->key = key;
	__puma_outbox_queue(c, o);
	o = NULL;
	if (kind == PUMA_OUT_INV_PAGE)
		clear_bit(puma_key_hash(&key), c->present);
	else if (kind == PUMA_OUT_INV_POOL)
		/* A hint only: forget it all rather than ask in vain. */
		bitmap_zero(c->present, 1UL << PUMA_FILTER_ORDER);
	queue_work(system_unbound_wq, &c->send_work);
unlock:
	if (o && !o->pooled)
		kfree(o);
	spin_unlock_irqrestore(&c->lock, flags);
}

static void puma_client_invalidate_folio(int pool, u64 ino, pgoff_t index)
{
	puma_count(PUMA_STAT_INV_PAGE, 1);
	puma_client_queue_inv(puma_client, PUMA_OUT_INV_PAGE, pool, ino, index,
			      true);
}

static void puma_client_invalidate_range(int pool, u64 ino, pgoff_t start,
					 pgoff_t end)
{
	pgoff_t i;

	puma_count(PUMA_STAT_INV_RANGE, 1);
	/* A wide range costs one message for the whole inode. */
	if (end - start >= PUMA_WIRE_MAX_BATCH) {
		puma_client_queue_inv(puma_client, PUMA_OUT_INV_INODE, pool,
				      ino, 0, false);
		return;
	}
	for (i = start; i <= end; i++)
		puma_client_queue_inv(puma_client, PUMA_OUT_INV_PAGE, pool, ino,
				      i, false);
}

static void puma_client_invalidate_inode(int pool, u64 ino)
{
	puma_count(PUMA_STAT_INV_INODE, 1);
	puma_client_queue_inv(puma_client, PUMA_OUT_INV_INODE, pool, ino, 0,
			      false);
}

static void puma_client_invalidate_fs(int pool)
{
	puma_count(PUMA_STAT_INV_POOL, 1);
	puma_client_queue_inv(puma_client, PUMA_OUT_INV_POOL, pool, 0, 0,
			      false);
	/* Queued before any put of a pool that reuses the id. */
	ida_free(&puma_client->pools, pool);
}

static bool puma_client_server_silent(struct puma_client *c)
{
	unsigned long silence = max_t(unsigned long, PUMA_SILENCE_MIN,
				      4 * usecs_to_jiffies(puma_get_timeout_us));

	return time_after(jiffies, READ_ONCE(c->last_rx) + silence);
}

static int __puma_client_get_folio(int pool, u64 ino, pgoff_t index,
				   struct folio *folio)
{
	struct puma_client *c = puma_client;
	struct puma_transport_conn *conn;
	struct puma_transport_msg *msg;
	struct puma_wire_msg wm = {};
	struct puma_get_req req;
	struct puma_out *o;
	unsigned long flags;
	int err;

	puma_count(PUMA_STAT_GETS, 1);
	puma_key_init(&req.key, pool, ino, index);
	req.folio = folio;
	req.status = -ETIMEDOUT;
	init_completion(&req.done);

	spin_lock_irqsave(&c->lock, flags);
	if (!__puma_client_usable(c)) {
		err = -ENOTCONN;
		goto unlock_error;
	}
	if (__puma_overflow_find(c, pool, ino)) {
		/* An invalidation of the inode is due: nothing there is valid. */
		spin_unlock_irqrestore(&c->lock, flags);
		puma_count(PUMA_STAT_MISSES, 1);
		return -ENODATA;
	}
	o = __puma_outbox_find(c, &req.key);
	if (o) {
		err = -ENODATA;
		if (o->kind == PUMA_OUT_PUT) {
			copy_highpage(folio_page(folio, 0), o->page);
			err = 0;
		}
		spin_unlock_irqrestore(&c->lock, flags);
		puma_count(err ? PUMA_STAT_MISSES : PUMA_STAT_LOCAL_HITS, 1);
		return err;
	}
	if (!test_bit(puma_key_hash(&req.key), c->present)) {
		spin_unlock_irqrestore(&c->lock, flags);
		puma_count(PUMA_STAT_FILTERED, 1);
		return -ENODATA;
	}
	conn = c->conn;
	puma_transport_conn_get(conn);
	req.seq = atomic64_inc_return(&c->seq);
	list_add_tail(&req.list, &c->gets);
	spin_unlock_irqrestore(&c->lock, flags);

	wm.hdr.type = PUMA_WIRE_GET;
	wm.hdr.seq = req.seq;
	if (puma_exclusive)
		wm.hdr.flags = PUMA_WIRE_F_EXCLUSIVE;
	wm.batch.count = 1;
	wm.batch.keys[0] = req.key;
	msg = puma_msg_build(&wm, NULL, 0, GFP_NOIO | __GFP_NOWARN);
	if (IS_ERR(msg))
		puma_count(PUMA_STAT_ENOMEM_CLIENT_GET, 1);
	err = IS_ERR(msg) ? PTR_ERR(msg) :
	      puma_transport_send(conn, msg, PUMA_TRANSPORT_NONBLOCK);
	if (!err)
		wait_for_completion_timeout(&req.done,
					    usecs_to_jiffies(puma_get_timeout_us));

	/* The response path fills the folio only while we are listed. */
	spin_lock_irqsave(&c->lock, flags);
	if (!list_empty(&req.list))
		list_del_init(&req.list);
	spin_unlock_irqrestore(&c->lock, flags);
	if (err) {
		puma_transport_conn_put(conn);
		puma_count(PUMA_STAT_GET_ERRORS, 1);
		return err;
	}
	if (req.status != -ETIMEDOUT) {
		atomic_set(&c->get_timeouts, 0);
	} else if (atomic_inc_return(&c->get_timeouts) >=
		   PUMA_GET_TIMEOUTS_MAX && puma_client_server_silent(c)) {
		pr_warn_ratelimited("%s: %d GETs in a row unanswered and the server silent, reconnecting\n",
				    c->addr, atomic_read(&c->get_timeouts));
		atomic_set(&c->get_timeouts, 0);
		puma_transport_disconnect(conn, -ETIMEDOUT);
	}
	puma_transport_conn_put(conn);
	switch (req.status) {
	case 0:
		puma_count(PUMA_STAT_HITS, 1);
		break;
	case -ETIMEDOUT:
		puma_count(PUMA_STAT_TIMEOUTS, 1);
		break;
	case -ENODATA:
		puma_count(PUMA_STAT_MISSES, 1);
		break;
	default:
		puma_count(PUMA_STAT_GET_ERRORS, 1);
	}
	return req.status;

unlock_error:
	spin_unlock_irqrestore(&c->lock, flags);
	puma_count(PUMA_STAT_GET_ERRORS, 1);
	return err;
}

static int puma_client_get_folio(int pool, u64 ino, pgoff_t index,
				 struct folio *folio)
{
	int ret = __puma_client_get_folio(pool, ino, index, folio);

	trace_puma_get(pool, ino, index, ret);
	return ret;
}

static const struct cleancache_ops puma_cleancache_ops = {
	.init_fs		= puma_client_init_fs,
	.put_folio		= puma_client_put_folio,
	.get_folio		= puma_client_get_folio,
	.invalidate_folio	= puma_client_invalidate_folio,
	.invalidate_range	= puma_client_invalidate_range,
	.invalidate_inode	= puma_client_invalidate_inode,
	.invalidate_fs		= puma_client_invalidate_fs,
	/* Signals for the server role of this node; ignored without it. */
	.refault		= puma_signal_refault,
	.deactivate		= puma_signal_deactivate,
	.file_inactive_is_low	= puma_signal_file_inactive_is_low,
	.hosted_pages		= puma_signal_hosted_pages,
};

/* Sending */

static enum puma_wire_type puma_out_wire_type(enum puma_out_kind kind)
{
	switch (kind) {
	case PUMA_OUT_PUT:
		return PUMA_WIRE_PUT;
	case PUMA_OUT_INV_PAGE:
		return PUMA_WIRE_INVALIDATE_PAGE;
	case PUMA_OUT_INV_INODE:
		return PUMA_WIRE_INVALIDATE_INODE;
	default:
		return PUMA_WIRE_INVALIDATE_POOL;
	}
}

/*
 * Move the next message's worth of items from the outbox to the sending
 * list: up to a batch of PUTs or of page invalidations, or one inode or
 * pool invalidation.
 */
static unsigned int __puma_client_take_batch(struct puma_client *c)
{
	struct puma_out *o, *first;
	unsigned int n = 0;

	lockdep_assert_held(&c->lock);
	first = list_first_entry_or_null(&c->outbox, struct puma_out, list);
	if (!first)
		return 0;
	while ((o = list_first_entry_or_null(&c->outbox, struct puma_out,
					     list))) {
		if (o->kind != first->kind || n == PUMA_WIRE_MAX_BATCH)
			break;
		if (n && o->kind != PUMA_OUT_PUT && o->kind != PUMA_OUT_INV_PAGE)
			break;
		list_move_tail(&o->list, &c->sending);
		c->nr_outbox--;
		n++;
	}
	return n;
}

static int puma_client_send_batch(struct puma_client *c,
				  struct puma_transport_conn *conn)
{
	struct page *pages[PUMA_WIRE_MAX_BATCH];
	struct puma_wire_msg wm = {};
	struct puma_transport_msg *msg;
	unsigned int n = 0, i;
	struct puma_out *o;
	u32 crc = 0;
	int err = 0;

	/* Only this work item moves items off the sending list. */
	list_for_each_entry(o, &c->sending, list) {
		wm.hdr.type = puma_out_wire_type(o->kind);
		if (o->kind == PUMA_OUT_INV_POOL) {
			wm.pool = o->key.pool;
		} else if (o->kind == PUMA_OUT_INV_INODE) {
			wm.inode = o->key;
		} else {
			wm.batch.keys[n] = o->key;
			wm.batch.count = n + 1;
		}
		if (o->kind == PUMA_OUT_PUT) {
			void *p;

			pages[n] = alloc_page(GFP_NOIO | __GFP_NOWARN);
			if (!pages[n]) {
				puma_count(PUMA_STAT_ENOMEM_CLIENT_PUT, 1);
				err = -ENOMEM;
				break;
			}
			copy_highpage(pages[n], o->page);
			p = kmap_local_page(pages[n]);
			crc = puma_wire_crc32c(crc, p, PAGE_SIZE);
			kunmap_local(p);
		}
		n++;
	}
	if (!err && wm.hdr.type == PUMA_WIRE_PUT) {
		wm.hdr.nr_pages = n;
		wm.hdr.data_crc = crc;
	}
	wm.hdr.seq = atomic64_inc_return(&c->seq);
	if (!err) {
		msg = puma_msg_build(&wm, pages, wm.hdr.nr_pages,
				     GFP_NOIO | __GFP_NOWARN);
		if (!IS_ERR(msg)) {
			/* Sending consumes the message and its pages. */
			err = puma_transport_send(conn, msg, 0);
			if (!err && wm.hdr.type == PUMA_WIRE_PUT)
				puma_count(PUMA_STAT_PUTS_SENT, n);
			return err;
		}
		err = PTR_ERR(msg);
		puma_count(wm.hdr.type == PUMA_WIRE_PUT ?
			   PUMA_STAT_ENOMEM_CLIENT_PUT :
			   PUMA_STAT_ENOMEM_CLIENT_INV_MSG, 1);
	}
	/* The pages allocated so far never reached a message. */
	for (i = 0; wm.hdr.type == PUMA_WIRE_PUT && i < n; i++)
		put_page(pages[i]);
	return err;
}

/*
 * Queue an inode invalidation for each inode in the overflow table.  Once
 * it is in the outbox, it decides for the inode's pages as any item does.
 */
static void puma_client_flush_overflow(struct puma_client *c)
{
	struct puma_out *o;
	unsigned int i;

	for (i = 0; i < PUMA_INV_OVERFLOW; i++) {
		if (!READ_ONCE(c->overflow[i].used))
			continue;
		o = kmalloc(sizeof(*o), GFP_NOIO | __GFP_NOWARN);
		if (!o)
			puma_count(PUMA_STAT_ENOMEM_CLIENT_INV, 1);
		spin_lock_irq(&c->lock);
		if (!c->overflow[i].used) {
			spin_unlock_irq(&c->lock);
			kfree(o);
			continue;
		}
		if (!o) {
			o = list_first_entry_or_null(&c->free_invs,
						     struct puma_out, list);
			if (!o) {
				/* Nothing left to say it with. */
				__puma_client_reset(c);
				spin_unlock_irq(&c->lock);
				return;
			}
			list_del(&o->list);
		} else {
			o->pooled = false;
		}
		o->kind = PUMA_OUT_INV_INODE;
		puma_key_init(&o->key, c->overflow[i].pool,
				  c->overflow[i].ino, 0);
		__puma_outbox_queue(c, o);
		c->overflow[i].used = false;
		c->nr_overflow--;
		spin_unlock_irq(&c->lock);
	}
}

static void puma_client_send_work(struct work_struct *work)
{
	struct puma_client *c = container_of(work, struct puma_client,
					     send_work);
	struct puma_transport_conn *conn;
	struct puma_out *o, *tmp;
	bool reset, dropped_inv;
	int err;

	reset = false;
	if (READ_ONCE(c->nr_overflow))
		puma_client_flush_overflow(c);

	for (;;) {
		spin_lock_irq(&c->lock);
		conn = c->conn;
		if (!conn || c->state != PUMA_CLIENT_UP) {
			spin_unlock_irq(&c->lock);
			return;
		}
		puma_transport_conn_get(conn);
		if (c->must_reset || !__puma_client_take_batch(c)) {
			reset = c->must_reset;
			spin_unlock_irq(&c->lock);
			break;
		}
		spin_unlock_irq(&c->lock);

		err = puma_client_send_batch(c, conn);

		spin_lock_irq(&c->lock);
		dropped_inv = false;
		list_for_each_entry_safe(o, tmp, &c->sending, list) {
			list_del(&o->list);
			if (err && o->kind != PUMA_OUT_PUT)
				dropped_inv = true;
			else if (err)
				puma_count(PUMA_STAT_PUT_DROPS, 1);
			__puma_out_release(c, o);
		}
		/*
		 * A connection already gone takes the session with it: the
		 * server forgets it all, no reset is needed (nor counted).
		 */
		if (dropped_inv && err != -ENOTCONN)
			__puma_client_reset(c);
		spin_unlock_irq(&c->lock);
		puma_transport_conn_put(conn);
		cond_resched();
	}
	/* The disconnect callback ends the session and reconnects. */
	if (reset)
		puma_transport_disconnect(conn, -ECONNRESET);
	puma_transport_conn_put(conn);
}

/* Receiving */

static void puma_client_get_response(struct puma_client *c,
				     struct puma_transport_msg *msg,
				     const struct puma_wire_msg *wm)
{
	const struct puma_key *key = &wm->batch.keys[0];
	struct puma_get_req *req;
	unsigned long flags;

	if (wm->batch.count != 1) {
		puma_count(PUMA_STAT_BAD_MSGS, 1);
		return;
	}
	spin_lock_irqsave(&c->lock, flags);
	list_for_each_entry(req, &c->gets, list) {
		if (req->seq != wm->batch.ref_seq)
			continue;
		if (!puma_key_equal(&req->key, key)) {
			puma_count(PUMA_STAT_BAD_MSGS, 1);
			break;
		}
		if (wm->batch.hits & 1) {
			copy_highpage(folio_page(req->folio, 0), msg->pages[0]);
			req->status = 0;
		} else {
			req->status = -ENODATA;
		}
		/* A miss, or a page that left the server as it was served. */
		if (req->status || puma_exclusive)
			clear_bit(puma_key_hash(key), c->present);
		list_del_init(&req->list);
		complete(&req->done);
		break;
	}
	spin_unlock_irqrestore(&c->lock, flags);
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
	if (puma_msg_parse(msg, wm))
		goto out;
	switch (wm->hdr.type) {
	case PUMA_WIRE_GET_RESPONSE:
		puma_client_get_response(c, msg, wm);
		break;
	case PUMA_WIRE_INVALIDATE_PAGE:
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
	struct puma_out *o, *otmp;
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
		memset(c->overflow, 0, sizeof(c->overflow));
		c->nr_overflow = 0;
		/* A new server, or the same one restarted, starts resumed. */
		c->suspended = false;
		/* The server forgets this session's pages. */
		bitmap_zero(c->sent, 1UL << PUMA_FILTER_ORDER);
		bitmap_zero(c->present, 1UL << PUMA_FILTER_ORDER);
		list_for_each_entry_safe(o, otmp, &c->outbox, list) {
			list_del(&o->list);
			__puma_out_release(c, o);
		}
		c->nr_outbox = 0;
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
	      puma_msg_build(&wm, NULL, 0, GFP_KERNEL);
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
	pr_info("connected to %s\n", c->addr);
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
	unsigned int i;

	for (i = 0; c->stages && i < puma_staging_pages; i++)
		if (c->stages[i].page)
			__free_page(c->stages[i].page);
	kvfree(c->stages);
	kvfree(c->invs);
	bitmap_free(c->sent);
	bitmap_free(c->present);
	kfree(c);
}

int puma_client_start(struct puma_transport *t, const char *addr)
{
	struct puma_client *c;
	unsigned int i;
	int err;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	spin_lock_init(&c->lock);
	INIT_LIST_HEAD(&c->outbox);
	INIT_LIST_HEAD(&c->sending);
	INIT_LIST_HEAD(&c->free_stages);
	INIT_LIST_HEAD(&c->free_invs);
	INIT_LIST_HEAD(&c->gets);
	INIT_WORK(&c->send_work, puma_client_send_work);
	INIT_DELAYED_WORK(&c->connect_work, puma_client_connect_work);
	init_completion(&c->disconnected);
	ida_init(&c->pools);
	c->transport = t;
	c->addr = addr;
	c->backoff = PUMA_RECONNECT_MIN;

	err = -ENOMEM;
	c->sent = bitmap_zalloc(1UL << PUMA_FILTER_ORDER, GFP_KERNEL);
	c->present = bitmap_zalloc(1UL << PUMA_FILTER_ORDER, GFP_KERNEL);
	c->stages = kvcalloc(puma_staging_pages, sizeof(*c->stages),
			     GFP_KERNEL);
	c->invs = kvcalloc(PUMA_INV_ITEMS, sizeof(*c->invs), GFP_KERNEL);
	if (!c->sent || !c->present || !c->stages || !c->invs)
		goto free;
	for (i = 0; i < puma_staging_pages; i++) {
		c->stages[i].page = alloc_page(GFP_KERNEL);
		if (!c->stages[i].page)
			goto free;
		c->stages[i].kind = PUMA_OUT_PUT;
		c->stages[i].pooled = true;
		list_add(&c->stages[i].list, &c->free_stages);
	}
	for (i = 0; i < PUMA_INV_ITEMS; i++) {
		c->invs[i].pooled = true;
		c->invs[i].kind = PUMA_OUT_INV_PAGE;
		list_add(&c->invs[i].list, &c->free_invs);
	}

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
	flush_work(&c->send_work);
	cancel_delayed_work_sync(&c->connect_work);
	ida_destroy(&c->pools);
	puma_client = NULL;
	puma_client_free(c);
}
