// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA transport registry and the connection and message helpers shared by
 * every transport.
 *
 * Lock ordering: puma_transport_mutex is the only lock here and nothing is
 * taken under it but the module loader's refcounting (try_module_get()).
 * User and transport callbacks never run under it.  The per-transport user
 * count is atomic so that puma_transport_put(), which connection release
 * reaches in any context, needs no lock; it is only raised under the mutex,
 * so unregister's check under the mutex cannot race with a new user.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/kmod.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <kunit/visibility.h>

#include <puma/transport.h>

#include "internal.h"

/* conn->flags: the user saw disconnected, so no more callbacks. */
#define PUMA_TRANSPORT_CONN_DEAD	0
#define PUMA_TRANSPORT_CONN_AUTHENTICATED	1

static DEFINE_MUTEX(puma_transport_mutex);
static LIST_HEAD(puma_transport_list);

static atomic_long_t puma_transport_nr_msgs = ATOMIC_LONG_INIT(0);
static atomic_long_t puma_transport_nr_conns = ATOMIC_LONG_INIT(0);
static atomic_long_t puma_transport_nr_listeners = ATOMIC_LONG_INIT(0);

/*
 * Names end up in a module alias and in logs: keep them to a small,
 * unambiguous alphabet.
 */
static bool puma_transport_name_valid(const char *name)
{
	size_t len, i;

	if (!name)
		return false;
	len = strnlen(name, PUMA_TRANSPORT_NAME_MAX + 1);
	if (!len || len > PUMA_TRANSPORT_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool puma_transport_addr_valid(const char *addr)
{
	size_t len;

	if (!addr)
		return false;
	len = strnlen(addr, PUMA_TRANSPORT_ADDR_MAX + 1);
	return len && len <= PUMA_TRANSPORT_ADDR_MAX;
}

static struct puma_transport *__puma_transport_find(const char *name)
{
	struct puma_transport *t;

	lockdep_assert_held(&puma_transport_mutex);

	list_for_each_entry(t, &puma_transport_list, list)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

int puma_transport_register(struct puma_transport *t)
{
	const struct puma_transport_ops *ops = t->ops;
	int err = 0;

	if (!puma_transport_name_valid(t->name))
		return -EINVAL;
	if (!ops || !ops->listen || !ops->listener_close || !ops->connect ||
	    !ops->send || !ops->disconnect || !ops->release)
		return -EINVAL;

	mutex_lock(&puma_transport_mutex);
	if (__puma_transport_find(t->name)) {
		err = -EEXIST;
	} else {
		atomic_set(&t->users, 0);
		list_add_tail(&t->list, &puma_transport_list);
	}
	mutex_unlock(&puma_transport_mutex);
	return err;
}
EXPORT_SYMBOL_NS_GPL(puma_transport_register, PUMA);

int puma_transport_unregister(struct puma_transport *t)
{
	int err = 0;

	mutex_lock(&puma_transport_mutex);
	if (__puma_transport_find(t->name) != t)
		err = -ENOENT;
	else if (atomic_read(&t->users))
		err = -EBUSY;
	else
		list_del_init(&t->list);
	mutex_unlock(&puma_transport_mutex);
	return err;
}
EXPORT_SYMBOL_NS_GPL(puma_transport_unregister, PUMA);

static struct puma_transport *puma_transport_try_get(const char *name)
{
	struct puma_transport *t;

	mutex_lock(&puma_transport_mutex);
	t = __puma_transport_find(name);
	/* A module on its way out is as good as gone. */
	if (t && try_module_get(t->owner))
		atomic_inc(&t->users);
	else
		t = NULL;
	mutex_unlock(&puma_transport_mutex);
	return t;
}

struct puma_transport *puma_transport_get(const char *name)
{
	struct puma_transport *t;

	if (!puma_transport_name_valid(name))
		return ERR_PTR(-EINVAL);

	t = puma_transport_try_get(name);
	if (!t && IS_ENABLED(CONFIG_MODULES)) {
		/* Failure just means no such module: the lookup says so. */
		request_module("puma-transport-%s", name);
		t = puma_transport_try_get(name);
	}
	return t ?: ERR_PTR(-ENOENT);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_get, PUMA);

/*
 * A further reference for an object (listener, connection) that lives on
 * a transport someone already holds: it cannot be unregistered meanwhile,
 * so no lock is needed.
 */
static void puma_transport_hold(struct puma_transport *t)
{
	WARN_ON_ONCE(!atomic_read(&t->users));
	__module_get(t->owner);
	atomic_inc(&t->users);
}

void puma_transport_put(struct puma_transport *t)
{
	struct module *owner;

	if (IS_ERR_OR_NULL(t))
		return;
	owner = t->owner;
	WARN_ON_ONCE(atomic_dec_return(&t->users) < 0);
	/* Last: once the module reference goes, so may *t. */
	module_put(owner);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_put, PUMA);

struct puma_transport_msg *puma_transport_msg_alloc(size_t head_len,
						    unsigned int nr_pages,
						    gfp_t gfp)
{
	struct puma_transport_msg *msg;
	unsigned int i;

	if (head_len > PUMA_TRANSPORT_MAX_HEAD ||
	    nr_pages > PUMA_TRANSPORT_MAX_PAGES)
		return ERR_PTR(-EINVAL);

	msg = kmalloc(struct_size(msg, head, head_len), gfp);
	if (!msg)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&msg->list);
	msg->flags = 0;
	msg->head_len = head_len;
	msg->nr_pages = 0;
	memset(msg->pages, 0, sizeof(msg->pages));
	atomic_long_inc(&puma_transport_nr_msgs);

	for (i = 0; i < nr_pages; i++) {
		/*
		 * Hosted pages outlive the message in a page cache: in an
		 * unmovable pageblock they would fragment memory for good.
		 */
		struct page *page = alloc_page(gfp | __GFP_MOVABLE);

		if (!page) {
			puma_transport_msg_free(msg);
			return ERR_PTR(-ENOMEM);
		}
		msg->pages[msg->nr_pages++] = page;
	}
	return msg;
}
EXPORT_SYMBOL_NS_GPL(puma_transport_msg_alloc, PUMA);

int puma_transport_msg_add_page(struct puma_transport_msg *msg,
				struct page *page)
{
	if (msg->nr_pages >= PUMA_TRANSPORT_MAX_PAGES)
		return -ENOSPC;
	msg->pages[msg->nr_pages++] = page;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_transport_msg_add_page, PUMA);

void puma_transport_msg_free(struct puma_transport_msg *msg)
{
	unsigned int i;

	if (IS_ERR_OR_NULL(msg))
		return;
	for (i = 0; i < min_t(u32, msg->nr_pages, PUMA_TRANSPORT_MAX_PAGES);
	     i++)
		if (msg->pages[i])
			put_page(msg->pages[i]);
	kfree(msg);
	atomic_long_dec(&puma_transport_nr_msgs);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_msg_free, PUMA);

static bool puma_transport_conn_ops_valid(const struct puma_transport_conn_ops *ops)
{
	return ops && ops->recv && ops->disconnected;
}

struct puma_transport_listener *
puma_transport_listen(struct puma_transport *t, const char *addr,
		      const struct puma_transport_listener_ops *ops,
		      void *priv)
{
	struct puma_transport_listener *listener;

	might_sleep();
	if (!puma_transport_addr_valid(addr) || !ops || !ops->accept)
		return ERR_PTR(-EINVAL);

	puma_transport_hold(t);
	listener = t->ops->listen(t, addr, ops, priv);
	if (IS_ERR(listener)) {
		puma_transport_put(t);
		return listener;
	}
	atomic_long_inc(&puma_transport_nr_listeners);
	return listener;
}
EXPORT_SYMBOL_NS_GPL(puma_transport_listen, PUMA);

void puma_transport_listener_close(struct puma_transport_listener *listener)
{
	struct puma_transport *t;

	might_sleep();
	if (IS_ERR_OR_NULL(listener))
		return;
	/* The transport frees the listener: note what to release first. */
	t = listener->transport;
	t->ops->listener_close(listener);
	atomic_long_dec(&puma_transport_nr_listeners);
	puma_transport_put(t);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_listener_close, PUMA);

struct puma_transport_conn *
puma_transport_connect(struct puma_transport *t, const char *addr,
		       const struct puma_transport_conn_ops *ops, void *priv)
{
	might_sleep();
	if (!puma_transport_addr_valid(addr) ||
	    !puma_transport_conn_ops_valid(ops))
		return ERR_PTR(-EINVAL);
	return t->ops->connect(t, addr, ops, priv);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_connect, PUMA);

int puma_transport_conn_set_ops(struct puma_transport_conn *conn,
				const struct puma_transport_conn_ops *ops,
				void *priv)
{
	if (!puma_transport_conn_ops_valid(ops))
		return -EINVAL;
	conn->ops = ops;
	conn->priv = priv;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_transport_conn_set_ops, PUMA);

static bool puma_transport_msg_valid(const struct puma_transport_msg *msg)
{
	unsigned int i;

	if (msg->nr_pages > PUMA_TRANSPORT_MAX_PAGES ||
	    msg->head_len > PUMA_TRANSPORT_MAX_HEAD)
		return false;
	for (i = 0; i < msg->nr_pages; i++)
		if (!msg->pages[i])
			return false;
	return true;
}

int puma_transport_send(struct puma_transport_conn *conn,
			struct puma_transport_msg *msg, unsigned int flags)
{
	if (!(flags & PUMA_TRANSPORT_NONBLOCK))
		might_sleep();
	if ((flags & ~PUMA_TRANSPORT_NONBLOCK) ||
	    !puma_transport_msg_valid(msg)) {
		puma_transport_msg_free(msg);
		return -EINVAL;
	}
	return conn->transport->ops->send(conn, msg, flags);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_send, PUMA);

void puma_transport_disconnect(struct puma_transport_conn *conn, int reason)
{
	if (reason >= 0 || reason < -MAX_ERRNO)
		reason = -ECONNRESET;
	conn->transport->ops->disconnect(conn, reason);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_disconnect, PUMA);

void puma_transport_conn_get(struct puma_transport_conn *conn)
{
	kref_get(&conn->ref);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_conn_get, PUMA);

static void puma_transport_conn_release(struct kref *ref)
{
	struct puma_transport_conn *conn =
		container_of(ref, struct puma_transport_conn, ref);
	struct puma_transport *t = conn->transport;

	t->ops->release(conn);
	atomic_long_dec(&puma_transport_nr_conns);
	/* After release: the transport's code must stay until it returns. */
	puma_transport_put(t);
}

void puma_transport_conn_put(struct puma_transport_conn *conn)
{
	if (IS_ERR_OR_NULL(conn))
		return;
	kref_put(&conn->ref, puma_transport_conn_release);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_conn_put, PUMA);

void puma_transport_conn_init(struct puma_transport_conn *conn,
			      struct puma_transport *t,
			      const struct puma_transport_conn_ops *ops,
			      void *priv)
{
	puma_transport_hold(t);
	conn->transport = t;
	conn->ops = ops;
	conn->priv = priv;
	kref_init(&conn->ref);
	conn->flags = 0;
	atomic_long_inc(&puma_transport_nr_conns);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_conn_init, PUMA);

void puma_transport_listener_init(struct puma_transport_listener *listener,
				  struct puma_transport *t,
				  const struct puma_transport_listener_ops *ops,
				  void *priv)
{
	listener->transport = t;
	listener->ops = ops;
	listener->priv = priv;
}
EXPORT_SYMBOL_NS_GPL(puma_transport_listener_init, PUMA);

int puma_transport_accept(struct puma_transport_listener *listener,
			  struct puma_transport_conn *conn)
{
	int err;

	might_sleep();
	/* The accept callback's own reference, kept on success. */
	kref_get(&conn->ref);
	err = listener->ops->accept(listener, conn);
	if (!err && !puma_transport_conn_ops_valid(conn->ops)) {
		pr_warn_once("accept callback %ps set no connection callbacks\n",
			     listener->ops->accept);
		err = -EINVAL;
	}
	if (err) {
		/* A refused end was never the user's: no callbacks for it. */
		conn->ops = NULL;
		conn->priv = NULL;
		set_bit(PUMA_TRANSPORT_CONN_DEAD, &conn->flags);
		kref_put(&conn->ref, puma_transport_conn_release);
		return err > 0 ? -EINVAL : err;
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_transport_accept, PUMA);

bool puma_transport_conn_authenticated(const struct puma_transport_conn *conn)
{
	return test_bit(PUMA_TRANSPORT_CONN_AUTHENTICATED, &conn->flags);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_conn_authenticated, PUMA);

void puma_transport_conn_set_authenticated(struct puma_transport_conn *conn)
{
	set_bit(PUMA_TRANSPORT_CONN_AUTHENTICATED, &conn->flags);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_conn_set_authenticated, PUMA);

void puma_transport_deliver_msg(struct puma_transport_conn *conn,
				struct puma_transport_msg *msg)
{
	might_sleep();
	/* Transports serialise delivery: a late message is their bug. */
	if (WARN_ON_ONCE(test_bit(PUMA_TRANSPORT_CONN_DEAD, &conn->flags)) ||
	    WARN_ON_ONCE(!conn->ops)) {
		puma_transport_msg_free(msg);
		return;
	}
	if (puma_transport_conn_authenticated(conn))
		msg->flags |= PUMA_TRANSPORT_MSG_AUTHENTICATED;
	else
		msg->flags &= ~PUMA_TRANSPORT_MSG_AUTHENTICATED;
	conn->ops->recv(conn, msg);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_deliver_msg, PUMA);

void puma_transport_deliver_disconnect(struct puma_transport_conn *conn,
				       int reason)
{
	might_sleep();
	if (test_and_set_bit(PUMA_TRANSPORT_CONN_DEAD, &conn->flags))
		return;
	if (reason >= 0 || reason < -MAX_ERRNO)
		reason = -ECONNRESET;
	if (conn->ops)
		conn->ops->disconnected(conn, reason);
}
EXPORT_SYMBOL_NS_GPL(puma_transport_deliver_disconnect, PUMA);

void puma_transport_get_stats(struct puma_transport_stats *stats)
{
	stats->msgs = atomic_long_read(&puma_transport_nr_msgs);
	stats->conns = atomic_long_read(&puma_transport_nr_conns);
	stats->listeners = atomic_long_read(&puma_transport_nr_listeners);
}
EXPORT_SYMBOL_IF_KUNIT(puma_transport_get_stats);
