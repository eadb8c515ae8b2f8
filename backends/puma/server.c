// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA server: hosts the pages clients send, on its own LRU.
 *
 * Each client connection is a session with its own remote-LRU owner, so
 * keys of different clients never meet and a session that ends takes its
 * pages with it.  Messages of a session are handled in order, in the
 * transport's receive context (process context).  When reclaim frees a
 * hosted page, the session queues the key and a work item tells the
 * client in RECLAIMED batches, so it stops asking for it.  The work
 * runs 10 ms after the first key and sends every queued key, 32 to a
 * message: reclaim frees pages one at a time, and waking a worker and
 * sending a message for each made reclaiming hosted pages, on which the
 * node's own allocations wait, several times slower.  The worker is a
 * thread of the lowest priority (nice 19): at normal priority, sending
 * the reports (and the network softirqs that follow) ran ahead of the
 * very allocations whose reclaim freed the pages, on a one-CPU server.
 * A client asking for a page whose report is still queued just misses.
 *
 * No send waits.  Responses go out from the session's receive context
 * and reports from the one worker every session shares: a client that
 * stops reading fills its own transport queue, and then loses its own
 * responses (its GETs time out and read from disk) and has its reports
 * retried, while every other client goes on being served.
 *
 * Lending can be suspended (puma_server_set_lending()): every client gets
 * SUSPEND and stops sending PUTs, PUTs already on their way are dropped,
 * and reclaim takes hosted pages as it needs; GETs are still served from
 * what is left.  Resuming sends RESUME.  The state reaches each client
 * through one work item per session that sends the state current when it
 * runs, so messages cannot overtake each other and the last one sent is
 * the last state set; a send that fails is retried.  A SUSPEND is a lease
 * (&struct puma_wire_msg.suspend_ms) that the work renews while lending
 * stays suspended: a client that misses the RESUME starts sending PUTs
 * again when the lease runs out.
 *
 * Sharing the budget.  The server lends at most its cap (max_hosted_pct
 * of RAM, or max_hosted_pages), counted with the metadata each client's
 * keys make it hold (puma_rlru_charge()), and one client at most
 * max_client_pct of it.  Within that, the budget goes by demand,
 * max-min fair: a client gets pages while the server has room; when it
 * has none, the pages come from the client that holds the most, if that
 * is another client holding more, and otherwise from the asking client's
 * own oldest pages.  A client thus borrows what the others leave and
 * gives it back, oldest first, as they ask: no client can keep another
 * below an equal share.  Pages taken back are reported as reclaimed.
 *
 * Failing closed.  A session whose message cannot be decoded, or whose
 * state change (a PUT replacing a copy, an invalidation) cannot be
 * applied, is closed: the server then forgets everything it hosts for
 * that client, which is what the client's ordering relies on.  The
 * receive path allocates nothing it needs to apply a state change; its
 * buffers are preallocated per session.
 *
 * Lock ordering:
 *   puma_server.lock (mutex: the session list; held while taking pages
 *		       back from a session, which keeps it listed and alive)
 *     folio lock, page cache locks (inside puma_rlru_shrink())
 *       puma_session.report_lock (spinlock, IRQ-safe: taken from reclaim)
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/wait.h>

#include <puma/rlru.h>
#include <puma/transport.h>
#include <puma/wire.h>

#include "puma.h"
#include "trace.h"

/* A reclaim burst's worth of keys, while the low-priority worker waits. */
#define PUMA_REPORT_RING	4096
/* Reports go out this long after the first key queued. */
#define PUMA_REPORT_DELAY	msecs_to_jiffies(10)
/* A lending message that could not be queued is tried again after this. */
#define PUMA_LENDING_RETRY	msecs_to_jiffies(50)
/* Pages taken back at once from a client over its share: one batch. */
#define PUMA_SHRINK_BATCH	PUMA_WIRE_MAX_BATCH

struct puma_session {
	struct list_head list;
	bool closing;
	/* Receive context only: the session is being closed, ignore input. */
	bool failed;
	struct puma_transport_conn *conn;
	struct puma_rlru *rlru;
	u64 peer_node;			/* from its HELLO, for debugfs */
	/* Pages taken back to make room, for it or another (debugfs). */
	atomic_long_t taken;
	/* Receive context only: decoded request, GET response. */
	struct puma_wire_msg *rx_wm;
	struct puma_wire_msg *tx_wm;
	spinlock_t report_lock;		/* nr_reports, reports */
	unsigned int nr_reports;
	struct puma_key *reports;	/* PUMA_REPORT_RING keys */
	struct puma_wire_msg *report_wm;	/* report work only */
	struct kthread_delayed_work report_work;
	struct delayed_work lending_work;
};

/*
 * Where hosted pages join the LRU.  "inactive" (the default) ranks them
 * below every local page used twice, so reclaim takes them back first;
 * "full" inserts them active, like the paper's first design (its figure
 * 5a), for comparison: the node then gets its memory back only as fast
 * as reclaim deactivates them.
 */
static bool puma_hosted_active;

static int puma_hosted_lru_set(const char *val, const struct kernel_param *kp)
{
	if (sysfs_streq(val, "inactive"))
		WRITE_ONCE(puma_hosted_active, false);
	else if (sysfs_streq(val, "full"))
		WRITE_ONCE(puma_hosted_active, true);
	else
		return -EINVAL;
	return 0;
}

static int puma_hosted_lru_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(puma_hosted_active) ? "full" : "inactive");
}

static const struct kernel_param_ops puma_hosted_lru_ops = {
	.set = puma_hosted_lru_set,
	.get = puma_hosted_lru_get,
};
module_param_cb(hosted_lru, &puma_hosted_lru_ops, NULL, 0644);
MODULE_PARM_DESC(hosted_lru,
		 "server: hosted pages join the inactive list (inactive, default) or the active one (full)");

/*
 * A SUSPEND lasts this long unless renewed, every third of it: the longest
 * a client goes without PUTs after a RESUME it never got.
 */
unsigned int puma_suspend_lease_ms = 6000;
module_param_named(suspend_lease_ms, puma_suspend_lease_ms, uint, 0644);
MODULE_PARM_DESC(suspend_lease_ms,
		 "server: a SUSPEND holds this long unless renewed, in ms (default 6000, at least 30)");

static struct {
	struct mutex lock;		/* sessions, closing, suspended */
	struct list_head sessions;
	atomic_t nr_sessions;		/* accepted, not yet freed */
	bool suspended;			/* written under lock, read without */
	struct puma_transport_listener *listener;
	wait_queue_head_t gone;		/* a session was freed */
	struct kthread_worker *reporter;	/* sends reclaim reports */
} puma_server;

unsigned long puma_server_hosted(void)
{
	unsigned long n = 0;
	int nid;

	for_each_node(nid)
		n += puma_rlru_node_count(nid);
	return n;
}

/* The most the server lends, in pages charged (puma_rlru_charge()). */
static unsigned long puma_server_cap(void)
{
	unsigned long cap = totalram_pages() / 100 * puma_max_hosted_pct;
	unsigned long pages = READ_ONCE(puma_max_hosted_pages);

	return pages ? min(cap, pages) : cap;
}

/*
 * Make room for one more page of @s (see "Sharing the budget" above).
 * Receive context.
 * Return: true if @s may host one more page.
 */
static bool puma_session_make_room(struct puma_session *s)
{
	unsigned long cap = puma_server_cap();
	unsigned long quota = mult_frac(cap, puma_max_client_pct, 100);
	unsigned long mine = puma_rlru_charge(s->rlru);
	struct puma_session *victim = s, *t;
	unsigned long most = mine, n;

	if (mine < quota && puma_rlru_total_charge() < cap)
		return true;
	if (mine >= quota && quota < cap) {
		n = puma_rlru_shrink(s->rlru, PUMA_SHRINK_BATCH);
		atomic_long_add(n, &s->taken);
		puma_count(PUMA_STAT_SRV_QUOTA_EVICTIONS, n);
		return n;
	}

	mutex_lock(&puma_server.lock);
	list_for_each_entry(t, &puma_server.sessions, list) {
		unsigned long charge = puma_rlru_charge(t->rlru);

		if (!t->closing && charge > most) {
			most = charge;
			victim = t;
		}
	}
	/* Listed, so alive: its disconnect waits for the lock to unlist it. */
	n = puma_rlru_shrink(victim->rlru, PUMA_SHRINK_BATCH);
	atomic_long_add(n, &victim->taken);
	mutex_unlock(&puma_server.lock);
	puma_count(victim == s ? PUMA_STAT_SRV_RECYCLED :
		   PUMA_STAT_SRV_FAIR_EVICTIONS, n);
	return n;
}

/*
 * debugfs "sessions": the cap and the total charge, then each client's
 * node, pages, charge, and the pages taken back from it to make room
 * (a client whose count grows is held at its share).
 */
void puma_server_sessions_show(struct seq_file *m)
{
	struct puma_session *s;

	seq_printf(m, "cap %lu charged %lu\n", puma_server_cap(),
		   puma_rlru_total_charge());
	mutex_lock(&puma_server.lock);
	list_for_each_entry(s, &puma_server.sessions, list)
		seq_printf(m, "session %llx pages %lu charged %lu taken %ld\n",
			   s->peer_node, puma_rlru_count(s->rlru),
			   puma_rlru_charge(s->rlru),
			   atomic_long_read(&s->taken));
	mutex_unlock(&puma_server.lock);
}

#if IS_ENABLED(CONFIG_PUMA_BACKEND_KUNIT_TEST)
/* For the KUnit suite: the charge of the session whose HELLO gave @node. */
long puma_server_test_charge(u64 node)
{
	struct puma_session *s;
	long charge = -ENOENT;

	mutex_lock(&puma_server.lock);
	list_for_each_entry(s, &puma_server.sessions, list)
		if (s->peer_node == node)
			charge = puma_rlru_charge(s->rlru);
	mutex_unlock(&puma_server.lock);
	return charge;
}

/*
 * For the KUnit suite: wait until the only sessions left are those of
 * this node's own client, freed pages and all (a session's pages count
 * against the cap until it is freed, after it left the list).
 * Return: 0, or -ETIMEDOUT after @timeout jiffies.
 */
int puma_server_test_wait_settled(unsigned long timeout)
{
	unsigned long end = jiffies + timeout;
	struct puma_session *s;
	int others;

	for (;;) {
		others = 0;
		mutex_lock(&puma_server.lock);
		list_for_each_entry(s, &puma_server.sessions, list)
			if (s->peer_node != puma_node_id())
				others++;
		/* Listed ones are counted in nr_sessions too. */
		if (atomic_read(&puma_server.nr_sessions) >
		    list_count_nodes(&puma_server.sessions))
			others++;
		mutex_unlock(&puma_server.lock);
		if (!others)
			return 0;
		if (time_after(jiffies, end))
			return -ETIMEDOUT;
		msleep(20);
	}
}
#endif

/*
 * Queue a message to @s's client, never waiting for room.
 * Return: 0, or an error: the message is lost (-EAGAIN: the client's
 * queue is full, counted).
 */
static int puma_session_send(struct puma_session *s, struct puma_wire_msg *wm,
			     struct page **pages, unsigned int nr_pages)
{
	struct puma_transport_msg *msg;
	int err;

	msg = puma_msg_build(s->conn, wm, pages, nr_pages, GFP_KERNEL,
			     &puma_msgs);
	if (IS_ERR(msg)) {
		puma_count(PUMA_STAT_ENOMEM_SERVER_MSG, 1);
		while (nr_pages--)
			put_page(pages[nr_pages]);
		return PTR_ERR(msg);
	}
	err = puma_transport_send(s->conn, msg, PUMA_TRANSPORT_NONBLOCK);
	if (err == -EAGAIN)
		puma_count(PUMA_STAT_SRV_SEND_QUEUE_FULL, 1);
	return err;
}

/*
 * Close a session that cannot go on correctly: the disconnect makes the
 * server drop everything it hosts for the client.  Receive context.
 */
static void puma_session_fail(struct puma_session *s, const char *why,
			      int err)
{
	if (s->failed)
		return;
	s->failed = true;
	puma_count(PUMA_STAT_SRV_SESSION_ABORTS, 1);
	pr_warn_ratelimited("closing a client session: %s (%d)\n", why, err);
	puma_transport_disconnect(s->conn, err);
}

/* Have the lending state sent to @s, now. */
static void puma_session_kick_lending(struct puma_session *s)
{
	mod_delayed_work(system_wq, &s->lending_work, 0);
}

/*
 * Send the lending state current now; renew a SUSPEND's lease while
 * suspended, retry what could not be queued.  Runs one at a time per
 * session, so what the client hears last is the last state set.
 */
static void puma_session_lending_work(struct work_struct *work)
{
	struct puma_session *s = container_of(to_delayed_work(work),
					      struct puma_session,
					      lending_work);
	struct puma_wire_msg wm = {};
	struct puma_transport_msg *msg;
	unsigned int lease_ms;
	bool suspended;
	int err;

	mutex_lock(&puma_server.lock);
	suspended = puma_server.suspended;
	mutex_unlock(&puma_server.lock);

	lease_ms = max(READ_ONCE(puma_suspend_lease_ms), 30U);
	if (suspended) {
		wm.hdr.type = PUMA_WIRE_SUSPEND;
		wm.suspend_ms = lease_ms;
	} else {
		wm.hdr.type = PUMA_WIRE_RESUME;
	}
	msg = puma_fault(PUMA_FAULT_LENDING_SEND) ? ERR_PTR(-ENOMEM) :
	      puma_msg_build(s->conn, &wm, NULL, 0, GFP_KERNEL | __GFP_NOWARN,
			     &puma_msgs);
	if (IS_ERR(msg)) {
		puma_count(PUMA_STAT_ENOMEM_SERVER_MSG, 1);
		err = PTR_ERR(msg);
	} else if (puma_fault(PUMA_FAULT_LENDING_LOST)) {
		puma_transport_msg_free(msg);
		err = 0;
	} else {
		/* Never wait on one client's full queue here. */
		err = puma_transport_send(s->conn, msg, PUMA_TRANSPORT_NONBLOCK);
	}
	if (err == -ENOTCONN)
		return;
	if (err) {
		puma_count(PUMA_STAT_SRV_LENDING_RETRIES, 1);
		queue_delayed_work(system_wq, &s->lending_work,
				   PUMA_LENDING_RETRY);
	} else if (suspended) {
		queue_delayed_work(system_wq, &s->lending_work,
				   msecs_to_jiffies(lease_ms / 3));
	}
}

/**
 * puma_server_set_lending() - suspend or resume lending to every client
 * @lend: false to suspend, true to resume
 * @reason: why, for the trace and the log
 *
 * Context: process context, may sleep.
 * Return: true if the state changed.
 */
bool puma_server_set_lending(bool lend, const char *reason)
{
	struct puma_session *s;

	mutex_lock(&puma_server.lock);
	if (puma_server.suspended == !lend) {
		mutex_unlock(&puma_server.lock);
		return false;
	}
	WRITE_ONCE(puma_server.suspended, !lend);
	list_for_each_entry(s, &puma_server.sessions, list)
		if (!s->closing)
			puma_session_kick_lending(s);
	mutex_unlock(&puma_server.lock);
	if (lend) {
		puma_count(PUMA_STAT_SRV_RESUMES, 1);
		trace_puma_resume(true, reason);
	} else {
		puma_count(PUMA_STAT_SRV_SUSPENDS, 1);
		trace_puma_suspend(true, reason);
	}
	return true;
}

bool puma_server_lending(void)
{
	return !READ_ONCE(puma_server.suspended);
}

static void puma_session_reclaimed(struct puma_rlru *rlru,
				   const struct puma_key *key)
{
	struct puma_session *s = puma_rlru_priv(rlru);
	unsigned long flags;
	unsigned int nr = 0;

	puma_count(PUMA_STAT_SRV_RECLAIMED, 1);
	spin_lock_irqsave(&s->report_lock, flags);
	if (s->nr_reports < PUMA_REPORT_RING) {
		s->reports[s->nr_reports].pool = key->pool;
		s->reports[s->nr_reports].ino = key->ino;
		s->reports[s->nr_reports].index = key->index;
		nr = ++s->nr_reports;
	}
	spin_unlock_irqrestore(&s->report_lock, flags);
	if (!nr) {
		/* The client keeps asking for it: a miss, not an error. */
		puma_count(PUMA_STAT_SRV_REPORT_DROPS, 1);
		return;
	}
	/*
	 * Not sooner for a full batch: kthread_mod_delayed_work() would wait
	 * for the timer's callback here, in reclaim.
	 */
	if (nr == 1)
		kthread_queue_delayed_work(puma_server.reporter,
					   &s->report_work, PUMA_REPORT_DELAY);
}

static const struct puma_rlru_ops puma_session_rlru_ops = {
	.reclaimed = puma_session_reclaimed,
};

/*
 * The client's queue was full: put the @n keys back, as room allows,
 * and try again later.  Report work only.
 */
static void puma_session_report_retry(struct puma_session *s,
				      const struct puma_key *keys,
				      unsigned int n)
{
	unsigned int room;

	spin_lock_irq(&s->report_lock);
	room = min(n, PUMA_REPORT_RING - s->nr_reports);
	memcpy(&s->reports[s->nr_reports], keys, room * sizeof(keys[0]));
	s->nr_reports += room;
	spin_unlock_irq(&s->report_lock);
	puma_count(PUMA_STAT_SRV_REPORT_DROPS, n - room);
	kthread_queue_delayed_work(puma_server.reporter, &s->report_work,
				   PUMA_REPORT_DELAY);
}

static void puma_session_report_work(struct kthread_work *work)
{
	struct puma_session *s = container_of(work, struct puma_session,
					      report_work.work);
	struct puma_wire_msg *wm = s->report_wm;
	unsigned int n;

	for (;;) {
		spin_lock_irq(&s->report_lock);
		n = min_t(unsigned int, s->nr_reports, PUMA_WIRE_MAX_BATCH);
		s->nr_reports -= n;
		memcpy(wm->batch.keys, &s->reports[s->nr_reports],
		       n * sizeof(wm->batch.keys[0]));
		spin_unlock_irq(&s->report_lock);
		if (!n)
			break;
		memset(&wm->hdr, 0, sizeof(wm->hdr));
		wm->hdr.type = PUMA_WIRE_RECLAIMED;
		wm->batch.count = n;
		/* Lost to a failed allocation: the client just misses. */
		if (puma_session_send(s, wm, NULL, 0) == -EAGAIN) {
			puma_session_report_retry(s, wm->batch.keys, n);
			break;
		}
	}
}

static void puma_session_put(struct puma_session *s,
			     struct puma_transport_msg *msg,
			     const struct puma_wire_msg *wm)
{
	struct puma_key key;
	struct folio *folio;
	unsigned int i;
	int err;

	if (msg->flags & PUMA_TRANSPORT_MSG_PAGES_DROPPED) {
		/* The transport had no memory for the pages: a cache offer lost. */
		puma_count(PUMA_STAT_SRV_PUT_DROPS, wm->batch.count);
		return;
	}

	if (READ_ONCE(puma_server.suspended)) {
		/* Sent before the client saw SUSPEND: drop, it is clean. */
		puma_count(PUMA_STAT_SRV_PUT_SUSPENDED, wm->batch.count);
		return;
	}
	for (i = 0; i < wm->batch.count; i++) {
		if (!puma_session_make_room(s)) {
			puma_count(PUMA_STAT_SRV_PUT_DROPS,
				   wm->batch.count - i);
			return;
		}
		key = wm->batch.keys[i];
		/* The received page becomes the hosted folio: no copy. */
		folio = page_folio(msg->pages[i]);
		msg->pages[i] = NULL;
		err = puma_rlru_insert(s->rlru, &key, folio,
				       GFP_KERNEL | __GFP_NOWARN);
		if (err == -EEXIST) {
			/* A newer copy of a page we host: replace it. */
			err = puma_rlru_remove(s->rlru, &key);
			if (err == -EBUSY) {
				/* The old copy would stay: never serve it. */
				folio_put(folio);
				puma_session_fail(s, "cannot replace a page", err);
				return;
			}
			err = puma_rlru_insert(s->rlru, &key, folio,
					       GFP_KERNEL | __GFP_NOWARN);
		}
		if (err == -ENOMEM)
			puma_count(PUMA_STAT_ENOMEM_SERVER_PUT, 1);
		/* Twice, like a page cache page read twice: it goes active. */
		if (!err && READ_ONCE(puma_hosted_active)) {
			folio_mark_accessed(folio);
			folio_mark_accessed(folio);
		}
		folio_put(folio);
		puma_count(err ? PUMA_STAT_SRV_PUT_DROPS : PUMA_STAT_SRV_STORED,
			   1);
	}
}

static void puma_session_get(struct puma_session *s,
			     const struct puma_wire_msg *req)
{
	struct page *pages[PUMA_WIRE_MAX_BATCH];
	struct puma_key key;
	struct puma_wire_msg *wm = s->tx_wm;
	unsigned int i, n = 0;
	struct folio *folio;

	memset(wm, 0, sizeof(*wm));
	wm->hdr.type = PUMA_WIRE_GET_RESPONSE;
	wm->batch.ref_seq = req->hdr.seq;
	wm->batch.count = req->batch.count;
	for (i = 0; i < req->batch.count; i++) {
		wm->batch.keys[i] = req->batch.keys[i];
		key = req->batch.keys[i];
		/* The client chooses: an exclusive GET moves the page to it. */
		if (req->hdr.flags & PUMA_WIRE_F_EXCLUSIVE) {
			folio = puma_rlru_take(s->rlru, &key);
			pages[n] = folio ? folio_page(folio, 0) : NULL;
		} else {
			pages[n] = alloc_page(GFP_KERNEL | __GFP_NOWARN);
			if (!pages[n])
				puma_count(PUMA_STAT_ENOMEM_SERVER_GET, 1);
			if (pages[n] && puma_rlru_copy(s->rlru, &key, pages[n])) {
				__free_page(pages[n]);
				pages[n] = NULL;
			}
		}
		if (!pages[n]) {
			puma_count(PUMA_STAT_SRV_MISSES, 1);
			continue;
		}
		wm->batch.hits |= 1U << i;
		n++;
		puma_count(PUMA_STAT_SRV_HITS, 1);
	}
	/* A response lost to a failed allocation: the client times out. */
	puma_session_send(s, wm, pages, n);
}

static void puma_session_recv(struct puma_transport_conn *conn,
			      struct puma_transport_msg *msg)
{
	struct puma_session *s = conn->priv;
	struct puma_wire_msg *wm = s->rx_wm;
	struct puma_key key;
	unsigned int i;
	int err;

	if (s->failed)
		goto out;
	err = puma_msg_parse(msg, wm, &puma_msgs);
	if (err) {
		/* It may have been an invalidation: never carry on without it. */
		puma_session_fail(s, "undecodable message", err);
		goto out;
	}
	switch (wm->hdr.type) {
	case PUMA_WIRE_HELLO:
		s->peer_node = wm->hello.node_id;
		wm->hdr = (struct puma_wire_hdr){ .type = PUMA_WIRE_HELLO };
		wm->hello.node_id = puma_node_id();
		wm->hello.caps = PUMA_WIRE_CAP_SERVER;
		wm->hello.page_size = PUMA_WIRE_PAGE_SIZE;
		wm->hello.max_batch = PUMA_WIRE_MAX_BATCH;
		puma_session_send(s, wm, NULL, 0);
		/* Then the lending state, by the path that orders it. */
		puma_session_kick_lending(s);
		break;
	case PUMA_WIRE_PUT:
		puma_session_put(s, msg, wm);
		break;
	case PUMA_WIRE_GET:
		puma_session_get(s, wm);
		break;
	case PUMA_WIRE_INVALIDATE_PAGE:
		for (i = 0; i < wm->batch.count; i++) {
			key = wm->batch.keys[i];
			err = puma_rlru_remove(s->rlru, &key);
			if (!err) {
				puma_count(PUMA_STAT_SRV_INVALIDATED, 1);
			} else if (err != -ENOENT) {
				puma_session_fail(s, "cannot invalidate", err);
				break;
			}
		}
		break;
	case PUMA_WIRE_INVALIDATE_INODE:
		puma_count(PUMA_STAT_SRV_INVALIDATED,
			   puma_rlru_remove_inode(s->rlru, wm->inode.pool,
						  wm->inode.ino));
		break;
	case PUMA_WIRE_INVALIDATE_POOL:
		puma_count(PUMA_STAT_SRV_INVALIDATED,
			   puma_rlru_remove_pool(s->rlru, wm->pool));
		break;
	case PUMA_WIRE_PING:
		wm->hdr.type = PUMA_WIRE_PONG;
		puma_session_send(s, wm, NULL, 0);
		break;
	default:
		puma_count(PUMA_STAT_BAD_MSGS, 1);
		pr_warn_ratelimited("unexpected %s from a client\n",
				    puma_wire_type_name(wm->hdr.type));
	}
out:
	puma_transport_msg_free(msg);
}

/* Free a session's buffers; NULL ones are fine. */
static void puma_session_free_bufs(struct puma_session *s)
{
	kfree(s->rx_wm);
	kfree(s->tx_wm);
	kfree(s->report_wm);
	kvfree(s->reports);
	kfree(s);
}

static void puma_session_free(struct puma_session *s)
{
	if (puma_fault(PUMA_FAULT_SLOW_FREE))
		msleep(500);
	/* No reclaim report can run once the owner is gone. */
	puma_rlru_destroy(s->rlru);
	kthread_cancel_delayed_work_sync(&s->report_work);
	/* Unlisted: nothing queues it again but itself, which sees ENOTCONN. */
	cancel_delayed_work_sync(&s->lending_work);
	puma_transport_conn_put(s->conn);
	puma_session_free_bufs(s);
}

static void puma_session_disconnected(struct puma_transport_conn *conn,
				      int reason)
{
	struct puma_session *s = conn->priv;

	pr_info_ratelimited("client session ended (%d), %lu pages dropped\n",
			    reason, puma_rlru_count(s->rlru));
	mutex_lock(&puma_server.lock);
	list_del(&s->list);
	mutex_unlock(&puma_server.lock);
	/* Its pages count against the cap until they are freed here. */
	puma_session_free(s);
	atomic_dec(&puma_server.nr_sessions);
	wake_up_all(&puma_server.gone);
}

static const struct puma_transport_conn_ops puma_session_conn_ops = {
	.recv		= puma_session_recv,
	.disconnected	= puma_session_disconnected,
};

static int puma_server_accept(struct puma_transport_listener *listener,
			      struct puma_transport_conn *conn)
{
	struct puma_session *s;
	int err;

	s = kzalloc(sizeof(*s), GFP_KERNEL | __GFP_NOWARN);
	if (!s)
		goto nomem;
	/* A refused session is counted; the client retries later. */
	s->reports = kvcalloc(PUMA_REPORT_RING, sizeof(*s->reports),
			      GFP_KERNEL | __GFP_NOWARN);
	s->rx_wm = kmalloc(sizeof(*s->rx_wm), GFP_KERNEL | __GFP_NOWARN);
	s->tx_wm = kmalloc(sizeof(*s->tx_wm), GFP_KERNEL | __GFP_NOWARN);
	s->report_wm = kzalloc(sizeof(*s->report_wm),
			       GFP_KERNEL | __GFP_NOWARN);
	if (!s->reports || !s->rx_wm || !s->tx_wm || !s->report_wm) {
		err = -ENOMEM;
		puma_count(PUMA_STAT_ENOMEM_SERVER_MSG, 1);
		goto free;
	}
	spin_lock_init(&s->report_lock);
	kthread_init_delayed_work(&s->report_work, puma_session_report_work);
	INIT_DELAYED_WORK(&s->lending_work, puma_session_lending_work);
	s->rlru = puma_rlru_create(&puma_session_rlru_ops, s);
	if (IS_ERR(s->rlru)) {
		err = PTR_ERR(s->rlru);
		goto free;
	}
	/* Accepting gives us the connection's reference. */
	s->conn = conn;
	err = puma_transport_conn_set_ops(conn, &puma_session_conn_ops, s);
	if (err) {
		puma_rlru_destroy(s->rlru);
		goto free;
	}
	atomic_inc(&puma_server.nr_sessions);
	mutex_lock(&puma_server.lock);
	list_add(&s->list, &puma_server.sessions);
	mutex_unlock(&puma_server.lock);
	return 0;

free:
	puma_session_free_bufs(s);
	return err;
nomem:
	puma_count(PUMA_STAT_ENOMEM_SERVER_MSG, 1);
	return -ENOMEM;
}

static const struct puma_transport_listener_ops puma_server_listener_ops = {
	.accept = puma_server_accept,
};

int puma_server_start(struct puma_transport *t, const char *addr)
{
	struct puma_transport_listener *l;

	if (IS_ENABLED(CONFIG_LRU_GEN)) {
		pr_err("the server role needs the classic two-list LRU; this kernel has the multi-gen LRU (CONFIG_LRU_GEN), whose reclaim does not honour inactive-only hosted pages\n");
		return -EOPNOTSUPP;
	}
	mutex_init(&puma_server.lock);
	INIT_LIST_HEAD(&puma_server.sessions);
	atomic_set(&puma_server.nr_sessions, 0);
	puma_server.suspended = false;
	init_waitqueue_head(&puma_server.gone);
	puma_server.reporter = kthread_create_worker(0, "puma_report");
	if (IS_ERR(puma_server.reporter))
		return PTR_ERR(puma_server.reporter);
	/* Housekeeping: never ahead of the node's own work (see the top). */
	sched_set_normal(puma_server.reporter->task, MAX_NICE);
	l = puma_transport_listen(t, addr, &puma_server_listener_ops, NULL);
	if (IS_ERR(l)) {
		pr_err("cannot listen on %s: %ld\n", addr, PTR_ERR(l));
		kthread_destroy_worker(puma_server.reporter);
		return PTR_ERR(l);
	}
	puma_server.listener = l;
	return 0;
}

void puma_server_stop(void)
{
	struct puma_transport_conn *conn;
	struct puma_session *s;

	puma_transport_listener_close(puma_server.listener);
	for (;;) {
		conn = NULL;
		mutex_lock(&puma_server.lock);
		list_for_each_entry(s, &puma_server.sessions, list) {
			if (s->closing)
				continue;
			s->closing = true;
			conn = s->conn;
			puma_transport_conn_get(conn);
			break;
		}
		mutex_unlock(&puma_server.lock);
		if (!conn)
			break;
		/* Its disconnected callback unlists and frees the session. */
		puma_transport_disconnect(conn, -ESHUTDOWN);
		puma_transport_conn_put(conn);
	}
	/* Freed, not only unlisted: a session's teardown uses the reporter. */
	wait_event(puma_server.gone, !atomic_read(&puma_server.nr_sessions));
	kthread_destroy_worker(puma_server.reporter);
}
