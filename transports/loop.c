// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA loopback transport: both ends of every connection live in this
 * kernel.  Addresses are names ("server0").  A connection is a pair of
 * ends; a send puts the message on the peer's bounded receive queue and a
 * work item per end hands queued messages to the user in order.
 *
 * Lock ordering:
 *   loop_mutex (listener table)		-> nothing
 *   loop_pair.lock (both ends, IRQ-safe)	-> workqueue and waitqueue locks
 * No user callback runs under either lock.
 *
 * References on an end: one per user (connect, accept), one held by the
 * transport from creation until the end's work item has delivered
 * "disconnected", and one per queued work item.  So while the pair is not
 * dead both ends are alive, which lets a send queue work on its peer.
 * The pair itself goes when both ends are released.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <puma/transport.h>

#define LOOP_DEPTH_DEFAULT	64
#define LOOP_DEPTH_MAX		65536
/* Messages one work run delivers before yielding the worker. */
#define LOOP_BUDGET		64

static unsigned int loop_depth = LOOP_DEPTH_DEFAULT;

static int loop_depth_set(const char *val, const struct kernel_param *kp)
{
	unsigned int depth;
	int err;

	err = kstrtouint(val, 0, &depth);
	if (err)
		return err;
	if (!depth || depth > LOOP_DEPTH_MAX)
		return -EINVAL;
	WRITE_ONCE(loop_depth, depth);
	return 0;
}

static const struct kernel_param_ops loop_depth_ops = {
	.set = loop_depth_set,
	.get = param_get_uint,
};
module_param_cb(queue_depth, &loop_depth_ops, &loop_depth, 0644);
MODULE_PARM_DESC(queue_depth,
		 "Messages each end queues before senders wait (1-65536, default 64); read at connect time");

struct loop_pair;

struct loop_end {
	struct puma_transport_conn conn;
	struct loop_pair *pair;
	struct loop_end *peer;
	/* Messages waiting for this end's user, and their number. */
	struct list_head rxq;
	unsigned int rxq_len;
	/* Senders to this end waiting for room in rxq. */
	wait_queue_head_t room;
	struct work_struct work;
	bool notified;
};

struct loop_pair {
	/* Both ends' queues and the pair's state; IRQ-safe for atomic senders. */
	spinlock_t lock;
	bool dead;
	int reason;
	unsigned int depth;
	refcount_t ends;
	struct loop_end end[2];
};

struct loop_listener {
	struct puma_transport_listener listener;
	struct list_head node;
	/* Accept callbacks in flight, plus one until close. */
	refcount_t active;
	struct completion idle;
	char addr[PUMA_TRANSPORT_ADDR_MAX + 1];
};

static DEFINE_MUTEX(loop_mutex);
static LIST_HEAD(loop_listeners);
static struct workqueue_struct *loop_wq;
static struct puma_transport loop_transport;

static struct loop_end *to_end(struct puma_transport_conn *conn)
{
	return container_of(conn, struct loop_end, conn);
}

static struct loop_listener *to_listener(struct puma_transport_listener *l)
{
	return container_of(l, struct loop_listener, listener);
}

static struct loop_listener *__loop_find(const char *addr)
{
	struct loop_listener *l;

	lockdep_assert_held(&loop_mutex);

	list_for_each_entry(l, &loop_listeners, node)
		if (!strcmp(l->addr, addr))
			return l;
	return NULL;
}

static void loop_listener_put(struct loop_listener *l)
{
	if (refcount_dec_and_test(&l->active))
		complete(&l->idle);
}

/*
 * Queue the end's work with a reference for it.  Only called with the
 * transport's reference on the end still held (the pair lock taken and
 * the work not yet past "disconnected"), so the put on the already-queued
 * path is never the last one.
 */
static void __loop_kick(struct loop_end *end)
{
	lockdep_assert_held(&end->pair->lock);

	puma_transport_conn_get(&end->conn);
	if (!queue_work(loop_wq, &end->work))
		puma_transport_conn_put(&end->conn);
}

static void loop_work(struct work_struct *work)
{
	struct loop_end *end = container_of(work, struct loop_end, work);
	struct loop_pair *pair = end->pair;
	unsigned int budget = LOOP_BUDGET;
	struct puma_transport_msg *msg;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&pair->lock, flags);
		if (pair->dead) {
			bool notify = !end->notified;
			int reason = pair->reason;

			end->notified = true;
			spin_unlock_irqrestore(&pair->lock, flags);
			if (notify) {
				puma_transport_deliver_disconnect(&end->conn,
								  reason);
				/* Nothing more to deliver: drop ours. */
				puma_transport_conn_put(&end->conn);
			}
			break;
		}
		msg = list_first_entry_or_null(&end->rxq,
					       struct puma_transport_msg, list);
		if (!msg) {
			spin_unlock_irqrestore(&pair->lock, flags);
			break;
		}
		if (!budget--) {
			/* Let other ends' work run; resume later in order. */
			__loop_kick(end);
			spin_unlock_irqrestore(&pair->lock, flags);
			break;
		}
		list_del_init(&msg->list);
		end->rxq_len--;
		spin_unlock_irqrestore(&pair->lock, flags);
		wake_up(&end->room);
		puma_transport_deliver_msg(&end->conn, msg);
	}
	puma_transport_conn_put(&end->conn);
}

static void loop_end_init(struct loop_pair *pair, int i,
			  const struct puma_transport_conn_ops *ops, void *priv)
{
	struct loop_end *end = &pair->end[i];

	puma_transport_conn_init(&end->conn, &loop_transport, ops, priv);
	end->pair = pair;
	end->peer = &pair->end[!i];
	INIT_LIST_HEAD(&end->rxq);
	init_waitqueue_head(&end->room);
	INIT_WORK(&end->work, loop_work);
}

static struct loop_pair *loop_pair_alloc(const struct puma_transport_conn_ops *ops,
					 void *priv)
{
	struct loop_pair *pair;

	pair = kzalloc(sizeof(*pair), GFP_KERNEL);
	if (!pair)
		return NULL;
	spin_lock_init(&pair->lock);
	pair->depth = READ_ONCE(loop_depth);
	refcount_set(&pair->ends, 2);
	/* end[0] is the client, end[1] the server, set up by accept. */
	loop_end_init(pair, 0, ops, priv);
	loop_end_init(pair, 1, NULL, NULL);
	/*
	 * The connecting caller's reference, taken now: once accept has
	 * returned, the server may disconnect and the client end's work
	 * drop the transport's reference before connect returns.
	 */
	puma_transport_conn_get(&pair->end[0].conn);
	return pair;
}

/* Tear down a pair no user ever saw: no callbacks, no work queued. */
static void loop_pair_abort(struct loop_pair *pair)
{
	pair->dead = true;
	pair->end[0].notified = true;
	pair->end[1].notified = true;
	puma_transport_conn_put(&pair->end[1].conn);
	puma_transport_conn_put(&pair->end[0].conn);
	puma_transport_conn_put(&pair->end[0].conn);
}

static struct puma_transport_conn *
loop_connect(struct puma_transport *t, const char *addr,
	     const struct puma_transport_conn_ops *ops, void *priv)
{
	struct loop_listener *l;
	struct loop_pair *pair;
	int err;

	pair = loop_pair_alloc(ops, priv);
	if (!pair)
		return ERR_PTR(-ENOMEM);

	mutex_lock(&loop_mutex);
	l = __loop_find(addr);
	if (l)
		refcount_inc(&l->active);
	mutex_unlock(&loop_mutex);
	if (!l) {
		loop_pair_abort(pair);
		return ERR_PTR(-ECONNREFUSED);
	}

	/* No message can reach the server end before this returns. */
	err = puma_transport_accept(&l->listener, &pair->end[1].conn);
	loop_listener_put(l);
	if (err) {
		loop_pair_abort(pair);
		return ERR_PTR(-ECONNREFUSED);
	}
	return &pair->end[0].conn;
}

static bool loop_can_send(struct loop_end *to)
{
	struct loop_pair *pair = to->pair;

	return READ_ONCE(pair->dead) ||
	       READ_ONCE(to->rxq_len) < pair->depth;
}

static int loop_send(struct puma_transport_conn *conn,
		     struct puma_transport_msg *msg, unsigned int flags)
{
	struct loop_end *to = to_end(conn)->peer;
	struct loop_pair *pair = to->pair;
	unsigned long irqflags;
	int err;

	for (;;) {
		spin_lock_irqsave(&pair->lock, irqflags);
		if (pair->dead) {
			spin_unlock_irqrestore(&pair->lock, irqflags);
			err = -ENOTCONN;
			break;
		}
		if (to->rxq_len < pair->depth) {
			list_add_tail(&msg->list, &to->rxq);
			WRITE_ONCE(to->rxq_len, to->rxq_len + 1);
			__loop_kick(to);
			spin_unlock_irqrestore(&pair->lock, irqflags);
			return 0;
		}
		spin_unlock_irqrestore(&pair->lock, irqflags);

		if (flags & PUMA_TRANSPORT_NONBLOCK) {
			err = -EAGAIN;
			break;
		}
		if (wait_event_killable(to->room, loop_can_send(to))) {
			err = -EINTR;
			break;
		}
	}
	puma_transport_msg_free(msg);
	return err;
}

static void loop_disconnect(struct puma_transport_conn *conn, int reason)
{
	struct loop_pair *pair = to_end(conn)->pair;
	struct puma_transport_msg *msg, *next;
	unsigned long flags;
	LIST_HEAD(dropped);
	int i;

	spin_lock_irqsave(&pair->lock, flags);
	if (pair->dead) {
		spin_unlock_irqrestore(&pair->lock, flags);
		return;
	}
	WRITE_ONCE(pair->dead, true);
	pair->reason = reason;
	for (i = 0; i < 2; i++) {
		struct loop_end *end = &pair->end[i];

		list_splice_tail_init(&end->rxq, &dropped);
		WRITE_ONCE(end->rxq_len, 0);
		/* Under the lock: the end's work cannot finish before. */
		__loop_kick(end);
	}
	spin_unlock_irqrestore(&pair->lock, flags);

	/* Our caller's reference keeps the pair, and so both queues. */
	wake_up_all(&pair->end[0].room);
	wake_up_all(&pair->end[1].room);
	list_for_each_entry_safe(msg, next, &dropped, list)
		puma_transport_msg_free(msg);
}

static void loop_release(struct puma_transport_conn *conn)
{
	struct loop_pair *pair = to_end(conn)->pair;

	if (refcount_dec_and_test(&pair->ends))
		kfree(pair);
}

static struct puma_transport_listener *
loop_listen(struct puma_transport *t, const char *addr,
	    const struct puma_transport_listener_ops *ops, void *priv)
{
	struct loop_listener *l;
	int err = 0;

	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return ERR_PTR(-ENOMEM);
	puma_transport_listener_init(&l->listener, t, ops, priv);
	refcount_set(&l->active, 1);
	init_completion(&l->idle);
	strscpy(l->addr, addr);

	mutex_lock(&loop_mutex);
	if (__loop_find(addr))
		err = -EADDRINUSE;
	else
		list_add_tail(&l->node, &loop_listeners);
	mutex_unlock(&loop_mutex);
	if (err) {
		kfree(l);
		return ERR_PTR(err);
	}
	return &l->listener;
}

static void loop_listener_close(struct puma_transport_listener *listener)
{
	struct loop_listener *l = to_listener(listener);

	mutex_lock(&loop_mutex);
	list_del(&l->node);
	mutex_unlock(&loop_mutex);
	/* Connects that found it before may still be in accept. */
	loop_listener_put(l);
	wait_for_completion(&l->idle);
	kfree(l);
}

static const struct puma_transport_ops loop_ops = {
	.listen		= loop_listen,
	.listener_close	= loop_listener_close,
	.connect	= loop_connect,
	.send		= loop_send,
	.disconnect	= loop_disconnect,
	.release	= loop_release,
};

static struct puma_transport loop_transport = {
	.name	= "loop",
	.owner	= THIS_MODULE,
	.ops	= &loop_ops,
};

static int __init loop_init(void)
{
	int err;

	/* Reclaim may wait on a cache that talks over this transport. */
	loop_wq = alloc_workqueue("puma_loop", WQ_MEM_RECLAIM, 0);
	if (!loop_wq)
		return -ENOMEM;
	err = puma_transport_register(&loop_transport);
	if (err) {
		destroy_workqueue(loop_wq);
		return err;
	}
	return 0;
}

static void __exit loop_exit(void)
{
	/*
	 * Every connection and listener pins this module, so none is left
	 * and unregister cannot find users; the last work items may still
	 * be returning from their final put, which destroy_workqueue() waits
	 * for.
	 */
	WARN_ON(puma_transport_unregister(&loop_transport));
	WARN_ON(!list_empty(&loop_listeners));
	destroy_workqueue(loop_wq);
}

module_init(loop_init);
module_exit(loop_exit);

MODULE_ALIAS("puma-transport-loop");
MODULE_IMPORT_NS(PUMA);
MODULE_DESCRIPTION("PUMA loopback transport");
MODULE_LICENSE("GPL");
