// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA virtio transport: messages through virtio split virtqueues in a
 * memory region that two kernels share (Documentation/transports.rst).
 *
 * A medium is such a region with a way to ring the peer.  Two kinds:
 *  - "mem:NAME": a region in this kernel's memory, both sides here;
 *    created by the first listen on it.  For the test suites, and to run
 *    a client and a server in one machine through the real rings.
 *  - a device medium (transports/virtio_ivshmem.c): QEMU's ivshmem BAR
 *    that two VMs map, rung through ivshmem's doorbell, named "ivshmemN".
 * An address is "MEDIUM[:PORT]": listeners on one medium differ by port
 * (0 if none), and a connect names the port it wants.
 *
 * Layout.  Page 0 holds the region header (each side's heartbeat and
 * doorbell) and one header per channel; then each channel has two
 * directions (transports/virtio_ring.h).  Every side computes the layout
 * from the region's size and its own constants, never from what the peer
 * wrote.  A channel carries one connection: side 0 belongs to the
 * listener, side 1 to a connector.  Each side writes only its own half.
 *
 * Connection.  The connector takes a channel whose side 0 is LISTEN,
 * clears its halves of the rings, and writes CONNECT with a fresh epoch.
 * The listener's scan sees it, clears its halves, asks the user to
 * accept, and answers UP or REFUSED naming that epoch.  Either side ends
 * the connection by writing DOWN with a reason; the other side sees it on
 * its next look (each doorbell, and every tick).  A side whose peer's
 * heartbeat stopped for dead_ms ends its connections with -ETIMEDOUT: a
 * dead VM costs time, never a hang.  The listener's side goes back to
 * LISTEN once its end is gone and the connector no longer claims the
 * epoch, so a channel is never reused while a ring reader of the old
 * connection may remain.
 *
 * Trust.  A peer that can write the region can write any byte at any
 * time; the ring code checks every field it reads (virtio_ring.c) and a
 * bad ring closes its connection with a counted reason.  What a peer can
 * still do: send wrong data (the message layer above checks it), refuse
 * to return buffers (its own connection stalls), ring the doorbell often
 * (costs CPU).  Who may map the region is the host's decision: see
 * Documentation/transports.rst.
 *
 * Lock ordering:
 *   pvq_media_lock -> pvq_medium.lock -> pvq_end.lock
 *	-> workqueue and waitqueue locks
 * No user callback runs under any of them.  pvq_end.lock is IRQ-safe:
 * non-blocking sends may come from any context.
 *
 * References on an end: one per user, the transport's own from creation
 * until its work item has delivered "disconnected", and one per queued
 * work item.  Each end holds its medium; so do a listener and each
 * queued kick of the medium.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <asm/barrier.h>

#include <kunit/visibility.h>

#include <puma/transport.h>

#include "virtio.h"
#include "virtio_ring.h"

#define PVQ_MAGIC		0x3151565f414d5550ULL	/* "PUMA_VQ1" */
#define PVQ_VERSION		1
/* Channels of a "mem:" medium: the conformance suite's 8 ends and more. */
#define PVQ_MEM_CHANNELS	10
/* Messages one work run delivers before yielding the worker. */
#define PVQ_BUDGET		64

static unsigned int pvq_tick_ms = 100;
static unsigned int pvq_dead_ms = 10000;
static unsigned int pvq_connect_timeout_ms = 5000;

static int pvq_ms_set(const char *val, const struct kernel_param *kp)
{
	unsigned int ms;
	int err;

	err = kstrtouint(val, 0, &ms);
	if (err)
		return err;
	if (ms < 10 || ms > 600000)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, ms);
	return 0;
}

static const struct kernel_param_ops pvq_ms_ops = {
	.set = pvq_ms_set,
	.get = param_get_uint,
};
module_param_cb(tick_ms, &pvq_ms_ops, &pvq_tick_ms, 0644);
MODULE_PARM_DESC(tick_ms,
		 "Heartbeat and poll period, ms (10-600000, default 100)");
module_param_cb(dead_ms, &pvq_ms_ops, &pvq_dead_ms, 0644);
MODULE_PARM_DESC(dead_ms,
		 "End a connection whose peer's heartbeat stopped this long, ms (default 10000)");
module_param_cb(connect_timeout_ms, &pvq_ms_ops, &pvq_connect_timeout_ms, 0644);
MODULE_PARM_DESC(connect_timeout_ms,
		 "How long a connect waits for the listener's answer, ms (default 5000)");

/* Counters shown in debugfs (puma_virtio/stats). */
enum pvq_stat {
	PVQ_STAT_CONNS,			/* connection ends alive */
	PVQ_STAT_CONNECTS,		/* outgoing connections established */
	PVQ_STAT_CONNECT_ERRORS,
	PVQ_STAT_ACCEPTS,
	PVQ_STAT_REFUSED,
	PVQ_STAT_MSGS_SENT,
	PVQ_STAT_MSGS_RECEIVED,
	PVQ_STAT_PAGES_SENT,
	PVQ_STAT_PAGES_RECEIVED,
	PVQ_STAT_NOTIFIES,		/* doorbells rung */
	PVQ_STAT_INTERRUPTS,		/* doorbells heard */
	PVQ_STAT_PEER_TIMEOUTS,		/* connections closed: heartbeat stopped */
	PVQ_STAT_BAD_RINGS,		/* connections closed: a ring broke a rule */
	PVQ_STAT_ENOMEM_RX_PAGES,	/* payloads skipped: no memory */
	PVQ_STAT_ENOMEM_RX_HEAD,	/* connections closed: no memory */
	PVQ_STAT_NR,
};

static const char * const pvq_stat_names[PVQ_STAT_NR] = {
	[PVQ_STAT_CONNS]		= "conns",
	[PVQ_STAT_CONNECTS]		= "connects",
	[PVQ_STAT_CONNECT_ERRORS]	= "connect_errors",
	[PVQ_STAT_ACCEPTS]		= "accepts",
	[PVQ_STAT_REFUSED]		= "refused",
	[PVQ_STAT_MSGS_SENT]		= "msgs_sent",
	[PVQ_STAT_MSGS_RECEIVED]	= "msgs_received",
	[PVQ_STAT_PAGES_SENT]		= "pages_sent",
	[PVQ_STAT_PAGES_RECEIVED]	= "pages_received",
	[PVQ_STAT_NOTIFIES]		= "notifies",
	[PVQ_STAT_INTERRUPTS]		= "interrupts",
	[PVQ_STAT_PEER_TIMEOUTS]	= "peer_timeouts",
	[PVQ_STAT_BAD_RINGS]		= "bad_rings",
	[PVQ_STAT_ENOMEM_RX_PAGES]	= "enomem_rx_pages",
	[PVQ_STAT_ENOMEM_RX_HEAD]	= "enomem_rx_head",
};

static const char * const pvq_err_names[PVQ_ERR_NR] = {
	[PVQ_ERR_AVAIL_IDX]	= "bad_avail_idx",
	[PVQ_ERR_HEAD]		= "bad_avail_head",
	[PVQ_ERR_DESC]		= "bad_desc",
	[PVQ_ERR_CHAIN]		= "bad_chain",
	[PVQ_ERR_USED_IDX]	= "bad_used_idx",
	[PVQ_ERR_USED_ID]	= "bad_used_id",
};

static atomic_long_t pvq_stats[PVQ_STAT_NR];
static atomic_long_t pvq_err_stats[PVQ_ERR_NR];

static void pvq_count(enum pvq_stat stat, long n)
{
	atomic_long_add(n, &pvq_stats[stat]);
}

/* The state of one side of a channel, in &struct pvq_chan_side. */
enum pvq_state {
	PVQ_S_IDLE,
	PVQ_S_LISTEN,		/* side 0: a listener takes connections */
	PVQ_S_CONNECT,		/* side 1: asks for a connection */
	PVQ_S_UP,
	PVQ_S_DOWN,		/* ended; reason says why */
	PVQ_S_REFUSED,		/* side 0: the listener refused */
};

/* One side's half of a channel header; written by that side only. */
struct pvq_chan_side {
	__le32 state;
	__le32 epoch;
	__le32 peer_epoch;
	__le32 reason;		/* positive errno, with PVQ_S_DOWN */
	__le32 port;		/* side 1: the listener's port it asks for */
} ____cacheline_aligned;

struct pvq_side_hdr {
	__le64 heartbeat;
	__le32 doorbell;	/* the side's ivshmem peer id + 1; 0: none */
} ____cacheline_aligned;

struct pvq_region_hdr {
	__le64 magic;
	__le32 version;
	__le32 num;
	__le32 nr_chan;
	struct pvq_side_hdr side[2];
	struct pvq_chan_side chan[PVQ_MAX_CHAN][2];
};

static_assert(sizeof(struct pvq_region_hdr) <= PAGE_SIZE);

struct pvq_listener;

struct pvq_medium {
	struct kref ref;
	struct list_head node;
	struct list_head tick_node;
	char name[PUMA_TRANSPORT_ADDR_MAX + 1];
	struct pvq_region_hdr *hdr;
	void *base;
	unsigned int nr_chan;
	/* "mem:": both sides in this kernel, the region ours to free. */
	bool mem;
	const struct pvq_medium_ops *ops;
	void *priv;
	u32 doorbell;
	struct work_struct kick_work;
	struct work_struct free_work;
	wait_queue_head_t answer;

	/* Protects what follows. */
	spinlock_t lock;
	bool gone;
	struct list_head listeners;
	/*
	 * Side 0 is this kernel's to write: a listener is, or was until the
	 * scan turned its free channels IDLE.  A connector's kernel never
	 * writes the listener's half.
	 */
	bool side0_ours;
	struct pvq_end *end[2][PVQ_MAX_CHAN];
	/* Last connect epoch the listener answered, per channel. */
	u32 answered[PVQ_MAX_CHAN];
	u32 next_epoch;
	/* Per side: watching the peer's heartbeat, its last value and when. */
	bool watching[2];
	u64 peer_hb[2];
	unsigned long peer_hb_at[2];
};

struct pvq_listener {
	struct puma_transport_listener listener;
	struct pvq_medium *med;
	struct list_head node;
	u32 port;
};

struct pvq_end {
	struct puma_transport_conn conn;
	struct pvq_medium *med;
	unsigned int chan;
	unsigned int side;
	u32 epoch;
	u32 peer_epoch;
	struct work_struct work;
	wait_queue_head_t room;
	/* Only the work item touches @rx. */
	struct pvq_rx rx;

	/* Protects @tx and the flags and reason below. */
	spinlock_t lock;
	struct pvq_tx tx;
	/*
	 * A send found no room: later ones wait behind it until the peer
	 * returns buffers, so the ring is full for every message alike and
	 * small messages cannot starve a large one.
	 */
	bool tx_full;
	/* Handed to a user: it gets callbacks. */
	bool live;
	bool dead;
	bool notified;
	int reason;
};

static DEFINE_SPINLOCK(pvq_media_lock);
static LIST_HEAD(pvq_media);
static struct workqueue_struct *pvq_wq;
static struct delayed_work pvq_tick_work;
static struct puma_transport pvq_transport;
static struct dentry *pvq_debugfs;

static struct pvq_end *to_end(struct puma_transport_conn *conn)
{
	return container_of(conn, struct pvq_end, conn);
}

static struct pvq_listener *to_listener(struct puma_transport_listener *l)
{
	return container_of(l, struct pvq_listener, listener);
}

#if IS_ENABLED(CONFIG_KUNIT)
/* Set by a test: "mem:" media ring nobody, as ivshmem-plain; the tick polls. */
bool pvq_test_mem_polled;
EXPORT_SYMBOL_IF_KUNIT(pvq_test_mem_polled);

static bool pvq_test_polled(void)
{
	return READ_ONCE(pvq_test_mem_polled);
}
#else
static bool pvq_test_polled(void)
{
	return false;
}
#endif

/* Region access: the layout is ours, the contents the peer's too. */

static void *pvq_dir(struct pvq_medium *med, unsigned int chan,
		     unsigned int dir)
{
	return (u8 *)med->base + PAGE_SIZE +
	       (size_t)(2 * chan + dir) * PVQ_DIR_SIZE;
}

static struct pvq_chan_side *pvq_cside(struct pvq_medium *med,
				       unsigned int chan, unsigned int side)
{
	return &med->hdr->chan[chan][side];
}

static enum pvq_state pvq_state_get(struct pvq_chan_side *cs)
{
	/* Pairs with pvq_state_set(): what the side wrote before, now. */
	return le32_to_cpu(virt_load_acquire(&cs->state));
}

static u32 pvq_get32(__le32 *p)
{
	return le32_to_cpu(READ_ONCE(*p));
}

static void pvq_put32(__le32 *p, u32 v)
{
	WRITE_ONCE(*p, cpu_to_le32(v));
}

static void pvq_state_set(struct pvq_chan_side *cs, enum pvq_state state)
{
	/* Everything written to @cs before is visible once the state is. */
	virt_store_release(&cs->state, cpu_to_le32(state));
}

/*
 * The same, by an end no longer in the medium's table: only while the
 * region is there (pvq_medium_unregister() sets gone before it waits).
 */
static void pvq_chan_state_set(struct pvq_medium *med,
			       struct pvq_chan_side *cs, enum pvq_state state)
{
	spin_lock(&med->lock);
	if (!med->gone)
		pvq_state_set(cs, state);
	spin_unlock(&med->lock);
}

static u32 __pvq_new_epoch(struct pvq_medium *med)
{
	lockdep_assert_held(&med->lock);

	if (!++med->next_epoch)
		med->next_epoch = 1;
	return med->next_epoch;
}

static u32 pvq_new_epoch(struct pvq_medium *med)
{
	u32 epoch;

	spin_lock(&med->lock);
	epoch = __pvq_new_epoch(med);
	spin_unlock(&med->lock);
	return epoch;
}

/* Say that side @side is here and how to ring it. */
static void pvq_side_announce(struct pvq_medium *med, unsigned int side)
{
	if (med->doorbell)
		pvq_put32(&med->hdr->side[side].doorbell, med->doorbell);
}

/* Media. */

static void pvq_medium_free_work(struct work_struct *work)
{
	struct pvq_medium *med = container_of(work, struct pvq_medium,
					      free_work);

	/* Every kick holds a reference: none is queued or running. */
	if (med->mem)
		vfree(med->base);
	else if (med->ops->release)
		med->ops->release(med, med->priv);
	kfree(med);
}

static void pvq_medium_release(struct kref *ref)
{
	struct pvq_medium *med = container_of(ref, struct pvq_medium, ref);
	unsigned long flags;

	spin_lock_irqsave(&pvq_media_lock, flags);
	if (!list_empty(&med->node))
		list_del_init(&med->node);
	spin_unlock_irqrestore(&pvq_media_lock, flags);
	/* Any context: the free may sleep. */
	queue_work(pvq_wq, &med->free_work);
}

static void pvq_medium_put(struct pvq_medium *med)
{
	kref_put(&med->ref, pvq_medium_release);
}

/* Look at the medium again soon, from process context. */
static void pvq_medium_kick(struct pvq_medium *med)
{
	kref_get(&med->ref);
	if (!queue_work(pvq_wq, &med->kick_work))
		pvq_medium_put(med);
}

/* Tell the peer to look at the region. */
static void pvq_notify(struct pvq_medium *med, unsigned int peer_side)
{
	u32 doorbell;

	pvq_count(PVQ_STAT_NOTIFIES, 1);
	if (med->mem) {
		if (!pvq_test_polled())
			pvq_medium_kick(med);
		return;
	}
	doorbell = le32_to_cpu(READ_ONCE(med->hdr->side[peer_side].doorbell));
	/* The peer's word: a wrong id rings nobody (ivshmem checks it). */
	if (doorbell)
		med->ops->notify(med, med->priv, doorbell - 1);
}

static struct pvq_medium *pvq_medium_alloc(const char *name, void *base,
					   size_t size)
{
	struct pvq_medium *med;
	unsigned int nr_chan;

	if (size < PAGE_SIZE + 2 * PVQ_DIR_SIZE)
		return ERR_PTR(-EINVAL);
	nr_chan = min_t(size_t, PVQ_MAX_CHAN,
			(size - PAGE_SIZE) / (2 * PVQ_DIR_SIZE));

	med = kzalloc(sizeof(*med), GFP_KERNEL);
	if (!med)
		return ERR_PTR(-ENOMEM);
	kref_init(&med->ref);
	INIT_LIST_HEAD(&med->node);
	INIT_LIST_HEAD(&med->tick_node);
	strscpy(med->name, name);
	med->base = base;
	med->hdr = base;
	med->nr_chan = nr_chan;
	spin_lock_init(&med->lock);
	INIT_LIST_HEAD(&med->listeners);
	init_waitqueue_head(&med->answer);
	med->next_epoch = get_random_u32();
	return med;
}

static void pvq_medium_kick_work(struct work_struct *work);

static void pvq_medium_init_work(struct pvq_medium *med)
{
	INIT_WORK(&med->kick_work, pvq_medium_kick_work);
	INIT_WORK(&med->free_work, pvq_medium_free_work);
}

/* A medium by name, with a reference; NULL if none. */
static struct pvq_medium *pvq_medium_find(const char *name)
{
	struct pvq_medium *med, *found = NULL;
	unsigned long flags;

	spin_lock_irqsave(&pvq_media_lock, flags);
	list_for_each_entry(med, &pvq_media, node) {
		if (!strcmp(med->name, name) &&
		    kref_get_unless_zero(&med->ref)) {
			found = med;
			break;
		}
	}
	spin_unlock_irqrestore(&pvq_media_lock, flags);
	return found;
}

/* Add @med to the media unless its name is taken. */
static int pvq_medium_add(struct pvq_medium *med)
{
	struct pvq_medium *other;
	unsigned long flags;
	int err = 0;

	spin_lock_irqsave(&pvq_media_lock, flags);
	list_for_each_entry(other, &pvq_media, node) {
		if (!strcmp(other->name, med->name) &&
		    kref_read(&other->ref)) {
			err = -EEXIST;
			break;
		}
	}
	if (!err)
		list_add_tail(&med->node, &pvq_media);
	spin_unlock_irqrestore(&pvq_media_lock, flags);
	return err;
}

static void pvq_region_init_hdr(struct pvq_medium *med)
{
	WRITE_ONCE(med->hdr->magic, cpu_to_le64(PVQ_MAGIC));
	pvq_put32(&med->hdr->version, PVQ_VERSION);
	pvq_put32(&med->hdr->num, PVQ_NUM);
	pvq_put32(&med->hdr->nr_chan, med->nr_chan);
}

static bool pvq_region_hdr_ok(struct pvq_medium *med)
{
	return le64_to_cpu(READ_ONCE(med->hdr->magic)) == PVQ_MAGIC &&
	       pvq_get32(&med->hdr->version) == PVQ_VERSION &&
	       pvq_get32(&med->hdr->num) == PVQ_NUM &&
	       pvq_get32(&med->hdr->nr_chan) == med->nr_chan;
}

/* A "mem:" medium of its own memory, both sides in this kernel. */
static struct pvq_medium *pvq_mem_medium_create(const char *name)
{
	size_t size = PAGE_SIZE + PVQ_MEM_CHANNELS * 2 * PVQ_DIR_SIZE;
	struct pvq_medium *med;
	void *base;
	int err;

	base = vzalloc(size);
	if (!base)
		return ERR_PTR(-ENOMEM);
	med = pvq_medium_alloc(name, base, size);
	if (IS_ERR(med)) {
		vfree(base);
		return med;
	}
	med->mem = true;
	pvq_medium_init_work(med);
	pvq_region_init_hdr(med);
	err = pvq_medium_add(med);
	if (err) {
		vfree(base);
		kfree(med);
		return ERR_PTR(err);
	}
	return med;
}

/**
 * pvq_medium_register() - offer a shared region as a medium
 * @name: the address listen and connect will use, e.g. "ivshmem0"
 * @base: the region, mapped cacheable in this kernel
 * @size: its size in bytes
 * @ops: how to ring the peer, and what to do once nothing uses the region
 * @priv: for @ops
 * @doorbell: this kernel's doorbell id on the region (ivshmem's peer
 *	id), or a negative number for none (then the peer polls)
 *
 * Context: process context.
 * Return: the medium, or ERR_PTR(-EINVAL) for a region too small,
 * ERR_PTR(-EEXIST) if @name is taken, ERR_PTR(-ENOMEM).
 */
struct pvq_medium *pvq_medium_register(const char *name, void *base,
				       size_t size,
				       const struct pvq_medium_ops *ops,
				       void *priv, int doorbell)
{
	struct pvq_medium *med;
	int err;

	if (!ops || !ops->notify)
		return ERR_PTR(-EINVAL);
	med = pvq_medium_alloc(name, base, size);
	if (IS_ERR(med))
		return med;
	med->ops = ops;
	med->priv = priv;
	med->doorbell = doorbell >= 0 ? doorbell + 1 : 0;
	pvq_medium_init_work(med);
	err = pvq_medium_add(med);
	if (err) {
		kfree(med);
		return ERR_PTR(err);
	}
	pr_info("%s: %zu KiB shared region, %u channels, doorbell %d\n",
		name, size >> 10, med->nr_chan, doorbell);
	return med;
}
EXPORT_SYMBOL_IF_KUNIT(pvq_medium_register);

static void pvq_end_close(struct pvq_end *end, int reason);

/**
 * pvq_medium_unregister() - withdraw a medium whose region goes away
 * @med: from pvq_medium_register()
 *
 * Closes every connection on it with -ENODEV and waits until none of
 * them can touch the region any more; a listener on it stays, idle, until
 * its user closes it.  The region may be unmapped when this returns, and
 * @ops->release runs once nothing refers to @med.
 *
 * Context: process context, may sleep.
 */
void pvq_medium_unregister(struct pvq_medium *med)
{
	unsigned int s, c;
	unsigned long flags;

	spin_lock_irqsave(&pvq_media_lock, flags);
	list_del_init(&med->node);
	spin_unlock_irqrestore(&pvq_media_lock, flags);

	spin_lock(&med->lock);
	med->gone = true;
	for (s = 0; s < 2; s++)
		for (c = 0; c < med->nr_chan; c++)
			if (med->end[s][c])
				pvq_end_close(med->end[s][c], -ENODEV);
	spin_unlock(&med->lock);
	/* An end leaves the table once its work is done with the region. */
	wait_event(med->answer, ({
		bool empty = true;

		spin_lock(&med->lock);
		for (s = 0; s < 2; s++)
			for (c = 0; c < med->nr_chan; c++)
				empty &= !med->end[s][c];
		spin_unlock(&med->lock);
		empty;
	}));
	flush_work(&med->kick_work);
	pvq_medium_put(med);
}
EXPORT_SYMBOL_IF_KUNIT(pvq_medium_unregister);

/**
 * pvq_medium_interrupt() - the peer rang: look at the region
 * @med: the medium
 *
 * Context: any context, hard interrupts included.
 */
void pvq_medium_interrupt(struct pvq_medium *med)
{
	pvq_count(PVQ_STAT_INTERRUPTS, 1);
	pvq_medium_kick(med);
}

/* Ends. */

static void pvq_end_kick(struct pvq_end *end)
{
	puma_transport_conn_get(&end->conn);
	if (!queue_work(pvq_wq, &end->work))
		puma_transport_conn_put(&end->conn);
}

/*
 * End a connection: any context.  The own side says DOWN and why, under
 * the end's lock so no later user of the channel can see it.
 */
static void pvq_end_close(struct pvq_end *end, int reason)
{
	struct pvq_medium *med = end->med;
	unsigned long flags;

	spin_lock_irqsave(&end->lock, flags);
	if (end->dead) {
		spin_unlock_irqrestore(&end->lock, flags);
		return;
	}
	end->dead = true;
	end->reason = reason;
	if (!med->gone) {
		struct pvq_chan_side *cs = pvq_cside(med, end->chan, end->side);

		pvq_put32(&cs->reason, -reason);
		pvq_state_set(cs, PVQ_S_DOWN);
	}
	pvq_end_kick(end);
	spin_unlock_irqrestore(&end->lock, flags);
	wake_up_all(&end->room);
	if (!med->gone)
		pvq_notify(med, !end->side);
}

/* The peer's reason, or -ECONNRESET if it gave none that is an errno. */
static int pvq_peer_reason(struct pvq_chan_side *cs)
{
	u32 reason = pvq_get32(&cs->reason);

	return reason && reason <= MAX_ERRNO ? -(int)reason : -ECONNRESET;
}

/* 0 while the peer holds the connection up, else why it does not. */
static int pvq_peer_check(struct pvq_end *end)
{
	struct pvq_chan_side *peer = pvq_cside(end->med, end->chan, !end->side);
	enum pvq_state state = pvq_state_get(peer);
	u32 epoch = pvq_get32(&peer->epoch);

	if (epoch != end->peer_epoch)
		return -ECONNRESET;
	if (state == PVQ_S_DOWN)
		return pvq_peer_reason(peer);
	if (end->side == 0)
		return state == PVQ_S_UP || state == PVQ_S_CONNECT ?
		       0 : -ECONNRESET;
	return state == PVQ_S_UP && pvq_get32(&peer->peer_epoch) == end->epoch ?
	       0 : -ECONNRESET;
}

static void pvq_bad_ring(struct pvq_end *end, enum pvq_err why)
{
	pvq_count(PVQ_STAT_BAD_RINGS, 1);
	atomic_long_inc(&pvq_err_stats[why]);
	pr_warn_ratelimited("%s channel %u: %s, closing\n", end->med->name,
			    end->chan, pvq_err_names[why]);
	pvq_end_close(end, -EPROTO);
}

/*
 * Take @end out of its medium's table: no kick reaches it any more, and
 * pvq_medium_unregister(), which waits for the table to empty, is woken.
 */
static void pvq_end_unlist(struct pvq_end *end)
{
	struct pvq_medium *med = end->med;

	spin_lock(&med->lock);
	if (med->end[end->side][end->chan] == end)
		med->end[end->side][end->chan] = NULL;
	spin_unlock(&med->lock);
	wake_up_all(&med->answer);
}

/* The end is done with the region and with its user. */
static void pvq_end_finish(struct pvq_end *end, int reason)
{
	struct pvq_medium *med = end->med;

	if (end->live)
		puma_transport_deliver_disconnect(&end->conn, reason);
	/* The listener's scan frees the channel. */
	pvq_end_unlist(end);
	if (!med->gone)
		pvq_medium_kick(med);
	puma_transport_conn_put(&end->conn);
}

/* Receive one chain; false when there is none, or the end closed. */
static bool pvq_end_rx_one(struct pvq_end *end)
{
	struct puma_transport_msg *msg;
	struct pvq_chain chain;
	enum pvq_err why;
	unsigned int noio;
	int ret;

	ret = pvq_rx_peek(&end->rx, &chain, &why);
	if (ret < 0)
		pvq_bad_ring(end, why);
	if (ret <= 0)
		return false;

	/* Reclaim may wait on a cache that receives over this transport. */
	noio = memalloc_noio_save();
	msg = puma_transport_msg_alloc(chain.head_len, chain.nr_pages,
				       GFP_KERNEL | __GFP_NOWARN);
	if (IS_ERR(msg) && chain.nr_pages) {
		pvq_count(PVQ_STAT_ENOMEM_RX_PAGES, 1);
		msg = puma_transport_msg_alloc(chain.head_len, 0,
					       GFP_KERNEL | __GFP_NOWARN);
		if (!IS_ERR(msg))
			msg->flags |= PUMA_TRANSPORT_MSG_PAGES_DROPPED;
	}
	memalloc_noio_restore(noio);
	if (IS_ERR(msg)) {
		pvq_count(PVQ_STAT_ENOMEM_RX_HEAD, 1);
		pvq_end_close(end, -ENOMEM);
		return false;
	}
	pvq_rx_copy(&end->rx, &chain, msg);
	pvq_rx_done(&end->rx, &chain);
	pvq_notify(end->med, !end->side);
	pvq_count(PVQ_STAT_MSGS_RECEIVED, 1);
	pvq_count(PVQ_STAT_PAGES_RECEIVED, msg->nr_pages);
	puma_transport_deliver_msg(&end->conn, msg);
	return true;
}

static void pvq_end_work(struct work_struct *work)
{
	struct pvq_end *end = container_of(work, struct pvq_end, work);
	unsigned int budget = PVQ_BUDGET;
	unsigned long flags;
	enum pvq_err why;
	int ret;

	for (;;) {
		spin_lock_irqsave(&end->lock, flags);
		if (!end->live) {
			/*
			 * Not handed to a user yet: connect kicks it once it
			 * is, or drops it with pvq_end_abort(), dead or not.
			 */
			spin_unlock_irqrestore(&end->lock, flags);
			break;
		}
		if (end->dead) {
			bool notify = !end->notified;
			int reason = end->reason;

			end->notified = true;
			spin_unlock_irqrestore(&end->lock, flags);
			if (notify)
				pvq_end_finish(end, reason);
			break;
		}
		ret = pvq_tx_reclaim(&end->tx, &why);
		if (ret > 0)
			end->tx_full = false;
		spin_unlock_irqrestore(&end->lock, flags);
		if (ret < 0) {
			pvq_bad_ring(end, why);
			continue;
		}
		/* A sender's own look may have taken them back: wake anyway. */
		wake_up(&end->room);

		ret = pvq_peer_check(end);
		if (ret) {
			pvq_end_close(end, ret);
			continue;
		}
		if (!budget--) {
			pvq_end_kick(end);
			break;
		}
		if (!pvq_end_rx_one(end) && !READ_ONCE(end->dead))
			break;
		cond_resched();
	}
	puma_transport_conn_put(&end->conn);
}

static struct pvq_end *pvq_end_alloc(struct pvq_medium *med,
				     unsigned int chan, unsigned int side,
				     const struct puma_transport_conn_ops *ops,
				     void *priv)
{
	struct pvq_end *end;

	end = kzalloc(sizeof(*end), GFP_KERNEL);
	if (!end)
		return NULL;
	puma_transport_conn_init(&end->conn, &pvq_transport, ops, priv);
	kref_get(&med->ref);
	end->med = med;
	end->chan = chan;
	end->side = side;
	INIT_WORK(&end->work, pvq_end_work);
	init_waitqueue_head(&end->room);
	spin_lock_init(&end->lock);
	/* Side s sends on direction s and receives on the other one. */
	pvq_tx_init(&end->tx, pvq_dir(med, chan, side));
	pvq_rx_init(&end->rx, pvq_dir(med, chan, !side));
	pvq_count(PVQ_STAT_CONNS, 1);
	return end;
}

/* Clear this side's halves of the channel's rings, before telling the peer. */
static void pvq_end_reset_rings(struct pvq_end *end)
{
	pvq_tx_reset(&end->tx);
	pvq_rx_reset(&end->rx);
}

/*
 * Drop an end no user was given (or whose accept refused it), at once:
 * process context, never from the end's own work.
 */
static void pvq_end_abort(struct pvq_end *end)
{
	unsigned long flags;
	bool finished;

	spin_lock_irqsave(&end->lock, flags);
	/* A refused accept's end may have been closed and finished already. */
	finished = end->notified;
	end->dead = true;
	end->notified = true;
	spin_unlock_irqrestore(&end->lock, flags);
	pvq_end_unlist(end);
	/* Out of the table, no kick comes; one queued goes with its reference. */
	if (cancel_work_sync(&end->work))
		puma_transport_conn_put(&end->conn);
	if (!finished)
		puma_transport_conn_put(&end->conn);
}

/* Answer a connect on @chan, epoch @peer_epoch, for listener @l or none. */
static void pvq_accept_chan(struct pvq_medium *med, struct pvq_listener *l,
			    unsigned int chan, u32 peer_epoch)
{
	struct pvq_chan_side *cs = pvq_cside(med, chan, 0);
	unsigned long flags;
	struct pvq_end *end;
	int err = -ENOMEM;

	end = l ? pvq_end_alloc(med, chan, 0, NULL, NULL) : NULL;
	if (end) {
		err = 0;
		spin_lock(&med->lock);
		if (med->gone || med->end[0][chan])
			err = -EBUSY;
		else
			med->end[0][chan] = end;
		spin_unlock(&med->lock);
		if (err) {
			pvq_end_abort(end);
			end = NULL;
		}
	}
	if (!end) {
		pvq_put32(&cs->peer_epoch, peer_epoch);
		pvq_chan_state_set(med, cs, PVQ_S_REFUSED);
		pvq_count(PVQ_STAT_REFUSED, 1);
		pvq_notify(med, 1);
		return;
	}

	pvq_end_reset_rings(end);
	end->epoch = pvq_new_epoch(med);
	end->peer_epoch = peer_epoch;
	pvq_put32(&cs->epoch, end->epoch);
	pvq_put32(&cs->peer_epoch, peer_epoch);
	pvq_put32(&cs->reason, 0);
	spin_lock_irqsave(&end->lock, flags);
	end->live = true;
	spin_unlock_irqrestore(&end->lock, flags);
	/* Ours across accept: a user that closes from it may drop the last. */
	puma_transport_conn_get(&end->conn);
	err = puma_transport_accept(&l->listener, &end->conn);
	if (err) {
		/* Gone before the connector hears: both ends go at once. */
		pvq_end_abort(end);
		puma_transport_conn_put(&end->conn);
		pvq_chan_state_set(med, cs, PVQ_S_REFUSED);
		pvq_count(PVQ_STAT_REFUSED, 1);
		pvq_notify(med, 1);
		return;
	}
	/* Unless the user closed it already, from accept. */
	spin_lock_irqsave(&end->lock, flags);
	if (!end->dead)
		pvq_state_set(cs, PVQ_S_UP);
	spin_unlock_irqrestore(&end->lock, flags);
	pvq_count(PVQ_STAT_ACCEPTS, 1);
	pvq_end_kick(end);
	pvq_notify(med, 1);
	puma_transport_conn_put(&end->conn);
}

static struct pvq_listener *__pvq_find_listener(struct pvq_medium *med,
						u32 port)
{
	struct pvq_listener *l;

	lockdep_assert_held(&med->lock);

	list_for_each_entry(l, &med->listeners, node)
		if (l->port == port)
			return l;
	return NULL;
}

/*
 * The listener's look at every channel: answer connects, and give channels
 * whose connection is over back to listening.
 */
static void pvq_medium_scan(struct pvq_medium *med)
{
	unsigned int c;

	for (c = 0; c < med->nr_chan; c++) {
		struct pvq_chan_side *me = pvq_cside(med, c, 0);
		struct pvq_chan_side *peer = pvq_cside(med, c, 1);
		enum pvq_state mine, theirs;
		struct pvq_listener *l;
		u32 peer_epoch;

		spin_lock(&med->lock);
		if (med->gone || !med->side0_ours || med->end[0][c]) {
			spin_unlock(&med->lock);
			continue;
		}
		mine = le32_to_cpu(READ_ONCE(me->state));
		theirs = pvq_state_get(peer);
		peer_epoch = pvq_get32(&peer->epoch);
		if (list_empty(&med->listeners)) {
			if (mine != PVQ_S_IDLE)
				pvq_state_set(me, PVQ_S_IDLE);
		} else if (mine == PVQ_S_LISTEN && theirs == PVQ_S_CONNECT &&
			   peer_epoch != med->answered[c]) {
			med->answered[c] = peer_epoch;
			/* Any port the peer names: none listening is a refusal. */
			l = __pvq_find_listener(med, pvq_get32(&peer->port));
			spin_unlock(&med->lock);
			/* A listener's close waits for this work. */
			pvq_accept_chan(med, l, c, peer_epoch);
			continue;
		} else if (mine != PVQ_S_LISTEN &&
			   !((theirs == PVQ_S_CONNECT || theirs == PVQ_S_UP) &&
			     peer_epoch == pvq_get32(&me->peer_epoch))) {
			pvq_put32(&me->epoch, __pvq_new_epoch(med));
			pvq_put32(&me->peer_epoch, 0);
			pvq_state_set(me, PVQ_S_LISTEN);
		}
		spin_unlock(&med->lock);
	}
	spin_lock(&med->lock);
	if (list_empty(&med->listeners))
		med->side0_ours = false;
	spin_unlock(&med->lock);
}

static void pvq_medium_kick_work(struct work_struct *work)
{
	struct pvq_medium *med = container_of(work, struct pvq_medium,
					      kick_work);
	unsigned int s, c;

	pvq_medium_scan(med);
	spin_lock(&med->lock);
	for (s = 0; s < 2; s++)
		for (c = 0; c < med->nr_chan; c++)
			if (med->end[s][c])
				pvq_end_kick(med->end[s][c]);
	spin_unlock(&med->lock);
	wake_up_all(&med->answer);
	pvq_medium_put(med);
}

/* Heartbeats: ours on, the peer's watched, every tick_ms. */
static void pvq_medium_tick(struct pvq_medium *med)
{
	unsigned long dead = msecs_to_jiffies(READ_ONCE(pvq_dead_ms));
	unsigned int s, c;

	spin_lock(&med->lock);
	for (s = 0; s < 2 && !med->gone; s++) {
		struct pvq_side_hdr *mine = &med->hdr->side[s];
		struct pvq_side_hdr *peer = &med->hdr->side[!s];
		bool active = s == 0 && !list_empty(&med->listeners);
		u64 hb;

		for (c = 0; c < med->nr_chan; c++)
			active |= !!med->end[s][c];
		if (!active) {
			med->watching[s] = false;
			continue;
		}
		WRITE_ONCE(mine->heartbeat,
			   cpu_to_le64(le64_to_cpu(READ_ONCE(mine->heartbeat)) + 1));
		pvq_side_announce(med, s);

		hb = le64_to_cpu(READ_ONCE(peer->heartbeat));
		if (!med->watching[s] || hb != med->peer_hb[s]) {
			med->watching[s] = true;
			med->peer_hb[s] = hb;
			med->peer_hb_at[s] = jiffies;
			continue;
		}
		if (!time_after(jiffies, med->peer_hb_at[s] + dead))
			continue;
		for (c = 0; c < med->nr_chan; c++) {
			struct pvq_end *end = med->end[s][c];

			if (end && end->live && !READ_ONCE(end->dead)) {
				pvq_count(PVQ_STAT_PEER_TIMEOUTS, 1);
				pr_warn_ratelimited("%s channel %u: peer silent for %u ms, closing\n",
						    med->name, c, pvq_dead_ms);
				pvq_end_close(end, -ETIMEDOUT);
			}
		}
	}
	spin_unlock(&med->lock);
	/* Also the poll that makes a lost doorbell cost time only. */
	pvq_medium_kick(med);
}

static void pvq_tick(struct work_struct *work)
{
	struct pvq_medium *med, *next;
	unsigned long flags;
	LIST_HEAD(media);

	spin_lock_irqsave(&pvq_media_lock, flags);
	list_for_each_entry(med, &pvq_media, node)
		if (kref_get_unless_zero(&med->ref))
			list_add_tail(&med->tick_node, &media);
	spin_unlock_irqrestore(&pvq_media_lock, flags);

	list_for_each_entry_safe(med, next, &media, tick_node) {
		list_del_init(&med->tick_node);
		pvq_medium_tick(med);
		pvq_medium_put(med);
	}
	queue_delayed_work(pvq_wq, &pvq_tick_work,
			   msecs_to_jiffies(READ_ONCE(pvq_tick_ms)));
}

/* Transport operations. */

/*
 * Split "MEDIUM[:PORT]" into the medium's name and the port (0 if none);
 * a "mem:" prefix is part of the name.
 */
static int pvq_parse_addr(const char *addr, char *name, u32 *port)
{
	const char *start = strncmp(addr, "mem:", 4) ? addr : addr + 4;
	const char *colon = strrchr(start, ':');

	*port = 0;
	strscpy(name, addr, PUMA_TRANSPORT_ADDR_MAX + 1);
	if (colon) {
		if (kstrtou32(colon + 1, 10, port) || *port > 65535)
			return -EINVAL;
		name[colon - addr] = '\0';
	}
	return name[start - addr] ? 0 : -EINVAL;
}

static bool pvq_mem_addr(const char *name)
{
	return !strncmp(name, "mem:", 4) && name[4];
}

static struct puma_transport_listener *
pvq_listen(struct puma_transport *t, const char *addr,
	   const struct puma_transport_listener_ops *ops, void *priv)
{
	char name[PUMA_TRANSPORT_ADDR_MAX + 1];
	struct pvq_listener *l;
	struct pvq_medium *med;
	bool first;
	unsigned int c;
	u32 port;
	int err;

	err = pvq_parse_addr(addr, name, &port);
	if (err)
		return ERR_PTR(err);
	med = pvq_medium_find(name);
	if (!med) {
		if (!pvq_mem_addr(name))
			return ERR_PTR(-EADDRNOTAVAIL);
		med = pvq_mem_medium_create(name);
		if (IS_ERR(med))
			return ERR_CAST(med);
	}
	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l) {
		pvq_medium_put(med);
		return ERR_PTR(-ENOMEM);
	}
	puma_transport_listener_init(&l->listener, t, ops, priv);
	l->med = med;
	l->port = port;

	spin_lock(&med->lock);
	first = list_empty(&med->listeners);
	if (med->gone || __pvq_find_listener(med, port)) {
		err = -EADDRINUSE;
	} else {
		list_add_tail(&l->node, &med->listeners);
		med->side0_ours = true;
	}
	spin_unlock(&med->lock);
	if (err) {
		kfree(l);
		pvq_medium_put(med);
		return ERR_PTR(err);
	}
	if (!first)
		return &l->listener;
	if (!med->mem)
		pvq_region_init_hdr(med);
	pvq_side_announce(med, 0);
	/*
	 * The first listener: whatever a previous one left in the free
	 * channels (a VM that died, say) is over; their connectors see a new
	 * epoch.
	 */
	spin_lock(&med->lock);
	for (c = 0; c < med->nr_chan; c++) {
		struct pvq_chan_side *cs = pvq_cside(med, c, 0);

		if (med->end[0][c])
			continue;
		pvq_put32(&cs->epoch, __pvq_new_epoch(med));
		pvq_put32(&cs->peer_epoch, 0);
		pvq_state_set(cs, PVQ_S_LISTEN);
	}
	spin_unlock(&med->lock);
	pvq_medium_kick(med);
	return &l->listener;
}

static void pvq_listener_close(struct puma_transport_listener *listener)
{
	struct pvq_listener *l = to_listener(listener);
	struct pvq_medium *med = l->med;

	spin_lock(&med->lock);
	list_del(&l->node);
	spin_unlock(&med->lock);
	/*
	 * Accepts run in the medium's work only: once this instance is
	 * done, none uses @l.  It also turns the channels IDLE if no
	 * listener is left.
	 */
	pvq_medium_kick(med);
	flush_work(&med->kick_work);
	kfree(l);
	pvq_medium_put(med);
}

static bool pvq_connect_answered(struct pvq_end *end)
{
	struct pvq_chan_side *peer = pvq_cside(end->med, end->chan, 0);
	enum pvq_state state = pvq_state_get(peer);

	return (state == PVQ_S_UP || state == PVQ_S_REFUSED) &&
	       pvq_get32(&peer->peer_epoch) == end->epoch;
}

/* Take a channel whose listener waits; -ECONNREFUSED if none. */
static int pvq_claim_chan(struct pvq_medium *med, struct pvq_end *end)
{
	unsigned int c;
	int err = -ECONNREFUSED;

	spin_lock(&med->lock);
	for (c = 0; c < med->nr_chan && !med->gone; c++) {
		if (med->end[1][c] ||
		    pvq_state_get(pvq_cside(med, c, 0)) != PVQ_S_LISTEN)
			continue;
		med->end[1][c] = end;
		end->chan = c;
		err = 0;
		break;
	}
	spin_unlock(&med->lock);
	return err;
}

static struct puma_transport_conn *
pvq_connect(struct puma_transport *t, const char *addr,
	    const struct puma_transport_conn_ops *ops, void *priv)
{
	unsigned long timeout = msecs_to_jiffies(READ_ONCE(pvq_connect_timeout_ms));
	char name[PUMA_TRANSPORT_ADDR_MAX + 1];
	struct pvq_chan_side *cs, *peer;
	struct pvq_medium *med;
	unsigned long flags;
	struct pvq_end *end;
	long left;
	u32 port;
	int err;

	err = pvq_parse_addr(addr, name, &port);
	if (err)
		return ERR_PTR(err);
	med = pvq_medium_find(name);
	if (!med)
		return ERR_PTR(-ECONNREFUSED);
	if (!med->mem && !pvq_region_hdr_ok(med)) {
		/* No listener ever set the region up, or not one of ours. */
		pvq_medium_put(med);
		pvq_count(PVQ_STAT_CONNECT_ERRORS, 1);
		return ERR_PTR(-ECONNREFUSED);
	}
	end = pvq_end_alloc(med, 0, 1, ops, priv);
	pvq_medium_put(med);
	if (!end)
		return ERR_PTR(-ENOMEM);
	/* The caller's reference. */
	puma_transport_conn_get(&end->conn);

	err = pvq_claim_chan(med, end);
	if (err)
		goto fail;
	/* The channel moves the end's rings. */
	pvq_tx_init(&end->tx, pvq_dir(med, end->chan, 1));
	pvq_rx_init(&end->rx, pvq_dir(med, end->chan, 0));
	pvq_end_reset_rings(end);

	cs = pvq_cside(med, end->chan, 1);
	peer = pvq_cside(med, end->chan, 0);
	pvq_side_announce(med, 1);
	end->epoch = pvq_new_epoch(med);
	pvq_put32(&cs->epoch, end->epoch);
	pvq_put32(&cs->peer_epoch, 0);
	pvq_put32(&cs->reason, 0);
	pvq_put32(&cs->port, port);
	pvq_state_set(cs, PVQ_S_CONNECT);
	pvq_notify(med, 0);

	left = wait_event_killable_timeout(med->answer,
					   pvq_connect_answered(end), timeout);
	if (left <= 0 || pvq_state_get(peer) != PVQ_S_UP) {
		err = left < 0 ? -EINTR : -ECONNREFUSED;
		pvq_chan_state_set(med, cs, PVQ_S_IDLE);
		pvq_notify(med, 0);
		goto fail;
	}
	end->peer_epoch = pvq_get32(&peer->epoch);
	pvq_put32(&cs->peer_epoch, end->peer_epoch);
	/* Unless the medium went away meanwhile (pvq_medium_unregister()). */
	spin_lock_irqsave(&end->lock, flags);
	if (!end->dead) {
		pvq_state_set(cs, PVQ_S_UP);
		end->live = true;
	}
	spin_unlock_irqrestore(&end->lock, flags);
	if (!end->live) {
		err = -ECONNREFUSED;
		goto fail;
	}
	pvq_count(PVQ_STAT_CONNECTS, 1);
	pvq_end_kick(end);
	pvq_notify(med, 0);
	return &end->conn;

fail:
	pvq_count(PVQ_STAT_CONNECT_ERRORS, 1);
	puma_transport_conn_put(&end->conn);
	pvq_end_abort(end);
	return ERR_PTR(err);
}

/*
 * Take back what the peer returned; then whether @nr_pages fit.  An error
 * of the peer's counts as room: the sender then finds it and closes.
 */
static int __pvq_tx_room(struct pvq_end *end, unsigned int nr_pages,
			 enum pvq_err *why)
{
	int ret;

	lockdep_assert_held(&end->lock);

	ret = pvq_tx_reclaim(&end->tx, why);
	if (ret < 0)
		return ret;
	if (ret)
		end->tx_full = false;
	return !end->tx_full && pvq_tx_room(&end->tx, nr_pages);
}

static bool pvq_can_send(struct pvq_end *end, unsigned int nr_pages)
{
	unsigned long flags;
	enum pvq_err why;
	bool ok;

	spin_lock_irqsave(&end->lock, flags);
	ok = end->dead || __pvq_tx_room(end, nr_pages, &why);
	spin_unlock_irqrestore(&end->lock, flags);
	return ok;
}

static int pvq_send(struct puma_transport_conn *conn,
		    struct puma_transport_msg *msg, unsigned int flags)
{
	struct pvq_end *end = to_end(conn);
	unsigned int nr_pages = msg->nr_pages;
	unsigned long irqflags;
	enum pvq_err why;
	int err;

	for (;;) {
		spin_lock_irqsave(&end->lock, irqflags);
		if (end->dead) {
			spin_unlock_irqrestore(&end->lock, irqflags);
			err = -ENOTCONN;
			break;
		}
		err = __pvq_tx_room(end, nr_pages, &why);
		if (err < 0) {
			spin_unlock_irqrestore(&end->lock, irqflags);
			pvq_bad_ring(end, why);
			err = -ENOTCONN;
			break;
		}
		err = err ? pvq_tx_add(&end->tx, msg) : -ENOSPC;
		if (err == -ENOSPC)
			end->tx_full = true;
		spin_unlock_irqrestore(&end->lock, irqflags);
		if (!err) {
			pvq_count(PVQ_STAT_MSGS_SENT, 1);
			pvq_count(PVQ_STAT_PAGES_SENT, nr_pages);
			pvq_notify(end->med, !end->side);
			break;
		}
		if (err != -ENOSPC)
			break;
		if (flags & PUMA_TRANSPORT_NONBLOCK) {
			err = -EAGAIN;
			break;
		}
		if (wait_event_killable(end->room, pvq_can_send(end, nr_pages))) {
			err = -EINTR;
			break;
		}
	}
	puma_transport_msg_free(msg);
	return err;
}

static void pvq_disconnect(struct puma_transport_conn *conn, int reason)
{
	struct pvq_end *end = to_end(conn);
	int peer = 0;

	/* The first reason wins: the peer's, if it closed already. */
	if (READ_ONCE(end->live) && !end->med->gone) {
		peer = pvq_peer_check(end);
		if (peer == -ECONNRESET)
			peer = 0;
	}
	pvq_end_close(end, peer ?: reason);
}

static void pvq_release(struct puma_transport_conn *conn)
{
	struct pvq_end *end = to_end(conn);

	pvq_count(PVQ_STAT_CONNS, -1);
	pvq_medium_put(end->med);
	kfree(end);
}

static const struct puma_transport_ops pvq_ops = {
	.listen		= pvq_listen,
	.listener_close	= pvq_listener_close,
	.connect	= pvq_connect,
	.send		= pvq_send,
	.disconnect	= pvq_disconnect,
	.release	= pvq_release,
};

static struct puma_transport pvq_transport = {
	.name	= "virtio",
	.owner	= THIS_MODULE,
	.ops	= &pvq_ops,
};

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * pvq_test_dir() - a direction of a channel of a medium, for a test to attack
 * @addr: the medium's address
 * @chan: the channel
 * @dir: the direction: 0 is side 0's (the listener's) sending one
 *
 * The caller must hold the medium some other way (a listener on it).
 *
 * Context: any context.
 * Return: the direction's rings, then its buffers; NULL if there is no
 * such medium or channel.
 */
void *pvq_test_dir(const char *addr, unsigned int chan, unsigned int dir)
{
	struct pvq_medium *med = pvq_medium_find(addr);
	void *ring = NULL;

	if (!med)
		return NULL;
	if (chan < med->nr_chan && dir < 2)
		ring = pvq_dir(med, chan, dir);
	pvq_medium_put(med);
	return ring;
}
EXPORT_SYMBOL_IF_KUNIT(pvq_test_dir);

/**
 * pvq_test_err_count() - how many rings were refused for @why
 * @why: the reason
 *
 * Context: any context.
 * Return: the counter.
 */
long pvq_test_err_count(enum pvq_err why)
{
	return atomic_long_read(&pvq_err_stats[why]);
}
EXPORT_SYMBOL_IF_KUNIT(pvq_test_err_count);
#endif

static int pvq_stats_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < PVQ_STAT_NR; i++)
		seq_printf(m, "%s %ld\n", pvq_stat_names[i],
			   atomic_long_read(&pvq_stats[i]));
	for (i = 0; i < PVQ_ERR_NR; i++)
		seq_printf(m, "%s %ld\n", pvq_err_names[i],
			   atomic_long_read(&pvq_err_stats[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvq_stats);

/*
 * Each medium: its doorbell, both sides' announced doorbells and
 * heartbeats, and the state of each channel's sides.
 */
static int pvq_media_show(struct seq_file *m, void *v)
{
	struct pvq_medium *med;
	unsigned long flags;
	unsigned int c, s;

	spin_lock_irqsave(&pvq_media_lock, flags);
	list_for_each_entry(med, &pvq_media, node) {
		seq_printf(m, "medium %s channels %u doorbell %d\n", med->name,
			   med->nr_chan, (int)med->doorbell - 1);
		for (s = 0; s < 2; s++)
			seq_printf(m, "side %u doorbell %d heartbeat %llu\n", s,
				   (int)pvq_get32(&med->hdr->side[s].doorbell) - 1,
				   le64_to_cpu(READ_ONCE(med->hdr->side[s].heartbeat)));
		for (c = 0; c < med->nr_chan; c++)
			seq_printf(m, "channel %u states %u %u\n", c,
				   pvq_get32(&med->hdr->chan[c][0].state),
				   pvq_get32(&med->hdr->chan[c][1].state));
	}
	spin_unlock_irqrestore(&pvq_media_lock, flags);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvq_media);

static int __init pvq_init(void)
{
	int err;

	/* Reclaim may wait on a cache that talks over this transport. */
	pvq_wq = alloc_workqueue("puma_virtio", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!pvq_wq)
		return -ENOMEM;
	INIT_DELAYED_WORK(&pvq_tick_work, pvq_tick);
	err = puma_transport_register(&pvq_transport);
	if (err)
		goto out_wq;
	err = pvq_ivshmem_init();
	if (err)
		goto out_unregister;
	queue_delayed_work(pvq_wq, &pvq_tick_work, 0);
	pvq_debugfs = debugfs_create_dir("puma_virtio", NULL);
	debugfs_create_file("stats", 0444, pvq_debugfs, NULL, &pvq_stats_fops);
	debugfs_create_file("media", 0444, pvq_debugfs, NULL, &pvq_media_fops);
	return 0;

out_unregister:
	puma_transport_unregister(&pvq_transport);
out_wq:
	destroy_workqueue(pvq_wq);
	return err;
}

static void __exit pvq_exit(void)
{
	debugfs_remove_recursive(pvq_debugfs);
	pvq_ivshmem_exit();
	/*
	 * Connections and listeners pin this module, so no end is left;
	 * the last "mem:" media may still be on their way to free_work,
	 * which destroy_workqueue() runs.
	 */
	WARN_ON(puma_transport_unregister(&pvq_transport));
	cancel_delayed_work_sync(&pvq_tick_work);
	destroy_workqueue(pvq_wq);
}

module_init(pvq_init);
module_exit(pvq_exit);

MODULE_ALIAS("puma-transport-virtio");
MODULE_IMPORT_NS(PUMA);
MODULE_DESCRIPTION("PUMA virtio transport: split virtqueues in shared memory");
MODULE_LICENSE("GPL");
