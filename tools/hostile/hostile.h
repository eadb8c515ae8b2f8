/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hostile: what its files share.  psec.c is the user-space twin of
 * lib/secure.c (the session: handshake, key schedule, frames) over
 * OpenSSL's primitives; link.c runs it on a socket the way
 * transports/tcp.c does; hostile.c has the attacks on a server, serve.c
 * those on a client (hostile listening as a PUMA server), selftest.c the
 * offline checks.  The byte layouts are the project's own headers and
 * codecs (lib/secure_codec.c, lib/wire.c), built here as in
 * tools/wire-host.
 */
#ifndef _HOSTILE_H
#define _HOSTILE_H

#include "wire_shim.h"		/* first: u8 to u64, byte order */
#include <puma/secure.h>
#include <puma/wire.h>
#include "tcp_frame.h"		/* transports/, through shim/linux/ */

#include <stdint.h>
#include <sys/socket.h>

/* Both ends run x86-64: PAGE_SIZE is the wire's page unit. */
#define HOSTILE_PAGE		PUMA_WIRE_PAGE_SIZE
#define HOSTILE_PAGE_SHIFT	12
static_assert(HOSTILE_PAGE == 1U << HOSTILE_PAGE_SHIFT, "page shift");

/* PUMA_TRANSPORT_MAX_HEAD and _MAX_PAGES (include/puma/transport.h,
 * kernel only). */
#define TP_MAX_HEAD		4096U
#define TP_MAX_PAGES		32U
#define TF_LEN			((u32)sizeof(struct puma_tcp_frame))
/* Largest transport frame, and PUMA_TCP_SEALED_MAX of transports/tcp.c:
 * the most a receiver reads for one sealed frame. */
#define TF_MAX			(TF_LEN + TP_MAX_HEAD + TP_MAX_PAGES * HOSTILE_PAGE)
#define SEALED_MAX		(PUMA_SEC_FRAME_OVERHEAD + TF_MAX)
static_assert(TF_MAX <= PUMA_SEC_MAX_PAYLOAD, "a full batch fits a frame");

/* psec.c: the session of lib/secure.c. */

enum psec_state {
	PSEC_START,
	PSEC_WAIT_SERVER_HELLO,
	PSEC_WAIT_FINISH,
	PSEC_ESTABLISHED,
	PSEC_FAILED,
};

#define PSEC_TRANSCRIPT_LEN	(PUMA_SEC_CLIENT_HELLO_LEN + \
				 PUMA_SEC_SERVER_HELLO_LEN)

struct psec {
	bool server;
	enum psec_state state;
	struct puma_sec_caps local;
	struct puma_sec_caps agreed;
	u8 psk[PUMA_SEC_PSK_MAX];
	unsigned int psk_len;
	u8 transcript[PSEC_TRANSCRIPT_LEN];
	u8 tx_key[PUMA_SEC_KEY_LEN];
	u64 tx_counter;
	u8 rx_key[PUMA_SEC_KEY_LEN];
	u64 rx_counter;
	int why;		/* last refusal (enum puma_sec_reject), or -1 */
	/* Client: answer a SERVER_HELLO whose MAC is bad (wrongkey). */
	bool ignore_server_mac;
	bool server_mac_ok;
	void *aead;		/* EVP_CIPHER_CTX */
};

struct chunk {
	const void *p;
	size_t len;
};

int random_bytes(void *buf, size_t len);
extern int (*psec_random)(void *buf, size_t len);
int sha256(const void *buf, size_t len, u8 out[32]);
int hmac_sha256(const u8 *key, size_t key_len, const struct chunk *c,
		unsigned int nr, u8 out[32]);
int hkdf_sha256(const u8 *salt, size_t salt_len, const u8 *ikm,
		size_t ikm_len, const u8 *info, size_t info_len, u8 *okm,
		size_t okm_len);
void psec_nonce(u8 nonce[12], u64 counter);
int aead_seal(void *ctx, const u8 key[32], const u8 nonce[12],
	      const u8 *aad, size_t aad_len, u8 *buf, size_t len,
	      u8 tag[16]);
int aead_open(void *ctx, const u8 key[32], const u8 nonce[12],
	      const u8 *aad, size_t aad_len, u8 *buf, size_t len,
	      const u8 tag[16]);
void *aead_ctx_new(void);
void aead_ctx_free(void *ctx);

void psec_caps(struct puma_sec_caps *caps, u8 modes);
int psec_init(struct psec *s, bool server, const u8 *psk, size_t psk_len,
	      const struct puma_sec_caps *caps);
void psec_free(struct psec *s);
int psec_client_hello(struct psec *s, u8 *out, size_t size);
int psec_server_hello(struct psec *s, const u8 *in, size_t len, u8 *out,
		      size_t size);
int psec_client_finish(struct psec *s, const u8 *in, size_t len, u8 *out,
		       size_t size);
int psec_server_finish(struct psec *s, const u8 *in, size_t len);
int psec_seal(struct psec *s, u8 type, u8 *buf, size_t len, size_t size);
int psec_open(struct psec *s, u8 *buf, size_t len, u8 *type, u8 **payload,
	      u32 *plen);
const char *psec_mode_name(u8 modes);

/* link.c: a connection speaking transports/tcp.c's stream. */

int64_t now_ms(void);
int io_wait(int fd, short events, int64_t deadline);
int io_send(int fd, const void *buf, size_t len, int64_t deadline);
int io_recv(int fd, void *buf, size_t len, int64_t deadline);
int io_wait_close(int fd, int64_t deadline, unsigned long *discarded);
int net_connect(const struct sockaddr_storage *ss, socklen_t len,
		int64_t deadline);

/* The handshake messages a client sent, for replay-handshake. */
struct hs_record {
	u8 hello[PUMA_SEC_CLIENT_HELLO_LEN];
	u8 finish[PUMA_SEC_CLIENT_FINISH_LEN];
};

struct link {
	int fd;
	bool sealed;		/* secure channel (else security=none's frames) */
	struct psec sec;
	u64 seq;		/* wire protocol sequence of our messages */
	u8 *tx;			/* frames being sent: an owed PONG, one more */
	size_t tx_len, tx_off, tx_msg_off;
	u8 *rx;			/* the frame being received */
	size_t rx_have, rx_need;
	bool rx_hdr_done;
	bool pong_owed;
	/* The message link_pump() last returned, valid until its next call. */
	struct puma_wire_msg wm;
	const u8 *pages;
	unsigned long bytes_in, pings_in, pongs_out;
	const char *error;	/* what link_pump() refused, for the report */
};

int link_init(struct link *l, int fd, bool sealed);
void link_close(struct link *l);
int link_client_handshake(struct link *l, const u8 *psk, size_t psk_len,
			  u8 modes, struct hs_record *rec, int64_t deadline);
int link_server_handshake(struct link *l, const u8 *psk, size_t psk_len,
			  u8 modes, int64_t deadline);
int link_build_msg(struct link *l, struct puma_wire_msg *wm,
		   const void *pages, unsigned int nr);
int link_build_close(struct link *l);
int link_tx(struct link *l);
int link_flush(struct link *l, int64_t deadline);
int link_send_msg(struct link *l, struct puma_wire_msg *wm,
		  const void *pages, unsigned int nr, int64_t deadline);
int link_pump(struct link *l);
int link_recv_msg(struct link *l, int64_t deadline);

/* hostile.c, for selftest.c */

struct opts {
	const char *attack;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	u8 psk[PUMA_SEC_PSK_MAX];
	size_t psk_len;
	u8 modes;
	long count;
	long seconds;
	long len;		/* announced frame length, 0: the attack's */
	long interval_ms;
	long connect_ms;
	u64 node;
	u32 pool;
	bool handshake;		/* connections: send a CLIENT_HELLO too */
	bool miss;		/* floods: GET keys never PUT */
	long conns;		/* listening: end after so many, 0: never */
};

typedef int (*attack_fn)(const struct opts *o);
attack_fn attack_find(const char *name);
void attack_defaults(struct opts *o);
/* Where attacks get their connections: TCP, or the selftest's peers. */
extern int (*conn_hook)(const struct opts *o);
extern bool quiet;
extern char last_result[32];
extern char last_refused[32];	/* what fail() reported refused, or "" */
int selftest(void);

/* hostile.c, for serve.c */
extern const char *cur;
void report(const char *field, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int fail(const char *stage, int err, const struct link *l);
const char *close_name(int err);
void bye(struct link *l);

/* serve.c: hostile as a server, attacking a client. */

/* What a listening attack saw, also kept for the self test. */
#define SERVE_ENDS_KEPT		8
struct serve_stats {
	unsigned long accepted, handshakes, handshake_failures, hellos;
	unsigned long puts, put_pages, put_drops, gets, get_keys;
	unsigned long responses, hits, misses, invalidated, pings, keepalives;
	unsigned long unexpected, tampered, forged;
	unsigned long by_peer, by_error, idle, at_end;
	/* How the first connections ended: "end" or "end:why". */
	char ends[SERVE_ENDS_KEPT][40];
};
extern struct serve_stats serve_last;
/* Where listening attacks get their socket: TCP, or the self test's. */
extern int (*listen_hook)(const struct opts *o);
int att_serve(const struct opts *o);
int att_tampered_get_response(const struct opts *o);
int att_forged_get_response(const struct opts *o);

#endif /* _HOSTILE_H */
