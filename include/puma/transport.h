/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PUMA transports: a registry of message transports found by name, and the
 * connection, listener and message objects they share.
 *
 * Generic: the transports carry opaque messages; nothing here knows the
 * wire protocol.
 */
#ifndef _PUMA_TRANSPORT_H
#define _PUMA_TRANSPORT_H

#include <linux/atomic.h>
#include <linux/gfp_types.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/types.h>

/**
 * DOC: Transport model
 *
 * A transport moves messages between two ends of a connection.  It is an
 * ops table (&struct puma_transport_ops) registered under a short name by
 * the module that implements it, with &struct puma_transport.owner set to
 * THIS_MODULE.  Users look a transport up by name with
 * puma_transport_get(), which pins the owning module and, when the name is
 * unknown, asks the module loader for "puma-transport-<name>" once; a
 * transport module therefore carries MODULE_ALIAS("puma-transport-<name>").
 *
 * A server listens on a transport-defined address with
 * puma_transport_listen(); its &puma_transport_listener_ops.accept is
 * called for every incoming connection and installs the connection's
 * callbacks.  A client calls puma_transport_connect().  Both ends are a
 * &struct puma_transport_conn: refcounted, with two user callbacks, recv and
 * disconnected, both called in process context, in order, one at a time
 * per connection.  Every live connection and listener pins its transport,
 * so puma_transport_unregister() refuses with -EBUSY while any exists and
 * the transport module cannot go away under them.
 *
 * A message (&struct puma_transport_msg) is a head buffer of encoded bytes,
 * opaque to this layer, plus up to %PUMA_TRANSPORT_MAX_PAGES payload pages.
 * puma_transport_send() always consumes the message, whether it succeeds or
 * not; a recv callback owns the message it is given.
 *
 * Back-pressure: each end has a bounded receive queue.  A send to a full
 * queue waits for room, or fails at once with -EAGAIN when
 * %PUMA_TRANSPORT_NONBLOCK is given; that form never sleeps.
 *
 * Disconnect: either end, or the transport itself, may end a connection
 * with a reason (a negative errno).  Each end that was handed to a user
 * then sees its disconnected callback exactly once, and no recv after it.
 * Messages queued but not yet delivered are freed, never delivered late.
 *
 * Lock ordering: the registry mutex is innermost for this layer; no
 * callback into a transport or a user runs under it, and it is never taken
 * with a transport's own locks held except from register and unregister.
 * Transports must not call user callbacks with their own locks held, so
 * callbacks may call back into this API.
 */

/* Longest transport name, without the terminating NUL. */
#define PUMA_TRANSPORT_NAME_MAX		15
/* Longest address string, without the terminating NUL. */
#define PUMA_TRANSPORT_ADDR_MAX		127
/* Most payload pages one message carries (a 128 KiB batch). */
#define PUMA_TRANSPORT_MAX_PAGES	32
/* Largest head of a message: room for a header and 32 page keys. */
#define PUMA_TRANSPORT_MAX_HEAD		4096

/* puma_transport_send() flag: fail with -EAGAIN instead of waiting. */
#define PUMA_TRANSPORT_NONBLOCK		0x1u

/*
 * Received message flag: the receiver had no memory for the payload pages,
 * skipped them and delivers the head alone, with @nr_pages 0.  The peer's
 * page data is lost, its message is not: a transport never drops a head.
 */
#define PUMA_TRANSPORT_MSG_PAGES_DROPPED	0x1u
/*
 * Received message flag: the link authenticated the head and the pages
 * end to end (an AEAD, see puma_transport_conn_authenticated()); a
 * checksum of the data adds nothing.
 */
#define PUMA_TRANSPORT_MSG_AUTHENTICATED	0x2u

struct module;
struct page;
struct puma_transport;
struct puma_transport_conn;
struct puma_transport_listener;

/**
 * struct puma_transport_msg - a message: encoded head bytes and payload pages
 * @list: for the transport's use while it owns the message (queueing)
 * @flags: %PUMA_TRANSPORT_MSG_* flags set by the receiving transport
 * @head_len: number of valid bytes in @head; a sender may lower it after
 *	encoding, never raise it above the length it allocated
 * @nr_pages: number of payload pages, each at @pages[0 .. @nr_pages - 1]
 * @pages: payload pages, one reference each owned by the message; a
 *	receiver may take a page over by clearing its slot to NULL
 * @head: head bytes (wire header and body), opaque to the transport layer
 */
struct puma_transport_msg {
	struct list_head list;
	u32 flags;
	u32 head_len;
	u32 nr_pages;
	struct page *pages[PUMA_TRANSPORT_MAX_PAGES];
	u8 head[] __counted_by(head_len);
};

/**
 * struct puma_transport_conn_ops - user callbacks of a connection
 * @recv: a message arrived; the callee owns @msg and must free it with
 *	puma_transport_msg_free() or pass it on.  Process context, may
 *	sleep; called in the order the peer sent, one call at a time.
 * @disconnected: the connection is gone; @reason is a negative errno, the
 *	reason given to puma_transport_disconnect() by either end or
 *	-ECONNRESET (and similar) when the peer vanished.  Called exactly
 *	once per end, in process context; no @recv follows it.
 *
 * Callbacks must not send with waiting allowed to the connection whose
 * callback they run in: if both ends did so with full queues, neither
 * would ever drain.  Use %PUMA_TRANSPORT_NONBLOCK there.
 */
struct puma_transport_conn_ops {
	void (*recv)(struct puma_transport_conn *conn,
		     struct puma_transport_msg *msg);
	void (*disconnected)(struct puma_transport_conn *conn, int reason);
};

/**
 * struct puma_transport_conn - one end of a connection
 * @transport: the transport carrying it; pinned while the connection lives
 * @ops: user callbacks
 * @priv: user data for the callbacks
 *
 * Embedded in a transport-specific structure and initialised with
 * puma_transport_conn_init().  Users hold references taken by
 * puma_transport_connect() or given to &puma_transport_listener_ops.accept
 * and drop them with puma_transport_conn_put().
 */
struct puma_transport_conn {
	struct puma_transport *transport;
	const struct puma_transport_conn_ops *ops;
	void *priv;
	/* private: */
	struct kref ref;
	unsigned long flags;
};

/**
 * struct puma_transport_listener_ops - user callbacks of a listener
 * @accept: a connection came in.  Must install the connection's callbacks
 *	with puma_transport_conn_set_ops() and return 0, in which case it
 *	owns one reference to @conn; or return a negative errno to refuse
 *	it.  Process context, may sleep; must not close @listener.
 */
struct puma_transport_listener_ops {
	int (*accept)(struct puma_transport_listener *listener,
		      struct puma_transport_conn *conn);
};

/**
 * struct puma_transport_listener - a listening address
 * @transport: the transport; pinned until puma_transport_listener_close()
 * @ops: user callbacks
 * @priv: user data for the callbacks
 *
 * Embedded in a transport-specific structure, set up with
 * puma_transport_listener_init().
 */
struct puma_transport_listener {
	struct puma_transport *transport;
	const struct puma_transport_listener_ops *ops;
	void *priv;
};

/**
 * struct puma_transport_ops - what a transport implements
 * @listen: start listening on @addr; return a listener set up with
 *	puma_transport_listener_init() before any accept can run, or
 *	ERR_PTR(-EADDRINUSE), ERR_PTR(-EINVAL) for a malformed address, or
 *	another ERR_PTR().  Process context.
 * @listener_close: stop accepting, wait for accept callbacks in flight and
 *	free the listener.  Established connections are not affected.
 *	Process context.
 * @connect: connect to @addr and return the local end, initialised with
 *	puma_transport_conn_init(), holding one reference for the caller;
 *	or an ERR_PTR() such as -ECONNREFUSED.  Process context.
 * @send: queue @msg to the peer; always consumes @msg.  See
 *	puma_transport_send() for the flags, context and errors.
 * @disconnect: end the connection with @reason; idempotent.  Any context:
 *	defer what may sleep.
 * @release: free the connection after its last reference went.  Any
 *	context, must not sleep.
 *
 * A transport delivers messages with puma_transport_deliver_msg() and the
 * end of a connection with puma_transport_deliver_disconnect(), both from
 * process context, serialised per connection, with no transport lock held.
 * It holds a reference on each connection it may still deliver to, and
 * does not call the user's recv until accept has returned.
 */
struct puma_transport_ops {
	struct puma_transport_listener *
		(*listen)(struct puma_transport *t, const char *addr,
			  const struct puma_transport_listener_ops *ops,
			  void *priv);
	void (*listener_close)(struct puma_transport_listener *listener);
	struct puma_transport_conn *
		(*connect)(struct puma_transport *t, const char *addr,
			   const struct puma_transport_conn_ops *ops,
			   void *priv);
	int (*send)(struct puma_transport_conn *conn,
		    struct puma_transport_msg *msg, unsigned int flags);
	void (*disconnect)(struct puma_transport_conn *conn, int reason);
	void (*release)(struct puma_transport_conn *conn);
};

/**
 * struct puma_transport - a registered transport
 * @name: lookup name, 1 to %PUMA_TRANSPORT_NAME_MAX characters in [a-z0-9_-]
 * @owner: the module implementing it, THIS_MODULE
 * @ops: its operations
 */
struct puma_transport {
	const char *name;
	struct module *owner;
	const struct puma_transport_ops *ops;
	/* private: */
	struct list_head list;
	atomic_t users;
};

/**
 * struct puma_transport_stats - objects alive in the transport layer
 * @msgs: messages allocated and not yet freed
 * @conns: connection ends initialised and not yet released
 * @listeners: listeners open
 */
struct puma_transport_stats {
	long msgs;
	long conns;
	long listeners;
};

/* Registry, for transport modules. */

/**
 * puma_transport_register() - make a transport available by name
 * @t: the transport, with @t->name, @t->owner and every op of @t->ops set
 *
 * Context: process context, may sleep (takes the registry mutex).
 * Return: 0 on success; -EINVAL for a missing op or a name that is empty,
 * longer than %PUMA_TRANSPORT_NAME_MAX or not in [a-z0-9_-]; -EEXIST if a
 * transport of that name is registered.
 */
int puma_transport_register(struct puma_transport *t);

/**
 * puma_transport_unregister() - withdraw a transport
 * @t: a transport registered with puma_transport_register()
 *
 * Refused while any user holds @t: a reference from puma_transport_get(),
 * a listener or a connection.  Those pin @t->owner too, so a module's exit
 * function never sees -EBUSY for its own transport.
 *
 * Context: process context, may sleep (takes the registry mutex).
 * Return: 0 on success, -EBUSY while @t is in use, -ENOENT if @t is not
 * registered.
 */
int puma_transport_unregister(struct puma_transport *t);

/* Registry, for users. */

/**
 * puma_transport_get() - find a transport by name and pin it
 * @name: transport name, e.g. "loop" or "tcp"
 *
 * When no transport of that name is registered, asks the module loader for
 * "puma-transport-@name" once and looks again.  On success the transport
 * and its module stay until puma_transport_put().
 *
 * Context: process context, may sleep (may wait for modprobe).
 * Return: the transport, or ERR_PTR(-EINVAL) for an invalid name, or
 * ERR_PTR(-ENOENT) if no such transport is registered or its module is
 * being unloaded.
 */
struct puma_transport *puma_transport_get(const char *name);

/**
 * puma_transport_put() - drop a reference taken by puma_transport_get()
 * @t: the transport; NULL and error pointers are ignored
 *
 * Context: any context.
 * Return: nothing.
 */
void puma_transport_put(struct puma_transport *t);

/* Messages. */

/**
 * puma_transport_msg_alloc() - allocate a message and its payload pages
 * @head_len: bytes of head, at most %PUMA_TRANSPORT_MAX_HEAD
 * @nr_pages: payload pages to allocate, at most %PUMA_TRANSPORT_MAX_PAGES;
 *	0 to attach pages later with puma_transport_msg_add_page()
 * @gfp: allocation flags for the message and its pages (GFP_ATOMIC or
 *	GFP_NOWAIT in atomic context); neither head nor pages are zeroed
 *	unless @gfp says __GFP_ZERO
 *
 * The pages are allocated movable: a receiver may keep them for long in a
 * page cache (a PUMA server hosts received pages in place), where
 * compaction must be able to move them.
 *
 * Context: any context allowed by @gfp.
 * Return: the message, or ERR_PTR(-EINVAL) if a size is too large, or
 * ERR_PTR(-ENOMEM).
 */
struct puma_transport_msg *puma_transport_msg_alloc(size_t head_len,
						    unsigned int nr_pages,
						    gfp_t gfp);

/**
 * puma_transport_msg_add_page() - attach a caller's page to a message
 * @msg: the message
 * @page: the page; on success the message owns one reference to it, which
 *	the caller took (get_page()) or allocated
 *
 * Context: any context.
 * Return: 0 on success, -ENOSPC if @msg already has
 * %PUMA_TRANSPORT_MAX_PAGES pages (the reference stays the caller's).
 */
int puma_transport_msg_add_page(struct puma_transport_msg *msg,
				struct page *page);

/**
 * puma_transport_msg_free() - free a message and the pages it still owns
 * @msg: the message; NULL and error pointers are ignored
 *
 * Drops the message's reference to every page slot that is not NULL, so
 * a receiver that took a page over cleared its slot first.
 *
 * Context: any context.
 * Return: nothing.
 */
void puma_transport_msg_free(struct puma_transport_msg *msg);

/* Connections and listeners, for users. */

/**
 * puma_transport_listen() - accept connections on an address
 * @t: a transport the caller holds
 * @addr: transport-defined address, 1 to %PUMA_TRANSPORT_ADDR_MAX chars
 * @ops: callbacks; @ops->accept is required
 * @priv: user data, in &puma_transport_listener.priv
 *
 * The listener pins @t until puma_transport_listener_close().
 *
 * Context: process context, may sleep.
 * Return: the listener, or ERR_PTR(-EINVAL) for a bad argument,
 * ERR_PTR(-EADDRINUSE) if @addr is taken, or another ERR_PTR() from the
 * transport.
 */
struct puma_transport_listener *
puma_transport_listen(struct puma_transport *t, const char *addr,
		      const struct puma_transport_listener_ops *ops,
		      void *priv);

/**
 * puma_transport_listener_close() - stop accepting and free a listener
 * @listener: the listener; NULL and error pointers are ignored
 *
 * Waits for accept callbacks in flight.  Connections already accepted stay
 * up.  Must not be called from the listener's own accept callback.
 *
 * Context: process context, may sleep.
 * Return: nothing.
 */
void puma_transport_listener_close(struct puma_transport_listener *listener);

/**
 * puma_transport_connect() - connect to a listener
 * @t: a transport the caller holds
 * @addr: transport-defined address of the listener
 * @ops: callbacks; both are required
 * @priv: user data, in &puma_transport_conn.priv
 *
 * The connection pins @t for as long as it lives, so the caller may put
 * its own reference to @t once connected.  Depending on the transport the
 * peer may refuse later, which shows as @ops->disconnected.
 *
 * Context: process context, may sleep.
 * Return: the local end, holding one reference for the caller; or
 * ERR_PTR(-EINVAL) for a bad argument, ERR_PTR(-ECONNREFUSED) if nobody
 * listens on @addr or the listener refused, or another ERR_PTR().
 */
struct puma_transport_conn *
puma_transport_connect(struct puma_transport *t, const char *addr,
		       const struct puma_transport_conn_ops *ops, void *priv);

/**
 * puma_transport_conn_set_ops() - install the callbacks of an accepted end
 * @conn: the connection given to &puma_transport_listener_ops.accept
 * @ops: callbacks; both are required
 * @priv: user data, in @conn->priv
 *
 * Context: only from the accept callback that was given @conn.
 * Return: 0, or -EINVAL if @ops lacks a callback.
 */
int puma_transport_conn_set_ops(struct puma_transport_conn *conn,
				const struct puma_transport_conn_ops *ops,
				void *priv);

/**
 * puma_transport_send() - send a message to the peer
 * @conn: the local end
 * @msg: the message, with every slot of its first @msg->nr_pages pages set
 * @flags: 0 or %PUMA_TRANSPORT_NONBLOCK
 *
 * Always consumes @msg, whether it is sent or not.  Messages sent on one
 * end arrive in order.  When the peer's receive queue is full, waits for
 * room, or fails at once with %PUMA_TRANSPORT_NONBLOCK.
 *
 * Context: process context, may sleep; with %PUMA_TRANSPORT_NONBLOCK any
 * context, never sleeps.
 * Return: 0 once queued to the peer; -EINVAL for bad @flags or @msg;
 * -EAGAIN if the peer's queue is full and %PUMA_TRANSPORT_NONBLOCK is set;
 * -ENOTCONN if the connection is down or goes down while waiting; -EINTR
 * if a fatal signal interrupted the wait.
 */
int puma_transport_send(struct puma_transport_conn *conn,
			struct puma_transport_msg *msg, unsigned int flags);

/**
 * puma_transport_conn_authenticated() - whether the link protects the data
 * @conn: either end
 *
 * True when the transport authenticates every message on @conn end to end
 * with a key the peer proved it holds (the TCP transport's secure
 * channel): what arrives is what the peer sent, which a checksum of the
 * data cannot improve on.  Received messages then carry
 * %PUMA_TRANSPORT_MSG_AUTHENTICATED.  Set before the user is given @conn
 * and never cleared.
 *
 * Context: any context.
 * Return: true if authenticated, false otherwise.
 */
bool puma_transport_conn_authenticated(const struct puma_transport_conn *conn);

/**
 * puma_transport_disconnect() - end a connection
 * @conn: either end
 * @reason: negative errno both ends see, -ECONNRESET if not one
 *
 * Starts the teardown and returns: each end then gets its disconnected
 * callback once, later, in process context; queued messages are freed.  A
 * transport that cannot carry @reason to a remote peer gives it
 * -ECONNRESET.  Calling it again, or after the connection went down, does
 * nothing.  The caller still owns its reference.
 *
 * Context: any context, does not sleep.
 * Return: nothing.
 */
void puma_transport_disconnect(struct puma_transport_conn *conn, int reason);

/**
 * puma_transport_conn_get() - take another reference to a connection
 * @conn: a connection the caller holds a reference to
 *
 * Context: any context.
 * Return: nothing.
 */
void puma_transport_conn_get(struct puma_transport_conn *conn);

/**
 * puma_transport_conn_put() - drop a reference to a connection
 * @conn: the connection; NULL and error pointers are ignored
 *
 * Dropping the last user reference does not end the connection: call
 * puma_transport_disconnect() first.  The transport frees the end once its
 * disconnected callback ran and every reference is gone.
 *
 * Context: any context.
 * Return: nothing.
 */
void puma_transport_conn_put(struct puma_transport_conn *conn);

/* Connections and listeners, for transports. */

/**
 * puma_transport_conn_init() - set up a transport's new connection end
 * @conn: the end, embedded in the transport's own structure
 * @t: the transport, held by the caller (through a user or a listener)
 * @ops: user callbacks, or NULL for an end that accept will set up
 * @priv: user data
 *
 * The end starts with one reference, the transport's, and pins @t until
 * &puma_transport_ops.release has run.
 *
 * Context: any context.
 * Return: nothing.
 */
void puma_transport_conn_init(struct puma_transport_conn *conn,
			      struct puma_transport *t,
			      const struct puma_transport_conn_ops *ops,
			      void *priv);

/**
 * puma_transport_conn_set_authenticated() - mark an end's link as authenticated
 * @conn: the end, before its user is given it (connect returns, or the
 *	accept callback runs)
 *
 * For a transport whose every message on @conn, head and pages, is
 * authenticated end to end from now on.  Messages delivered on @conn get
 * %PUMA_TRANSPORT_MSG_AUTHENTICATED.
 *
 * Context: any context.
 * Return: nothing.
 */
void puma_transport_conn_set_authenticated(struct puma_transport_conn *conn);

/**
 * puma_transport_listener_init() - set up a transport's new listener
 * @listener: the listener, embedded in the transport's own structure
 * @t: the transport
 * @ops: user callbacks
 * @priv: user data
 *
 * Context: any context.
 * Return: nothing.
 */
void puma_transport_listener_init(struct puma_transport_listener *listener,
				  struct puma_transport *t,
				  const struct puma_transport_listener_ops *ops,
				  void *priv);

/**
 * puma_transport_accept() - offer a new end to a listener's user
 * @listener: the listener the connection came in on
 * @conn: the new end, initialised with NULL callbacks
 *
 * Calls the accept callback, which on success keeps a reference of its
 * own.  On refusal the end gets no callbacks at all; the transport tears
 * it down and drops its reference.
 *
 * Context: process context, may sleep; no transport lock held.
 * Return: 0 if accepted, or the callback's negative errno (-EINVAL if it
 * accepted without setting callbacks).
 */
int puma_transport_accept(struct puma_transport_listener *listener,
			  struct puma_transport_conn *conn);

/**
 * puma_transport_deliver_msg() - hand a received message to the user
 * @conn: the receiving end
 * @msg: the message, whose ownership passes to the user
 *
 * Calls are serialised per end, in arrival order, and never follow
 * puma_transport_deliver_disconnect() on the same end.
 *
 * Context: process context, may sleep; no transport lock held.
 * Return: nothing.
 */
void puma_transport_deliver_msg(struct puma_transport_conn *conn,
				struct puma_transport_msg *msg);

/**
 * puma_transport_deliver_disconnect() - tell the user the end is gone
 * @conn: the end
 * @reason: negative errno for the user, -ECONNRESET if not one
 *
 * Only the first call per end reaches the user's disconnected callback.
 *
 * Context: process context, may sleep; no transport lock held.
 * Return: nothing.
 */
void puma_transport_deliver_disconnect(struct puma_transport_conn *conn,
				       int reason);

#endif /* _PUMA_TRANSPORT_H */
