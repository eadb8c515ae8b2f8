// SPDX-License-Identifier: GPL-2.0
/*
 * A connection as transports/tcp.c speaks it: the handshake messages at
 * their fixed lengths, then one sealed frame (16-byte header, payload,
 * 16-byte tag) per transport frame (struct puma_tcp_frame, the wire
 * message's head, whole pages); or, with security=none, the transport
 * frames in clear.
 *
 * Every socket is non-blocking and every wait has a deadline, so that no
 * server behaviour can hang the tool.  Every length read from the socket
 * is checked against what the transport itself accepts before it sizes a
 * read or an access: the peer is hostile to us too.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostile.h"

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @events until @deadline: >0 ready, 0 timed out, -errno. */
int io_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return n;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (!n && !left)
			return 0;
	}
}

/* Send all of @buf: 0, -ETIMEDOUT, or the socket's error. */
int io_send(int fd, const void *buf, size_t len, int64_t deadline)
{
	const u8 *p = buf;
	ssize_t n;
	int w;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return -errno;
		w = io_wait(fd, POLLOUT, deadline);
		if (w <= 0)
			return w ? w : -ETIMEDOUT;
	}
	return 0;
}

/* Receive exactly @len bytes: 0, -ESHUTDOWN at end of stream, -ETIMEDOUT. */
int io_recv(int fd, void *buf, size_t len, int64_t deadline)
{
	u8 *p = buf;
	ssize_t n;
	int w;

	while (len) {
		n = recv(fd, p, len, MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (!n)
			return -ESHUTDOWN;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		w = io_wait(fd, POLLIN, deadline);
		if (w <= 0)
			return w ? w : -ETIMEDOUT;
	}
	return 0;
}

/*
 * Read and discard until the peer closes: -ESHUTDOWN (end of stream),
 * -ECONNRESET (reset), -ETIMEDOUT (still open at @deadline).
 */
int io_wait_close(int fd, int64_t deadline, unsigned long *discarded)
{
	u8 buf[4096];
	ssize_t n;
	int w;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			*discarded += n;
			continue;
		}
		if (!n)
			return -ESHUTDOWN;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		w = io_wait(fd, POLLIN, deadline);
		if (w <= 0)
			return w ? w : -ETIMEDOUT;
	}
}

/* A non-blocking TCP connection to @ss: the fd, or -errno. */
int net_connect(const struct sockaddr_storage *ss, socklen_t len,
		int64_t deadline)
{
	int fd, one = 1, err = 0, w;
	socklen_t elen = sizeof(err);

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	/* As the transport: small GETs must not wait for Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)ss, len) && errno != EINPROGRESS) {
		err = -errno;
		goto fail;
	}
	w = io_wait(fd, POLLOUT, deadline);
	if (w <= 0) {
		err = w ? w : -ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err) {
		err = err ? -err : -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

int link_init(struct link *l, int fd, bool sealed)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->sealed = sealed;
	l->rx_need = PUMA_SEC_FRAME_HDR_LEN;
	static_assert(PUMA_SEC_FRAME_HDR_LEN == TF_LEN, "both headers are 16 bytes");
	/* Room for an owed PONG ahead of a full frame. */
	l->tx = malloc(2 * SEALED_MAX);
	l->rx = malloc(SEALED_MAX);
	if (!l->tx || !l->rx) {
		free(l->tx);
		free(l->rx);
		return -ENOMEM;
	}
	return 0;
}

void link_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	if (l->sealed)
		psec_free(&l->sec);
	free(l->tx);
	free(l->rx);
	l->tx = l->rx = NULL;
}

/*
 * The client side of puma_tcp_handshake(): CLIENT_HELLO, SERVER_HELLO,
 * CLIENT_FINISH, then the agreed page size must be ours.  @rec, if set,
 * gets a copy of the two messages sent.  With l->sec.ignore_server_mac
 * (set by the caller through psec), a bad server MAC is answered anyway.
 * Return: 0, or a negative errno (l->sec.why says what was refused).
 */
static int link_client_steps(struct link *l, struct hs_record *rec,
			     int64_t deadline)
{
	u8 in[PUMA_SEC_HS_MAX_LEN], out[PUMA_SEC_HS_MAX_LEN];
	int n, err;

	n = psec_client_hello(&l->sec, out, sizeof(out));
	if (n < 0)
		return n;
	if (rec)
		memcpy(rec->hello, out, sizeof(rec->hello));
	err = io_send(l->fd, out, n, deadline);
	if (!err)
		err = io_recv(l->fd, in, PUMA_SEC_SERVER_HELLO_LEN, deadline);
	if (err)
		return err;
	n = psec_client_finish(&l->sec, in, PUMA_SEC_SERVER_HELLO_LEN, out,
			       sizeof(out));
	if (n < 0)
		return n;
	if (rec)
		memcpy(rec->finish, out, sizeof(rec->finish));
	err = io_send(l->fd, out, n, deadline);
	if (err)
		return err;
	if (l->sec.agreed.page_size != HOSTILE_PAGE)
		return -EPROTO;
	return 0;
}

int link_client_handshake(struct link *l, const u8 *psk, size_t psk_len,
			  u8 modes, struct hs_record *rec, int64_t deadline)
{
	struct puma_sec_caps caps;
	bool ignore = l->sec.ignore_server_mac;
	int err;

	psec_caps(&caps, modes);
	err = psec_init(&l->sec, false, psk, psk_len, &caps);
	if (err)
		return err;
	l->sec.ignore_server_mac = ignore;
	return link_client_steps(l, rec, deadline);
}

/* The server side, as an accepted end of transports/tcp.c runs it. */
int link_server_handshake(struct link *l, const u8 *psk, size_t psk_len,
			  u8 modes, int64_t deadline)
{
	u8 in[PUMA_SEC_HS_MAX_LEN], out[PUMA_SEC_HS_MAX_LEN];
	struct puma_sec_caps caps;
	int n, err;

	psec_caps(&caps, modes);
	err = psec_init(&l->sec, true, psk, psk_len, &caps);
	if (err)
		return err;
	err = io_recv(l->fd, in, PUMA_SEC_CLIENT_HELLO_LEN, deadline);
	if (err)
		return err;
	n = psec_server_hello(&l->sec, in, PUMA_SEC_CLIENT_HELLO_LEN, out,
			      sizeof(out));
	if (n < 0)
		return n;
	err = io_send(l->fd, out, n, deadline);
	if (!err)
		err = io_recv(l->fd, in, PUMA_SEC_CLIENT_FINISH_LEN, deadline);
	if (!err)
		err = psec_server_finish(&l->sec, in, PUMA_SEC_CLIENT_FINISH_LEN);
	if (!err && l->sec.agreed.page_size != HOSTILE_PAGE)
		err = -EPROTO;
	return err;
}

/* A transport frame header (puma_tcp_frame_init()) at @p. */
static void tframe_hdr(u8 *p, u8 type, u32 head_len, u16 nr_pages)
{
	struct puma_tcp_frame f = {
		.magic		= cpu_to_le32(PUMA_TCP_FRAME_MAGIC),
		.type		= type,
		.page_shift	= HOSTILE_PAGE_SHIFT,
		.nr_pages	= cpu_to_le16(nr_pages),
		.head_len	= cpu_to_le32(head_len),
	};

	memcpy(p, &f, sizeof(f));
}

/* Seal the transport frame of @len bytes laid out at @p + header. */
static int link_seal_at(struct link *l, u8 *p, u32 len)
{
	return l->sealed ? psec_seal(&l->sec, PUMA_SEC_FRAME_DATA, p, len,
				     SEALED_MAX) : (int)len;
}

/* Queue a PONG if one is owed; where the next frame goes. */
static int link_tx_begin(struct link *l)
{
	int n;

	l->tx_len = l->tx_off = l->tx_msg_off = 0;
	if (!l->pong_owed || !l->sealed)
		return 0;
	tframe_hdr(l->tx + PUMA_SEC_FRAME_HDR_LEN, PUMA_TCP_FRAME_PONG, 0, 0);
	n = link_seal_at(l, l->tx, TF_LEN);
	if (n < 0)
		return n;
	l->pong_owed = false;
	l->pongs_out++;
	l->tx_len = l->tx_msg_off = n;
	return 0;
}

/*
 * Lay out @wm (with @nr pages at @pages) as the next frame to send:
 * sealed, or in clear.  l->tx_msg_off is where it starts in l->tx (an
 * owed PONG may go first); link_tx() and link_flush() send it.  As
 * lib/msg.c on an authenticated link, the data CRC is 0.
 * Return: the frame's length, or a negative errno.
 */
int link_build_msg(struct link *l, struct puma_wire_msg *wm,
		   const void *pages, unsigned int nr)
{
	u8 *p;
	int head, n;

	if (nr > TP_MAX_PAGES ||
	    (l->sealed && nr > l->sec.agreed.max_batch))
		return -EMSGSIZE;
	n = link_tx_begin(l);
	if (n)
		return n;
	p = l->tx + l->tx_msg_off;
	/* In clear, the transport frame is all there is. */
	if (l->sealed)
		p += PUMA_SEC_FRAME_HDR_LEN;
	wm->hdr.seq = ++l->seq;
	wm->hdr.nr_pages = nr;
	wm->hdr.data_crc = l->sealed || !nr ? 0 :
			   puma_wire_crc32c(0, pages, (size_t)nr * HOSTILE_PAGE);
	head = puma_wire_encode(wm, p + TF_LEN, TP_MAX_HEAD);
	if (head < 0)
		return head;
	tframe_hdr(p, PUMA_TCP_FRAME_MSG, head, nr);
	if (nr)
		memcpy(p + TF_LEN + head, pages, (size_t)nr * HOSTILE_PAGE);
	n = link_seal_at(l, l->tx + l->tx_msg_off,
			 TF_LEN + head + nr * HOSTILE_PAGE);
	if (n < 0)
		return n;
	l->tx_len = l->tx_msg_off + n;
	return n;
}

/* An orderly end (PUMA_SEC_FRAME_CLOSE) as the next frame. */
int link_build_close(struct link *l)
{
	int n = link_tx_begin(l);

	if (!n)
		n = psec_seal(&l->sec, PUMA_SEC_FRAME_CLOSE,
			      l->tx + l->tx_msg_off, 0, SEALED_MAX);
	if (n < 0)
		return n;
	l->tx_len = l->tx_msg_off + n;
	return n;
}

/* Send what the socket takes now: 1 all sent, 0 more to go, or -errno. */
int link_tx(struct link *l)
{
	ssize_t n;

	while (l->tx_off < l->tx_len) {
		n = send(l->fd, l->tx + l->tx_off, l->tx_len - l->tx_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			l->tx_off += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		return 0;
	}
	return 1;
}

int link_flush(struct link *l, int64_t deadline)
{
	int r, w;

	while (!(r = link_tx(l))) {
		w = io_wait(l->fd, POLLOUT, deadline);
		if (w <= 0)
			return w ? w : -ETIMEDOUT;
	}
	return r < 0 ? r : 0;
}

int link_send_msg(struct link *l, struct puma_wire_msg *wm,
		  const void *pages, unsigned int nr, int64_t deadline)
{
	int n = link_build_msg(l, wm, pages, nr);

	return n < 0 ? n : link_flush(l, deadline);
}

static int link_refuse(struct link *l, const char *why)
{
	l->error = why;
	return -EPROTO;
}

/*
 * The transport frame @p of @len bytes, as puma_tcp_check_frame() and
 * puma_tcp_rx_payload() take it: 1 with a message in l->wm, 0 for a
 * control frame, or -EPROTO.
 */
static int link_tframe(struct link *l, const u8 *p, size_t len)
{
	struct puma_tcp_frame f;
	u32 head_len;
	u16 nr;

	if (len < TF_LEN)
		return link_refuse(l, "short_frame");
	memcpy(&f, p, sizeof(f));
	head_len = le32_to_cpu(f.head_len);
	nr = le16_to_cpu(f.nr_pages);
	if (le32_to_cpu(f.magic) != PUMA_TCP_FRAME_MAGIC ||
	    f.page_shift != HOSTILE_PAGE_SHIFT || f.reserved)
		return link_refuse(l, "bad_frame_header");
	if (f.type == PUMA_TCP_FRAME_PING || f.type == PUMA_TCP_FRAME_PONG) {
		if (head_len || nr || len != TF_LEN)
			return link_refuse(l, "control_frame_with_body");
		if (f.type == PUMA_TCP_FRAME_PING) {
			l->pings_in++;
			l->pong_owed = true;
		}
		return 0;
	}
	if (f.type != PUMA_TCP_FRAME_MSG || head_len > TP_MAX_HEAD ||
	    nr > TP_MAX_PAGES ||
	    len != TF_LEN + head_len + (size_t)nr * HOSTILE_PAGE)
		return link_refuse(l, "bad_frame_length");
	if (puma_wire_decode(p + TF_LEN, head_len, &l->wm, NULL) ||
	    l->wm.hdr.nr_pages != nr)
		return link_refuse(l, "bad_message");
	/* Checked as lib/msg.c does: the CRC only where nothing sealed it. */
	if (!l->sealed && nr &&
	    puma_wire_check_data(&l->wm.hdr,
				 puma_wire_crc32c(0, p + TF_LEN + head_len,
						  (size_t)nr * HOSTILE_PAGE),
				 NULL))
		return link_refuse(l, "bad_data_crc");
	l->pages = p + TF_LEN + head_len;
	return 1;
}

/* How long the frame whose header is in l->rx is, or -EPROTO. */
static long link_frame_len(struct link *l)
{
	struct puma_sec_frame_hdr hdr;
	enum puma_sec_reject why;
	struct puma_tcp_frame f;
	int len;

	if (l->sealed) {
		/* As puma_tcp_rx_sealed(): the header, then our bound. */
		len = puma_sec_frame_hdr_parse(l->rx, PUMA_SEC_FRAME_HDR_LEN,
					       &hdr, &why);
		if (len >= 0 && len > (int)SEALED_MAX) {
			len = -EMSGSIZE;
			why = PUMA_SEC_REJ_OVERSIZED;
		}
		/* tcp.c counts these with the session's refusals. */
		if (len < 0) {
			l->sec.why = why;
			return link_refuse(l, puma_sec_reject_name(why));
		}
		return len;
	}
	memcpy(&f, l->rx, sizeof(f));
	if (le32_to_cpu(f.head_len) > TP_MAX_HEAD ||
	    le16_to_cpu(f.nr_pages) > TP_MAX_PAGES)
		return link_refuse(l, "bad_frame_length");
	return TF_LEN + le32_to_cpu(f.head_len) +
	       (long)le16_to_cpu(f.nr_pages) * HOSTILE_PAGE;
}

/*
 * Receive what the socket has: 1 with the next message in l->wm (and its
 * pages at l->pages), 0 when no whole message is there yet, -ESHUTDOWN
 * when the peer closed (end of stream, or a CLOSE frame), -EPROTO for a
 * frame we refuse (l->error, l->sec.why), or the socket's error.  PINGs
 * are answered ahead of the next frame built.
 */
int link_pump(struct link *l)
{
	u8 type, *payload;
	u32 plen;
	ssize_t n;
	long len;
	int r;

	for (;;) {
		if (l->rx_have < l->rx_need) {
			n = recv(l->fd, l->rx + l->rx_have,
				 l->rx_need - l->rx_have, MSG_DONTWAIT);
			if (n > 0) {
				l->rx_have += n;
				l->bytes_in += n;
				continue;
			}
			if (!n)
				return -ESHUTDOWN;
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		}
		if (!l->rx_hdr_done) {
			len = link_frame_len(l);
			if (len < 0)
				return len;
			l->rx_hdr_done = true;
			l->rx_need = len;
			continue;
		}
		len = l->rx_have;
		l->rx_have = 0;
		l->rx_need = PUMA_SEC_FRAME_HDR_LEN;
		l->rx_hdr_done = false;
		if (!l->sealed) {
			r = link_tframe(l, l->rx, len);
		} else if (psec_open(&l->sec, l->rx, len, &type, &payload,
				     &plen)) {
			return link_refuse(l, l->sec.why >= 0 ?
					   puma_sec_reject_name(l->sec.why) :
					   "open_failed");
		} else if (type == PUMA_SEC_FRAME_CLOSE) {
			return -ESHUTDOWN;
		} else {
			r = link_tframe(l, payload, plen);
		}
		if (r)
			return r;
	}
}

/* The next message, waiting until @deadline: as link_pump(), or -ETIMEDOUT. */
int link_recv_msg(struct link *l, int64_t deadline)
{
	int r, w;

	for (;;) {
		r = link_pump(l);
		if (r)
			return r;
		/* A PONG owed and nothing being sent: send it now. */
		if (l->pong_owed && l->tx_off == l->tx_len) {
			r = link_tx_begin(l);
			if (!r)
				r = link_flush(l, deadline);
			if (r)
				return r;
		}
		w = io_wait(l->fd, POLLIN, deadline);
		if (w <= 0)
			return w ? w : -ETIMEDOUT;
	}
}
