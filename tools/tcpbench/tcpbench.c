// SPDX-License-Identifier: GPL-2.0
/*
 * tcpbench - plain TCP page-throughput baseline.
 *
 * What a user-space sender and receiver reach over the same network path,
 * with the framing of PUMA's transport (a header, then a batch of 4 KiB
 * pages), so that the kernel transport's PUT throughput has a number to be
 * compared with:
 *
 *   tcpbench server --port P [--once] [--nodelay]
 *   tcpbench client --host A --port P --pages N [--batch B] [--header H]
 *                   [--nodelay]
 *
 * The client sends N pages in messages of B pages (default 32, PUMA's
 * largest batch; the last message may be shorter) each behind an H-byte
 * header (default 64), on one connection, with plain blocking sockets.
 * The last message carries a "last" flag; the server, having received
 * every page, answers with one byte, and the client's clock stops only
 * when it has that byte, so the time covers delivery, not just the copy
 * into the local socket buffer.  Connection setup is not timed.
 *
 * The first 32 bytes of each header are the benchmark's own (magic,
 * header length, page count, flags, sequence number, first page number);
 * the rest is padding, there to make the bytes on the wire match the
 * transport being compared.  A real PUMA PUT of k pages has 32 + 16 + 24k
 * bytes before its pages (816 for k = 32): pass --header 816 for that.
 * Each page starts with its 64-bit page number, which the server checks,
 * so a page lost, duplicated or reordered fails the run.
 *
 * The server listens on every address (IPv6 and IPv4, or IPv4 only if the
 * kernel has no IPv6; --port 0 picks a free port, printed as
 * "TCPBENCH listening port=P"), serves one connection at a time and prints
 * one summary line per connection; --once exits after the first, with
 * its status.  A malformed message is reported, and the connection closed
 * without the answer byte.
 *
 * Client output, one key per line and then as one line in the format of
 * blockcheck's summary (which the QEMU rig's parser reads):
 *
 *   pages=N seconds=S pages_per_s=R mib_per_s=M (page data only)
 *   wire_mib_per_s=W (headers included) messages= batch= header= nodelay=
 *   TCPBENCH client pages=N ... failures=0
 *
 * Exit status: 0 done, 1 network or protocol error, 2 usage error.
 *
 * Built static (tools/tcpbench/Makefile) for the busybox initramfs of the
 * QEMU rig, hence numeric addresses only (a static binary cannot use the
 * name service).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096u
#define MAGIC		0x31425054u	/* "TPB1" little endian */
#define FIX_HDR		32u		/* our fields; the rest is padding */
#define MAX_HDR		65536u
#define MAX_BATCH	1024u
#define F_LAST		1u
#define ACK_BYTE	'A'

/* The fixed part of every message header, little endian on the wire. */
struct msg_hdr {
	uint32_t magic;
	uint16_t hdr_len;	/* whole header, FIX_HDR..MAX_HDR */
	uint16_t pad;
	uint32_t npages;	/* pages after the header, 0..MAX_BATCH */
	uint32_t flags;		/* F_LAST on the last message */
	uint64_t seq;		/* message number, from 0 */
	uint64_t first;		/* page number of the first page */
};

_Static_assert(sizeof(struct msg_hdr) == FIX_HDR, "header layout");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the header is sent as is: little-endian hosts only");

static const char *prog = "tcpbench";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Like die() but for run-time failures: exit status 1. */
static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t parse_u64(const char *s, const char *what, uint64_t min,
			  uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+' ||
	    v < min || v > max)
		die("bad %s '%s' (want %" PRIu64 "..%" PRIu64 ")", what, s,
		    min, max);
	return v;
}

/* Send all of @buf; false with errno set on error. */
static bool send_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n) {
		/* MSG_NOSIGNAL: a closed peer is an error to report, not SIGPIPE. */
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/*
 * Receive exactly @n bytes.  Returns 1 when done, 0 on end of stream (the
 * peer closed; *@got says after how many bytes), -1 with errno on error.
 */
static int recv_all(int fd, void *buf, size_t n, size_t *got)
{
	unsigned char *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t r = recv(fd, p + done, n - done, MSG_WAITALL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	if (got)
		*got = done;
	return done == n;
}

static void set_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		fatal("setsockopt(TCP_NODELAY): %s", strerror(errno));
}

/* ---------------------------------------------------------------- */
/* Server                                                            */

struct conn_stats {
	uint64_t pages, messages, bytes;
};

/*
 * Receive one client's messages until the last one, checking each header
 * and each page's number.  Returns NULL when all is well (the answer byte
 * was sent), else what went wrong.
 */
static const char *serve_one(int fd, unsigned char *buf, struct conn_stats *cs)
{
	static char why[160];
	struct msg_hdr h;
	size_t got;
	int r;

	memset(cs, 0, sizeof(*cs));
	for (;;) {
		r = recv_all(fd, &h, sizeof(h), &got);
		if (r < 0)
			return strerror(errno);
		if (!r) {
			snprintf(why, sizeof(why), "connection closed after %"
				 PRIu64 " pages, %" PRIu64 " messages, no last"
				 " message%s", cs->pages, cs->messages,
				 got ? " (inside a header)" : "");
			return why;
		}
		if (h.magic != MAGIC || h.hdr_len < FIX_HDR ||
		    h.npages > MAX_BATCH || (h.flags & ~F_LAST)) {
			snprintf(why, sizeof(why), "bad header in message %"
				 PRIu64 " (magic 0x%08x len %u pages %u flags"
				 " 0x%x)", cs->messages, h.magic, h.hdr_len,
				 h.npages, h.flags);
			return why;
		}
		if (h.seq != cs->messages || h.first != cs->pages) {
			snprintf(why, sizeof(why), "message %" PRIu64 " has seq %"
				 PRIu64 " first page %" PRIu64 ", want %" PRIu64,
				 cs->messages, h.seq, h.first, cs->pages);
			return why;
		}
		/* Padding of the header, then the pages: discarded. */
		if (h.hdr_len > FIX_HDR) {
			r = recv_all(fd, buf, h.hdr_len - FIX_HDR, NULL);
			if (r <= 0)
				return r < 0 ? strerror(errno) :
				       "connection closed inside a header";
		}
		r = recv_all(fd, buf, (size_t)h.npages * PAGE, &got);
		if (r <= 0) {
			snprintf(why, sizeof(why), "%s after %zu of %u pages"
				 " of message %" PRIu64, r < 0 ? strerror(errno) :
				 "connection closed", got / PAGE, h.npages,
				 cs->messages);
			return why;
		}
		for (uint32_t i = 0; i < h.npages; i++) {
			uint64_t num;

			memcpy(&num, buf + (size_t)i * PAGE, sizeof(num));
			if (num != cs->pages + i) {
				snprintf(why, sizeof(why), "page %" PRIu64
					 " carries number %" PRIu64,
					 cs->pages + i, num);
				return why;
			}
		}
		cs->pages += h.npages;
		cs->messages++;
		cs->bytes += h.hdr_len + (uint64_t)h.npages * PAGE;
		if (h.flags & F_LAST)
			break;
	}
	if (!send_all(fd, &(char){ ACK_BYTE }, 1))
		return strerror(errno);
	return NULL;
}

/* Listen on every address: dual-stack IPv6, or IPv4 without IPv6. */
static int listen_any(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	const struct sockaddr *sa = (struct sockaddr *)&a6;
	socklen_t sl = sizeof(a6);
	struct sockaddr_storage ss;
	int one = 1, zero = 0, fd;

	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd >= 0) {
		/* Also accept IPv4 clients, as v4-mapped addresses. */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)))
			fatal("setsockopt(IPV6_V6ONLY): %s", strerror(errno));
	} else if (errno == EAFNOSUPPORT) {
		/* A guest kernel built without IPv6. */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		sa = (struct sockaddr *)&a4;
		sl = sizeof(a4);
	}
	if (fd < 0)
		fatal("socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		fatal("setsockopt(SO_REUSEADDR): %s", strerror(errno));
	if (bind(fd, sa, sl))
		fatal("bind port %u: %s", port, strerror(errno));
	if (listen(fd, 4))
		fatal("listen: %s", strerror(errno));
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		fatal("getsockname: %s", strerror(errno));
	*bound = ntohs(ss.ss_family == AF_INET6 ?
		       ((struct sockaddr_in6 *)&ss)->sin6_port :
		       ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t n)
{
	const void *addr = ss->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (!inet_ntop(ss->ss_family, addr, out, (socklen_t)n))
		snprintf(out, n, "?");
}

static int cmd_server(uint16_t port, bool once, bool nodelay)
{
	unsigned char *buf = malloc((size_t)MAX_BATCH * PAGE);
	uint16_t bound;
	int lfd, rc = 0;

	if (!buf)
		fatal("out of memory");
	lfd = listen_any(port, &bound);
	printf("TCPBENCH listening port=%u\n", bound);
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct conn_stats cs;
		const char *err;
		char peer[INET6_ADDRSTRLEN];
		uint64_t t0, t;
		int fd = accept(lfd, (struct sockaddr *)&ss, &sl);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fatal("accept: %s", strerror(errno));
		}
		if (nodelay)
			set_nodelay(fd);
		peer_name(&ss, peer, sizeof(peer));
		t0 = now_ns();
		err = serve_one(fd, buf, &cs);
		t = now_ns() - t0;
		close(fd);
		if (err) {
			printf("TCPBENCH-FAIL server peer=%s pages=%" PRIu64
			       " detail=%s\n", peer, cs.pages, err);
			rc = 1;
		} else {
			printf("TCPBENCH server peer=%s pages=%" PRIu64
			       " messages=%" PRIu64 " bytes=%" PRIu64
			       " seconds=%.6f mib_per_s=%.1f failures=0\n",
			       peer, cs.pages, cs.messages, cs.bytes, t / 1e9,
			       t ? cs.pages * (double)PAGE / (1 << 20) / (t / 1e9) : 0.0);
			rc = 0;
		}
		if (once)
			break;
	}
	close(lfd);
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- */
/* Client                                                            */

static int connect_to(const char *host, uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	const struct sockaddr *sa;
	socklen_t sl;
	int fd;

	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		sa = (struct sockaddr *)&a4;
		sl = sizeof(a4);
	} else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		sa = (struct sockaddr *)&a6;
		sl = sizeof(a6);
	} else {
		die("bad --host '%s' (want a numeric IPv4 or IPv6 address)", host);
	}
	fd = socket(sa->sa_family, SOCK_STREAM, 0);
	if (fd < 0)
		fatal("socket: %s", strerror(errno));
	if (connect(fd, sa, sl))
		fatal("connect to %s port %u: %s", host, port, strerror(errno));
	return fd;
}

static int cmd_client(const char *host, uint16_t port, uint64_t pages,
		      uint32_t batch, uint32_t hdr_len, bool nodelay)
{
	size_t msg_max = hdr_len + (size_t)batch * PAGE;
	unsigned char *buf = calloc(1, msg_max);
	uint64_t sent = 0, seq = 0, t0, t, wire = 0;
	double secs;
	char ack, line[512];
	int fd, r;

	if (!buf)
		fatal("out of memory");
	/* A fill that is not zeros, so nothing on the path can cheat on it. */
	for (size_t i = hdr_len; i < msg_max; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	fd = connect_to(host, port);
	if (nodelay)
		set_nodelay(fd);

	t0 = now_ns();
	while (sent < pages) {
		uint32_t n = pages - sent < batch ? (uint32_t)(pages - sent) : batch;
		struct msg_hdr h = {
			.magic = MAGIC, .hdr_len = (uint16_t)hdr_len,
			.npages = n, .flags = sent + n == pages ? F_LAST : 0,
			.seq = seq, .first = sent,
		};
		size_t len = hdr_len + (size_t)n * PAGE;

		memcpy(buf, &h, sizeof(h));
		for (uint32_t i = 0; i < n; i++) {
			uint64_t num = sent + i;

			memcpy(buf + hdr_len + (size_t)i * PAGE, &num, sizeof(num));
		}
		if (!send_all(fd, buf, len))
			fatal("send (message %" PRIu64 ", after %" PRIu64
			      " pages): %s", seq, sent, strerror(errno));
		sent += n;
		wire += len;
		seq++;
	}
	r = recv_all(fd, &ack, 1, NULL);
	t = now_ns() - t0;
	if (r < 0)
		fatal("waiting for the server's answer: %s", strerror(errno));
	if (!r)
		fatal("the server closed the connection without answering"
		      " (see its TCPBENCH-FAIL line)");
	if (ack != ACK_BYTE)
		fatal("the server answered 0x%02x, not 0x%02x",
		      (unsigned char)ack, ACK_BYTE);
	close(fd);

	secs = t / 1e9;
	snprintf(line, sizeof(line),
		 "pages=%" PRIu64 " seconds=%.6f pages_per_s=%.0f mib_per_s=%.1f"
		 " wire_mib_per_s=%.1f messages=%" PRIu64 " batch=%u header=%u"
		 " nodelay=%d failures=0",
		 pages, secs, secs > 0 ? pages / secs : 0.0,
		 secs > 0 ? pages * (double)PAGE / (1 << 20) / secs : 0.0,
		 secs > 0 ? wire / (double)(1 << 20) / secs : 0.0,
		 seq, batch, hdr_len, nodelay);
	/* One key per line, then the one-line form of blockcheck's summary. */
	for (const char *p = line; *p; p++)
		putchar(*p == ' ' ? '\n' : *p);
	printf("\nTCPBENCH client %s\n", line);
	free(buf);
	return 0;
}

/* ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: tcpbench server --port P [--once] [--nodelay]\n"
"       tcpbench client --host A --port P --pages N [--batch B]\n"
"                       [--header H] [--nodelay]\n"
"\n"
"Plain TCP throughput of 4 KiB pages with the framing of PUMA's transport,\n"
"as a baseline for the kernel transport.\n"
"\n"
"server: receive and discard, one connection at a time; check every\n"
"        header and every page's number; answer one byte when the last\n"
"        message is in.  Prints \"TCPBENCH listening port=P\" (--port 0:\n"
"        any free port), then per connection\n"
"          TCPBENCH server peer=A pages=N messages=M bytes=B seconds=S\n"
"                   mib_per_s=R failures=0\n"
"        or TCPBENCH-FAIL server ... detail=...  --once: exit after the\n"
"        first connection, with its status.\n"
"client: send N pages to A (numeric IPv4 or IPv6, or localhost) in\n"
"        messages of B pages (default 32, at most %u) behind an H-byte\n"
"        header (default 64; %u..%u; a PUMA PUT of k pages has\n"
"        48 + 24k), then wait for the server's answer.  The time runs\n"
"        from the first send to the answer (connect not included).\n"
"        Prints one key per line: pages, seconds, pages_per_s,\n"
"        mib_per_s (page data), wire_mib_per_s (with headers), messages,\n"
"        batch, header, nodelay, failures; then all on one line,\n"
"          TCPBENCH client pages=N seconds=S ...\n"
"--nodelay sets TCP_NODELAY.\n"
"Exit status: 0 done, 1 network or protocol error, 2 usage error.\n",
		MAX_BATCH, FIX_HDR, MAX_HDR - 1);
}

enum { O_PORT = 256, O_ONCE, O_NODELAY, O_HOST, O_PAGES, O_BATCH, O_HEADER };

static const struct option long_opts[] = {
	{ "port", required_argument, NULL, O_PORT },
	{ "once", no_argument, NULL, O_ONCE },
	{ "nodelay", no_argument, NULL, O_NODELAY },
	{ "host", required_argument, NULL, O_HOST },
	{ "pages", required_argument, NULL, O_PAGES },
	{ "batch", required_argument, NULL, O_BATCH },
	{ "header", required_argument, NULL, O_HEADER },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	const char *cmd, *host = NULL;
	bool once = false, nodelay = false, has_port = false;
	uint64_t pages = 0, port = 0, batch = 32, hdr_len = 64;
	bool has_pages = false, server;
	int c;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case O_PORT: has_port = true;
			port = parse_u64(optarg, "--port", 0, 65535); break;
		case O_ONCE: once = true; break;
		case O_NODELAY: nodelay = true; break;
		case O_HOST: host = optarg; break;
		case O_PAGES: has_pages = true;
			pages = parse_u64(optarg, "--pages", 1, UINT64_MAX / PAGE);
			break;
		case O_BATCH:
			batch = parse_u64(optarg, "--batch", 1, MAX_BATCH); break;
		case O_HEADER:
			hdr_len = parse_u64(optarg, "--header", FIX_HDR, MAX_HDR - 1);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if (optind < argc)
		die("unexpected argument '%s' (try --help)", argv[optind]);
	server = !strcmp(cmd, "server");
	if (!server && strcmp(cmd, "client"))
		die("unknown command '%s' (server or client)", cmd);
	if (!has_port)
		die("%s: --port P is required", cmd);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (server) {
		if (host || has_pages)
			die("server: --host and --pages are client options");
		return cmd_server((uint16_t)port, once, nodelay);
	}
	if (once)
		die("client: --once is a server option");
	if (!host || !has_pages)
		die("client: --host A and --pages N are required");
	if (!port)
		die("client: --port 0 is not a port to connect to");
	return cmd_client(host, (uint16_t)port, pages, (uint32_t)batch,
			  (uint32_t)hdr_len, nodelay);
}
