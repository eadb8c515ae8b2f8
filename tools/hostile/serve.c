// SPDX-License-Identifier: GPL-2.0
/*
 * hostile --listen: a PUMA server, to attack a kernel client
 * (backends/puma/client.c over transports/tcp.c) from the server's VM.
 *
 * It accepts one connection at a time (the next waits in the backlog),
 * runs the server side of the secure handshake, then answers as
 * backends/puma/server.c does: a HELLO with its own, then RESUME (the
 * lending state, which the server's lending work sends next); PUT
 * stored; GET answered by a GET_RESPONSE with the same keys, the hit
 * bitmap and one page per hit in key order (an exclusive GET takes the
 * page); INVALIDATE_PAGE, _INODE and _POOL applied; PING answered with
 * PONG; anything else counted and ignored.  A connection's pages are its
 * session's and go when it ends, as the server forgets a session's pages
 * (which is also how a client flushes: it drops the connection).  At most
 * --count pages are held; PUTs beyond are dropped, as at the server's cap.
 *
 * serve answers honestly: the control.  tampered-get-response flips one
 * byte of the first page of each sealed GET_RESPONSE carrying pages,
 * after sealing: the tag fails on the client, which must close the
 * connection for it and read the page from disk.  forged-get-response
 * flips it before sealing: the frame is authentic and the page wrong,
 * which no client holding the key can tell; it is the negative control of
 * a data check on the client's side, not an attack the channel stops.
 *
 * Whatever the peer sends is checked before use (link.c, and the wire
 * codec); a peer silent for SERVE_IDLE_MS is dropped, one that does not
 * read what we send within --connect-ms too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile.h"

/* transports/tcp.c's dead_ms default: a live client PINGs well before. */
#define SERVE_IDLE_MS		10000
/* Connections reported one by one; the totals count every one. */
#define SERVE_CONNS_REPORTED	64
#define STORE_BUCKETS_MAX	(1U << 20)

struct serve_stats serve_last;
int (*listen_hook)(const struct opts *o);

enum serve_fault {
	SERVE_HONEST,
	SERVE_TAMPER,		/* a byte flipped after sealing */
	SERVE_FORGE,		/* a byte flipped before sealing */
};

/* A stored page, chained in its hash bucket. */
struct spage {
	struct spage *next;
	struct puma_key key;
	u8 data[HOSTILE_PAGE];
};

/* One session's pages, as its remote LRU holds them on the server. */
struct store {
	struct spage **bucket;
	u32 mask;
	long nr, max;
};

static int store_init(struct store *st, long max)
{
	u32 n = 64;

	while (n < STORE_BUCKETS_MAX && n < max)
		n <<= 1;
	st->bucket = calloc(n, sizeof(*st->bucket));
	st->mask = n - 1;
	st->nr = 0;
	st->max = max;
	return st->bucket ? 0 : -ENOMEM;
}

static u32 key_hash(const struct puma_key *k)
{
	u64 h = k->pool;

	h = (h ^ k->ino) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ k->index) * 0xbf58476d1ce4e5b9ULL;
	return (u32)(h ^ h >> 31 ^ h >> 47);
}

/* Where @k is linked, or the end of its bucket's chain. */
static struct spage **store_slot(struct store *st, const struct puma_key *k)
{
	struct spage **pp = &st->bucket[key_hash(k) & st->mask];

	while (*pp && !puma_key_equal(&(*pp)->key, k))
		pp = &(*pp)->next;
	return pp;
}

/* @data under @k, a copy replaced: 0, or -ENOSPC past --count, -ENOMEM. */
static int store_put(struct store *st, const struct puma_key *k,
		     const u8 *data)
{
	struct spage **pp = store_slot(st, k), *p = *pp;

	if (!p) {
		if (st->nr >= st->max)
			return -ENOSPC;
		p = malloc(sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->key = *k;
		p->next = NULL;
		*pp = p;
		st->nr++;
	}
	memcpy(p->data, data, HOSTILE_PAGE);
	return 0;
}

static void store_unlink(struct store *st, struct spage **pp)
{
	struct spage *p = *pp;

	*pp = p->next;
	free(p);
	st->nr--;
}

enum { DROP_INODE, DROP_POOL, DROP_ALL };

/* Drop an inode's pages, a pool's, or all: how many. */
static long store_drop(struct store *st, int what, u32 pool, u64 ino)
{
	struct spage **pp;
	long n = 0;
	u32 i;

	for (i = 0; i <= st->mask && st->nr; i++) {
		pp = &st->bucket[i];
		while (*pp) {
			const struct puma_key *k = &(*pp)->key;

			if (what == DROP_ALL ||
			    (k->pool == pool &&
			     (what == DROP_POOL || k->ino == ino))) {
				store_unlink(st, pp);
				n++;
			} else {
				pp = &(*pp)->next;
			}
		}
	}
	return n;
}

struct server {
	const struct opts *o;
	enum serve_fault fault;
	struct serve_stats *t;
	struct store st;
	struct link l;
	int64_t end;			/* --seconds */
	unsigned long n;		/* connections so far */
	unsigned long faulty_conns, faulty_closed;
	/* The connection being served. */
	unsigned long c_put_pages, c_gets, c_hits, c_faults, c_after_fault;
	int64_t fault_at;		/* when its last fault went out */
	struct puma_wire_msg out;
	u8 pages[TP_MAX_PAGES * HOSTILE_PAGE];
};

/* A line of the connection being served: "conn<N>.<field>". */
static void creport(const struct server *s, const char *field,
		    const char *fmt, ...)
{
	char name[48], val[128];
	va_list ap;

	if (s->n > SERVE_CONNS_REPORTED)
		return;
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(name, sizeof(name), "conn%lu.%s", s->n, field);
	report(name, "%s", val);
}

static int serve_send(struct server *s, unsigned int nr)
{
	return link_send_msg(&s->l, &s->out, s->pages, nr,
			     now_ms() + s->o->connect_ms);
}

/* The GET_RESPONSE in s->out with its @n pages, faulted as asked. */
static int serve_respond(struct server *s, unsigned int n)
{
	size_t off;
	int len, err;

	/* Before sealing: an authentic frame, a wrong page. */
	if (n && s->fault == SERVE_FORGE)
		s->pages[HOSTILE_PAGE / 2] ^= 0x01;
	len = link_build_msg(&s->l, &s->out, s->pages, n);
	if (len < 0)
		return len;
	if (n && s->fault == SERVE_TAMPER) {
		/* The middle of the first page, in the sealed frame. */
		off = len - PUMA_SEC_TAG_LEN - (size_t)n * HOSTILE_PAGE +
		      HOSTILE_PAGE / 2;
		s->l.tx[s->l.tx_msg_off + off] ^= 0x01;
	}
	err = link_flush(&s->l, now_ms() + s->o->connect_ms);
	if (err)
		return err;
	s->t->responses++;
	s->t->hits += n;
	s->c_hits += n;
	if (n && s->fault != SERVE_HONEST) {
		if (s->fault == SERVE_TAMPER)
			s->t->tampered++;
		else
			s->t->forged++;
		s->c_faults++;
		s->fault_at = now_ms();
	}
	return 0;
}

static int serve_get(struct server *s, const struct puma_wire_msg *in)
{
	struct puma_wire_msg *out = &s->out;
	struct spage **pp;
	unsigned int i, n = 0;

	s->t->gets++;
	s->t->get_keys += in->batch.count;
	s->c_gets++;
	out->hdr.type = PUMA_WIRE_GET_RESPONSE;
	out->batch.ref_seq = in->hdr.seq;
	out->batch.count = in->batch.count;
	for (i = 0; i < in->batch.count; i++) {
		out->batch.keys[i] = in->batch.keys[i];
		pp = store_slot(&s->st, &in->batch.keys[i]);
		if (!*pp) {
			s->t->misses++;
			continue;
		}
		memcpy(s->pages + (size_t)n * HOSTILE_PAGE, (*pp)->data,
		       HOSTILE_PAGE);
		/* The client chose: an exclusive GET moves the page to it. */
		if (in->hdr.flags & PUMA_WIRE_F_EXCLUSIVE)
			store_unlink(&s->st, pp);
		out->batch.hits |= 1U << i;
		n++;
	}
	return serve_respond(s, n);
}

/*
 * The codec's bounds on a batch, which the key and page offsets rely on:
 * checked again here, as a bug there must not become one here.
 */
static bool batch_ok(struct server *s, const struct puma_wire_msg *in,
		     unsigned int pages)
{
	if (in->batch.count <= TP_MAX_PAGES && in->hdr.nr_pages == pages)
		return true;
	s->l.error = "bad_count";
	return false;
}

/*
 * Answer the message link_pump() returned, as puma_session_recv() does.
 * Return: 0, or why the connection must end.
 */
static int serve_msg(struct server *s)
{
	const struct puma_wire_msg *in = &s->l.wm;
	struct puma_wire_msg *out = &s->out;
	struct spage **pp;
	unsigned int i;
	int err;

	switch (in->hdr.type) {
	case PUMA_WIRE_PUT:
		if (!batch_ok(s, in, in->batch.count))
			return -EPROTO;
		break;
	case PUMA_WIRE_GET:
	case PUMA_WIRE_INVALIDATE_PAGE:
		if (!batch_ok(s, in, 0))
			return -EPROTO;
		break;
	}
	if (s->fault != SERVE_HONEST && s->c_faults)
		s->c_after_fault++;
	memset(out, 0, sizeof(*out));
	switch (in->hdr.type) {
	case PUMA_WIRE_HELLO:
		s->t->hellos++;
		creport(s, "client_node", "%llx",
			(unsigned long long)in->hello.node_id);
		out->hdr.type = PUMA_WIRE_HELLO;
		out->hello.node_id = s->o->node;
		out->hello.caps = PUMA_WIRE_CAP_SERVER;
		out->hello.page_size = PUMA_WIRE_PAGE_SIZE;
		out->hello.max_batch = PUMA_WIRE_MAX_BATCH;
		err = serve_send(s, 0);
		if (err)
			return err;
		memset(out, 0, sizeof(*out));
		out->hdr.type = PUMA_WIRE_RESUME;
		return serve_send(s, 0);
	case PUMA_WIRE_PUT:
		s->t->puts++;
		for (i = 0; i < in->batch.count; i++) {
			s->t->put_pages++;
			s->c_put_pages++;
			if (store_put(&s->st, &in->batch.keys[i],
				      s->l.pages + (size_t)i * HOSTILE_PAGE))
				s->t->put_drops++;
		}
		return 0;
	case PUMA_WIRE_GET:
		return serve_get(s, in);
	case PUMA_WIRE_INVALIDATE_PAGE:
		for (i = 0; i < in->batch.count; i++) {
			pp = store_slot(&s->st, &in->batch.keys[i]);
			if (*pp) {
				store_unlink(&s->st, pp);
				s->t->invalidated++;
			}
		}
		return 0;
	case PUMA_WIRE_INVALIDATE_INODE:
		s->t->invalidated += store_drop(&s->st, DROP_INODE,
						in->inode.pool, in->inode.ino);
		return 0;
	case PUMA_WIRE_INVALIDATE_POOL:
		s->t->invalidated += store_drop(&s->st, DROP_POOL, in->pool, 0);
		return 0;
	case PUMA_WIRE_PING:
		s->t->pings++;
		out->hdr.type = PUMA_WIRE_PONG;
		out->cookie = in->cookie;
		return serve_send(s, 0);
	default:
		/* Well formed but not a client's: counted, as the server. */
		s->t->unexpected++;
		return 0;
	}
}

/* How a connection ended, from the error that ended it. */
static const char *serve_end(struct server *s, int err, bool sending,
			     const char **why)
{
	const struct link *l = &s->l;

	*why = NULL;
	switch (err) {
	case -ESHUTDOWN:
		s->t->by_peer++;
		return "closed_by_peer";
	case -ECONNRESET:
	case -EPIPE:
		s->t->by_peer++;
		return "reset_by_peer";
	case -ETIMEDOUT:
		if (sending) {
			s->t->by_error++;
			*why = "peer_not_reading";
			return "send_timeout";
		}
		if (now_ms() >= s->end) {
			s->t->at_end++;
			return "deadline";
		}
		s->t->idle++;
		return "idle";
	case -EPROTO:
		s->t->by_error++;
		*why = l->sec.why >= 0 ? puma_sec_reject_name(l->sec.why) :
		       l->error ? l->error : "protocol";
		return "refused";
	}
	s->t->by_error++;
	*why = strerror(-err);
	return "error";
}

static void serve_conn(struct server *s, int fd, const char *peer)
{
	const struct opts *o = s->o;
	int64_t t0 = now_ms(), deadline;
	const char *end, *why;
	unsigned long before;
	bool sending = false;
	int err;

	s->n++;
	s->c_put_pages = s->c_gets = s->c_hits = 0;
	s->c_faults = s->c_after_fault = 0;
	creport(s, "peer", "%s", peer);
	if (link_init(&s->l, fd, true)) {
		/* link_close() takes it as it is: fd set, buffers NULL. */
		s->t->by_error++;
		end = "error";
		why = strerror(ENOMEM);
		goto out;
	}
	err = link_server_handshake(&s->l, o->psk, o->psk_len, o->modes,
				    t0 + o->connect_ms);
	if (err) {
		s->t->handshake_failures++;
		s->t->by_error++;
		end = "handshake_failed";
		why = s->l.sec.why >= 0 ? puma_sec_reject_name(s->l.sec.why) :
		      close_name(err);
		goto out;
	}
	s->t->handshakes++;
	creport(s, "mode", "%s", psec_mode_name(s->l.sec.agreed.modes));
	for (;;) {
		before = s->l.bytes_in;
		deadline = now_ms() + SERVE_IDLE_MS;
		err = link_recv_msg(&s->l, deadline < s->end ? deadline :
				    s->end);
		if (err == 1) {
			err = serve_msg(s);
			sending = err && err != -EPROTO;
			if (err)
				break;
			continue;
		}
		/* A frame still trickling in is not silence. */
		if (err == -ETIMEDOUT && now_ms() < s->end &&
		    s->l.bytes_in != before)
			continue;
		break;
	}
	end = serve_end(s, err, sending, &why);
out:
	if (!strcmp(end, "deadline"))
		bye(&s->l);
	else
		link_close(&s->l);
	/* The session's pages go with it. */
	store_drop(&s->st, DROP_ALL, 0, 0);
	s->t->keepalives += s->l.pongs_out;
	creport(s, "put_pages", "%lu", s->c_put_pages);
	creport(s, "gets", "%lu", s->c_gets);
	creport(s, "hits", "%lu", s->c_hits);
	if (s->fault != SERVE_HONEST) {
		creport(s, s->fault == SERVE_TAMPER ? "tampered" : "forged",
			"%lu", s->c_faults);
		creport(s, "msgs_after_fault", "%lu", s->c_after_fault);
	}
	creport(s, "end", "%s", end);
	if (why)
		creport(s, "why", "%s", why);
	if (s->c_faults) {
		s->faulty_conns++;
		if (!strcmp(end, "closed_by_peer") ||
		    !strcmp(end, "reset_by_peer")) {
			s->faulty_closed++;
			creport(s, "closed_after_fault_ms", "%lld",
				(long long)(now_ms() - s->fault_at));
		}
	}
	creport(s, "duration_ms", "%lld", (long long)(now_ms() - t0));
	if (s->n <= SERVE_ENDS_KEPT)
		snprintf(s->t->ends[s->n - 1], sizeof(s->t->ends[0]), "%s%s%s",
			 end, why ? ":" : "", why ? why : "");
}

/* "a.b.c.d:port" or "[v6]:port" of @ss. */
static void addr_name(const struct sockaddr_storage *ss, char *buf,
		      size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, size, "%s:%u", host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, size, "[%s]:%u", host, port);
	} else {
		snprintf(buf, size, "?");
	}
}

/* A listening socket on --listen's address: the fd, or -errno. */
static int listen_open(const struct opts *o)
{
	int fd, one = 1, err;

	fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* As the transport's listener: the address may come up later. */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&o->addr, o->addr_len) ||
	    listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void serve_totals(const struct server *s)
{
	const struct serve_stats *t = s->t;

	report("accepted", "%lu", t->accepted);
	report("handshakes", "%lu", t->handshakes);
	report("handshake_failures", "%lu", t->handshake_failures);
	report("hellos", "%lu", t->hellos);
	report("puts", "%lu", t->puts);
	report("put_pages", "%lu", t->put_pages);
	report("put_drops", "%lu", t->put_drops);
	report("gets", "%lu", t->gets);
	report("get_keys", "%lu", t->get_keys);
	report("get_responses", "%lu", t->responses);
	report("hits", "%lu", t->hits);
	report("misses", "%lu", t->misses);
	report("invalidated", "%lu", t->invalidated);
	report("pings", "%lu", t->pings);
	report("keepalives", "%lu", t->keepalives);
	report("unexpected_msgs", "%lu", t->unexpected);
	if (s->fault == SERVE_TAMPER)
		report("tampered", "%lu", t->tampered);
	if (s->fault == SERVE_FORGE)
		report("forged", "%lu", t->forged);
	report("ended_by_peer", "%lu", t->by_peer);
	report("ended_by_error", "%lu", t->by_error);
	report("ended_idle", "%lu", t->idle);
	report("ended_at_deadline", "%lu", t->at_end);
}

static const char *serve_result(const struct server *s)
{
	switch (s->fault) {
	case SERVE_TAMPER:
		/* Each client that got a tampered frame must have hung up. */
		if (!s->faulty_conns)
			return "idle";
		return s->faulty_closed == s->faulty_conns ? "closed" : "open";
	case SERVE_FORGE:
		return s->t->forged ? "forged" : "idle";
	default:
		return s->t->hits ? "ok" : "idle";
	}
}

/*
 * SIGTERM or SIGINT: stop accepting and print the totals, so that a
 * caller that knows when its client is done need not guess --seconds.
 */
static volatile sig_atomic_t serve_stopping;

static void serve_stop(int sig __attribute__((unused)))
{
	serve_stopping = 1;
}

static int serve_run(const struct opts *o, enum serve_fault fault)
{
	/* No SA_RESTART: the wait for a connection returns at once. */
	struct sigaction sa = { .sa_handler = serve_stop };
	struct sockaddr_storage ss;
	socklen_t len;
	struct server *s;
	char name[64];
	long ended = 0;
	int lfd, fd, w, one = 1;

	memset(&serve_last, 0, sizeof(serve_last));
	s = calloc(1, sizeof(*s));
	if (!s || store_init(&s->st, o->count)) {
		free(s);
		return fail("local", -ENOMEM, NULL);
	}
	s->o = o;
	s->fault = fault;
	s->t = &serve_last;
	lfd = listen_hook ? listen_hook(o) : listen_open(o);
	if (lfd < 0) {
		free(s->st.bucket);
		free(s);
		return fail("listen", lfd, NULL);
	}
	len = sizeof(ss);
	if (getsockname(lfd, (struct sockaddr *)&ss, &len))
		ss.ss_family = AF_UNSPEC;
	addr_name(&ss, name, sizeof(name));
	report("listening", "%s", name);
	report("max_pages", "%ld", o->count);
	s->end = now_ms() + o->seconds * 1000;
	serve_stopping = 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (now_ms() < s->end && (!o->conns || ended < o->conns) &&
	       !serve_stopping) {
		/* io_wait() sleeps through signals: look at the flag often. */
		w = io_wait(lfd, POLLIN, now_ms() + 200 < s->end ?
				      now_ms() + 200 : s->end);
		if (w <= 0) {
			if (w < 0)
				usleep(100000);	/* not ours to fix: retry */
			continue;
		}
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* Out of descriptors, say: never spin on it. */
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				usleep(100000);
			continue;
		}
		s->t->accepted++;
		/* As the transport: small responses must not wait for Nagle. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		addr_name(&ss, name, sizeof(name));
		serve_conn(s, fd, name);
		ended++;
	}
	close(lfd);
	serve_totals(s);
	report("result", "%s", serve_result(s));
	free(s->st.bucket);
	free(s);
	return 0;
}

int att_serve(const struct opts *o)
{
	return serve_run(o, SERVE_HONEST);
}

int att_tampered_get_response(const struct opts *o)
{
	return serve_run(o, SERVE_TAMPER);
}

int att_forged_get_response(const struct opts *o)
{
	return serve_run(o, SERVE_FORGE);
}
