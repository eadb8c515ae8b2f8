// SPDX-License-Identifier: GPL-2.0
/*
 * hostile: a hostile PUMA peer, to attack a real PUMA server (puma.ko's
 * TCP transport, transports/tcp.c, and the server of backends/puma)
 * from a client VM of the QEMU rig, or, listening (--listen, serve.c),
 * a real PUMA client (backends/puma/client.c) from the server's VM.
 * Built static (libcrypto.a) so that it runs in the rig's busybox
 * initramfs.
 *
 *   hostile --server IP:PORT --attack NAME [--key HEX | --key-file F]
 *           [--mode encrypt|auth|both] [--count N] [--seconds S]
 *           [--len N] [--interval-ms MS] [--connect-ms MS] [--node ID]
 *           [--pool ID] [--handshake] [--miss]
 *   hostile --listen IP:PORT --attack NAME [--key HEX | --key-file F]
 *           [--mode encrypt|auth|both] [--count PAGES] [--seconds S]
 *           [--conns N] [--connect-ms MS] [--node ID]
 *   hostile --selftest
 *
 * It speaks the transport byte for byte: the secure channel's handshake
 * (CLIENT_HELLO, SERVER_HELLO, CLIENT_FINISH, Documentation/security.rst)
 * with the pre-shared key given as hex (--key, or --key-file holding the
 * hex or the raw 16 to 64 bytes: pumakey's key), then each transport
 * frame (struct puma_tcp_frame, a PUMA wire message, its pages) sealed
 * with ChaCha20-Poly1305 under per-direction keys and counters.  The
 * codecs are the project's own (lib/secure_codec.c, lib/wire.c,
 * transports/tcp_frame.h), the session is lib/secure.c's twin (psec.c),
 * and the crypto is OpenSSL's.  It offers the modes of --mode (default
 * both: the session runs the server's).  Its HELLO says node --node
 * (default random); its pages go to pool --pool (default 0x686f7374)
 * and are stamped "HOSTILE!" + key, 32 bytes at a time.
 *
 * Attacks (default --seconds in brackets; the counters a caller should
 * see move are in puma_tcp/stats and puma/stats in debugfs):
 *   nokey [5]          HELLO in security=none's clear framing; the
 *                      server should close (result=closed), or it
 *                      answered in clear (result=answered)
 *   wrongkey [5]       handshake with a wrong key (--key with its first
 *                      byte flipped, else random), finishing it anyway;
 *                      refused: result=refused
 *   replay-handshake [5] a good handshake, recorded, then its CLIENT_HELLO
 *                      and CLIENT_FINISH replayed on a new connection
 *   tampered-put [5]   HELLO, then a one-page PUT with one byte of the
 *                      sealed page flipped: closed
 *   replay-msg [5]     HELLO, a PING (answered), then the same sealed
 *                      bytes again: closed
 *   truncated [15]     HELLO, then the header and half of a 32-page PUT,
 *                      then silence for --seconds: closed, or open
 *   oversized [5]      HELLO, then a frame header announcing --len bytes
 *                      (default PUMA_SEC_MAX_PAYLOAD + 1), and no body:
 *                      closed at once (closed_after_ms)
 *   slowloris [90]     --count (1) connections sending a CLIENT_HELLO one
 *                      byte every --interval-ms (1000); when each closed
 *   never-read [30]    HELLO, a PUT of 32 pages, then GETs of them (or
 *                      never-PUT keys with --miss) sent without ever
 *                      reading, non-blocking: how many went, how long a
 *                      send waited, whether the server closed
 *   get-flood [10]     the same GETs as fast as possible, reading and
 *                      discarding the responses
 *   connections [15]   --count (1000) connections held open, each
 *                      sending a CLIENT_HELLO too with --handshake
 *   put-flood [120]    HELLO, then --count (65536) pages PUT, 32 a
 *                      message, each under a random 64-bit inode and
 *                      index, within --seconds
 *   good [10]          the control: HELLO, PUT 32 pages, GET them back,
 *                      check every byte: result=ok proves the protocol
 *
 * Attacks on a client (--listen; a PUMA server to the client: HELLO and
 * RESUME, PUTs held, at most --count pages (65536), until the connection
 * ends, INVALIDATE_*, GETs answered with the hits, PING; one connection
 * at a time, accepted again after each until --seconds, or until --conns
 * connections ended, or until SIGTERM or SIGINT, which end it with its
 * totals; one that is silent for 10 s, or does not read what is sent
 * within --connect-ms, is dropped):
 *   serve [60]         the control: honest answers; result=ok once a page
 *                      was served (idle: none)
 *   tampered-get-response [60]
 *                      as serve, but each GET_RESPONSE carrying pages has
 *                      one byte of its first page flipped in the sealed
 *                      frame, after sealing; every connection so served
 *                      must be closed by the client: result=closed (open:
 *                      one was not; idle: nothing to tamper with)
 *   forged-get-response [60]
 *                      as serve, but the byte is flipped before sealing:
 *                      an authentic frame, a wrong page (result=forged).
 *                      No client holding the key can tell: the negative
 *                      control of a data check on the client's side
 * Each connection reports conn<N>.peer, .mode, .client_node, .put_pages,
 * .gets, .hits, .tampered (or .forged) and .msgs_after_fault, .end
 * (closed_by_peer, reset_by_peer, refused, handshake_failed, send_timeout,
 * idle, deadline or error) with .why, .closed_after_fault_ms and
 * .duration_ms (the first 64 connections); then the totals: accepted,
 * handshakes, handshake_failures, hellos, puts, put_pages, put_drops,
 * gets, get_keys, get_responses, hits (pages sent), misses, invalidated,
 * pings, keepalives (transport PINGs answered), unexpected_msgs,
 * tampered or forged, ended_by_peer, ended_by_error, ended_idle,
 * ended_at_deadline.
 *
 * What the server should count (debugfs puma_tcp/stats: T, puma/stats:
 * P), given security=encrypt or auth and a client with the right key:
 *   nokey             T sec_rejected_malformed, handshake_failures,
 *                     refused +1 (security=none: T insecure_conns, accepts)
 *   wrongkey          T sec_rejected_wrong_key, handshake_failures,
 *                     refused +1
 *   replay-handshake  T sec_handshakes, accepts +1, then as wrongkey
 *   tampered-put      T sec_rejected_bad_tag, bad_frames +1; P
 *                     server_stored +0
 *   replay-msg        T sec_rejected_replay_or_reorder, bad_frames +1
 *   truncated         T keepalive_timeouts +1 once dead_ms passed (no
 *                     sec_rejected_*, no bad_frames)
 *   oversized         T sec_rejected_oversized, bad_frames +1, at once
 *   slowloris         nothing while bytes trickle in (the receive timeout
 *                     is per byte); then T keepalive_timeouts,
 *                     handshake_failures, refused +1 per connection
 *   never-read        P server_send_queue_full > 0, then T send_timeouts,
 *                     send_errors +1 (the server closes)
 *   get-flood         T msgs_received, P server_hits; P
 *                     server_send_queue_full if we read slower
 *   connections       T refused_limit and refused beyond max_accepted;
 *                     the rest T keepalive_timeouts, handshake_failures
 *                     and refused after dead_ms
 *   put-flood         P server_stored + server_put_drops = pages_sent, P
 *                     server_recycled / server_quota_evictions /
 *                     server_fair_evictions and reclaimed once at the cap
 *   good              T sec_handshakes, accepts +1, P server_stored +32,
 *                     server_hits +32
 *
 * What the client should count (its debugfs, T and P as above), given
 * the same key and security= mode:
 *   serve             T connects, sec_handshakes +1 per connection, no
 *                     sec_rejected_*, bad_frames +0; P connects,
 *                     resumes +1 per connection, hits > 0
 *   tampered-get-response
 *                     per tampered response: T sec_rejected_bad_tag,
 *                     bad_frames +1 (the connection closed at once), then
 *                     T connects, sec_handshakes and P connects +1 when
 *                     it reconnects; P get_errors +1 (the GET waiting
 *                     ends with the connection), or timeouts +1 if
 *                     get_timeout_us ran out first; P hits +0: the page
 *                     is read from disk
 *   forged-get-response
 *                     as serve: P hits > 0, and the pages read through
 *                     them are wrong (byte 2048 of each)
 *
 * Output: lines "HOSTILE <attack>.<field>=<value>", the last one
 * "<attack>.result=": ok, refused (handshake refused), closed (the
 * server closed the connection), answered, bounded (a flood ran its
 * course: the other fields say what the server did), open (nothing
 * happened within --seconds), or error (the attack could not run); the
 * listening attacks' as above.
 * Exit status: 0 the attack ran (the verdict is the caller's, from the
 * peer's counters), 1 it could not (connection, handshake with the
 * right key, listening, local error), 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "hostile.h"

bool quiet;
char last_result[32];
char last_refused[32];
int (*conn_hook)(const struct opts *o);
const char *cur;		/* the attack running, for report() */

/* Keep @val in @dst, cut to its size. */
static void keep(char *dst, size_t size, const char *val)
{
	size_t n = strnlen(val, size - 1);

	memcpy(dst, val, n);
	dst[n] = '\0';
}

/* One output line; "result" is also kept for the self test. */
void report(const char *field, const char *fmt, ...)
{
	char val[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (!strcmp(field, "result"))
		keep(last_result, sizeof(last_result), val);
	else if (!strcmp(field, "refused"))
		keep(last_refused, sizeof(last_refused), val);
	if (!quiet) {
		printf("HOSTILE %s.%s=%s\n", cur, field, val);
		fflush(stdout);
	}
}

/* The attack could not run: say where and why. */
int fail(const char *stage, int err, const struct link *l)
{
	report("stage", "%s", stage);
	report("errno", "%d", -err);
	if (l && l->sealed && l->sec.why >= 0)
		report("refused", "%s", puma_sec_reject_name(l->sec.why));
	else if (l && l->error)
		report("refused", "%s", l->error);
	report("result", "error");
	return 1;
}

const char *close_name(int err)
{
	switch (err) {
	case -ESHUTDOWN:
		return "eof";
	case -ECONNRESET:
		return "reset";
	case -EPIPE:
		return "pipe";
	}
	return strerror(-err);
}

/* Wait for the server to close @fd until @deadline; report it. */
static bool report_close(int fd, int64_t t0, int64_t deadline)
{
	unsigned long junk = 0;
	int err = io_wait_close(fd, deadline, &junk);

	report("received_bytes", "%lu", junk);
	if (err == -ETIMEDOUT) {
		report("closed", "0");
		return false;
	}
	report("closed", "1");
	report("closed_by", "%s", close_name(err));
	report("closed_after_ms", "%lld", (long long)(now_ms() - t0));
	return true;
}

static int conn_open(const struct opts *o)
{
	if (conn_hook)
		return conn_hook(o);
	return net_connect(&o->addr, o->addr_len, now_ms() + o->connect_ms);
}

/* xorshift64*: keys and cookies, seeded from getrandom(). */
static u64 rnd_state;

static u64 rnd64(void)
{
	while (!rnd_state && random_bytes(&rnd_state, sizeof(rnd_state)))
		;
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dULL;
}

/* A recognisable page: "HOSTILE!", pool, word number, ino, index. */
struct stamp_le {
	char magic[8];
	__le32 pool;
	__le32 word;
	__le64 ino;
	__le64 index;
};

static void stamp(u8 *page, const struct puma_key *k)
{
	struct stamp_le s = {
		.magic = "HOSTILE!",
		.pool = cpu_to_le32(k->pool),
		.ino = cpu_to_le64(k->ino),
		.index = cpu_to_le64(k->index),
	};
	u32 i;

	static_assert(sizeof(s) == 32 && HOSTILE_PAGE % 32 == 0, "stamp");
	for (i = 0; i < HOSTILE_PAGE / sizeof(s); i++) {
		s.word = cpu_to_le32(i);
		memcpy(page + i * sizeof(s), &s, sizeof(s));
	}
}

/* A batch message of @n keys (ref_seq and hits stay 0, as a client's). */
static void batch(struct puma_wire_msg *wm, u8 type,
		  const struct puma_key *keys, unsigned int n)
{
	memset(wm, 0, sizeof(*wm));
	wm->hdr.type = type;
	wm->batch.count = n;
	memcpy(wm->batch.keys, keys, n * sizeof(*keys));
}

/* Connect and authenticate with the right key; 0, or 1 reported. */
static int open_link(const struct opts *o, struct link *l,
		     struct hs_record *rec)
{
	int64_t deadline = now_ms() + o->connect_ms;
	int fd = conn_open(o), err;

	if (fd < 0)
		return fail("connect", fd, NULL);
	if (link_init(l, fd, true)) {
		close(fd);
		return fail("local", -ENOMEM, NULL);
	}
	err = link_client_handshake(l, o->psk, o->psk_len, o->modes, rec,
				    deadline);
	if (err) {
		fail("handshake", err, l);
		link_close(l);
		return 1;
	}
	report("mode", "%s", psec_mode_name(l->sec.agreed.modes));
	return 0;
}

/* The next message of @type (GET_RESPONSE: answering @ref), others skipped. */
static int wait_for(struct link *l, u8 type, u64 ref, int64_t deadline,
		    unsigned long *skipped)
{
	int r;

	for (;;) {
		r = link_recv_msg(l, deadline);
		if (r < 0)
			return r;
		if (l->wm.hdr.type == type &&
		    (type != PUMA_WIRE_GET_RESPONSE || l->wm.batch.ref_seq == ref))
			return 0;
		if (skipped)
			++*skipped;
	}
}

/* The HELLO of a client, as backends/puma/client.c sends it. */
static void hello(const struct opts *o, struct puma_wire_msg *wm)
{
	memset(wm, 0, sizeof(*wm));
	wm->hdr.type = PUMA_WIRE_HELLO;
	wm->hello.node_id = o->node;
	wm->hello.caps = PUMA_WIRE_CAP_CLIENT;
	wm->hello.page_size = PUMA_WIRE_PAGE_SIZE;
	wm->hello.max_batch = PUMA_WIRE_MAX_BATCH;
}

/* HELLO, and the server's back: the backend holds a session for us. */
static int say_hello(const struct opts *o, struct link *l)
{
	int64_t deadline = now_ms() + o->connect_ms;
	struct puma_wire_msg wm;
	int err;

	hello(o, &wm);
	err = link_send_msg(l, &wm, NULL, 0, deadline);
	if (!err)
		err = wait_for(l, PUMA_WIRE_HELLO, 0, deadline, NULL);
	if (err) {
		fail("hello", err, l);
		link_close(l);
		return 1;
	}
	report("server_node", "%llx", (unsigned long long)l->wm.hello.node_id);
	return 0;
}

/* An orderly end: CLOSE frame (best effort), then the socket. */
void bye(struct link *l)
{
	int64_t deadline = now_ms() + 1000;

	if (l->sealed && l->sec.state == PSEC_ESTABLISHED &&
	    !link_flush(l, deadline) && link_build_close(l) > 0)
		link_flush(l, deadline);
	link_close(l);
}

static void result_closed(bool closed)
{
	report("result", closed ? "closed" : "open");
}

static int att_nokey(const struct opts *o)
{
	struct puma_wire_msg wm;
	int64_t t0 = now_ms();
	struct link l;
	int fd = conn_open(o), n, r;

	if (fd < 0)
		return fail("connect", fd, NULL);
	if (link_init(&l, fd, false)) {
		close(fd);
		return fail("local", -ENOMEM, NULL);
	}
	hello(o, &wm);
	n = link_build_msg(&l, &wm, NULL, 0);
	if (n < 0) {
		link_close(&l);
		return fail("local", n, NULL);
	}
	link_flush(&l, t0 + o->connect_ms);
	report("sent_bytes", "%d", n);
	/* A server with security=none answers; one with security closes. */
	r = link_recv_msg(&l, t0 + o->seconds * 1000);
	if (r == 1) {
		report("answered", "%s", puma_wire_type_name(l.wm.hdr.type));
		report("result", "answered");
	} else if (r == -ETIMEDOUT) {
		report("closed", "0");
		report("result", "open");
	} else if (r == -EPROTO) {
		/* Not a clear frame: most likely a SERVER_HELLO-like reply. */
		report("received", "%s", l.error);
		result_closed(report_close(fd, t0, t0 + o->seconds * 1000));
	} else {
		report("received_bytes", "%lu", l.bytes_in);
		report("closed", "1");
		report("closed_by", "%s", close_name(r));
		report("closed_after_ms", "%lld", (long long)(now_ms() - t0));
		report("result", "closed");
	}
	link_close(&l);
	return 0;
}

static int att_wrongkey(const struct opts *o)
{
	u8 psk[PUMA_SEC_PSK_MAX];
	size_t len = o->psk_len ? o->psk_len : 32;
	int64_t t0 = now_ms();
	struct link l;
	int fd, err;

	if (o->psk_len)
		memcpy(psk, o->psk, len);
	else if (random_bytes(psk, len))
		return fail("local", -EIO, NULL);
	psk[0] ^= 0xff;		/* wrong even if it was the key */
	fd = conn_open(o);
	if (fd < 0)
		return fail("connect", fd, NULL);
	if (link_init(&l, fd, true)) {
		close(fd);
		return fail("local", -ENOMEM, NULL);
	}
	/* An attacker answers the SERVER_HELLO whatever its MAC says. */
	l.sec.ignore_server_mac = true;
	err = link_client_handshake(&l, psk, len, o->modes, NULL,
				    t0 + o->connect_ms);
	/* Known once our CLIENT_FINISH is computed, sent or not. */
	if (l.sec.state == PSEC_ESTABLISHED)
		report("server_mac", "%s", l.sec.server_mac_ok ? "good" : "bad");
	report("finish_sent", "%d", !err);
	if (err && err != -ESHUTDOWN && err != -ECONNRESET && err != -EPIPE) {
		report("handshake_errno", "%d", -err);
		if (l.sec.why >= 0)
			report("refused_by_us", "%s",
			       puma_sec_reject_name(l.sec.why));
	}
	report("result", report_close(fd, t0, now_ms() + o->seconds * 1000) ?
	       "refused" : "open");
	link_close(&l);
	return 0;
}

static int att_replay_handshake(const struct opts *o)
{
	u8 sh[PUMA_SEC_SERVER_HELLO_LEN];
	struct hs_record rec;
	struct link l;
	int64_t t0;
	int fd, err;

	if (open_link(o, &l, &rec))
		return 1;
	report("first_handshake", "ok");
	bye(&l);

	t0 = now_ms();
	fd = conn_open(o);
	if (fd < 0)
		return fail("connect", fd, NULL);
	err = io_send(fd, rec.hello, sizeof(rec.hello), t0 + o->connect_ms);
	if (!err)
		err = io_recv(fd, sh, sizeof(sh), t0 + o->connect_ms);
	report("second_server_hello", "%d", !err);
	if (!err)
		err = io_send(fd, rec.finish, sizeof(rec.finish),
			      t0 + o->connect_ms);
	report("finish_replayed", "%d", !err);
	report("result", report_close(fd, t0, now_ms() + o->seconds * 1000) ?
	       "refused" : "open");
	close(fd);
	return 0;
}

static int att_tampered_put(const struct opts *o)
{
	static u8 page[HOSTILE_PAGE];
	struct puma_key key = { o->pool, rnd64(), 0 };
	struct puma_wire_msg wm;
	struct link l;
	size_t off;
	int64_t t0;
	int n;

	if (open_link(o, &l, NULL) || say_hello(o, &l))
		return 1;
	stamp(page, &key);
	batch(&wm, PUMA_WIRE_PUT, &key, 1);
	n = link_build_msg(&l, &wm, page, 1);
	if (n < 0) {
		link_close(&l);
		return fail("local", n, NULL);
	}
	/* A byte in the middle of the page, which is the payload's end. */
	off = n - PUMA_SEC_TAG_LEN - HOSTILE_PAGE / 2;
	l.tx[l.tx_msg_off + off] ^= 0x01;
	report("frame_bytes", "%d", n);
	report("flipped_offset", "%zu", off);
	t0 = now_ms();
	report("sent", "%d", !link_flush(&l, t0 + o->connect_ms));
	result_closed(report_close(l.fd, t0, t0 + o->seconds * 1000));
	link_close(&l);
	return 0;
}

static int att_replay_msg(const struct opts *o)
{
	u8 saved[128];
	struct puma_wire_msg wm = { .hdr.type = PUMA_WIRE_PING };
	struct link l;
	int64_t t0;
	int n, err;

	if (open_link(o, &l, NULL) || say_hello(o, &l))
		return 1;
	wm.cookie = rnd64();
	n = link_build_msg(&l, &wm, NULL, 0);
	if (n < 0 || n > (int)sizeof(saved)) {
		link_close(&l);
		return fail("local", n < 0 ? n : -EMSGSIZE, NULL);
	}
	memcpy(saved, l.tx + l.tx_msg_off, n);
	t0 = now_ms();
	err = link_flush(&l, t0 + o->connect_ms);
	if (!err)
		err = wait_for(&l, PUMA_WIRE_PONG, 0, t0 + o->connect_ms, NULL);
	/* The first was delivered: the replay is the only fault. */
	report("first_reply", "%s", err ? "none" : "pong");
	t0 = now_ms();
	err = io_send(l.fd, saved, n, t0 + o->connect_ms);
	report("replayed_bytes", "%d", err ? 0 : n);
	result_closed(report_close(l.fd, t0, t0 + o->seconds * 1000));
	link_close(&l);
	return 0;
}

/* PUT of @n stamped pages under @keys, sent whole. */
static int put_pages(struct link *l, const struct puma_key *keys,
		     unsigned int n, int64_t deadline)
{
	static u8 pages[TP_MAX_PAGES * HOSTILE_PAGE];
	struct puma_wire_msg wm;
	unsigned int i;

	for (i = 0; i < n; i++)
		stamp(pages + i * HOSTILE_PAGE, &keys[i]);
	batch(&wm, PUMA_WIRE_PUT, keys, n);
	return link_send_msg(l, &wm, pages, n, deadline);
}

static void keys_dense(const struct opts *o, struct puma_key *keys,
		       unsigned int n)
{
	u64 ino = rnd64();
	unsigned int i;

	for (i = 0; i < n; i++)
		puma_key_init(&keys[i], o->pool, ino, i);
}

static int att_truncated(const struct opts *o)
{
	static u8 pages[TP_MAX_PAGES * HOSTILE_PAGE];
	struct puma_key keys[TP_MAX_PAGES];
	struct puma_wire_msg wm;
	struct link l;
	int64_t t0;
	size_t part;
	int n, err;

	if (open_link(o, &l, NULL) || say_hello(o, &l))
		return 1;
	keys_dense(o, keys, TP_MAX_PAGES);
	batch(&wm, PUMA_WIRE_PUT, keys, TP_MAX_PAGES);
	n = link_build_msg(&l, &wm, pages, TP_MAX_PAGES);
	if (n < 0) {
		link_close(&l);
		return fail("local", n, NULL);
	}
	/* A valid header: the server reads on, and never gets the rest. */
	part = l.tx_msg_off + n / 2;
	t0 = now_ms();
	err = io_send(l.fd, l.tx, part, t0 + o->connect_ms);
	report("announced", "%d", n - (int)PUMA_SEC_FRAME_OVERHEAD);
	report("sent_bytes", "%zu", err ? 0 : part - l.tx_msg_off);
	result_closed(report_close(l.fd, t0, t0 + o->seconds * 1000));
	link_close(&l);
	return 0;
}

static int att_oversized(const struct opts *o)
{
	struct puma_sec_frame_hdr hdr = {
		.len = o->len ? (u32)o->len : PUMA_SEC_MAX_PAYLOAD + 1,
		.type = PUMA_SEC_FRAME_DATA,
	};
	u8 buf[PUMA_SEC_FRAME_HDR_LEN];
	struct link l;
	int64_t t0;
	int err;

	if (open_link(o, &l, NULL) || say_hello(o, &l))
		return 1;
	/* Well formed but for its length, and the next counter. */
	hdr.counter = l.sec.tx_counter;
	if (l.sec.agreed.modes == PUMA_SEC_MODE_AUTH)
		hdr.flags = PUMA_SEC_F_CLEAR;
	puma_sec_frame_hdr_encode(&hdr, buf);
	t0 = now_ms();
	err = io_send(l.fd, buf, sizeof(buf), t0 + o->connect_ms);
	report("announced", "%u", hdr.len);
	report("sent_bytes", "%d", err ? 0 : (int)sizeof(buf));
	result_closed(report_close(l.fd, t0, t0 + o->seconds * 1000));
	link_close(&l);
	return 0;
}

/* Make room for @n descriptors; how many we may open. */
static long fd_room(long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur < (rlim_t)n + 32) {
		rl.rlim_cur = (rlim_t)n + 32;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;	/* root may */
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			getrlimit(RLIMIT_NOFILE, &rl);
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > 32 ? (long)(rl.rlim_cur - 32) : 0;
}

/* Per connection of slowloris and connections. */
struct many {
	int fd;			/* or -errno of a failed connect */
	int state;		/* C_* */
	size_t sent;
	unsigned long got;
	int64_t closed_at;
};

enum { C_CONNECTING, C_OPEN, C_CLOSED, C_RESET, C_FAILED };

/* Read and drop what @m received; note if the server closed it. */
static void many_read(struct many *m, int64_t t0)
{
	u8 buf[512];
	ssize_t n;

	while ((n = recv(m->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		m->got += n;
	if (n && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	m->state = !n ? C_CLOSED : C_RESET;
	m->closed_at = now_ms() - t0;
	close(m->fd);
	m->fd = -1;
}

/* Poll the open ones for input until @until. */
static void many_poll(struct many *m, long n, struct pollfd *pfd,
		      int64_t t0, int64_t until)
{
	int64_t left;
	long i, k;

	while ((left = until - now_ms()) > 0) {
		for (i = k = 0; i < n; i++) {
			pfd[i].fd = m[i].state == C_OPEN ? m[i].fd : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			k += m[i].state == C_OPEN;
		}
		if (!k) {
			usleep(left * 1000);
			return;
		}
		if (poll(pfd, n, left > 1000 ? 1000 : (int)left) <= 0)
			continue;
		for (i = 0; i < n; i++)
			if (pfd[i].revents)
				many_read(&m[i], t0);
	}
}

/* A CLIENT_HELLO: it needs no key, only capabilities and a nonce. */
static void client_hello(const struct opts *o, u8 *out)
{
	struct puma_sec_hs hs = { .type = PUMA_SEC_CLIENT_HELLO };

	psec_caps(&hs.caps, o->modes);
	random_bytes(hs.nonce, sizeof(hs.nonce));
	puma_sec_hs_encode(&hs, out, PUMA_SEC_CLIENT_HELLO_LEN);
}

/* Totals over @m, reported; how many connected, and are still open. */
static long many_report(const struct many *m, long n, long *open_at_end)
{
	long i, closed = 0, reset = 0, open = 0, failed = 0, pending = 0, got = 0;
	int64_t first = -1, last = -1;
	int err = 0;

	for (i = 0; i < n; i++) {
		if (m[i].state == C_FAILED && m[i].fd < 0)
			err = -m[i].fd;
		closed += m[i].state == C_CLOSED;
		reset += m[i].state == C_RESET;
		open += m[i].state == C_OPEN;
		failed += m[i].state == C_FAILED;
		pending += m[i].state == C_CONNECTING;
		got += m[i].got > 0;
		if (m[i].state == C_CLOSED || m[i].state == C_RESET) {
			if (first < 0 || m[i].closed_at < first)
				first = m[i].closed_at;
			if (m[i].closed_at > last)
				last = m[i].closed_at;
		}
	}
	report("connected", "%ld", n - failed - pending);
	report("connect_failed", "%ld", failed);
	if (err)
		report("connect_errno", "%d", err);
	report("still_connecting", "%ld", pending);
	report("closed_by_server", "%ld", closed);
	report("reset_by_server", "%ld", reset);
	report("open_at_end", "%ld", open);
	report("received_any", "%ld", got);
	report("first_close_ms", "%lld", (long long)first);
	report("last_close_ms", "%lld", (long long)last);
	*open_at_end = open;
	return n - failed - pending;
}

static int att_slowloris(const struct opts *o)
{
	u8 hello[PUMA_SEC_CLIENT_HELLO_LEN];
	long n = o->count, room = fd_room(n), i, alive, done = 0, min_sent = -1;
	int64_t t0 = now_ms(), end, tick;
	struct pollfd *pfd;
	struct many *m;

	n = n < room ? n : room;
	m = calloc(n, sizeof(*m));
	pfd = calloc(n, sizeof(*pfd));
	if (!m || !pfd || !n)
		return fail("local", -ENOMEM, NULL);
	client_hello(o, hello);
	for (i = 0; i < n; i++) {
		m[i].fd = conn_open(o);
		m[i].state = m[i].fd < 0 ? C_FAILED : C_OPEN;
	}
	end = now_ms() + o->seconds * 1000;
	for (tick = now_ms(); tick < end; tick += o->interval_ms) {
		for (i = alive = 0; i < n; i++)
			alive += m[i].state == C_OPEN;
		if (!alive)
			break;
		for (i = 0; i < n; i++) {
			if (m[i].state != C_OPEN ||
			    m[i].sent == sizeof(hello))
				continue;
			if (send(m[i].fd, hello + m[i].sent, 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
				m[i].sent++;
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				many_read(&m[i], t0);
		}
		many_poll(m, n, pfd, t0, tick + o->interval_ms < end ?
			  tick + o->interval_ms : end);
	}
	for (i = 0; i < n; i++) {
		done += m[i].sent == sizeof(hello);
		if (m[i].state == C_CLOSED || m[i].state == C_RESET)
			if (min_sent < 0 || (long)m[i].sent < min_sent)
				min_sent = m[i].sent;
	}
	report("conns", "%ld", n);
	report("hello_bytes_sent_min_at_close", "%ld", min_sent);
	report("hellos_completed", "%ld", done);
	if (!many_report(m, n, &alive))
		report("result", "error");	/* nothing to attack */
	else
		report("result", alive ? "open" : "closed");
	for (i = 0; i < n; i++)
		if (m[i].fd >= 0)
			close(m[i].fd);
	free(m);
	free(pfd);
	return !strcmp(last_result, "error");
}

static int att_connections(const struct opts *o)
{
	u8 hello[PUMA_SEC_CLIENT_HELLO_LEN];
	long n = o->count, room = fd_room(n), i, k, alive, hellos = 0;
	int64_t t0 = now_ms(), end = t0 + o->seconds * 1000;
	struct pollfd *pfd;
	struct many *m;
	int err;
	socklen_t elen;

	if (room < n)
		report("fd_limit", "%ld", room);
	n = n < room ? n : room;
	m = calloc(n, sizeof(*m));
	pfd = calloc(n, sizeof(*pfd));
	if (!m || !pfd || !n)
		return fail("local", -ENOMEM, NULL);
	/* All at once: connect() does not wait (the self test's hook does). */
	for (i = 0; i < n; i++) {
		if (conn_hook) {
			m[i].fd = conn_hook(o);
			m[i].state = m[i].fd < 0 ? C_FAILED : C_CONNECTING;
			continue;
		}
		m[i].fd = socket(o->addr.ss_family,
				 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (m[i].fd < 0 ||
		    (connect(m[i].fd, (struct sockaddr *)&o->addr, o->addr_len) &&
		     errno != EINPROGRESS)) {
			err = errno;
			if (m[i].fd >= 0)
				close(m[i].fd);
			m[i].fd = -err;
			m[i].state = C_FAILED;
		}
	}
	while (now_ms() < end) {
		for (i = k = 0; i < n; i++) {
			pfd[i].fd = m[i].state == C_CONNECTING ||
				    m[i].state == C_OPEN ? m[i].fd : -1;
			pfd[i].events = m[i].state == C_CONNECTING ? POLLOUT : POLLIN;
			pfd[i].revents = 0;
			k += pfd[i].fd >= 0;
		}
		if (!k)
			break;
		if (poll(pfd, n, 200) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (m[i].state == C_OPEN) {
				many_read(&m[i], t0);
				continue;
			}
			err = 0;
			elen = sizeof(err);
			getsockopt(m[i].fd, SOL_SOCKET, SO_ERROR, &err, &elen);
			if (err) {
				close(m[i].fd);
				m[i].fd = -err;
				m[i].state = C_FAILED;
				continue;
			}
			m[i].state = C_OPEN;
			if (o->handshake) {
				client_hello(o, hello);
				hellos += send(m[i].fd, hello, sizeof(hello),
					       MSG_NOSIGNAL | MSG_DONTWAIT) ==
					  (ssize_t)sizeof(hello);
			}
		}
	}
	report("count", "%ld", n);
	report("hellos_sent", "%ld", hellos);
	/* Bounded if the server shed some; open if it took and kept all. */
	k = many_report(m, n, &alive);
	for (i = 0; i < n; i++)
		if (m[i].fd >= 0)
			close(m[i].fd);
	report("result", !k ? "error" : alive == n ? "open" : "bounded");
	free(m);
	free(pfd);
	return !k;
}

/* What a flood sent and got. */
struct flood {
	const struct opts *o;
	struct puma_key keys[TP_MAX_PAGES];
	unsigned long msgs, pages, responses, hits, reclaimed, suspends;
	unsigned long errors, others;
	long left;			/* put-flood: pages still to build */
	unsigned int building;		/* pages in the frame being sent */
};

static int next_get(struct link *l, struct flood *f)
{
	struct puma_wire_msg wm;

	if (f->o->miss)
		keys_dense(f->o, f->keys, TP_MAX_PAGES);
	batch(&wm, PUMA_WIRE_GET, f->keys, TP_MAX_PAGES);
	f->building = 0;
	return link_build_msg(l, &wm, NULL, 0);
}

static int next_put(struct link *l, struct flood *f)
{
	static u8 pages[TP_MAX_PAGES * HOSTILE_PAGE];
	unsigned int i, n = f->left < TP_MAX_PAGES ? f->left : TP_MAX_PAGES;
	struct puma_wire_msg wm;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		puma_key_init(&f->keys[i], f->o->pool, rnd64(), rnd64());
		stamp(pages + i * HOSTILE_PAGE, &f->keys[i]);
	}
	batch(&wm, PUMA_WIRE_PUT, f->keys, n);
	f->left -= n;
	f->building = n;
	return link_build_msg(l, &wm, pages, n);
}

static void flood_count(struct link *l, struct flood *f)
{
	switch (l->wm.hdr.type) {
	case PUMA_WIRE_GET_RESPONSE:
		f->responses++;
		f->hits += __builtin_popcount(l->wm.batch.hits);
		break;
	case PUMA_WIRE_RECLAIMED:
		f->reclaimed += l->wm.batch.count;
		break;
	case PUMA_WIRE_SUSPEND:
		f->suspends++;
		break;
	case PUMA_WIRE_ERROR:
		f->errors++;
		break;
	default:
		f->others++;
	}
}

/*
 * Send what @next builds, one frame after the other, as fast as the
 * socket takes them, reading whatever comes back, until @end or until
 * @next has nothing more.  Return 0, or why the connection ended.
 */
static int flood_loop(struct link *l, struct flood *f, int64_t end,
		      int (*next)(struct link *, struct flood *))
{
	struct pollfd pfd = { .fd = l->fd };
	bool more = true;
	int r;

	while (now_ms() < end) {
		if (more && l->tx_off == l->tx_len) {
			r = next(l, f);
			if (r < 0)
				return r;
			more = r > 0;
		}
		if (!more && l->tx_off == l->tx_len)
			return 0;
		pfd.events = POLLIN | (l->tx_off < l->tx_len ? POLLOUT : 0);
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if (pfd.revents & (POLLIN | POLLERR | POLLHUP)) {
			while ((r = link_pump(l)) == 1)
				flood_count(l, f);
			if (r < 0)
				return r;
		}
		if (pfd.revents & POLLOUT) {
			r = link_tx(l);
			if (r < 0)
				return r;
			if (r) {
				f->msgs++;
				f->pages += f->building;
			}
		}
	}
	return 0;
}

/* How a flood's connection ended, and the result. */
static void flood_end(struct link *l, int err)
{
	if (err) {
		report("closed", "1");
		report("closed_by", "%s", err == -EPROTO && l->error ?
		       l->error : close_name(err));
		report("result", "closed");
	} else {
		report("closed", "0");
		report("result", "bounded");
	}
}

/* PUT one batch, so that GETs hit and each answer carries 32 pages. */
static int prime(const struct opts *o, struct link *l, struct flood *f)
{
	int err;

	keys_dense(o, f->keys, TP_MAX_PAGES);
	if (o->miss)
		return 0;
	err = put_pages(l, f->keys, TP_MAX_PAGES, now_ms() + o->connect_ms);
	if (err) {
		fail("put", err, l);
		link_close(l);
		return 1;
	}
	return 0;
}

static int att_get_flood(const struct opts *o)
{
	struct flood f = { .o = o };
	struct link l;
	int64_t t0;
	int err;

	if (open_link(o, &l, NULL) || say_hello(o, &l) || prime(o, &l, &f))
		return 1;
	t0 = now_ms();
	err = flood_loop(&l, &f, t0 + o->seconds * 1000, next_get);
	report("requests", "%lu", f.msgs);
	report("responses", "%lu", f.responses);
	report("hits", "%lu", f.hits);
	report("other_msgs", "%lu", f.others + f.reclaimed + f.suspends + f.errors);
	report("pings_answered", "%lu", l.pongs_out);
	report("elapsed_ms", "%lld", (long long)(now_ms() - t0));
	flood_end(&l, err);
	bye(&l);
	return 0;
}

static int att_put_flood(const struct opts *o)
{
	struct flood f = { .o = o, .left = o->count };
	struct link l;
	int64_t t0;
	int err;

	if (open_link(o, &l, NULL) || say_hello(o, &l))
		return 1;
	t0 = now_ms();
	err = flood_loop(&l, &f, t0 + o->seconds * 1000, next_put);
	report("pages_sent", "%lu", f.pages);
	report("batches", "%lu", f.msgs);
	report("complete", "%d", f.pages == (unsigned long)o->count);
	report("reclaimed_reported", "%lu", f.reclaimed);
	report("suspends", "%lu", f.suspends);
	report("errors", "%lu", f.errors);
	report("elapsed_ms", "%lld", (long long)(now_ms() - t0));
	flood_end(&l, err);
	bye(&l);
	return 0;
}

static int att_never_read(const struct opts *o)
{
	struct flood f = { .o = o };
	unsigned long before_wait = 0;
	int64_t t0, end, t, waited, longest = 0, first_wait = -1;
	struct link l;
	int r = 0, w;

	if (open_link(o, &l, NULL) || say_hello(o, &l) || prime(o, &l, &f))
		return 1;
	t0 = now_ms();
	end = t0 + o->seconds * 1000;
	while (now_ms() < end) {
		r = next_get(&l, &f);
		if (r < 0)
			break;
		while (!(r = link_tx(&l))) {
			t = now_ms();
			w = io_wait(l.fd, POLLOUT, end);
			waited = now_ms() - t;
			if (waited > longest)
				longest = waited;
			if (first_wait < 0 && waited >= 100) {
				first_wait = t - t0;
				before_wait = f.msgs;
			}
			if (w <= 0) {
				r = w ? w : -ETIMEDOUT;
				break;
			}
		}
		if (r < 0)
			break;
		f.msgs++;
	}
	report("requests", "%lu", f.msgs);
	report("requests_before_first_wait", "%lu", first_wait < 0 ? f.msgs :
	       before_wait);
	report("first_wait_ms", "%lld", (long long)first_wait);
	report("longest_wait_ms", "%lld", (long long)longest);
	report("elapsed_ms", "%lld", (long long)(now_ms() - t0));
	if (r == -ETIMEDOUT) {
		/* Still blocked at the end: the server stopped reading. */
		report("closed", "0");
		report("result", "bounded");
	} else if (r < 0) {
		report("closed", "1");
		report("closed_by", "%s", close_name(r));
		report("result", "closed");
	} else {
		report("closed", "0");
		report("result", "open");
	}
	link_close(&l);
	return 0;
}

static int att_good(const struct opts *o)
{
	static u8 want[HOSTILE_PAGE];
	struct puma_key keys[TP_MAX_PAGES];
	struct puma_wire_msg wm;
	unsigned int i, hits = 0, ok = 0;
	unsigned long skipped = 0;
	const u8 *page;
	struct link l;
	int64_t deadline;
	u64 get_seq;
	int err;

	if (open_link(o, &l, NULL) || say_hello(o, &l))
		return 1;
	deadline = now_ms() + o->seconds * 1000;
	keys_dense(o, keys, TP_MAX_PAGES);
	err = put_pages(&l, keys, TP_MAX_PAGES, deadline);
	report("put", "%u", err ? 0 : TP_MAX_PAGES);
	/* The server handles a connection's messages in order: PUT first. */
	batch(&wm, PUMA_WIRE_GET, keys, TP_MAX_PAGES);
	if (!err)
		err = link_send_msg(&l, &wm, NULL, 0, deadline);
	get_seq = l.seq;
	if (!err)
		err = wait_for(&l, PUMA_WIRE_GET_RESPONSE, get_seq, deadline,
			       &skipped);
	if (err) {
		fail("get", err, &l);
		link_close(&l);
		return 1;
	}
	/* One page per hit, in key order. */
	page = l.pages;
	for (i = 0; i < TP_MAX_PAGES; i++) {
		if (!(l.wm.batch.hits & (1U << i)))
			continue;
		hits++;
		stamp(want, &keys[i]);
		ok += !memcmp(page, want, HOSTILE_PAGE);
		page += HOSTILE_PAGE;
	}
	report("hits", "%u", hits);
	report("data_ok", "%u", ok);
	report("other_msgs", "%lu", skipped);
	report("result", ok != hits ? "mismatch" :
	       hits == TP_MAX_PAGES ? "ok" : "partial");
	bye(&l);
	return 0;
}

static const struct attack {
	const char *name;
	attack_fn fn;
	long seconds;
	long count;
	bool listens;		/* --listen: a server attacking a client */
} attacks[] = {
	{ "nokey", att_nokey, 5, 1, false },
	{ "wrongkey", att_wrongkey, 5, 1, false },
	{ "replay-handshake", att_replay_handshake, 5, 1, false },
	{ "tampered-put", att_tampered_put, 5, 1, false },
	{ "replay-msg", att_replay_msg, 5, 1, false },
	{ "truncated", att_truncated, 15, 1, false },
	{ "oversized", att_oversized, 5, 1, false },
	{ "slowloris", att_slowloris, 90, 1, false },
	{ "never-read", att_never_read, 30, 1, false },
	{ "get-flood", att_get_flood, 10, 1, false },
	{ "connections", att_connections, 15, 1000, false },
	{ "put-flood", att_put_flood, 120, 65536, false },
	{ "good", att_good, 10, 1, false },
	{ "serve", att_serve, 60, 65536, true },
	{ "tampered-get-response", att_tampered_get_response, 60, 65536, true },
	{ "forged-get-response", att_forged_get_response, 60, 65536, true },
};

static const struct attack *attack_get(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(attacks); i++)
		if (!strcmp(attacks[i].name, name))
			return &attacks[i];
	return NULL;
}

/* For the self test: the attack called @name, which reports as such. */
attack_fn attack_find(const char *name)
{
	const struct attack *a = attack_get(name);

	cur = name;
	return a ? a->fn : NULL;
}

void attack_defaults(struct opts *o)
{
	const struct attack *a = attack_get(o->attack);

	if (!o->seconds)
		o->seconds = a->seconds;
	if (!o->count)
		o->count = a->count;
}

static int usage(void)
{
	size_t i;

	fprintf(stderr,
		"usage: hostile --server IP:PORT --attack NAME [--key HEX | --key-file F]\n"
		"               [--mode encrypt|auth|both] [--count N] [--seconds S] [--len N]\n"
		"               [--interval-ms MS] [--connect-ms MS] [--node ID] [--pool ID]\n"
		"               [--handshake] [--miss]\n"
		"       hostile --listen IP:PORT --attack NAME [--key HEX | --key-file F]\n"
		"               [--mode encrypt|auth|both] [--count PAGES] [--seconds S]\n"
		"               [--conns N] [--connect-ms MS] [--node ID]\n"
		"       hostile --selftest\n"
		"attacks on a server (--server):");
	for (i = 0; i < ARRAY_SIZE(attacks); i++)
		if (!attacks[i].listens)
			fprintf(stderr, " %s", attacks[i].name);
	fprintf(stderr, "\nattacks on a client (--listen):");
	for (i = 0; i < ARRAY_SIZE(attacks); i++)
		if (attacks[i].listens)
			fprintf(stderr, " %s", attacks[i].name);
	fprintf(stderr, "\n");
	return 2;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* @len hex digits at @s into @out; the byte count, or -1. */
static long parse_hex(const char *s, size_t len, u8 *out, size_t size)
{
	size_t i;

	if (len % 2 || len / 2 > size)
		return -1;
	for (i = 0; i < len; i += 2) {
		if (hexval(s[i]) < 0 || hexval(s[i + 1]) < 0)
			return -1;
		out[i / 2] = hexval(s[i]) << 4 | hexval(s[i + 1]);
	}
	return len / 2;
}

/* A key file holds the key in hex (as pumakey takes it), or raw. */
static long read_key_file(const char *path, u8 *out, size_t size)
{
	char buf[1024];
	size_t n, a = 0, b;
	long len;
	FILE *f = fopen(path, "rb");

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	b = n;
	while (a < b && strchr(" \t\r\n", buf[a]))
		a++;
	while (b > a && strchr(" \t\r\n", buf[b - 1]))
		b--;
	len = parse_hex(buf + a, b - a, out, size);
	if (len >= 0)
		return len;
	if (n > size)
		return -1;
	memcpy(out, buf, n);
	return n;
}

/* "a.b.c.d:port" or "[v6]:port". */
static int parse_addr(const char *s, struct opts *o)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t len;
	char *end;
	long port;

	if (!colon)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -1;
	len = colon - s;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (!len || len >= sizeof(host))
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	memset(&o->addr, 0, sizeof(o->addr));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&o->addr)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)&o->addr;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		o->addr_len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&o->addr)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&o->addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		o->addr_len = sizeof(*in6);
		return 0;
	}
	return -1;
}

static bool parse_num(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 0);
	return !errno && *s && !*end && *v >= min && *v <= max;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'L' },
		{ "conns", required_argument, NULL, 'N' },
		{ "attack", required_argument, NULL, 'a' },
		{ "key", required_argument, NULL, 'k' },
		{ "key-file", required_argument, NULL, 'K' },
		{ "mode", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 't' },
		{ "len", required_argument, NULL, 'l' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "connect-ms", required_argument, NULL, 'C' },
		{ "node", required_argument, NULL, 'n' },
		{ "pool", required_argument, NULL, 'p' },
		{ "handshake", no_argument, NULL, 'H' },
		{ "miss", no_argument, NULL, 'M' },
		{ "selftest", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct opts o = {
		.modes = PUMA_SEC_MODES,
		.interval_ms = 1000,
		.connect_ms = 5000,
		.pool = 0x686f7374,	/* "host" */
	};
	const struct attack *a;
	bool have_addr = false, have_node = false, listen = false;
	long v, klen;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
		case 'L':
			/* One address: where to connect, or where to listen. */
			if (have_addr || parse_addr(optarg, &o))
				return usage();
			have_addr = true;
			listen = c == 'L';
			break;
		case 'N':
			if (!parse_num(optarg, 1, 1000000, &o.conns))
				return usage();
			break;
		case 'a':
			o.attack = optarg;
			break;
		case 'k':
		case 'K':
			klen = c == 'k' ? parse_hex(optarg, strlen(optarg), o.psk,
						    sizeof(o.psk)) :
			       read_key_file(optarg, o.psk, sizeof(o.psk));
			if (klen < PUMA_SEC_PSK_MIN) {
				fprintf(stderr, "hostile: the key must be %u to %u bytes\n",
					PUMA_SEC_PSK_MIN, PUMA_SEC_PSK_MAX);
				return 2;
			}
			o.psk_len = klen;
			break;
		case 'm':
			if (!strcmp(optarg, "encrypt"))
				o.modes = PUMA_SEC_MODE_ENCRYPT;
			else if (!strcmp(optarg, "auth"))
				o.modes = PUMA_SEC_MODE_AUTH;
			else if (!strcmp(optarg, "both"))
				o.modes = PUMA_SEC_MODES;
			else
				return usage();
			break;
		case 'c':
			if (!parse_num(optarg, 1, 10000000, &o.count))
				return usage();
			break;
		case 't':
			if (!parse_num(optarg, 1, 86400, &o.seconds))
				return usage();
			break;
		case 'l':
			if (!parse_num(optarg, 0, UINT32_MAX, &o.len))
				return usage();
			break;
		case 'i':
			if (!parse_num(optarg, 1, 600000, &o.interval_ms))
				return usage();
			break;
		case 'C':
			if (!parse_num(optarg, 1, 600000, &o.connect_ms))
				return usage();
			break;
		case 'n':
			errno = 0;
			o.node = strtoull(optarg, NULL, 0);
			have_node = !errno;
			break;
		case 'p':
			if (!parse_num(optarg, 0, UINT32_MAX, &v))
				return usage();
			o.pool = v;
			break;
		case 'H':
			o.handshake = true;
			break;
		case 'M':
			o.miss = true;
			break;
		case 'S':
			return selftest();
		default:
			return usage();
		}
	}
	if (optind != argc || !have_addr || !o.attack ||
	    !(a = attack_get(o.attack)) || a->listens != listen)
		return usage();
	if (!o.psk_len && a->fn != att_nokey && a->fn != att_wrongkey &&
	    a->fn != att_slowloris && a->fn != att_connections) {
		fprintf(stderr, "hostile: %s needs --key or --key-file\n", a->name);
		return 2;
	}
	if (!have_node)
		o.node = rnd64();
	attack_defaults(&o);
	cur = a->name;
	return a->fn(&o);
}
