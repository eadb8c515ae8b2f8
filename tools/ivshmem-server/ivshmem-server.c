// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-server - a small implementation of QEMU's ivshmem server.
 *
 * QEMU's "ivshmem-doorbell" PCI device gets its shared memory and its
 * interrupt eventfds from a server on a UNIX socket (QEMU's
 * docs/specs/ivshmem-spec.rst, "Client-Server Protocol").  QEMU has such a
 * server in contrib/ivshmem-server/, but Debian does not ship it, so the
 * VM rig (scripts/vm/) uses this one for co-located VMs: one server per
 * group of VMs, started before them, and each VM given (run-vm.sh
 * --qemu-arg)
 *
 *   -chardev socket,path=SOCK,id=ivsh
 *   -device ivshmem-doorbell,chardev=ivsh,vectors=N
 *
 * Every VM then maps the same memory as its BAR2 and can ring another
 * VM's doorbell (what the virtio-over-ivshmem transport runs on).  The
 * server is ready when the pid file exists (or the socket does).
 *
 *   ivshmem-server -S SOCK -m SHMFILE [-l SIZE] [-n VECTORS] [-p PIDFILE]
 *                  [-v] [--max-peers N] [--send-timeout-ms MS]
 *
 * Built by tools/ivshmem-server/Makefile; test.sh is its self test.
 *
 * The protocol.  Every message is a little-endian int64, optionally with
 * one file descriptor attached (SCM_RIGHTS).  On a new connection the
 * server sends the new peer, in this order:
 *
 *   1. the protocol version, 0, no fd;
 *   2. the peer's own ID, no fd (0, 1, ... in order of arrival; see
 *      --reuse-ids);
 *   3. -1 with the shared memory fd;
 *   4. for every other peer, N messages (its ID, its eventfd for vector
 *      0 .. N-1);
 *   5. N messages (its own ID, its own eventfd for vector 0 .. N-1);
 *
 * then every other peer gets N messages (the new ID, the new peer's
 * eventfd for vector 0 .. N-1).  When a peer disconnects, every remaining
 * peer gets its ID without an fd ("peer gone"), and the server closes the
 * gone peer's eventfds.  Clients never send anything: any data from a
 * client, or its hangup, ends it.
 *
 * The shared memory is the file --shm (e.g. /dev/shm/NAME), created if
 * needed and sized to --size with ftruncate(); it is kept at exit.  SIZE
 * must be a power of two (QEMU maps it as a PCI BAR).
 *
 * Robustness: one thread, poll(), every send with MSG_NOSIGNAL and a send
 * timeout (--send-timeout-ms, default 2000): a peer that hangs up or stops reading mid-way
 * is dropped (and announced gone if the others knew it), never the server.
 * At most --max-peers peers (default 16); a connection beyond that is
 * closed at once.  SIGTERM, SIGINT and SIGHUP end the server cleanly: the
 * socket and the pid file are removed.  --foreground is accepted for
 * compatibility with QEMU's server; it is the only mode.
 *
 * --debug-skip-msg K (tests only) silently drops the K-th message the
 * server would send (counting from 1 over its whole life), to check that
 * test.sh notices a missing message.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define PROTOCOL_VERSION	0
#define MAX_VECTORS		64
#define MAX_PEERS_LIMIT		64	/* upper bound of --max-peers */
/* IDs 0 .. MAX_PEER_ID - 1: the doorbell register has 16 bits for one. */
#define MAX_PEER_ID		65535
#define DEF_MAX_PEERS		16
#define DEF_SIZE		(4ULL << 20)
#define MIN_SIZE		4096ULL
#define MAX_SIZE		(1ULL << 40)
#define DEF_SEND_TIMEOUT_MS	2000
#define LISTEN_BACKLOG		16

struct peer {
	bool used;
	bool dead;		/* hung up or a send failed: reap_dead() ends it */
	bool announced;		/* the other peers got its eventfds */
	int sock;
	int64_t id;		/* with --reuse-ids, its index in srv.peers */
	int efd[MAX_VECTORS];
};

static struct {
	const char *sock_path;
	const char *shm_path;
	const char *pidfile;
	uint64_t size;
	unsigned int vectors;
	unsigned int max_peers;
	unsigned int send_timeout_ms;
	bool verbose;
	bool reuse_ids;			/* --reuse-ids: the lowest free ID */
	int64_t next_id;		/* else: the next ID to give */
	unsigned long skip_msg;		/* --debug-skip-msg, 0: none */
	unsigned long msg_count;	/* messages sent (or skipped) so far */
	int listen_fd;
	int shm_fd;
	int sig_fd;
	bool sock_created;
	bool pidfile_created;
	unsigned int npeers;
	struct peer peers[MAX_PEERS_LIMIT];
} srv = {
	.size = DEF_SIZE,
	.vectors = 1,
	.max_peers = DEF_MAX_PEERS,
	.send_timeout_ms = DEF_SEND_TIMEOUT_MS,
	.listen_fd = -1,
	.shm_fd = -1,
	.sig_fd = -1,
};

static const char *prog = "ivshmem-server";

__attribute__((format(printf, 1, 2)))
static void info(const char *fmt, ...)
{
	va_list ap;

	if (!srv.verbose)
		return;
	printf("%s: ", prog);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

__attribute__((format(printf, 1, 2)))
static void err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s -S SOCK -m SHMFILE [options]\n"
		"  -S, --socket PATH     UNIX socket to listen on (required)\n"
		"  -m, --shm PATH        shared memory file, e.g. /dev/shm/NAME (required;\n"
		"                        created if missing, resized to SIZE, kept at exit)\n"
		"  -l, --size SIZE       shared memory size, a power of two, suffix K, M or G\n"
		"                        (default 4M)\n"
		"  -n, --vectors N       interrupt vectors (eventfds) per peer, 1..%d\n"
		"                        (default 1; give QEMU the same vectors=N)\n"
		"      --max-peers N     peers served at once, 1..%d (default %d);\n"
		"                        more connections are closed at once\n"
		"      --send-timeout-ms MS  drop a peer that does not take a message\n"
		"                        within MS ms (default %d)\n"
		"  -F, --foreground      accepted; the server never daemonizes\n"
		"  -p, --pidfile FILE    write the process id there once listening\n"
		"  -v, --verbose         log connections and every message on stdout\n"
		"      --reuse-ids       give a new peer the lowest free ID (QEMU 7.2\n"
		"                        then writes into freed memory: tests only)\n"
		"      --debug-skip-msg K  (tests) drop the K-th message sent\n"
		"  -h, --help\n",
		prog, MAX_VECTORS, MAX_PEERS_LIMIT, DEF_MAX_PEERS,
		DEF_SEND_TIMEOUT_MS);
}

static bool parse_ulong(const char *s, unsigned long min, unsigned long max,
			unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "4194304", "64K", "4M", "1G" (binary units) */
static bool parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		shift = 10;
		end++;
		break;
	case 'm': case 'M':
		shift = 20;
		end++;
		break;
	case 'g': case 'G':
		shift = 30;
		end++;
		break;
	default:
		return false;
	}
	if (*end || v > (MAX_SIZE >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

/*
 * Send one message to @p; @fd < 0: none attached.  A failure marks the
 * peer dead (the caller goes on; reap_dead() ends it later) and is
 * returned as -1.  Sending to a dead peer does nothing.
 */
static int send_msg(struct peer *p, int64_t val, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	uint64_t le = htole64((uint64_t)val);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	if (p->dead)
		return -1;
	srv.msg_count++;
	if (srv.skip_msg && srv.msg_count == srv.skip_msg) {
		info("msg #%lu to peer %" PRId64 ": %" PRId64 " fd %d SKIPPED (--debug-skip-msg)",
		     srv.msg_count, p->id, val, fd);
		return 0;
	}
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do
		n = sendmsg(p->sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(le)) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			err("peer %" PRId64 ": send timed out after %u ms (not reading?), dropping it",
			    p->id, srv.send_timeout_ms);
		else if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			info("peer %" PRId64 " hung up (send: %s)",
			     p->id, strerror(errno));
		else if (n < 0)
			err("peer %" PRId64 ": send: %s, dropping it",
			    p->id, strerror(errno));
		else
			err("peer %" PRId64 ": short send (%zd of %zu bytes), dropping it",
			    p->id, n, sizeof(le));
		p->dead = true;
		return -1;
	}
	info("msg #%lu to peer %" PRId64 ": %" PRId64 "%s",
	     srv.msg_count, p->id, val, fd >= 0 ? " + fd" : "");
	return 0;
}

static void close_peer_fds(struct peer *p)
{
	unsigned int v;

	if (close(p->sock))
		err("peer %" PRId64 ": close(socket): %s", p->id, strerror(errno));
	for (v = 0; v < srv.vectors; v++)
		if (p->efd[v] >= 0 && close(p->efd[v]))
			err("peer %" PRId64 ": close(eventfd): %s",
			    p->id, strerror(errno));
}

/* End every dead peer; telling the others may find more dead ones. */
static void reap_dead(void)
{
	unsigned int i, j;
	bool again;

	do {
		again = false;
		for (i = 0; i < srv.max_peers; i++) {
			struct peer *p = &srv.peers[i];

			if (!p->used || !p->dead)
				continue;
			p->used = false;
			srv.npeers--;
			if (p->announced)
				for (j = 0; j < srv.max_peers; j++)
					if (srv.peers[j].used)
						send_msg(&srv.peers[j], p->id, -1);
			close_peer_fds(p);
			info("peer %" PRId64 " gone, %u peer(s) left",
			     p->id, srv.npeers);
			again = true;
		}
	} while (again);
}

/*
 * IDs count up, as QEMU's own server gives them, and skip those in use; a
 * gone peer's ID comes back only after 65535 others.  QEMU 7.2 frees a
 * gone peer's eventfd array but keeps the pointer (close_peer_eventfds()
 * in hw/misc/ivshmem.c), so a new peer under the same ID makes it write
 * into freed memory: a VM whose peer was killed and booted again
 * crashed with "malloc(): unaligned fastbin chunk detected".
 */
static int64_t new_peer_id(void)
{
	for (;;) {
		int64_t id = srv.next_id;
		unsigned int i;
		bool used = false;

		srv.next_id = (srv.next_id + 1) % MAX_PEER_ID;
		for (i = 0; i < srv.max_peers; i++)
			used |= srv.peers[i].used && srv.peers[i].id == id;
		if (!used)
			return id;
	}
}

static void new_connection(void)
{
	struct timeval tv = {
		.tv_sec = srv.send_timeout_ms / 1000,
		.tv_usec = (srv.send_timeout_ms % 1000) * 1000,
	};
	struct peer *p = NULL;
	unsigned int i, v;
	int fd;

	fd = accept4(srv.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			err("accept: %s", strerror(errno));
		return;
	}
	if (srv.npeers >= srv.max_peers) {
		err("refusing a connection: %u peers already (--max-peers)",
		    srv.npeers);
		if (close(fd))
			err("close: %s", strerror(errno));
		return;
	}
	for (i = 0; i < srv.max_peers; i++) {
		if (!srv.peers[i].used) {
			p = &srv.peers[i];
			break;
		}
	}
	if (!p) {	/* cannot happen: npeers < max_peers */
		err("no free peer slot");
		close(fd);
		return;
	}
	memset(p, 0, sizeof(*p));
	p->id = srv.reuse_ids ? i : new_peer_id();
	p->sock = fd;
	for (v = 0; v < MAX_VECTORS; v++)
		p->efd[v] = -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		err("setsockopt(SO_SNDTIMEO): %s", strerror(errno));
	for (v = 0; v < srv.vectors; v++) {
		p->efd[v] = eventfd(0, EFD_CLOEXEC);
		if (p->efd[v] < 0) {
			err("eventfd: %s; refusing the connection",
			    strerror(errno));
			close_peer_fds(p);
			return;
		}
	}
	p->used = true;
	srv.npeers++;
	info("peer %" PRId64 " connected (socket fd %d), %u peer(s)",
	     p->id, fd, srv.npeers);

	/* version, ID, shared memory */
	send_msg(p, PROTOCOL_VERSION, -1);
	send_msg(p, p->id, -1);
	send_msg(p, -1, srv.shm_fd);
	/* the others' eventfds, then its own */
	for (i = 0; i < srv.max_peers; i++) {
		struct peer *q = &srv.peers[i];

		if (!q->used || q == p || q->dead)
			continue;
		for (v = 0; v < srv.vectors; v++)
			send_msg(p, q->id, q->efd[v]);
	}
	for (v = 0; v < srv.vectors; v++)
		send_msg(p, p->id, p->efd[v]);

	/* announce it to the others, if it is still there */
	if (!p->dead) {
		for (i = 0; i < srv.max_peers; i++) {
			struct peer *q = &srv.peers[i];

			if (!q->used || q == p)
				continue;
			for (v = 0; v < srv.vectors; v++)
				send_msg(q, p->id, p->efd[v]);
		}
		p->announced = true;
		info("peer %" PRId64 " has its %u eventfd(s) and the shared memory",
		     p->id, srv.vectors);
	}
	reap_dead();
}

/* @p's socket is readable or hung up: clients never send, so it ends. */
static void peer_event(struct peer *p, short revents)
{
	char buf[64];
	ssize_t n;

	if (revents & POLLIN) {
		n = recv(p->sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			      errno == EINTR))
			return;
		if (n > 0)
			err("peer %" PRId64 ": sent %zd unexpected byte(s), dropping it",
			    p->id, n);
		else if (n < 0 && errno == ECONNRESET)
			info("peer %" PRId64 " disconnected (reset)", p->id);
		else if (n < 0)
			err("peer %" PRId64 ": recv: %s, dropping it",
			    p->id, strerror(errno));
		else
			info("peer %" PRId64 " disconnected", p->id);
	} else if (revents & POLLNVAL) {
		err("peer %" PRId64 ": socket fd invalid (bug), dropping it",
		    p->id);
	} else {
		info("peer %" PRId64 " disconnected (%s)", p->id,
		     revents & POLLERR ? "error" : "hangup");
	}
	p->dead = true;
}

/* Remove a stale socket left by a dead server; refuse a live one. */
static int check_socket_path(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, ret;

	if (lstat(sun->sun_path, &st)) {
		if (errno == ENOENT)
			return 0;
		err("%s: %s", sun->sun_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		err("%s exists and is not a socket", sun->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err("socket: %s", strerror(errno));
		return -1;
	}
	ret = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (!ret) {
		err("%s: another server is listening there", sun->sun_path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		err("%s: connect: %s", sun->sun_path, strerror(errno));
		return -1;
	}
	info("removing stale socket %s", sun->sun_path);
	if (unlink(sun->sun_path)) {
		err("unlink %s: %s", sun->sun_path, strerror(errno));
		return -1;
	}
	return 0;
}

static int setup(void)
{
	unsigned long long need;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct rlimit rl;
	struct stat st;
	sigset_t mask;

	/* each peer holds a socket and its eventfds */
	need = (unsigned long long)srv.max_peers * (srv.vectors + 1) + 32;
	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		err("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
			err("%u peers x %u vectors need %llu file descriptors, the hard limit is %llu",
			    srv.max_peers, srv.vectors, need,
			    (unsigned long long)rl.rlim_max);
			return -1;
		}
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			err("setrlimit(RLIMIT_NOFILE, %llu): %s", need,
			    strerror(errno));
			return -1;
		}
	}

	/* signals: read through a signalfd in the poll loop */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		err("signal(SIGPIPE): %s", strerror(errno));
		return -1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		err("sigprocmask: %s", strerror(errno));
		return -1;
	}
	srv.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (srv.sig_fd < 0) {
		err("signalfd: %s", strerror(errno));
		return -1;
	}

	/* shared memory */
	srv.shm_fd = open(srv.shm_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (srv.shm_fd < 0) {
		err("open %s: %s", srv.shm_path, strerror(errno));
		return -1;
	}
	if (fstat(srv.shm_fd, &st)) {
		err("fstat %s: %s", srv.shm_path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		err("%s is not a regular file", srv.shm_path);
		return -1;
	}
	if ((uint64_t)st.st_size != srv.size &&
	    ftruncate(srv.shm_fd, (off_t)srv.size)) {
		err("ftruncate %s to %" PRIu64 " bytes: %s", srv.shm_path,
		    srv.size, strerror(errno));
		return -1;
	}
	info("shared memory %s, %" PRIu64 " bytes", srv.shm_path, srv.size);

	/* listening socket */
	if (strlen(srv.sock_path) >= sizeof(sun.sun_path)) {
		err("socket path too long (max %zu bytes): %s",
		    sizeof(sun.sun_path) - 1, srv.sock_path);
		return -1;
	}
	strcpy(sun.sun_path, srv.sock_path);
	if (check_socket_path(&sun))
		return -1;
	srv.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
			       SOCK_NONBLOCK, 0);
	if (srv.listen_fd < 0) {
		err("socket: %s", strerror(errno));
		return -1;
	}
	if (bind(srv.listen_fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err("bind %s: %s", srv.sock_path, strerror(errno));
		return -1;
	}
	srv.sock_created = true;
	if (listen(srv.listen_fd, LISTEN_BACKLOG)) {
		err("listen %s: %s", srv.sock_path, strerror(errno));
		return -1;
	}

	if (srv.pidfile) {
		FILE *f = fopen(srv.pidfile, "we");

		if (!f) {
			err("open %s: %s", srv.pidfile, strerror(errno));
			return -1;
		}
		srv.pidfile_created = true;
		fprintf(f, "%d\n", (int)getpid());
		if (fclose(f)) {
			err("write %s: %s", srv.pidfile, strerror(errno));
			return -1;
		}
	}
	info("listening on %s, %u vector(s), at most %u peers",
	     srv.sock_path, srv.vectors, srv.max_peers);
	return 0;
}

static void teardown(void)
{
	unsigned int i;

	for (i = 0; i < srv.max_peers; i++) {
		if (srv.peers[i].used) {
			close_peer_fds(&srv.peers[i]);
			srv.peers[i].used = false;
		}
	}
	srv.npeers = 0;
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	if (srv.sock_created && unlink(srv.sock_path))
		err("unlink %s: %s", srv.sock_path, strerror(errno));
	if (srv.pidfile_created && unlink(srv.pidfile))
		err("unlink %s: %s", srv.pidfile, strerror(errno));
	if (srv.shm_fd >= 0)
		close(srv.shm_fd);
	if (srv.sig_fd >= 0)
		close(srv.sig_fd);
}

/* Returns 0 on a terminating signal, -1 on an error. */
static int serve(void)
{
	struct pollfd pfd[2 + MAX_PEERS_LIMIT];
	struct peer *who[2 + MAX_PEERS_LIMIT];
	struct signalfd_siginfo si;
	unsigned int i, n;
	ssize_t r;

	for (;;) {
		n = 0;
		pfd[n++] = (struct pollfd){ .fd = srv.sig_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = srv.listen_fd, .events = POLLIN };
		for (i = 0; i < srv.max_peers; i++) {
			if (!srv.peers[i].used)
				continue;
			who[n] = &srv.peers[i];
			pfd[n++] = (struct pollfd){ .fd = srv.peers[i].sock,
						    .events = POLLIN };
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			err("poll: %s", strerror(errno));
			return -1;
		}
		if (pfd[0].revents) {
			r = read(srv.sig_fd, &si, sizeof(si));
			if (r == (ssize_t)sizeof(si)) {
				info("caught %s, exiting", strsignal(si.ssi_signo));
				return 0;
			}
			if (r < 0 && errno != EAGAIN && errno != EINTR) {
				err("read(signalfd): %s", strerror(errno));
				return -1;
			}
		}
		/* hangups first, so that their IDs are free for new peers */
		for (i = 2; i < n; i++)
			if (pfd[i].revents)
				peer_event(who[i], pfd[i].revents);
		reap_dead();
		if (pfd[1].revents & POLLIN) {
			new_connection();
		} else if (pfd[1].revents) {
			err("listening socket: poll revents 0x%x",
			    pfd[1].revents);
			return -1;
		}
	}
}

int main(int argc, char **argv)
{
	enum { OPT_MAX_PEERS = 256, OPT_SEND_TIMEOUT, OPT_SKIP, OPT_REUSE };
	static const struct option opts[] = {
		{ "socket",		required_argument,	NULL, 'S' },
		{ "shm",		required_argument,	NULL, 'm' },
		{ "size",		required_argument,	NULL, 'l' },
		{ "vectors",		required_argument,	NULL, 'n' },
		{ "max-peers",		required_argument,	NULL, OPT_MAX_PEERS },
		{ "send-timeout-ms",	required_argument,	NULL, OPT_SEND_TIMEOUT },
		{ "foreground",		no_argument,		NULL, 'F' },
		{ "pidfile",		required_argument,	NULL, 'p' },
		{ "verbose",		no_argument,		NULL, 'v' },
		{ "debug-skip-msg",	required_argument,	NULL, OPT_SKIP },
		{ "reuse-ids",		no_argument,		NULL, OPT_REUSE },
		{ "help",		no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long ul;
	int c, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "S:m:l:n:Fp:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			srv.sock_path = optarg;
			break;
		case 'm':
			srv.shm_path = optarg;
			break;
		case 'l':
			if (!parse_size(optarg, &srv.size) ||
			    srv.size < MIN_SIZE ||
			    (srv.size & (srv.size - 1))) {
				err("bad --size %s: need a power of two from 4K to 1024G (suffix K, M or G)",
				    optarg);
				return 2;
			}
			break;
		case 'n':
			if (!parse_ulong(optarg, 1, MAX_VECTORS, &ul)) {
				err("bad --vectors %s: need 1..%d", optarg,
				    MAX_VECTORS);
				return 2;
			}
			srv.vectors = ul;
			break;
		case OPT_MAX_PEERS:
			if (!parse_ulong(optarg, 1, MAX_PEERS_LIMIT, &ul)) {
				err("bad --max-peers %s: need 1..%d", optarg,
				    MAX_PEERS_LIMIT);
				return 2;
			}
			srv.max_peers = ul;
			break;
		case OPT_SEND_TIMEOUT:
			if (!parse_ulong(optarg, 1, 600000, &ul)) {
				err("bad --send-timeout-ms %s: need 1..600000",
				    optarg);
				return 2;
			}
			srv.send_timeout_ms = ul;
			break;
		case 'F':
			break;
		case 'p':
			srv.pidfile = optarg;
			break;
		case 'v':
			srv.verbose = true;
			break;
		case OPT_REUSE:
			srv.reuse_ids = true;
			break;
		case OPT_SKIP:
			if (!parse_ulong(optarg, 1, ULONG_MAX, &ul)) {
				err("bad --debug-skip-msg %s", optarg);
				return 2;
			}
			srv.skip_msg = ul;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		err("unexpected argument: %s", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!srv.sock_path || !srv.shm_path) {
		err("--socket and --shm are required");
		usage(stderr);
		return 2;
	}

	ret = setup() ? 1 : serve() ? 1 : 0;
	teardown();
	return ret;
}
