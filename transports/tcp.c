// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA TCP transport: messages over kernel TCP sockets between machines.
 *
 * Addresses are "a.b.c.d:port" or "[v6addr]:port".  A listener binds the
 * address it is given, even before an interface holds it (IP_FREEBIND):
 * a server module may load before its network is configured.  The
 * wildcard "0.0.0.0:port" accepts on every address, which a server
 * reachable from more than one network should not do.
 *
 * Framing.  Each message goes on the stream as a 16-byte frame header
 * (&struct puma_tcp_frame), the head bytes, then the payload pages, whole.  The
 * header says how many of each follow, so the receiver allocates the
 * message and its pages first and receives straight into them; payload
 * pages are sent with MSG_SPLICE_PAGES, which hands them to the stack by
 * reference instead of copying.  A sender never writes to a page after it
 * gave it to a message (the &struct puma_transport_msg contract), so the
 * stack may keep the page for retransmission.  PING and PONG frames carry
 * no body and are never seen by the user.
 *
 * Security (Documentation/security.rst).  With security=encrypt (the
 * default) or auth, each connection first runs the secure channel's
 * handshake with a pre-shared key from the keyring (key=), then carries
 * each frame above, head and pages copied in, as the payload of one
 * sealed frame: ChaCha20-Poly1305 under per-direction session keys and
 * counters.  The client handshakes inside connect(), so a wrong key is
 * its error; an accepted end handshakes on its receive thread, and only
 * an authenticated peer is handed to the listener's accept callback.
 * Nothing but the handshake is read or sent before that.  security=none
 * keeps the zero-copy frames above, in clear, and says so loudly.
 *
 * Threads.  Each connection has a receive thread, which does blocking
 * receives with a timeout of one keepalive period, delivers messages in
 * order, answers PINGs, sends a PING when nothing arrived for a period and
 * ends the connection with -ETIMEDOUT when nothing arrived for dead_ms.
 * Its send side is a work item draining a bounded queue of messages
 * (back-pressure: senders wait, or get -EAGAIN with NONBLOCK).  A
 * disconnect marks the connection dead and queues a work item that shuts
 * the socket down, which wakes both.  The receive thread then waits for
 * both work items, releases the socket, delivers "disconnected" and drops
 * the transport's reference.  A malformed frame closes its connection with
 * a logged reason and a counter; other connections are not affected.
 *
 * Lock ordering:
 *   puma_tcp_listener.accept_lock (a mutex: the accept callback runs under it)
 *	-> puma_tcp_conn.lock
 *   puma_tcp_conn.lock (IRQ-safe: NONBLOCK sends may come from any context)
 *	-> workqueue and waitqueue locks
 * No socket call and no user callback runs under it.
 *
 * References on a connection: one per user, the transport's own from
 * creation until its receive thread has delivered "disconnected", and one
 * per queued work item.  The receive thread pins this module until it
 * exits, since it may drop the last reference to its connection.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bvec.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/inet.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include <kunit/visibility.h>
#include <puma/secure.h>
#include <puma/transport.h>

#include "tcp_frame.h"

#define PUMA_TCP_DEPTH_DEFAULT		256
#define PUMA_TCP_DEPTH_MAX		65536
#define PUMA_TCP_BACKLOG		64
/* Period the listener thread checks whether it must stop. */
#define PUMA_TCP_ACCEPT_POLL		(HZ / 4)
/*
 * Attempts, 10 ms apart, to allocate a received message's head before
 * giving up on the connection.  Its pages get one attempt: without memory
 * for them they are skipped and the head delivered alone.
 */
#define PUMA_TCP_RX_ALLOC_TRIES		100

/* Module parameters; each connection reads them when it is created. */
static unsigned int puma_tcp_depth = PUMA_TCP_DEPTH_DEFAULT;
static unsigned int puma_tcp_keepalive_ms = 1000;
static unsigned int puma_tcp_dead_ms = 10000;
static unsigned int puma_tcp_connect_timeout_ms = 5000;

static int puma_tcp_param_set(const char *val, const struct kernel_param *kp,
			      unsigned int min, unsigned int max)
{
	unsigned int v;
	int err;

	err = kstrtouint(val, 0, &v);
	if (err)
		return err;
	if (v < min || v > max)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static int puma_tcp_depth_set(const char *val, const struct kernel_param *kp)
{
	return puma_tcp_param_set(val, kp, 1, PUMA_TCP_DEPTH_MAX);
}

static int puma_tcp_ms_set(const char *val, const struct kernel_param *kp)
{
	return puma_tcp_param_set(val, kp, 10, 600000);
}

static const struct kernel_param_ops puma_tcp_depth_ops = {
	.set = puma_tcp_depth_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops puma_tcp_ms_ops = {
	.set = puma_tcp_ms_set,
	.get = param_get_uint,
};

static const char * const puma_tcp_security_names[] = {
	[PUMA_TCP_SECURITY_NONE]	= "none",
	[PUMA_TCP_SECURITY_AUTH]	= "auth",
	[PUMA_TCP_SECURITY_ENCRYPT]	= "encrypt",
};

VISIBLE_IF_KUNIT int puma_tcp_security = PUMA_TCP_SECURITY_ENCRYPT;
EXPORT_SYMBOL_IF_KUNIT(puma_tcp_security);
static char puma_tcp_key[PUMA_TCP_KEY_DESC_MAX] = "puma:psk";
VISIBLE_IF_KUNIT unsigned int puma_tcp_max_accepted = 128;
EXPORT_SYMBOL_IF_KUNIT(puma_tcp_max_accepted);
VISIBLE_IF_KUNIT unsigned int puma_tcp_max_handshakes = 8;
EXPORT_SYMBOL_IF_KUNIT(puma_tcp_max_handshakes);
/* Comma-separated peer addresses a listener accepts; empty: any. */
VISIBLE_IF_KUNIT char puma_tcp_allowed_peers[PUMA_TCP_ALLOWED_PEERS_MAX];
EXPORT_SYMBOL_IF_KUNIT(puma_tcp_allowed_peers);

static int puma_tcp_security_set(const char *val, const struct kernel_param *kp)
{
	int mode = sysfs_match_string(puma_tcp_security_names, val);

	if (mode < 0)
		return -EINVAL;
	if (mode == PUMA_TCP_SECURITY_NONE)
		pr_warn("security=none: new links are neither authenticated nor encrypted; anyone who reaches them can read and forge cached pages\n");
	WRITE_ONCE(puma_tcp_security, mode);
	return 0;
}

static int puma_tcp_security_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  puma_tcp_security_names[READ_ONCE(puma_tcp_security)]);
}

static const struct kernel_param_ops puma_tcp_security_ops = {
	.set = puma_tcp_security_set,
	.get = puma_tcp_security_get,
};

module_param_cb(security, &puma_tcp_security_ops, NULL, 0644);
MODULE_PARM_DESC(security,
		 "Protection of new connections: encrypt (default), auth (authenticated, in clear) or none (neither; logged)");
module_param_string(key, puma_tcp_key, sizeof(puma_tcp_key), 0644);
MODULE_PARM_DESC(key,
		 "Description of the pre-shared key, a logon or user key in the keyring (default puma:psk)");

module_param_named(max_accepted, puma_tcp_max_accepted, uint, 0644);
MODULE_PARM_DESC(max_accepted,
		 "Accepted connections alive at once, handshakes included, beyond which new ones are closed at once (default 128)");
/*
 * Each accepted connection has a thread: a flood of connections that
 * never finish their handshake would otherwise take the CPU from the
 * authenticated clients, as sshd's MaxStartups guards against.
 */
module_param_named(max_handshakes, puma_tcp_max_handshakes, uint, 0644);
MODULE_PARM_DESC(max_handshakes,
		 "Accepted connections not yet handed to their user (in their handshake) at once, beyond which new ones are closed at once (default 8)");
/*
 * Whether @peer is in @list, comma-separated addresses; with @peer %NULL,
 * only check @list.
 * Return: 1 if @list is empty or holds @peer's address, 0 if not,
 * -EINVAL if an entry is not an address.
 */
static int puma_tcp_peers_match(const char *list,
				const struct sockaddr_storage *peer)
{
	char buf[PUMA_TCP_ALLOWED_PEERS_MAX], *cur, *tok;
	struct sockaddr_storage ss;
	bool empty = true;
	int match = 0;

	if (strscpy(buf, list, sizeof(buf)) < 0)
		return -EINVAL;
	cur = buf;
	while ((tok = strsep(&cur, ","))) {
		tok = strim(tok);
		if (!*tok)
			continue;
		empty = false;
		if (inet_pton_with_scope(&init_net, AF_UNSPEC, tok, NULL, &ss))
			return -EINVAL;
		if (!peer || ss.ss_family != peer->ss_family)
			continue;
		if (ss.ss_family == AF_INET)
			match |= ((struct sockaddr_in *)&ss)->sin_addr.s_addr ==
				 ((const struct sockaddr_in *)peer)->sin_addr.s_addr;
		else
			match |= ipv6_addr_equal(&((struct sockaddr_in6 *)&ss)->sin6_addr,
						 &((const struct sockaddr_in6 *)peer)->sin6_addr);
	}
	return empty || match;
}

static int puma_tcp_allowed_peers_set(const char *val,
				      const struct kernel_param *kp)
{
	if (puma_tcp_peers_match(val, NULL) < 0)
		return -EINVAL;
	return param_set_copystring(val, kp);
}

static const struct kernel_param_ops puma_tcp_allowed_peers_ops = {
	.set = puma_tcp_allowed_peers_set,
	.get = param_get_string,
};

static struct kparam_string puma_tcp_allowed_peers_kps = {
	.maxlen = sizeof(puma_tcp_allowed_peers),
	.string = puma_tcp_allowed_peers,
};

module_param_cb(allowed_peers, &puma_tcp_allowed_peers_ops,
		&puma_tcp_allowed_peers_kps, 0644);
MODULE_PARM_DESC(allowed_peers,
		 "Comma-separated addresses listeners accept connections from (default empty: any)");

module_param_cb(queue_depth, &puma_tcp_depth_ops, &puma_tcp_depth, 0644);
MODULE_PARM_DESC(queue_depth,
		 "Messages a connection queues for sending before senders wait (1-65536, default 256)");
module_param_cb(keepalive_ms, &puma_tcp_ms_ops, &puma_tcp_keepalive_ms, 0644);
MODULE_PARM_DESC(keepalive_ms,
		 "Send a PING after this long without receiving anything (10-600000, default 1000)");
module_param_cb(dead_ms, &puma_tcp_ms_ops, &puma_tcp_dead_ms, 0644);
MODULE_PARM_DESC(dead_ms,
		 "End a connection that received nothing for this long (10-600000, default 10000)");
module_param_cb(connect_timeout_ms, &puma_tcp_ms_ops, &puma_tcp_connect_timeout_ms, 0644);
MODULE_PARM_DESC(connect_timeout_ms,
		 "Give up a connection attempt after this long (10-600000, default 5000)");

/* Counters shown in debugfs (puma_tcp/stats). */
enum puma_tcp_stat {
	PUMA_TCP_STAT_CONNS,			/* connections alive */
	PUMA_TCP_STAT_CONNECTS,		/* outgoing connections established */
	PUMA_TCP_STAT_CONNECT_ERRORS,
	PUMA_TCP_STAT_ACCEPTS,		/* incoming connections accepted */
	PUMA_TCP_STAT_REFUSED,		/* incoming connections refused */
	PUMA_TCP_STAT_MSGS_SENT,
	PUMA_TCP_STAT_MSGS_RECEIVED,
	PUMA_TCP_STAT_PAGES_SENT,
	PUMA_TCP_STAT_PAGES_RECEIVED,
	PUMA_TCP_STAT_BYTES_SENT,
	PUMA_TCP_STAT_BYTES_RECEIVED,
	PUMA_TCP_STAT_PINGS_SENT,
	PUMA_TCP_STAT_BAD_FRAMES,		/* connections closed for a bad frame */
	PUMA_TCP_STAT_KEEPALIVE_TIMEOUTS,	/* connections closed: peer silent */
	PUMA_TCP_STAT_SEND_ERRORS,
	PUMA_TCP_STAT_ENOMEM_RX_PAGES,	/* payloads skipped: no memory */
	PUMA_TCP_STAT_ENOMEM_RX_HEAD,	/* connections closed: no memory */
	PUMA_TCP_STAT_INSECURE_CONNS,	/* connections made with security=none */
	PUMA_TCP_STAT_HANDSHAKE_FAILURES,	/* connections closed in the handshake */
	PUMA_TCP_STAT_REFUSED_LIMIT,	/* incoming: max_accepted reached */
	PUMA_TCP_STAT_REFUSED_PEER,	/* incoming: not in allowed_peers */
	PUMA_TCP_STAT_SEND_TIMEOUTS,	/* connections closed: peer not reading */
	PUMA_TCP_STAT_NR,
};

static const char * const puma_tcp_stat_names[PUMA_TCP_STAT_NR] = {
	[PUMA_TCP_STAT_CONNS]		= "conns",
	[PUMA_TCP_STAT_CONNECTS]		= "connects",
	[PUMA_TCP_STAT_CONNECT_ERRORS]	= "connect_errors",
	[PUMA_TCP_STAT_ACCEPTS]		= "accepts",
	[PUMA_TCP_STAT_REFUSED]		= "refused",
	[PUMA_TCP_STAT_MSGS_SENT]		= "msgs_sent",
	[PUMA_TCP_STAT_MSGS_RECEIVED]	= "msgs_received",
	[PUMA_TCP_STAT_PAGES_SENT]		= "pages_sent",
	[PUMA_TCP_STAT_PAGES_RECEIVED]	= "pages_received",
	[PUMA_TCP_STAT_BYTES_SENT]		= "bytes_sent",
	[PUMA_TCP_STAT_BYTES_RECEIVED]	= "bytes_received",
	[PUMA_TCP_STAT_PINGS_SENT]		= "pings_sent",
	[PUMA_TCP_STAT_BAD_FRAMES]		= "bad_frames",
	[PUMA_TCP_STAT_KEEPALIVE_TIMEOUTS]	= "keepalive_timeouts",
	[PUMA_TCP_STAT_SEND_ERRORS]		= "send_errors",
	[PUMA_TCP_STAT_ENOMEM_RX_PAGES]	= "enomem_rx_pages",
	[PUMA_TCP_STAT_ENOMEM_RX_HEAD]	= "enomem_rx_head",
	[PUMA_TCP_STAT_INSECURE_CONNS]	= "insecure_conns",
	[PUMA_TCP_STAT_HANDSHAKE_FAILURES]	= "handshake_failures",
	[PUMA_TCP_STAT_REFUSED_LIMIT]	= "refused_limit",
	[PUMA_TCP_STAT_REFUSED_PEER]	= "refused_peer",
	[PUMA_TCP_STAT_SEND_TIMEOUTS]	= "send_timeouts",
};

static atomic_long_t puma_tcp_stats[PUMA_TCP_STAT_NR];
/* Accepted connections alive, against max_accepted. */
static atomic_t puma_tcp_nr_accepted = ATOMIC_INIT(0);
/* Of those, the ones not yet handed to the listener's user. */
static atomic_t puma_tcp_nr_handshaking = ATOMIC_INIT(0);
/* The secure channel's refusals by reason, and handshakes completed. */
static struct puma_sec_stats puma_tcp_sec_stats;

#if IS_ENABLED(CONFIG_KUNIT)
unsigned long puma_tcp_test_faults;
EXPORT_SYMBOL_IF_KUNIT(puma_tcp_test_faults);
struct key *puma_tcp_test_keyring;
EXPORT_SYMBOL_IF_KUNIT(puma_tcp_test_keyring);

static bool puma_tcp_fault(enum puma_tcp_fault fault)
{
	return test_and_clear_bit(fault, &puma_tcp_test_faults);
}
#else
static bool puma_tcp_fault(enum puma_tcp_fault fault)
{
	return false;
}
#endif

static void puma_tcp_count(enum puma_tcp_stat stat, long n)
{
	atomic_long_add(n, &puma_tcp_stats[stat]);
}

struct puma_tcp_conn {
	struct puma_transport_conn conn;
	struct socket *sock;
	/* Protects everything below up to the work items. */
	spinlock_t lock;
	bool dead;
	bool rx_running;
	bool ping_owed;
	bool pong_owed;
	int reason;
	unsigned int depth;
	unsigned int txq_len;
	struct list_head txq;
	/* Senders waiting for room in txq. */
	wait_queue_head_t room;
	struct work_struct tx_work;
	struct work_struct close_work;
	/* Receive thread only. */
	unsigned long last_rx;
	/* The handshake must end by then, however slowly bytes trickle in. */
	unsigned long hs_deadline;
	unsigned long last_ping;
	unsigned long keepalive;
	unsigned long dead_after;
	struct sockaddr_storage peer;
	/*
	 * Secure channel, %NULL with security=none.  Set at creation; the
	 * buffers (one sealed frame each) once the handshake succeeded.
	 * tx_buf is the send work's, rx_buf the receive thread's.
	 */
	struct puma_sec_session *sec;
	bool established;		/* under lock; gates the send work */
	unsigned int max_pages;		/* agreed with the peer */
	void *tx_buf;
	void *rx_buf;
	/* An accepted end until its handshake ends: whom to hand it to. */
	struct puma_tcp_listener *pending;
	bool accepted;			/* counts in puma_tcp_nr_accepted */
};

struct puma_tcp_listener {
	struct puma_transport_listener listener;
	struct socket *sock;
	struct task_struct *task;
	struct sockaddr_storage addr;
	/* One per accepted end still in its handshake, and the user's. */
	struct kref ref;
	/* Serialises accept callbacks from receive threads with close. */
	struct mutex accept_lock;
	bool closing;
};

/*
 * A sealed frame carries a whole transport frame: with pages larger than
 * 4 KiB, fewer of them fit (PUMA_SEC_MAX_PAYLOAD).
 */
#define PUMA_TCP_SEC_MAX_PAGES	min_t(unsigned int, PUMA_TRANSPORT_MAX_PAGES, \
				      (PUMA_SEC_MAX_PAYLOAD - \
				       sizeof(struct puma_tcp_frame) - \
				       PUMA_TRANSPORT_MAX_HEAD) / PAGE_SIZE)
#define PUMA_TCP_SEALED_MAX	(PUMA_SEC_FRAME_OVERHEAD + \
				 sizeof(struct puma_tcp_frame) + \
				 PUMA_TRANSPORT_MAX_HEAD + \
				 PUMA_TCP_SEC_MAX_PAGES * PAGE_SIZE)

static struct workqueue_struct *puma_tcp_wq;
static struct puma_transport puma_tcp_transport;
static struct dentry *puma_tcp_debugfs;

static struct puma_tcp_conn *to_puma_tcp_conn(struct puma_transport_conn *conn)
{
	return container_of(conn, struct puma_tcp_conn, conn);
}

static struct puma_tcp_listener *to_puma_tcp_listener(struct puma_transport_listener *l)
{
	return container_of(l, struct puma_tcp_listener, listener);
}

/*
 * "host:port", the host in brackets for IPv6, to a socket address.
 * Return: 0, or -EINVAL for anything else.
 */
static int puma_tcp_parse_addr(const char *addr, struct sockaddr_storage *ss)
{
	char host[PUMA_TRANSPORT_ADDR_MAX + 1];
	const char *colon, *port;
	size_t len;
	u16 portnum;

	colon = strrchr(addr, ':');
	if (!colon || colon == addr)
		return -EINVAL;
	port = colon + 1;
	/* inet_pton_with_scope() takes port 0 and junk after it; we don't. */
	if (kstrtou16(port, 10, &portnum) || !portnum)
		return -EINVAL;
	len = colon - addr;
	if (addr[0] == '[') {
		if (len < 3 || addr[len - 1] != ']')
			return -EINVAL;
		addr++;
		len -= 2;
	}
	if (len >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, len);
	host[len] = '\0';
	return inet_pton_with_scope(&init_net, AF_UNSPEC, host, port, ss);
}

static int puma_tcp_addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					   sizeof(struct sockaddr_in);
}

/*
 * A socket for the transport: no SIGPIPE, no Nagle delay for the small
 * GET messages, allocations that cannot recurse into file system I/O (the
 * page cache may be waiting on us), and no task page frags (a sender in
 * reclaim must not use current's).
 */
static int puma_tcp_sock_create(const struct sockaddr_storage *ss,
				struct socket **sockp)
{
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, ss->ss_family, SOCK_STREAM,
			       IPPROTO_TCP, &sock);
	if (err)
		return err;
	sock->sk->sk_allocation = GFP_NOIO;
	sock->sk->sk_use_task_frag = false;
	*sockp = sock;
	return 0;
}

static void puma_tcp_sock_setup_conn(struct socket *sock, unsigned long keepalive,
				     unsigned long dead_after)
{
	tcp_sock_set_nodelay(sock->sk);
	sock->sk->sk_allocation = GFP_NOIO;
	sock->sk->sk_use_task_frag = false;
	/* Receives wake every keepalive period to check on the peer. */
	WRITE_ONCE(sock->sk->sk_rcvtimeo, keepalive);
	/*
	 * A peer that stops reading fails the send after dead_ms, as one
	 * that stops sending fails the receive (send timeout: the socket
	 * buffer stayed full).  TCP_USER_TIMEOUT backs it up for data left
	 * unacknowledged, later, so that the send timeout decides first and
	 * the connection ends with -ETIMEDOUT rather than a reset.
	 */
	WRITE_ONCE(sock->sk->sk_sndtimeo, dead_after);
	tcp_sock_set_user_timeout(sock->sk, 2 * jiffies_to_msecs(dead_after));
}

/* Queue @work for @c with a reference for it.  Caller holds c->lock. */
static void __puma_tcp_conn_queue(struct puma_tcp_conn *c, struct work_struct *work)
{
	lockdep_assert_held(&c->lock);

	puma_transport_conn_get(&c->conn);
	if (!queue_work(puma_tcp_wq, work))
		puma_transport_conn_put(&c->conn);
}

/*
 * Mark @c dead with @reason, drop what it still had to send and have the
 * socket shut down, which wakes its receive thread.  Any context.
 */
static void puma_tcp_conn_fail(struct puma_tcp_conn *c, int reason)
{
	struct puma_transport_msg *msg, *next;
	unsigned long flags;
	LIST_HEAD(dropped);

	spin_lock_irqsave(&c->lock, flags);
	if (c->dead) {
		spin_unlock_irqrestore(&c->lock, flags);
		return;
	}
	c->dead = true;
	c->reason = reason;
	list_splice_init(&c->txq, &dropped);
	c->txq_len = 0;
	if (c->rx_running)
		__puma_tcp_conn_queue(c, &c->close_work);
	spin_unlock_irqrestore(&c->lock, flags);

	wake_up_all(&c->room);
	list_for_each_entry_safe(msg, next, &dropped, list)
		puma_transport_msg_free(msg);
}

static void puma_tcp_close_work(struct work_struct *work)
{
	struct puma_tcp_conn *c = container_of(work, struct puma_tcp_conn, close_work);

	/* Wakes a sender blocked on a full socket and the receive thread. */
	kernel_sock_shutdown(c->sock, SHUT_RDWR);
	puma_transport_conn_put(&c->conn);
}

/* Send all of @iter on @sock; 0 or a negative errno. */
static int puma_tcp_send_iter(struct socket *sock, struct msghdr *msg)
{
	int ret;

	while (msg_data_left(msg)) {
		ret = sock_sendmsg(sock, msg);
		if (ret == -EAGAIN) {
			/* The send timeout: nothing taken for dead_ms. */
			puma_tcp_count(PUMA_TCP_STAT_SEND_TIMEOUTS, 1);
			return -ETIMEDOUT;
		}
		if (ret < 0)
			return ret;
		if (!ret)
			return -EPIPE;
		puma_tcp_count(PUMA_TCP_STAT_BYTES_SENT, ret);
	}
	return 0;
}

/* Send @len bytes at @buf; 0 or a negative errno. */
static int puma_tcp_send_buf(struct puma_tcp_conn *c, void *buf, size_t len,
			     bool more)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0),
	};

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, len);
	return puma_tcp_send_iter(c->sock, &msg);
}

static void puma_tcp_frame_init(struct puma_tcp_frame *frame,
				enum puma_tcp_frame_type type,
				const struct puma_transport_msg *pmsg)
{
	*frame = (struct puma_tcp_frame) {
		.magic		= cpu_to_le32(PUMA_TCP_FRAME_MAGIC),
		.type		= type,
		.page_shift	= PAGE_SHIFT,
		.nr_pages	= cpu_to_le16(pmsg ? pmsg->nr_pages : 0),
		.head_len	= cpu_to_le32(pmsg ? pmsg->head_len : 0),
	};
}

static int puma_tcp_send_frame(struct puma_tcp_conn *c,
			       enum puma_tcp_frame_type type,
			       struct puma_transport_msg *pmsg, bool more)
{
	unsigned int nr_pages = pmsg ? pmsg->nr_pages : 0;
	struct bio_vec bvec[PUMA_TRANSPORT_MAX_PAGES];
	struct puma_tcp_frame frame;
	struct kvec kv[2] = {
		{ .iov_base = &frame, .iov_len = sizeof(frame) },
		{ .iov_base = pmsg ? pmsg->head : NULL,
		  .iov_len = pmsg ? pmsg->head_len : 0 },
	};
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	unsigned int i;
	int err;

	puma_tcp_frame_init(&frame, type, pmsg);
	if (nr_pages || more)
		msg.msg_flags |= MSG_MORE;
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, kv, kv[1].iov_len ? 2 : 1,
		      sizeof(frame) + kv[1].iov_len);
	err = puma_tcp_send_iter(c->sock, &msg);
	if (err || !nr_pages)
		return err;

	for (i = 0; i < nr_pages; i++)
		bvec_set_page(&bvec[i], pmsg->pages[i], PAGE_SIZE, 0);
	msg.msg_flags = MSG_NOSIGNAL | MSG_SPLICE_PAGES | (more ? MSG_MORE : 0);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bvec, nr_pages,
		      (size_t)nr_pages * PAGE_SIZE);
	return puma_tcp_send_iter(c->sock, &msg);
}

/*
 * The same frame, head and pages copied in, as the payload of one sealed
 * frame.  Send work only: it owns tx_buf and the session's send side.
 */
static int puma_tcp_send_sealed(struct puma_tcp_conn *c,
				enum puma_tcp_frame_type type,
				struct puma_transport_msg *pmsg, bool more)
{
	u8 *p = (u8 *)c->tx_buf + PUMA_SEC_FRAME_HDR_LEN;
	size_t len = sizeof(struct puma_tcp_frame);
	unsigned int i;
	int sealed;

	puma_tcp_frame_init((struct puma_tcp_frame *)p, type, pmsg);
	if (pmsg) {
		memcpy(p + len, pmsg->head, pmsg->head_len);
		len += pmsg->head_len;
		for (i = 0; i < pmsg->nr_pages; i++, len += PAGE_SIZE)
			memcpy_from_page(p + len, pmsg->pages[i], 0, PAGE_SIZE);
	}
	sealed = puma_sec_seal(c->sec, PUMA_SEC_FRAME_DATA, c->tx_buf, len,
			       PUMA_TCP_SEALED_MAX);
	if (sealed < 0)
		return sealed;
	return puma_tcp_send_buf(c, c->tx_buf, sealed, more);
}

static void puma_tcp_tx_work(struct work_struct *work)
{
	struct puma_tcp_conn *c = container_of(work, struct puma_tcp_conn, tx_work);
	struct puma_transport_msg *msg;
	enum puma_tcp_frame_type type;
	bool more;
	int err;

	for (;;) {
		spin_lock_irq(&c->lock);
		/* Before the handshake ends, only it may use the socket. */
		if (c->dead || !c->established) {
			spin_unlock_irq(&c->lock);
			break;
		}
		msg = NULL;
		if (c->pong_owed) {
			c->pong_owed = false;
			type = PUMA_TCP_FRAME_PONG;
		} else if (c->ping_owed) {
			c->ping_owed = false;
			type = PUMA_TCP_FRAME_PING;
		} else {
			msg = list_first_entry_or_null(&c->txq,
						       struct puma_transport_msg,
						       list);
			if (!msg) {
				spin_unlock_irq(&c->lock);
				break;
			}
			list_del_init(&msg->list);
			c->txq_len--;
			type = PUMA_TCP_FRAME_MSG;
		}
		more = !list_empty(&c->txq);
		spin_unlock_irq(&c->lock);
		if (msg)
			wake_up(&c->room);

		err = c->sec ? puma_tcp_send_sealed(c, type, msg, more) :
			       puma_tcp_send_frame(c, type, msg, more);
		if (!err && msg) {
			puma_tcp_count(PUMA_TCP_STAT_MSGS_SENT, 1);
			puma_tcp_count(PUMA_TCP_STAT_PAGES_SENT, msg->nr_pages);
		} else if (!err && type == PUMA_TCP_FRAME_PING) {
			puma_tcp_count(PUMA_TCP_STAT_PINGS_SENT, 1);
		}
		/* The stack holds its own references to the pages it sends. */
		puma_transport_msg_free(msg);
		if (err) {
			puma_tcp_count(PUMA_TCP_STAT_SEND_ERRORS, 1);
			puma_tcp_conn_fail(c, err);
			break;
		}
		cond_resched();
	}
	puma_transport_conn_put(&c->conn);
}

static void puma_tcp_kick_tx(struct puma_tcp_conn *c)
{
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	if (!c->dead)
		__puma_tcp_conn_queue(c, &c->tx_work);
	spin_unlock_irqrestore(&c->lock, flags);
}

/*
 * Nothing arrived for a receive timeout: declare the peer dead, or ask it
 * for a sign of life.  Receive thread only.
 * Return: 0 to keep waiting, -ETIMEDOUT to give up.
 */
static int puma_tcp_rx_idle(struct puma_tcp_conn *c)
{
	unsigned long now = jiffies;

	if (time_after_eq(now, c->last_rx + c->dead_after)) {
		puma_tcp_count(PUMA_TCP_STAT_KEEPALIVE_TIMEOUTS, 1);
		pr_info_ratelimited("%pISpc: nothing received for %u ms, closing\n",
				    &c->peer,
				    jiffies_to_msecs(now - c->last_rx));
		return -ETIMEDOUT;
	}
	if (time_after_eq(now, c->last_ping + c->keepalive)) {
		c->last_ping = now;
		spin_lock_irq(&c->lock);
		c->ping_owed = true;
		spin_unlock_irq(&c->lock);
		puma_tcp_kick_tx(c);
	}
	return 0;
}

/* Receive exactly what @msg's iterator asks for.  Receive thread only. */
static int puma_tcp_recv_full(struct puma_tcp_conn *c, struct msghdr *msg)
{
	int ret;

	while (msg_data_left(msg)) {
		if (READ_ONCE(c->dead))
			return -ESHUTDOWN;
		if (c->hs_deadline && time_after_eq(jiffies, c->hs_deadline))
			return -ETIMEDOUT;
		msg->msg_flags = 0;
		ret = sock_recvmsg(c->sock, msg, MSG_WAITALL | MSG_NOSIGNAL);
		if (ret > 0) {
			c->last_rx = jiffies;
			puma_tcp_count(PUMA_TCP_STAT_BYTES_RECEIVED, ret);
			continue;
		}
		if (!ret)
			return -ECONNRESET;	/* the peer closed */
		if (ret != -EAGAIN)
			return ret;
		ret = puma_tcp_rx_idle(c);
		if (ret)
			return ret;
	}
	return 0;
}

static int puma_tcp_recv_buf(struct puma_tcp_conn *c, void *buf, size_t len)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {};

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, len);
	return puma_tcp_recv_full(c, &msg);
}

static int puma_tcp_bad_frame(struct puma_tcp_conn *c, const char *why, u32 value)
{
	puma_tcp_count(PUMA_TCP_STAT_BAD_FRAMES, 1);
	pr_warn_ratelimited("%pISpc: %s (%#x), closing the connection\n",
			    &c->peer, why, value);
	return -EPROTO;
}

/* Check a frame header; 0 or -EPROTO (logged and counted). */
static int puma_tcp_check_frame(struct puma_tcp_conn *c, const struct puma_tcp_frame *f)
{
	u32 head_len = le32_to_cpu(f->head_len);
	u16 nr_pages = le16_to_cpu(f->nr_pages);

	if (le32_to_cpu(f->magic) != PUMA_TCP_FRAME_MAGIC)
		return puma_tcp_bad_frame(c, "bad frame magic", le32_to_cpu(f->magic));
	if (f->page_shift != PAGE_SHIFT)
		return puma_tcp_bad_frame(c, "page size differs", f->page_shift);
	if (le32_to_cpu(f->reserved))
		return puma_tcp_bad_frame(c, "reserved field set",
				     le32_to_cpu(f->reserved));
	switch (f->type) {
	case PUMA_TCP_FRAME_MSG:
		if (head_len > PUMA_TRANSPORT_MAX_HEAD)
			return puma_tcp_bad_frame(c, "head too long", head_len);
		if (nr_pages > c->max_pages)
			return puma_tcp_bad_frame(c, "too many pages", nr_pages);
		return 0;
	case PUMA_TCP_FRAME_PING:
	case PUMA_TCP_FRAME_PONG:
		if (head_len || nr_pages)
			return puma_tcp_bad_frame(c, "control frame with a body",
					     head_len);
		return 0;
	default:
		return puma_tcp_bad_frame(c, "unknown frame type", f->type);
	}
}

/*
 * Allocate a received message.  Without memory for its pages, the message
 * comes without them (%PUMA_TRANSPORT_MSG_PAGES_DROPPED): pages are data
 * the peer can do without, while ending the connection would make it
 * drop every page the peer holds for us, just when memory is tight.  The
 * head may say what must not be lost (an invalidation): wait a little for
 * memory for it, and end the connection only if there is none.
 */
static struct puma_transport_msg *
puma_tcp_rx_alloc(struct puma_tcp_conn *c, u32 head_len, u16 nr_pages)
{
	struct puma_transport_msg *msg;
	int tries = PUMA_TCP_RX_ALLOC_TRIES;

	msg = puma_tcp_fault(PUMA_TCP_FAULT_RX_PAGES) && nr_pages ?
	      ERR_PTR(-ENOMEM) :
	      puma_transport_msg_alloc(head_len, nr_pages,
				       GFP_KERNEL | __GFP_NOWARN);
	if (!IS_ERR(msg) || PTR_ERR(msg) != -ENOMEM)
		return msg;
	if (nr_pages)
		puma_tcp_count(PUMA_TCP_STAT_ENOMEM_RX_PAGES, 1);
	for (;;) {
		msg = puma_transport_msg_alloc(head_len, 0,
					       GFP_KERNEL | __GFP_NOWARN);
		if (!IS_ERR(msg) || PTR_ERR(msg) != -ENOMEM || !--tries ||
		    READ_ONCE(c->dead))
			break;
		usleep_range(10000, 20000);
	}
	if (IS_ERR(msg)) {
		puma_tcp_count(PUMA_TCP_STAT_ENOMEM_RX_HEAD, 1);
		return msg;
	}
	if (nr_pages)
		msg->flags |= PUMA_TRANSPORT_MSG_PAGES_DROPPED;
	return msg;
}

/* Answer a PING; true if @type was PING or PONG, which end there. */
static bool puma_tcp_rx_control(struct puma_tcp_conn *c, u8 type)
{
	if (type == PUMA_TCP_FRAME_PING) {
		spin_lock_irq(&c->lock);
		c->pong_owed = true;
		spin_unlock_irq(&c->lock);
		puma_tcp_kick_tx(c);
		return true;
	}
	return type == PUMA_TCP_FRAME_PONG;
}

static void puma_tcp_rx_deliver(struct puma_tcp_conn *c,
				struct puma_transport_msg *pmsg, u16 nr_pages)
{
	puma_tcp_count(PUMA_TCP_STAT_MSGS_RECEIVED, 1);
	puma_tcp_count(PUMA_TCP_STAT_PAGES_RECEIVED, nr_pages);
	puma_transport_deliver_msg(&c->conn, pmsg);
}

static int puma_tcp_rx_one(struct puma_tcp_conn *c)
{
	struct bio_vec bvec[PUMA_TRANSPORT_MAX_PAGES];
	struct puma_transport_msg *pmsg;
	struct msghdr msg = {};
	struct puma_tcp_frame frame;
	struct kvec kv;
	u32 head_len;
	u16 nr_pages;
	unsigned int i;
	int err;

	err = puma_tcp_recv_buf(c, &frame, sizeof(frame));
	if (err)
		return err;
	err = puma_tcp_check_frame(c, &frame);
	if (err)
		return err;
	if (puma_tcp_rx_control(c, frame.type))
		return 0;

	head_len = le32_to_cpu(frame.head_len);
	nr_pages = le16_to_cpu(frame.nr_pages);
	pmsg = puma_tcp_rx_alloc(c, head_len, nr_pages);
	if (IS_ERR(pmsg))
		return PTR_ERR(pmsg);
	if (head_len) {
		kv.iov_base = pmsg->head;
		kv.iov_len = head_len;
		iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, head_len);
		err = puma_tcp_recv_full(c, &msg);
	}
	if (!err && nr_pages &&
	    (pmsg->flags & PUMA_TRANSPORT_MSG_PAGES_DROPPED)) {
		/* Read past the pages we have no memory for. */
		iov_iter_discard(&msg.msg_iter, ITER_DEST,
				 (size_t)nr_pages * PAGE_SIZE);
		err = puma_tcp_recv_full(c, &msg);
	} else if (!err && nr_pages) {
		for (i = 0; i < nr_pages; i++)
			bvec_set_page(&bvec[i], pmsg->pages[i], PAGE_SIZE, 0);
		iov_iter_bvec(&msg.msg_iter, ITER_DEST, bvec, nr_pages,
			      (size_t)nr_pages * PAGE_SIZE);
		err = puma_tcp_recv_full(c, &msg);
	}
	if (err) {
		puma_transport_msg_free(pmsg);
		return err;
	}
	puma_tcp_rx_deliver(c, pmsg, nr_pages);
	return 0;
}

/* The frame inside an opened sealed frame.  Receive thread only. */
static int puma_tcp_rx_payload(struct puma_tcp_conn *c, const u8 *p, u32 len)
{
	struct puma_transport_msg *pmsg;
	struct puma_tcp_frame frame;
	u32 head_len;
	u16 nr_pages;
	unsigned int i;
	int err;

	if (len < sizeof(frame))
		return puma_tcp_bad_frame(c, "sealed payload too short", len);
	memcpy(&frame, p, sizeof(frame));
	err = puma_tcp_check_frame(c, &frame);
	if (err)
		return err;
	head_len = le32_to_cpu(frame.head_len);
	nr_pages = le16_to_cpu(frame.nr_pages);
	if (len != sizeof(frame) + head_len + (size_t)nr_pages * PAGE_SIZE)
		return puma_tcp_bad_frame(c, "sealed payload length differs", len);
	if (puma_tcp_rx_control(c, frame.type))
		return 0;

	pmsg = puma_tcp_rx_alloc(c, head_len, nr_pages);
	if (IS_ERR(pmsg))
		return PTR_ERR(pmsg);
	p += sizeof(frame);
	memcpy(pmsg->head, p, head_len);
	p += head_len;
	if (!(pmsg->flags & PUMA_TRANSPORT_MSG_PAGES_DROPPED))
		for (i = 0; i < nr_pages; i++, p += PAGE_SIZE)
			memcpy_to_page(pmsg->pages[i], 0, p, PAGE_SIZE);
	puma_tcp_rx_deliver(c, pmsg, nr_pages);
	return 0;
}

/*
 * Receive one sealed frame into rx_buf and open it in place.  The header
 * says how long the frame is, checked before anything more is read; a
 * frame refused by the session ends the connection.
 */
static int puma_tcp_rx_sealed(struct puma_tcp_conn *c)
{
	struct puma_sec_frame_hdr hdr;
	struct puma_sec_frame frame;
	enum puma_sec_reject why;
	u8 *buf = c->rx_buf;
	int len, err;

	err = puma_tcp_recv_buf(c, buf, PUMA_SEC_FRAME_HDR_LEN);
	if (err)
		return err;
	len = puma_sec_frame_hdr_parse(buf, PUMA_SEC_FRAME_HDR_LEN, &hdr, &why);
	if (len >= 0 && len > PUMA_TCP_SEALED_MAX) {
		len = -EMSGSIZE;
		why = PUMA_SEC_REJ_OVERSIZED;
	}
	if (len < 0) {
		atomic64_inc(&puma_tcp_sec_stats.rejected[why]);
		return puma_tcp_bad_frame(c, puma_sec_reject_name(why),
					  le32_to_cpup((__le32 *)buf));
	}
	err = puma_tcp_recv_buf(c, buf + PUMA_SEC_FRAME_HDR_LEN,
				len - PUMA_SEC_FRAME_HDR_LEN);
	if (err)
		return err;
	/* The session counts and logs its refusals. */
	err = puma_sec_open(c->sec, buf, len, &frame);
	if (err)
		return puma_tcp_bad_frame(c, "sealed frame refused", -err);
	if (frame.type == PUMA_SEC_FRAME_CLOSE)
		return -ECONNRESET;
	return puma_tcp_rx_payload(c, frame.payload, frame.len);
}

/*
 * Run the secure channel's handshake on @c's socket, then open the send
 * side.  The client's in connect(), an accepted end's on its receive
 * thread; each message has the fixed length of its type.  The whole
 * handshake must end within dead_ms: a peer that trickles its bytes, each
 * just before the receive timeout, would otherwise hold a connection
 * slot (max_accepted) for minutes.
 * Return: 0, or a negative errno (counted and logged).
 */
static int puma_tcp_handshake(struct puma_tcp_conn *c, bool server)
{
	u8 in[PUMA_SEC_HS_MAX_LEN], out[PUMA_SEC_HS_MAX_LEN];
	const struct puma_sec_caps *agreed;
	int n, err;

	c->hs_deadline = (jiffies + c->dead_after) | 1;
	if (server) {
		err = puma_tcp_recv_buf(c, in, PUMA_SEC_CLIENT_HELLO_LEN);
		if (err)
			goto fail;
		n = puma_sec_server_hello(c->sec, in, PUMA_SEC_CLIENT_HELLO_LEN,
					  out, sizeof(out));
		err = n < 0 ? n : puma_tcp_send_buf(c, out, n, false);
		if (err)
			goto fail;
		err = puma_tcp_recv_buf(c, in, PUMA_SEC_CLIENT_FINISH_LEN);
		if (!err)
			err = puma_sec_server_finish(c->sec, in,
						     PUMA_SEC_CLIENT_FINISH_LEN);
	} else {
		n = puma_sec_client_hello(c->sec, out, sizeof(out));
		err = n < 0 ? n : puma_tcp_send_buf(c, out, n, false);
		if (err)
			goto fail;
		err = puma_tcp_recv_buf(c, in, PUMA_SEC_SERVER_HELLO_LEN);
		if (err)
			goto fail;
		n = puma_sec_client_finish(c->sec, in, PUMA_SEC_SERVER_HELLO_LEN,
					   out, sizeof(out));
		err = n < 0 ? n : puma_tcp_send_buf(c, out, n, false);
	}
	if (err)
		goto fail;

	agreed = puma_sec_agreed_caps(c->sec);
	/* Our frames carry whole pages: a smaller unit is no agreement. */
	if (IS_ERR(agreed) || agreed->page_size != PAGE_SIZE) {
		err = -EPROTO;
		goto fail;
	}
	c->tx_buf = kvmalloc(PUMA_TCP_SEALED_MAX, GFP_KERNEL);
	c->rx_buf = kvmalloc(PUMA_TCP_SEALED_MAX, GFP_KERNEL);
	if (!c->tx_buf || !c->rx_buf) {
		err = -ENOMEM;
		goto fail;
	}
	/* Every frame is sealed now: the data needs no checksum of its own. */
	puma_transport_conn_set_authenticated(&c->conn);
	spin_lock_irq(&c->lock);
	c->max_pages = agreed->max_batch;
	c->established = true;
	spin_unlock_irq(&c->lock);
	c->hs_deadline = 0;
	return 0;

fail:
	c->hs_deadline = 0;
	puma_tcp_count(PUMA_TCP_STAT_HANDSHAKE_FAILURES, 1);
	pr_info_ratelimited("%pISpc: secure handshake failed (%pe)\n",
			    &c->peer, ERR_PTR(err));
	return err;
}

static void puma_tcp_listener_release(struct kref *ref)
{
	kfree(container_of(ref, struct puma_tcp_listener, ref));
}

/*
 * An accepted end with security on: authenticate the peer, then hand it
 * to the listener's user, unless the listener was closed meanwhile.
 * Receive thread only.
 */
static int puma_tcp_accept_secure(struct puma_tcp_conn *c)
{
	struct puma_tcp_listener *l = c->pending;
	int err;

	err = puma_tcp_handshake(c, true);
	if (!err) {
		mutex_lock(&l->accept_lock);
		err = l->closing ? -ESHUTDOWN :
		      puma_transport_accept(&l->listener, &c->conn);
		mutex_unlock(&l->accept_lock);
	}
	c->pending = NULL;
	atomic_dec(&puma_tcp_nr_handshaking);
	kref_put(&l->ref, puma_tcp_listener_release);
	puma_tcp_count(err ? PUMA_TCP_STAT_REFUSED : PUMA_TCP_STAT_ACCEPTS, 1);
	return err;
}

/* Wipe the session and the frames in clear.  No one else may use them. */
static void puma_tcp_sec_free(struct puma_tcp_conn *c)
{
	puma_sec_session_destroy(c->sec);
	c->sec = NULL;
	kvfree_sensitive(c->tx_buf, PUMA_TCP_SEALED_MAX);
	kvfree_sensitive(c->rx_buf, PUMA_TCP_SEALED_MAX);
	c->tx_buf = NULL;
	c->rx_buf = NULL;
}

/* @c's socket is released: it no longer counts. */
static void puma_tcp_conn_gone(struct puma_tcp_conn *c)
{
	puma_tcp_count(PUMA_TCP_STAT_CONNS, -1);
	if (c->accepted)
		atomic_dec(&puma_tcp_nr_accepted);
}

static int puma_tcp_rx_thread(void *data)
{
	struct puma_tcp_conn *c = data;
	unsigned int noio;
	int err = 0;

	/* A receive may have to allocate while the page cache waits on us. */
	noio = memalloc_noio_save();
	c->last_rx = jiffies;
	c->last_ping = jiffies;
	if (c->pending)
		err = puma_tcp_accept_secure(c);
	while (!err) {
		err = c->sec ? puma_tcp_rx_sealed(c) : puma_tcp_rx_one(c);
		/*
		 * A peer that keeps the socket full never makes the receive
		 * block: without this, on a kernel that does not preempt, its
		 * thread would keep the CPU from every other connection.
		 */
		cond_resched();
	}
	memalloc_noio_restore(noio);

	puma_tcp_conn_fail(c, err);
	/* Nothing queues work once dead is set: wait for what is queued. */
	flush_work(&c->close_work);
	flush_work(&c->tx_work);
	puma_tcp_sec_free(c);
	kernel_sock_shutdown(c->sock, SHUT_RDWR);
	sock_release(c->sock);
	c->sock = NULL;
	puma_tcp_conn_gone(c);

	puma_transport_deliver_disconnect(&c->conn, c->reason);
	puma_transport_conn_put(&c->conn);
	module_put_and_kthread_exit(0);
}

/*
 * What this end offers: the transport's frames, and the one mode @mode
 * names.  Both ends must name the same: a peer set otherwise finds no
 * common mode and is refused (no_common_caps), never downgraded.
 */
static void puma_tcp_sec_caps(struct puma_sec_caps *caps, int mode)
{
	*caps = (struct puma_sec_caps) {
		.page_size	= PAGE_SIZE,
		.max_batch	= PUMA_TCP_SEC_MAX_PAGES,
		.min_version	= PUMA_TCP_PROTO_VERSION,
		.max_version	= PUMA_TCP_PROTO_VERSION,
		.modes		= mode == PUMA_TCP_SECURITY_ENCRYPT ?
				  PUMA_SEC_MODE_ENCRYPT : PUMA_SEC_MODE_AUTH,
	};
}

/* A session for a new connection, with the key= key. */
static struct puma_sec_session *puma_tcp_sec_create(bool server, int mode)
{
	struct puma_sec_config cfg = {
		.server	= server,
		.stats	= &puma_tcp_sec_stats,
	};
	char desc[PUMA_TCP_KEY_DESC_MAX];
	struct puma_sec_session *s;

	kernel_param_lock(THIS_MODULE);
	strscpy(desc, puma_tcp_key, sizeof(desc));
	kernel_param_unlock(THIS_MODULE);
	cfg.key_desc = desc;
#if IS_ENABLED(CONFIG_KUNIT)
	cfg.keyring = READ_ONCE(puma_tcp_test_keyring);
#endif
	puma_tcp_sec_caps(&cfg.caps, mode);
	s = puma_sec_session_create(&cfg);
	if (IS_ERR(s))
		pr_warn_ratelimited("no usable pre-shared key \"%s\" for security=%s (%pe)\n",
				    desc, puma_tcp_security_names[mode], s);
	return s;
}

/*
 * A connection on @sock, as security= says now.  The caller still owns
 * @sock if this fails.
 * Return: The connection, or an ERR_PTR(): -ENOMEM, or the secure
 * session's error (-ENOKEY without a key).
 */
static struct puma_tcp_conn *
puma_tcp_conn_alloc(struct socket *sock, bool server,
		    const struct puma_transport_conn_ops *ops, void *priv)
{
	int mode = READ_ONCE(puma_tcp_security);
	struct puma_tcp_conn *c;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return ERR_PTR(-ENOMEM);
	if (kernel_getpeername(sock, (struct sockaddr *)&c->peer) < 0)
		c->peer.ss_family = AF_UNSPEC;
	if (mode != PUMA_TCP_SECURITY_NONE) {
		c->sec = puma_tcp_sec_create(server, mode);
		if (IS_ERR(c->sec)) {
			int err = PTR_ERR(c->sec);

			kfree(c);
			return ERR_PTR(err);
		}
	} else {
		puma_tcp_count(PUMA_TCP_STAT_INSECURE_CONNS, 1);
		pr_warn_ratelimited("%pISpc: security=none: this connection is neither authenticated nor encrypted\n",
				    &c->peer);
		c->established = true;
	}
	c->max_pages = PUMA_TRANSPORT_MAX_PAGES;
	puma_transport_conn_init(&c->conn, &puma_tcp_transport, ops, priv);
	c->sock = sock;
	spin_lock_init(&c->lock);
	INIT_LIST_HEAD(&c->txq);
	init_waitqueue_head(&c->room);
	INIT_WORK(&c->tx_work, puma_tcp_tx_work);
	INIT_WORK(&c->close_work, puma_tcp_close_work);
	c->depth = READ_ONCE(puma_tcp_depth);
	c->keepalive = max(msecs_to_jiffies(READ_ONCE(puma_tcp_keepalive_ms)), 1UL);
	c->dead_after = max(msecs_to_jiffies(READ_ONCE(puma_tcp_dead_ms)),
			    c->keepalive);
	c->last_rx = jiffies;
	c->last_ping = jiffies;
	puma_tcp_sock_setup_conn(sock, c->keepalive, c->dead_after);
	puma_tcp_count(PUMA_TCP_STAT_CONNS, 1);
	return c;
}

/*
 * Tear down a connection whose receive thread never ran.  Its user may
 * have been told of it already (an accepted end) and sent on it, so work
 * items may be queued or running: once the connection is dead nothing
 * queues more, and they are waited for before the socket goes.  Drops
 * the transport's reference.
 */
static void puma_tcp_conn_abort(struct puma_tcp_conn *c)
{
	puma_tcp_conn_fail(c, -ECONNABORTED);
	flush_work(&c->tx_work);
	flush_work(&c->close_work);
	puma_tcp_sec_free(c);
	sock_release(c->sock);
	c->sock = NULL;
	puma_tcp_conn_gone(c);
	puma_transport_conn_put(&c->conn);
}

/* Start @c's receive thread; on failure the caller aborts @c. */
static int puma_tcp_conn_start(struct puma_tcp_conn *c)
{
	struct task_struct *task;

	/* The thread may drop the last reference to @c: pin our code. */
	__module_get(THIS_MODULE);
	spin_lock_irq(&c->lock);
	c->rx_running = true;
	spin_unlock_irq(&c->lock);
	task = kthread_run(puma_tcp_rx_thread, c, "puma_tcp_rx");
	if (IS_ERR(task)) {
		spin_lock_irq(&c->lock);
		c->rx_running = false;
		spin_unlock_irq(&c->lock);
		module_put(THIS_MODULE);
		return PTR_ERR(task);
	}
	return 0;
}

static struct puma_transport_conn *
puma_tcp_connect(struct puma_transport *t, const char *addr,
		 const struct puma_transport_conn_ops *ops, void *priv)
{
	struct sockaddr_storage ss;
	struct socket *sock;
	struct puma_tcp_conn *c;
	int err;

	err = puma_tcp_parse_addr(addr, &ss);
	if (err)
		return ERR_PTR(err);
	err = puma_tcp_sock_create(&ss, &sock);
	if (err)
		return ERR_PTR(err);
	/* A blocking connect waits up to sk_sndtimeo, then says EINPROGRESS. */
	WRITE_ONCE(sock->sk->sk_sndtimeo,
		   msecs_to_jiffies(READ_ONCE(puma_tcp_connect_timeout_ms)));
	err = kernel_connect(sock, (struct sockaddr *)&ss, puma_tcp_addr_len(&ss), 0);
	WRITE_ONCE(sock->sk->sk_sndtimeo, MAX_SCHEDULE_TIMEOUT);
	if (err) {
		sock_release(sock);
		puma_tcp_count(PUMA_TCP_STAT_CONNECT_ERRORS, 1);
		return ERR_PTR(err == -EINPROGRESS ? -ETIMEDOUT : err);
	}

	c = puma_tcp_conn_alloc(sock, false, ops, priv);
	if (IS_ERR(c)) {
		sock_release(sock);
		puma_tcp_count(PUMA_TCP_STAT_CONNECT_ERRORS, 1);
		return ERR_CAST(c);
	}
	/* The caller's reference, before the thread can drop the last one. */
	puma_transport_conn_get(&c->conn);
	err = c->sec ? puma_tcp_handshake(c, false) : 0;
	if (!err)
		err = puma_tcp_conn_start(c);
	if (err) {
		puma_transport_conn_put(&c->conn);
		puma_tcp_conn_abort(c);
		puma_tcp_count(PUMA_TCP_STAT_CONNECT_ERRORS, 1);
		return ERR_PTR(err);
	}
	puma_tcp_count(PUMA_TCP_STAT_CONNECTS, 1);
	return &c->conn;
}

static int puma_tcp_send(struct puma_transport_conn *conn,
			 struct puma_transport_msg *msg, unsigned int flags)
{
	struct puma_tcp_conn *c = to_puma_tcp_conn(conn);
	unsigned long irqflags;
	int err;

	for (;;) {
		spin_lock_irqsave(&c->lock, irqflags);
		if (c->dead) {
			spin_unlock_irqrestore(&c->lock, irqflags);
			err = -ENOTCONN;
			break;
		}
		/* More pages than the peer agreed to take. */
		if (msg->nr_pages > c->max_pages) {
			spin_unlock_irqrestore(&c->lock, irqflags);
			err = -EMSGSIZE;
			break;
		}
		if (c->txq_len < c->depth) {
			list_add_tail(&msg->list, &c->txq);
			c->txq_len++;
			__puma_tcp_conn_queue(c, &c->tx_work);
			spin_unlock_irqrestore(&c->lock, irqflags);
			return 0;
		}
		spin_unlock_irqrestore(&c->lock, irqflags);

		if (flags & PUMA_TRANSPORT_NONBLOCK) {
			err = -EAGAIN;
			break;
		}
		if (wait_event_killable(c->room, READ_ONCE(c->dead) ||
					READ_ONCE(c->txq_len) < c->depth)) {
			err = -EINTR;
			break;
		}
	}
	puma_transport_msg_free(msg);
	return err;
}

static void puma_tcp_disconnect(struct puma_transport_conn *conn, int reason)
{
	puma_tcp_conn_fail(to_puma_tcp_conn(conn), reason);
}

static void puma_tcp_release(struct puma_transport_conn *conn)
{
	kfree(to_puma_tcp_conn(conn));
}

/*
 * Whether to take a new incoming connection at all: within max_accepted
 * and max_handshakes (then counted in puma_tcp_nr_accepted and
 * puma_tcp_nr_handshaking) and from an allowed peer.
 */
static bool puma_tcp_accept_admit(struct socket *sock)
{
	struct sockaddr_storage peer = {};
	int allowed;

	if (atomic_inc_return(&puma_tcp_nr_accepted) >
	    READ_ONCE(puma_tcp_max_accepted)) {
		atomic_dec(&puma_tcp_nr_accepted);
		puma_tcp_count(PUMA_TCP_STAT_REFUSED_LIMIT, 1);
		pr_warn_ratelimited("max_accepted (%u) connections alive: closing a new one\n",
				    READ_ONCE(puma_tcp_max_accepted));
		return false;
	}
	if (atomic_inc_return(&puma_tcp_nr_handshaking) >
	    READ_ONCE(puma_tcp_max_handshakes)) {
		atomic_dec(&puma_tcp_nr_handshaking);
		atomic_dec(&puma_tcp_nr_accepted);
		puma_tcp_count(PUMA_TCP_STAT_REFUSED_LIMIT, 1);
		pr_warn_ratelimited("max_handshakes (%u) connections in their handshake: closing a new one\n",
				    READ_ONCE(puma_tcp_max_handshakes));
		return false;
	}
	kernel_param_lock(THIS_MODULE);
	allowed = kernel_getpeername(sock, (struct sockaddr *)&peer) < 0 ? 0 :
		  puma_tcp_peers_match(puma_tcp_allowed_peers, &peer);
	kernel_param_unlock(THIS_MODULE);
	if (allowed > 0)
		return true;
	atomic_dec(&puma_tcp_nr_handshaking);
	atomic_dec(&puma_tcp_nr_accepted);
	puma_tcp_count(PUMA_TCP_STAT_REFUSED_PEER, 1);
	pr_warn_ratelimited("%pISpc: not in allowed_peers, closing\n", &peer);
	return false;
}

static void puma_tcp_accept_one(struct puma_tcp_listener *l, struct socket *sock)
{
	struct puma_tcp_conn *c;
	int err;

	if (!puma_tcp_accept_admit(sock)) {
		sock_release(sock);
		puma_tcp_count(PUMA_TCP_STAT_REFUSED, 1);
		return;
	}
	c = puma_tcp_conn_alloc(sock, true, NULL, NULL);
	if (IS_ERR(c)) {
		atomic_dec(&puma_tcp_nr_handshaking);
		atomic_dec(&puma_tcp_nr_accepted);
		sock_release(sock);
		puma_tcp_count(PUMA_TCP_STAT_REFUSED, 1);
		return;
	}
	c->accepted = true;
	if (c->sec) {
		/* Its receive thread authenticates it, then calls accept. */
		kref_get(&l->ref);
		c->pending = l;
		err = puma_tcp_fault(PUMA_TCP_FAULT_ACCEPT_START) ? -ENOMEM :
		      puma_tcp_conn_start(c);
		if (err) {
			c->pending = NULL;
			atomic_dec(&puma_tcp_nr_handshaking);
			kref_put(&l->ref, puma_tcp_listener_release);
			puma_tcp_count(PUMA_TCP_STAT_REFUSED, 1);
			puma_tcp_conn_abort(c);
		}
		return;
	}
	/* The user sees no message before accept returns. */
	err = puma_transport_accept(&l->listener, &c->conn);
	atomic_dec(&puma_tcp_nr_handshaking);
	if (!err)
		err = puma_tcp_fault(PUMA_TCP_FAULT_ACCEPT_START) ? -ENOMEM :
		      puma_tcp_conn_start(c);
	if (err) {
		/*
		 * A refused end got no callbacks.  An accepted one whose
		 * thread did not start tells its user it is gone.
		 */
		puma_transport_deliver_disconnect(&c->conn, err);
		puma_tcp_count(PUMA_TCP_STAT_REFUSED, 1);
		puma_tcp_conn_abort(c);
		return;
	}
	puma_tcp_count(PUMA_TCP_STAT_ACCEPTS, 1);
}

static int puma_tcp_listener_thread(void *data)
{
	struct puma_tcp_listener *l = data;
	struct socket *sock;
	int err;

	while (!kthread_should_stop()) {
		err = kernel_accept(l->sock, &sock, 0);
		if (err == -EAGAIN || err == -EINTR || err == -ERESTARTSYS)
			continue;
		if (err) {
			/* Shut down by close, or short of memory: retry. */
			if (!kthread_should_stop())
				schedule_timeout_interruptible(PUMA_TCP_ACCEPT_POLL);
			continue;
		}
		puma_tcp_accept_one(l, sock);
	}
	return 0;
}

static struct puma_transport_listener *
puma_tcp_listen(struct puma_transport *t, const char *addr,
		const struct puma_transport_listener_ops *ops, void *priv)
{
	struct puma_tcp_listener *l;
	int err;

	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return ERR_PTR(-ENOMEM);
	kref_init(&l->ref);
	mutex_init(&l->accept_lock);
	err = puma_tcp_parse_addr(addr, &l->addr);
	if (err)
		goto free;
	err = puma_tcp_sock_create(&l->addr, &l->sock);
	if (err)
		goto free;
	sock_set_reuseaddr(l->sock->sk);
	ip_sock_set_freebind(l->sock->sk);
	/* accept() wakes this often to see whether it must stop. */
	WRITE_ONCE(l->sock->sk->sk_rcvtimeo, PUMA_TCP_ACCEPT_POLL);
	err = kernel_bind(l->sock, (struct sockaddr *)&l->addr,
			  puma_tcp_addr_len(&l->addr));
	if (!err)
		err = kernel_listen(l->sock, PUMA_TCP_BACKLOG);
	if (err)
		goto release;

	puma_transport_listener_init(&l->listener, t, ops, priv);
	l->task = kthread_create(puma_tcp_listener_thread, l, "puma_tcp_listen");
	if (IS_ERR(l->task)) {
		err = PTR_ERR(l->task);
		goto release;
	}
	get_task_struct(l->task);
	wake_up_process(l->task);
	return &l->listener;

release:
	sock_release(l->sock);
free:
	kfree(l);
	return ERR_PTR(err);
}

static void puma_tcp_listener_close(struct puma_transport_listener *listener)
{
	struct puma_tcp_listener *l = to_puma_tcp_listener(listener);

	/*
	 * No accept callback after this: receive threads of ends still in
	 * their handshake see closing, and the listener thread is stopped,
	 * which waits for a callback in flight, at most one poll period.
	 */
	mutex_lock(&l->accept_lock);
	l->closing = true;
	mutex_unlock(&l->accept_lock);
	kthread_stop(l->task);
	put_task_struct(l->task);
	sock_release(l->sock);
	kref_put(&l->ref, puma_tcp_listener_release);
}

static const struct puma_transport_ops puma_tcp_ops = {
	.listen		= puma_tcp_listen,
	.listener_close	= puma_tcp_listener_close,
	.connect	= puma_tcp_connect,
	.send		= puma_tcp_send,
	.disconnect	= puma_tcp_disconnect,
	.release	= puma_tcp_release,
};

static struct puma_transport puma_tcp_transport = {
	.name	= "tcp",
	.owner	= THIS_MODULE,
	.ops	= &puma_tcp_ops,
};

static int puma_tcp_stats_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < PUMA_TCP_STAT_NR; i++)
		seq_printf(m, "%s %ld\n", puma_tcp_stat_names[i],
			   atomic_long_read(&puma_tcp_stats[i]));
	seq_printf(m, "sec_handshakes %lld\n",
		   atomic64_read(&puma_tcp_sec_stats.handshakes));
	for (i = 0; i < PUMA_SEC_REJ_NR; i++)
		seq_printf(m, "sec_rejected_%s %lld\n", puma_sec_reject_name(i),
			   atomic64_read(&puma_tcp_sec_stats.rejected[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(puma_tcp_stats);

static int __init puma_tcp_init(void)
{
	int err;

	/* Reclaim may wait on a cache that talks over this transport. */
	puma_tcp_wq = alloc_workqueue("puma_tcp", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!puma_tcp_wq)
		return -ENOMEM;
	err = puma_transport_register(&puma_tcp_transport);
	if (err) {
		destroy_workqueue(puma_tcp_wq);
		return err;
	}
	puma_tcp_debugfs = debugfs_create_dir("puma_tcp", NULL);
	debugfs_create_file("stats", 0444, puma_tcp_debugfs, NULL, &puma_tcp_stats_fops);
	return 0;
}

static void __exit puma_tcp_exit(void)
{
	debugfs_remove_recursive(puma_tcp_debugfs);
	/*
	 * Connections and listeners pin this module, and receive threads
	 * hold a module reference until they exit, so none is left; work
	 * items may still be returning from their final put.
	 */
	WARN_ON(puma_transport_unregister(&puma_tcp_transport));
	destroy_workqueue(puma_tcp_wq);
}

module_init(puma_tcp_init);
module_exit(puma_tcp_exit);

MODULE_ALIAS("puma-transport-tcp");
MODULE_IMPORT_NS(PUMA);
MODULE_DESCRIPTION("PUMA TCP transport");
MODULE_LICENSE("GPL");
