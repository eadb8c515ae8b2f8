// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-client-test - test client for ivshmem-server (test.sh runs it).
 *
 * It connects to the server the way QEMU's ivshmem-doorbell device does,
 * receives the messages with recvmsg()/SCM_RIGHTS and checks each one
 * against the protocol (see the header of ivshmem-server.c).  Every
 * check prints "ok N - what"; the first failed check prints "FAIL: ..."
 * and exits 1.
 *
 *   ivshmem-client-test MODE -S SOCK -n VECTORS -l SIZE [options]
 *
 *   scenario   (needs a fresh server started with --max-peers M)
 *              A gets version 0, ID 0, the shm fd (right size, mmap, a
 *              magic written by A is seen by B and back), its eventfds;
 *              B (ID 1) learns A's eventfds and A learns B's; a doorbell
 *              (uint64 written to a copy of a peer's eventfd, as QEMU
 *              does) is read on the other side, on the right vector only;
 *              A leaves: B gets "peer 0 gone"; C reuses ID 0; peers up to
 *              M, the next connection is closed at once; a peer in the
 *              middle leaves, all the others hear of it, its ID is reused.
 *   abrupt     connections that hang up before, during and after the
 *              server's messages, with and without another peer present;
 *              the server must go on serving.
 *   stall      a peer that never reads while others come and go: the
 *              server must drop it (--send-timeout-ms) and go on serving.
 *   probe      one peer, for the QEMU check: --expect-id I, --peers LIST
 *              (IDs, comma separated, that must be announced), rings each
 *              peer's vectors and, with --expect-consumed, checks that
 *              the peer consumed the doorbell (QEMU reads its eventfd);
 *              prints "probe: ready"; --wait-gone P then waits for
 *              "peer P gone".
 *
 *   --max-peers M (scenario, default 16), --timeout-ms T (wait for one
 *   message, default 1000).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_VECTORS	64
#define MAX_IDS		64
#define QUIET_MS	30	/* "no message pending" means none within this */
#define MAGIC_A		0x4d48535649414d50ULL	/* "PMAIVSHM" */
#define MAGIC_B		0x424d485356494250ULL

struct client {
	char name[16];
	int sock;
	int64_t id;
	int shm_fd;
	volatile uint64_t *shm;
	int own[MAX_VECTORS];
	int peer_fd[MAX_IDS][MAX_VECTORS];	/* copies of the others' */
	unsigned int peer_nfd[MAX_IDS];
	int64_t order[MAX_IDS];			/* peers in announced order */
	unsigned int norder;
};

static const char *sock_path;
static unsigned int vectors = 1;
static uint64_t shm_size = 4ULL << 20;
static unsigned int max_peers = 16;
static int timeout_ms = 1000;
static unsigned int nok;

__attribute__((format(printf, 1, 2), noreturn))
static void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

__attribute__((format(printf, 1, 2)))
static void ok(const char *fmt, ...)
{
	va_list ap;

	printf("ok %u - ", ++nok);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void client_init(struct client *c, const char *name)
{
	unsigned int i, v;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->sock = -1;
	c->id = -1;
	c->shm_fd = -1;
	for (v = 0; v < MAX_VECTORS; v++)
		c->own[v] = -1;
	for (i = 0; i < MAX_IDS; i++)
		for (v = 0; v < MAX_VECTORS; v++)
			c->peer_fd[i][v] = -1;
}

static void do_connect(struct client *c)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (strlen(sock_path) >= sizeof(sun.sun_path))
		fail("socket path too long: %s", sock_path);
	strcpy(sun.sun_path, sock_path);
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->sock < 0)
		fail("%s: socket: %s", c->name, strerror(errno));
	if (connect(c->sock, (struct sockaddr *)&sun, sizeof(sun)))
		fail("%s: connect %s: %s", c->name, sock_path, strerror(errno));
}

static void xclose(int fd)
{
	if (fd >= 0 && close(fd))
		fail("close(%d): %s", fd, strerror(errno));
}

static void forget_peer(struct client *c, int64_t id)
{
	unsigned int v, i;

	for (v = 0; v < MAX_VECTORS; v++) {
		xclose(c->peer_fd[id][v]);
		c->peer_fd[id][v] = -1;
	}
	c->peer_nfd[id] = 0;
	for (i = 0; i < c->norder; i++) {
		if (c->order[i] == id) {
			memmove(&c->order[i], &c->order[i + 1],
				(c->norder - i - 1) * sizeof(c->order[0]));
			c->norder--;
			break;
		}
	}
}

static void client_close(struct client *c)
{
	char name[sizeof(c->name)];
	unsigned int v;
	int64_t i;

	xclose(c->sock);
	xclose(c->shm_fd);
	if (c->shm && munmap((void *)c->shm, shm_size))
		fail("munmap: %s", strerror(errno));
	for (v = 0; v < MAX_VECTORS; v++)
		xclose(c->own[v]);
	for (i = 0; i < MAX_IDS; i++)
		forget_peer(c, i);
	memcpy(name, c->name, sizeof(name));
	client_init(c, name);
}

/*
 * Receive one message within @ms: 1 and *val, *fd (-1: none); 0 on EOF
 * before any byte; -1 on timeout.  Exactly 8 bytes are read, at most one
 * fd may come with them.
 */
static int recv_msg_ms(struct client *c, int64_t *val, int *fd, int ms)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
	unsigned char buf[8];
	size_t got = 0;
	int r;

	*fd = -1;
	*val = 0;
	while (got < sizeof(buf)) {
		struct iovec iov = { buf + got, sizeof(buf) - got };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		struct cmsghdr *cmsg;
		ssize_t n;

		r = poll(&pfd, 1, ms);
		if (r < 0)
			fail("%s: poll: %s", c->name, strerror(errno));
		if (r == 0) {
			if (got)
				fail("%s: timed out in the middle of a message (%zu of 8 bytes)",
				     c->name, got);
			return -1;
		}
		n = recvmsg(c->sock, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0)
			fail("%s: recvmsg: %s", c->name, strerror(errno));
		if (n == 0) {
			if (got)
				fail("%s: EOF in the middle of a message", c->name);
			return 0;
		}
		if (msg.msg_flags & MSG_CTRUNC)
			fail("%s: control data truncated (too many fds?)", c->name);
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg;
		     cmsg = CMSG_NXTHDR(&msg, cmsg)) {
			size_t nfd;

			if (cmsg->cmsg_level != SOL_SOCKET ||
			    cmsg->cmsg_type != SCM_RIGHTS)
				fail("%s: unexpected control message %d/%d",
				     c->name, cmsg->cmsg_level, cmsg->cmsg_type);
			nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (nfd != 1 || *fd >= 0)
				fail("%s: %zu more fd(s) with one message, want at most 1",
				     c->name, nfd);
			memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
		}
		got += n;
	}
	memcpy(val, buf, sizeof(*val));
	*val = (int64_t)le64toh((uint64_t)*val);
	return 1;
}

static void recv_msg(struct client *c, int64_t *val, int *fd, const char *what)
{
	int r = recv_msg_ms(c, val, fd, timeout_ms);

	if (r < 0)
		fail("%s: no message within %d ms, waiting for %s",
		     c->name, timeout_ms, what);
	if (r == 0)
		fail("%s: server closed the connection, waiting for %s",
		     c->name, what);
}

/* The next message must be @want, with an fd iff @with_fd; returns it. */
static int expect_msg(struct client *c, int64_t want, bool with_fd,
		      const char *what)
{
	int64_t val;
	int fd;

	recv_msg(c, &val, &fd, what);
	if (val != want || (fd >= 0) != with_fd)
		fail("%s: expected %s: %" PRId64 " %s, got %" PRId64 " %s",
		     c->name, what, want, with_fd ? "with an fd" : "without fd",
		     val, fd >= 0 ? "with an fd" : "without fd");
	return fd;
}

static void expect_quiet_ms(struct client *c, int ms)
{
	int64_t val;
	int fd, r;

	r = recv_msg_ms(c, &val, &fd, ms);
	if (r > 0)
		fail("%s: unexpected message %" PRId64 " %s", c->name, val,
		     fd >= 0 ? "with an fd" : "without fd");
	if (r == 0)
		fail("%s: unexpected EOF from the server", c->name);
}

static void expect_quiet(struct client *c)
{
	expect_quiet_ms(c, QUIET_MS);
}

/* expect_quiet() on all the connected clients of @cs[0 .. n - 1] at once */
static void expect_quiet_all(struct client *cs, unsigned int n)
{
	struct pollfd pfd[MAX_IDS + 1];
	unsigned int i, k = 0;

	for (i = 0; i < n && k < MAX_IDS + 1; i++)
		if (cs[i].sock >= 0)
			pfd[k++] = (struct pollfd){ .fd = cs[i].sock,
						    .events = POLLIN };
	if (poll(pfd, k, QUIET_MS) < 0)
		fail("poll: %s", strerror(errno));
	for (i = 0; i < n; i++)
		if (cs[i].sock >= 0)
			expect_quiet_ms(&cs[i], 0);
}

/* the server closes a refused connection without sending anything */
static void expect_eof(struct client *c)
{
	int64_t val;
	int fd, r;

	r = recv_msg_ms(c, &val, &fd, timeout_ms);
	if (r > 0)
		fail("%s: expected the connection closed, got message %" PRId64,
		     c->name, val);
	if (r < 0)
		fail("%s: expected the connection closed within %d ms",
		     c->name, timeout_ms);
}

/* N messages (@id, fd): @id's eventfds, vector 0 first */
static void expect_peer_fds(struct client *c, int64_t id, const char *what)
{
	char buf[96];
	unsigned int v;

	if (id < 0 || id >= MAX_IDS)
		fail("%s: peer ID %" PRId64 " out of range", c->name, id);
	if (c->peer_nfd[id])
		fail("%s: peer %" PRId64 " announced twice", c->name, id);
	for (v = 0; v < vectors; v++) {
		snprintf(buf, sizeof(buf), "%s (peer %" PRId64 " vector %u)",
			 what, id, v);
		c->peer_fd[id][v] = expect_msg(c, id, true, buf);
	}
	c->peer_nfd[id] = vectors;
	c->order[c->norder++] = id;
}

/*
 * Connect and go through the initial messages: version, ID (@want_id, or
 * any if < 0), shm, then the other peers (each with N fds, any IDs, kept
 * in c->order), then N own fds.
 */
static void handshake(struct client *c, int64_t want_id)
{
	struct stat st;
	unsigned int v;
	int64_t val;
	void *p;
	int fd;

	do_connect(c);
	expect_msg(c, 0, false, "protocol version 0");
	recv_msg(c, &val, &fd, "own ID");
	if (fd >= 0)
		fail("%s: own ID message came with an fd", c->name);
	if (val < 0 || val >= MAX_IDS)
		fail("%s: own ID %" PRId64 " out of range", c->name, val);
	if (want_id >= 0 && val != want_id)
		fail("%s: expected own ID %" PRId64 ", got %" PRId64,
		     c->name, want_id, val);
	c->id = val;
	c->shm_fd = expect_msg(c, -1, true, "shared memory (-1 with fd)");
	if (fstat(c->shm_fd, &st))
		fail("%s: fstat(shm): %s", c->name, strerror(errno));
	if ((uint64_t)st.st_size != shm_size)
		fail("%s: shm is %lld bytes, expected %" PRIu64, c->name,
		     (long long)st.st_size, shm_size);
	p = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 c->shm_fd, 0);
	if (p == MAP_FAILED)
		fail("%s: mmap(shm): %s", c->name, strerror(errno));
	c->shm = p;

	/* the others' eventfds until our own ID comes */
	for (;;) {
		recv_msg(c, &val, &fd, "a peer's or own eventfd");
		if (fd < 0)
			fail("%s: message %" PRId64 " without fd during the handshake",
			     c->name, val);
		if (val == c->id)
			break;
		if (val < 0 || val >= MAX_IDS || c->peer_nfd[val])
			fail("%s: bad or repeated peer ID %" PRId64,
			     c->name, val);
		c->peer_fd[val][0] = fd;
		for (v = 1; v < vectors; v++)
			c->peer_fd[val][v] = expect_msg(c, val, true,
							"next vector of the same peer");
		c->peer_nfd[val] = vectors;
		c->order[c->norder++] = val;
	}
	c->own[0] = fd;
	for (v = 1; v < vectors; v++)
		c->own[v] = expect_msg(c, c->id, true, "own eventfd");
}

static void check_peers(struct client *c, const int64_t *want, unsigned int n)
{
	unsigned int i;

	if (c->norder != n)
		fail("%s: %u peer(s) announced, expected %u", c->name,
		     c->norder, n);
	for (i = 0; i < n; i++)
		if (c->order[i] != want[i])
			fail("%s: announced peer #%u is %" PRId64 ", expected %" PRId64,
			     c->name, i, c->order[i], want[i]);
}

static bool fd_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r = poll(&pfd, 1, ms);

	if (r < 0)
		fail("poll(eventfd): %s", strerror(errno));
	return r > 0;
}

static void efd_write(int fd, uint64_t v)
{
	if (write(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		fail("write(eventfd): %s", strerror(errno));
}

static uint64_t efd_read(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		fail("read(eventfd): %s", strerror(errno));
	return v;
}

/*
 * @from rings @to's vector v with value base + v through its copy of
 * @to's eventfds; @to must read exactly that on its own fd for vector v,
 * and nothing must be pending on @from's own fds.
 */
static void doorbell(struct client *from, struct client *to, uint64_t base)
{
	unsigned int v;
	uint64_t got;

	for (v = 0; v < vectors; v++) {
		if (from->peer_fd[to->id][v] < 0)
			fail("%s has no fd for %s's vector %u", from->name,
			     to->name, v);
		efd_write(from->peer_fd[to->id][v], base + v);
	}
	for (v = 0; v < vectors; v++) {
		if (!fd_readable(to->own[v], timeout_ms))
			fail("%s: doorbell on vector %u not received", to->name, v);
		got = efd_read(to->own[v]);
		if (got != base + v)
			fail("%s: vector %u read %" PRIu64 ", expected %" PRIu64 " (vectors mixed up?)",
			     to->name, v, got, base + v);
	}
	for (v = 0; v < vectors; v++)
		if (fd_readable(from->own[v], 0))
			fail("%s: its own vector %u fired when it rang %s",
			     from->name, v, to->name);
	ok("doorbell %s -> %s: each of %u vector(s) read back the value written",
	   from->name, to->name, vectors);
}

/* every client in @cs but @skip gets @id's fds */
static void expect_announce(struct client *cs, unsigned int n,
			    const struct client *skip, int64_t id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (cs[i].sock >= 0 && &cs[i] != skip)
			expect_peer_fds(&cs[i], id, "announcement of a new peer");
}

static void expect_gone(struct client *c, int64_t id)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "peer %" PRId64 " gone (no fd)", id);
	expect_msg(c, id, false, buf);
	forget_peer(c, id);
}

static int scenario(void)
{
	static struct client cl[MAX_IDS + 1];
	struct client *a = &cl[0], *b = &cl[1], *c = &cl[2], *x;
	char name[16];
	unsigned int i, j, n;
	int64_t want[MAX_IDS] = { 0 };

	if (max_peers < 2 || max_peers > MAX_IDS)
		fail("scenario needs --max-peers 2..%d", MAX_IDS);
	for (i = 0; i <= MAX_IDS; i++) {
		snprintf(name, sizeof(name), "client%u", i);
		client_init(&cl[i], name);
	}
	snprintf(a->name, sizeof(a->name), "A");
	snprintf(b->name, sizeof(b->name), "B");
	snprintf(c->name, sizeof(c->name), "C");

	handshake(a, 0);
	check_peers(a, NULL, 0);
	expect_quiet(a);
	ok("A: version 0, ID 0, shm fd of %" PRIu64 " bytes mapped, %u own eventfd(s), no peers",
	   shm_size, vectors);

	a->shm[0] = MAGIC_A;
	a->shm[shm_size / 8 - 1] = ~MAGIC_A;

	handshake(b, 1);
	want[0] = 0;
	check_peers(b, want, 1);
	ok("B: version 0, ID 1, shm fd, A's %u eventfd(s) then its own", vectors);
	expect_peer_fds(a, 1, "B's announcement");
	expect_quiet(a);
	expect_quiet(b);
	ok("A: got B's %u eventfd(s), nothing else", vectors);

	if (b->shm[0] != MAGIC_A || b->shm[shm_size / 8 - 1] != ~MAGIC_A)
		fail("B: shm does not show A's magic (got 0x%" PRIx64 ")",
		     b->shm[0]);
	b->shm[1] = MAGIC_B;
	if (a->shm[1] != MAGIC_B)
		fail("A: shm does not show B's magic");
	ok("shared memory: B sees A's magic (first and last word), A sees B's");

	doorbell(b, a, 0x100);
	doorbell(a, b, 0x200);

	client_close(a);
	expect_gone(b, 0);
	expect_quiet(b);
	ok("A left: B got \"peer 0 gone\" (ID 0 without fd)");

	handshake(c, 0);
	want[0] = 1;
	check_peers(c, want, 1);
	expect_peer_fds(b, 0, "C's announcement");
	ok("C got the freed ID 0 and B's eventfds; B got C's");
	if (c->shm[1] != MAGIC_B)
		fail("C: shm does not show B's magic");
	doorbell(c, b, 0x300);
	doorbell(b, c, 0x400);

	/* fill up: IDs 2 .. max_peers - 1 */
	for (i = 2; i < max_peers; i++) {
		x = &cl[i + 1];
		handshake(x, i);
		for (j = 0; j < i; j++)
			want[j] = j;
		check_peers(x, want, i);
		expect_announce(cl, max_peers + 1, x, i);
	}
	expect_quiet_all(cl, max_peers + 1);
	ok("%u peers: each new one got IDs 0..%u's eventfds in order, the others its own",
	   max_peers, max_peers - 1);
	if (max_peers > 2)
		doorbell(&cl[max_peers], c, 0x500);

	x = &cl[MAX_IDS];
	snprintf(x->name, sizeof(x->name), "extra");
	do_connect(x);
	expect_eof(x);
	client_close(x);
	expect_quiet_all(cl, max_peers + 1);
	ok("connection %u (beyond --max-peers %u) closed at once, the others got nothing",
	   max_peers + 1, max_peers);

	/* B (ID 1) leaves: all the others hear it; a new peer gets ID 1 */
	client_close(b);
	n = 0;
	for (i = 0; i <= max_peers; i++) {
		if (cl[i].sock < 0)
			continue;
		expect_gone(&cl[i], 1);
		n++;
	}
	ok("B left: all %u others got \"peer 1 gone\"", n);
	snprintf(b->name, sizeof(b->name), "B2");
	handshake(b, 1);
	for (i = 0, j = 0; i < max_peers; i++)
		if (i != 1)
			want[j++] = i;
	check_peers(b, want, max_peers - 1);
	expect_announce(cl, max_peers + 1, b, 1);
	doorbell(b, c, 0x600);
	doorbell(c, b, 0x700);
	ok("B2 got the freed ID 1 and all %u others' eventfds", max_peers - 1);

	for (i = 0; i <= MAX_IDS; i++)
		if (cl[i].sock >= 0)
			client_close(&cl[i]);
	printf("scenario: all %u checks passed\n", nok);
	return 0;
}

/* connections that hang up at every stage */
static int abrupt(void)
{
	struct client h, x, p;
	unsigned int k, stage, nstage, heard;
	int64_t val;
	int fd, r;

	client_init(&h, "holder");
	client_init(&x, "abrupt");
	client_init(&p, "probe");

	/* alone: hang up before, during and after the initial messages */
	for (stage = 0; stage < 4; stage++) {
		for (k = 0; k < 3; k++) {
			do_connect(&x);
			/* version 0, ID 0, shm */
			for (r = 0; r < (int)stage; r++)
				xclose(expect_msg(&x, r == 2 ? -1 : 0, r == 2,
						  "initial message"));
			client_close(&x);
		}
	}
	ok("12 connections hung up after 0, 1, 2 and 3 messages");

	handshake(&h, 0);
	check_peers(&h, NULL, 0);
	ok("holder: ID 0 after them (all their IDs were freed)");

	/*
	 * With a peer present, hang up after 0, 1, 2 (ID), 3 (shm), 3 + N
	 * (the holder's fds) and 3 + 2N (all) messages.  The holder may hear
	 * of each (N fds, then "gone") or not, and all of that comes before
	 * the announcement of the probe, which gets the same ID 1.
	 */
	nstage = 0;
	for (stage = 0; stage < 6; stage++) {
		unsigned int upto = stage < 4 ? stage :
				    stage == 4 ? 3 + vectors : 3 + 2 * vectors;

		do_connect(&x);
		for (r = 0; r < (int)upto; r++)
			xclose(expect_msg(&x, r == 0 ? 0 : r == 1 ? 1 :
					  r == 2 ? -1 : r < 3 + (int)vectors ? 0 : 1,
					  r >= 2, "initial message"));
		client_close(&x);
		nstage++;
	}
	ok("%u connections hung up next to the holder, after 0 to %u messages",
	   nstage, 3 + 2 * vectors);

	handshake(&p, 1);
	{
		int64_t want = 0;

		check_peers(&p, &want, 1);
	}
	ok("server still serves: probe got ID 1 and the holder's eventfds");
	/* groups of N fds for ID 1: a hung-up one if "gone" follows */
	for (heard = 0;; heard++) {
		expect_peer_fds(&h, 1, "hung-up peer's or probe's eventfds");
		r = recv_msg_ms(&h, &val, &fd, QUIET_MS);
		if (r < 0)
			break;		/* the probe's */
		if (r == 0)
			fail("holder: server closed the connection");
		if (val != 1 || fd >= 0)
			fail("holder: expected \"peer 1 gone\" or nothing, got %" PRId64 " %s",
			     val, fd >= 0 ? "with an fd" : "without fd");
		forget_peer(&h, 1);
		if (heard >= nstage)
			fail("holder: heard of more peers than connected");
	}
	ok("holder: heard of %u of the %u hung-up peers (each: fds then \"gone\"), then of the probe",
	   heard, nstage);
	doorbell(&p, &h, 0x10);
	doorbell(&h, &p, 0x20);
	ok("server still serves: probe got ID 1 and the holder's eventfds");
	client_close(&p);
	expect_gone(&h, 1);
	client_close(&h);
	printf("abrupt: all %u checks passed\n", nok);
	return 0;
}

/* a peer that never reads while others come and go must be dropped */
static int stall(void)
{
	struct client s, p, q;
	unsigned int cycles;
	int64_t val;
	int fd, r;
	bool dropped = false;

	client_init(&s, "staller");
	client_init(&p, "cycler");
	client_init(&q, "last");
	do_connect(&s);		/* reads nothing at all */
	usleep(100 * 1000);
	for (cycles = 1; cycles <= 5000; cycles++) {
		/* ID 1 and peer 0 while the staller is there, then ID 0 alone */
		handshake(&p, -1);
		if (p.norder == 0 && p.id == 0) {
			dropped = true;
			break;
		}
		if (p.id != 1 || p.norder != 1 || p.order[0] != 0)
			fail("cycler: got ID %" PRId64 " and %u peer(s), expected ID 1 and peer 0",
			     p.id, p.norder);
		client_close(&p);
	}
	if (!dropped)
		fail("server did not drop a peer that never reads after %u cycles",
		     cycles - 1);
	ok("server dropped the peer that stopped reading after %u connect/disconnect cycles",
	   cycles);
	/* the staller finds what was sent before the drop, then EOF */
	for (r = 0;; r++) {
		int got = recv_msg_ms(&s, &val, &fd, timeout_ms);

		if (got < 0)
			fail("staller: no EOF after %d messages", r);
		if (!got)
			break;
		xclose(fd);
	}
	ok("staller: %d messages were queued, then EOF", r);
	handshake(&q, 1);
	check_peers(&q, &p.id, 1);
	expect_peer_fds(&p, 1, "announcement of the last peer");
	doorbell(&p, &q, 0x30);
	doorbell(&q, &p, 0x40);
	ok("server still serves after dropping the staller");
	client_close(&q);
	expect_gone(&p, 1);
	client_close(&p);
	client_close(&s);
	printf("stall: all %u checks passed\n", nok);
	return 0;
}

static int probe(int64_t want_id, const char *peers, bool consumed,
		 int64_t wait_gone, int wait_ms)
{
	struct client c;
	int64_t want[MAX_IDS] = { 0 };
	unsigned int n = 0, i, v;
	const char *s = peers;
	char *end;
	int64_t val;
	int fd, r, waited;

	while (s && *s) {
		if (n == MAX_IDS)
			fail("too many --peers");
		want[n++] = strtoll(s, &end, 10);
		if (end == s || (*end && *end != ','))
			fail("bad --peers %s", peers);
		s = *end ? end + 1 : end;
	}
	client_init(&c, "probe");
	handshake(&c, want_id);
	check_peers(&c, want, n);
	ok("probe: ID %" PRId64 ", shm of %" PRIu64 " bytes, %u peer(s) with %u eventfd(s) each",
	   c.id, shm_size, n, vectors);
	c.shm[0] = MAGIC_A;
	for (i = 0; i < n; i++) {
		for (v = 0; v < vectors; v++) {
			fd = c.peer_fd[want[i]][v];
			efd_write(fd, 1);
			if (!consumed)
				continue;
			for (waited = 0; fd_readable(fd, 0); waited += 10) {
				if (waited >= timeout_ms)
					fail("probe: peer %" PRId64 " did not consume the doorbell on vector %u",
					     want[i], v);
				usleep(10 * 1000);
			}
		}
	}
	ok("probe: rang each vector of each peer%s", consumed ?
	   "; each peer read its eventfd (consumed the doorbell)" : "");
	printf("probe: ready\n");
	fflush(stdout);
	if (wait_gone >= 0) {
		r = recv_msg_ms(&c, &val, &fd, wait_ms);
		if (r < 0)
			fail("probe: no message within %d ms, waiting for peer %" PRId64 " gone",
			     wait_ms, wait_gone);
		if (r == 0)
			fail("probe: server closed the connection");
		if (val != wait_gone || fd >= 0)
			fail("probe: expected \"peer %" PRId64 " gone\", got %" PRId64 " %s",
			     wait_gone, val, fd >= 0 ? "with an fd" : "without fd");
		forget_peer(&c, wait_gone);
		ok("probe: got \"peer %" PRId64 " gone\"", wait_gone);
	}
	client_close(&c);
	printf("probe: all %u checks passed\n", nok);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ivshmem-client-test scenario|abrupt|stall|probe -S SOCK -n VECTORS -l SIZE\n"
		"         [--max-peers M] [--timeout-ms T]\n"
		"         [--expect-id I] [--peers ID,..] [--expect-consumed] [--wait-gone ID]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	enum { O_MAX = 256, O_TIMEOUT, O_ID, O_PEERS, O_CONSUMED, O_GONE };
	static const struct option opts[] = {
		{ "socket",		required_argument,	NULL, 'S' },
		{ "vectors",		required_argument,	NULL, 'n' },
		{ "size",		required_argument,	NULL, 'l' },
		{ "max-peers",		required_argument,	NULL, O_MAX },
		{ "timeout-ms",		required_argument,	NULL, O_TIMEOUT },
		{ "expect-id",		required_argument,	NULL, O_ID },
		{ "peers",		required_argument,	NULL, O_PEERS },
		{ "expect-consumed",	no_argument,		NULL, O_CONSUMED },
		{ "wait-gone",		required_argument,	NULL, O_GONE },
		{ NULL, 0, NULL, 0 }
	};
	int64_t want_id = -1, wait_gone = -1;
	const char *mode, *peers = "";
	bool consumed = false;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "S:n:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			sock_path = optarg;
			break;
		case 'n':
			vectors = strtoul(optarg, NULL, 10);
			break;
		case 'l':
			shm_size = strtoull(optarg, NULL, 10);
			break;
		case O_MAX:
			max_peers = strtoul(optarg, NULL, 10);
			break;
		case O_TIMEOUT:
			timeout_ms = atoi(optarg);
			break;
		case O_ID:
			want_id = strtoll(optarg, NULL, 10);
			break;
		case O_PEERS:
			peers = optarg;
			break;
		case O_CONSUMED:
			consumed = true;
			break;
		case O_GONE:
			wait_gone = strtoll(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (!sock_path || optind != argc || vectors < 1 ||
	    vectors > MAX_VECTORS || shm_size < 8 || timeout_ms <= 0)
		usage();
	if (!strcmp(mode, "scenario"))
		return scenario();
	if (!strcmp(mode, "abrupt"))
		return abrupt();
	if (!strcmp(mode, "stall"))
		return stall();
	if (!strcmp(mode, "probe"))
		return probe(want_id, peers, consumed, wait_gone,
			     10 * timeout_ms);
	usage();
	return 2;
}
