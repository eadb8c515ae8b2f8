// SPDX-License-Identifier: GPL-2.0
/*
 * hostile --selftest: offline checks that the tool speaks the protocol.
 *
 *   - ChaCha20-Poly1305: RFC 8439 section 2.8.2 (its own 12-byte nonce),
 *     and appendix A.5, whose nonce, 4 zero bytes then 01..08, is the
 *     kernel's layout of the u64 0x0807060504030201 (psec_nonce());
 *   - HMAC-SHA256: RFC 4231 test case 2, in two chunks;
 *   - HKDF-SHA256: RFC 5869 test cases 1 and 3, as kunit/secure_kunit.c
 *     (which has no fixed vector of the handshake itself);
 *   - a known answer of the whole composition, with fixed nonces: the
 *     three handshake messages, the direction keys and the first frame
 *     each way, in both modes, against values computed apart from this
 *     code (Python: hmac, hashlib, cryptography's HKDF and
 *     ChaCha20Poly1305) from the definitions in lib/secure.c: a slip
 *     made alike on both sides of psec.c shows here;
 *   - two sessions in memory: handshake, keys per direction, frames both
 *     ways in both modes (readable in mode auth only), and a tampered,
 *     replayed or reflected frame or a wrong key refused for the reason
 *     lib/secure.c gives;
 *   - the attacks themselves, each against a mini server forked on a
 *     socketpair (the server side of the handshake as transports/tcp.c
 *     runs it, then HELLO, PUT, GET and PING answered): "good" passes in
 *     both modes, and every attack ends as a PUMA server would end it,
 *     for the reason it would count;
 *   - the listening attacks, forked on a loopback socket and driven by the
 *     tool's own client side: against "serve", "good" reads its 32 pages
 *     back; against "tampered-get-response" its psec_open() refuses the
 *     response (bad_tag); against "forged-get-response", authentic but
 *     wrong, "good" finds the page changed (the negative control of its
 *     data check); the store's bound, exclusive GETs, the invalidations
 *     and PING as backends/puma/server.c answers them; and the server
 *     outliving hostile clients (no key, wrong key, oversized, tampered
 *     and replayed frames), each connection ending for its reason.
 *
 * Prints "ok N - what" or "not ok N - what", then a summary line; exit
 * status 0 if every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "hostile.h"

#define ENC	PUMA_SEC_MODE_ENCRYPT
#define AUTH	PUMA_SEC_MODE_AUTH
#define BOTH	PUMA_SEC_MODES

static int checks, failures;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	failures += !ok;
	printf("%sok %d - ", ok ? "" : "not ", checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* RFC 8439, section 2.8.2. */
static void test_rfc8439(void)
{
	static const char pt[] = "Ladies and Gentlemen of the class of '99: "
		"If I could offer you only one tip for the future, sunscreen "
		"would be it.";
	static const u8 nonce[12] = {
		0x07, 0x00, 0x00, 0x00, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
		0x46, 0x47,
	};
	static const u8 aad[12] = {
		0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5,
		0xc6, 0xc7,
	};
	static const u8 ct[114] = {
		0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb, 0x7b, 0x86,
		0xaf, 0xbc, 0x53, 0xef, 0x7e, 0xc2, 0xa4, 0xad, 0xed, 0x51,
		0x29, 0x6e, 0x08, 0xfe, 0xa9, 0xe2, 0xb5, 0xa7, 0x36, 0xee,
		0x62, 0xd6, 0x3d, 0xbe, 0xa4, 0x5e, 0x8c, 0xa9, 0x67, 0x12,
		0x82, 0xfa, 0xfb, 0x69, 0xda, 0x92, 0x72, 0x8b, 0x1a, 0x71,
		0xde, 0x0a, 0x9e, 0x06, 0x0b, 0x29, 0x05, 0xd6, 0xa5, 0xb6,
		0x7e, 0xcd, 0x3b, 0x36, 0x92, 0xdd, 0xbd, 0x7f, 0x2d, 0x77,
		0x8b, 0x8c, 0x98, 0x03, 0xae, 0xe3, 0x28, 0x09, 0x1b, 0x58,
		0xfa, 0xb3, 0x24, 0xe4, 0xfa, 0xd6, 0x75, 0x94, 0x55, 0x85,
		0x80, 0x8b, 0x48, 0x31, 0xd7, 0xbc, 0x3f, 0xf4, 0xde, 0xf0,
		0x8e, 0x4b, 0x7a, 0x9d, 0xe5, 0x76, 0xd2, 0x65, 0x86, 0xce,
		0xc6, 0x4b, 0x61, 0x16,
	};
	static const u8 tag[16] = {
		0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a, 0x7e, 0x90,
		0x2e, 0xcb, 0xd0, 0x60, 0x06, 0x91,
	};
	u8 key[32], buf[sizeof(pt) - 1], t[16];
	void *ctx = aead_ctx_new();
	int i;

	for (i = 0; i < 32; i++)
		key[i] = 0x80 + i;
	memcpy(buf, pt, sizeof(buf));
	check(sizeof(buf) == sizeof(ct) &&
	      !aead_seal(ctx, key, nonce, aad, sizeof(aad), buf, sizeof(buf), t) &&
	      !memcmp(buf, ct, sizeof(ct)) && !memcmp(t, tag, sizeof(tag)),
	      "chacha20-poly1305: RFC 8439 2.8.2 ciphertext and tag");
	check(!aead_open(ctx, key, nonce, aad, sizeof(aad), buf, sizeof(buf), tag) &&
	      !memcmp(buf, pt, sizeof(buf)),
	      "chacha20-poly1305: RFC 8439 2.8.2 opens");
	memcpy(buf, ct, sizeof(buf));
	buf[57] ^= 0x20;
	check(aead_open(ctx, key, nonce, aad, sizeof(aad), buf, sizeof(buf), tag) ==
	      -EBADMSG, "chacha20-poly1305: a flipped ciphertext bit is refused");
	aead_ctx_free(ctx);
}

/* RFC 8439, appendix A.5: the kernel's u64 nonce layout. */
static void test_rfc8439_a5(void)
{
	static const char pt[] = "Internet-Drafts are draft documents valid "
		"for a maximum of six months and may be updated, replaced, or "
		"obsoleted by other documents at any time. It is inappropriate "
		"to use Internet-Drafts as reference material or to cite them "
		"other than as /\xe2\x80\x9cwork in progress./\xe2\x80\x9d";
	static const u8 key[32] = {
		0x1c, 0x92, 0x40, 0xa5, 0xeb, 0x55, 0xd3, 0x8a, 0xf3, 0x33,
		0x88, 0x86, 0x04, 0xf6, 0xb5, 0xf0, 0x47, 0x39, 0x17, 0xc1,
		0x40, 0x2b, 0x80, 0x09, 0x9d, 0xca, 0x5c, 0xbc, 0x20, 0x70,
		0x75, 0xc0,
	};
	static const u8 rfc_nonce[12] = {
		0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
		0x07, 0x08,
	};
	static const u8 aad[12] = {
		0xf3, 0x33, 0x88, 0x86, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x4e, 0x91,
	};
	static const u8 tag[16] = {
		0xee, 0xad, 0x9d, 0x67, 0x89, 0x0c, 0xbb, 0x22, 0x39, 0x23,
		0x36, 0xfe, 0xa1, 0x85, 0x1f, 0x38,
	};
	u8 nonce[12], buf[sizeof(pt) - 1], t[16];
	void *ctx = aead_ctx_new();

	psec_nonce(nonce, 0x0807060504030201ULL);
	check(!memcmp(nonce, rfc_nonce, sizeof(nonce)),
	      "nonce of chacha20poly1305_encrypt(u64): 4 zero bytes, le64 counter");
	memcpy(buf, pt, sizeof(buf));
	/* The tag covers every ciphertext byte. */
	check(sizeof(buf) == 265 &&
	      !aead_seal(ctx, key, nonce, aad, sizeof(aad), buf, sizeof(buf), t) &&
	      !memcmp(t, tag, sizeof(tag)) &&
	      !aead_open(ctx, key, nonce, aad, sizeof(aad), buf, sizeof(buf), t) &&
	      !memcmp(buf, pt, sizeof(buf)),
	      "chacha20-poly1305: RFC 8439 A.5 tag under the kernel's nonce layout");
	aead_ctx_free(ctx);
}

static void test_hmac_hkdf(void)
{
	static const u8 mac2[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04,
		0x24, 0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08,
		0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec,
		0x38, 0x43,
	};
	static const u8 salt[13] = {
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
		0x0a, 0x0b, 0x0c,
	};
	static const u8 info[10] = {
		0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
	};
	static const u8 okm1[42] = {
		0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43,
		0x4f, 0x64, 0xd0, 0x36, 0x2f, 0x2a, 0x2d, 0x2d, 0x0a, 0x90,
		0xcf, 0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56, 0xec, 0xc4,
		0xc5, 0xbf, 0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18,
		0x58, 0x65,
	};
	static const u8 okm3[42] = {
		0x8d, 0xa4, 0xe7, 0x75, 0xa5, 0x63, 0xc1, 0x8f, 0x71, 0x5f,
		0x80, 0x2a, 0x06, 0x3c, 0x5a, 0x31, 0xb8, 0xa1, 0x1f, 0x5c,
		0x5e, 0xe1, 0x87, 0x9e, 0xc3, 0x45, 0x4e, 0x5f, 0x3c, 0x73,
		0x8d, 0x2d, 0x9d, 0x20, 0x13, 0x95, 0xfa, 0xa4, 0xb6, 0x1a,
		0x96, 0xc8,
	};
	struct chunk c[] = {
		{ "what do ya", 10 },
		{ " want for nothing?", 18 },
	};
	u8 ikm[22], okm[42], mac[32];

	check(!hmac_sha256((const u8 *)"Jefe", 4, c, 2, mac) &&
	      !memcmp(mac, mac2, sizeof(mac)),
	      "hmac-sha256: RFC 4231 test case 2, in two chunks");
	memset(ikm, 0x0b, sizeof(ikm));
	check(!hkdf_sha256(salt, sizeof(salt), ikm, sizeof(ikm), info,
			   sizeof(info), okm, sizeof(okm)) &&
	      !memcmp(okm, okm1, sizeof(okm)), "hkdf-sha256: RFC 5869 test case 1");
	check(!hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, okm, sizeof(okm)) &&
	      !memcmp(okm, okm3, sizeof(okm)), "hkdf-sha256: RFC 5869 test case 3");
}

static const u8 st_psk[32] = "0123456789abcdef0123456789abcdef";
static const u8 st_psk_b[32] = "fedcba9876543210fedcba9876543210";

/* A client and a server session through a whole handshake: 0 or error. */
#define HS_ALL_LEN (PSEC_TRANSCRIPT_LEN + PUMA_SEC_CLIENT_FINISH_LEN)

/* A client and a server through a whole handshake, its messages in @rec. */
static int pair_rec(struct psec *c, struct psec *s, u8 cmodes, u8 smodes,
		    const u8 *spsk, bool finish_anyway, u8 *rec)
{
	u8 all[HS_ALL_LEN], *ch = all, *sh = ch + PUMA_SEC_CLIENT_HELLO_LEN;
	u8 *fin = sh + PUMA_SEC_SERVER_HELLO_LEN;
	struct puma_sec_caps cc, sc;
	int n;

	psec_caps(&cc, cmodes);
	psec_caps(&sc, smodes);
	if (psec_init(c, false, st_psk, sizeof(st_psk), &cc) ||
	    psec_init(s, true, spsk, 32, &sc))
		return -ENOMEM;
	c->ignore_server_mac = finish_anyway;
	n = psec_client_hello(c, ch, PUMA_SEC_CLIENT_HELLO_LEN);
	if (n != PUMA_SEC_CLIENT_HELLO_LEN)
		return n < 0 ? n : -EPROTO;
	n = psec_server_hello(s, ch, n, sh, PUMA_SEC_SERVER_HELLO_LEN);
	if (n != PUMA_SEC_SERVER_HELLO_LEN)
		return n < 0 ? n : -EPROTO;
	n = psec_client_finish(c, sh, n, fin, PUMA_SEC_CLIENT_FINISH_LEN);
	if (n != PUMA_SEC_CLIENT_FINISH_LEN)
		return n < 0 ? n : -EPROTO;
	if (rec)
		memcpy(rec, all, sizeof(all));
	return psec_server_finish(s, fin, n);
}

static int pair(struct psec *c, struct psec *s, u8 cmodes, u8 smodes,
		const u8 *spsk, bool finish_anyway)
{
	return pair_rec(c, s, cmodes, smodes, spsk, finish_anyway, NULL);
}

#define ST_LEN 200

/* Seal ST_LEN bytes of @seed from @from into @buf: the frame length. */
static int st_seal(struct psec *from, u8 *buf, u8 seed)
{
	int i;

	for (i = 0; i < ST_LEN; i++)
		buf[PUMA_SEC_FRAME_HDR_LEN + i] = seed + i;
	return psec_seal(from, PUMA_SEC_FRAME_DATA, buf, ST_LEN,
			 ST_LEN + PUMA_SEC_FRAME_OVERHEAD);
}

static bool st_open_ok(struct psec *to, u8 *buf, int len, u8 seed)
{
	u8 type, *p;
	u32 plen;
	int i;

	if (psec_open(to, buf, len, &type, &p, &plen) ||
	    type != PUMA_SEC_FRAME_DATA || plen != ST_LEN)
		return false;
	for (i = 0; i < ST_LEN; i++)
		if (p[i] != (u8)(seed + i))
			return false;
	return true;
}

static bool st_refused(struct psec *to, u8 *buf, int len,
		       enum puma_sec_reject why)
{
	u8 type, *p;
	u32 plen;

	return psec_open(to, buf, len, &type, &p, &plen) < 0 && to->why == (int)why &&
	       to->state == PSEC_FAILED;
}

static void test_sessions(u8 mode)
{
	u8 a[ST_LEN + PUMA_SEC_FRAME_OVERHEAD], b[sizeof(a)], again[sizeof(a)];
	const char *m = psec_mode_name(mode);
	struct psec c, s;
	int n;

	check(!pair(&c, &s, BOTH, mode, st_psk, false) &&
	      c.agreed.modes == mode && s.agreed.modes == mode,
	      "session %s: handshake, agreed on the server's mode", m);
	check(!memcmp(c.tx_key, s.rx_key, 32) && !memcmp(c.rx_key, s.tx_key, 32) &&
	      memcmp(c.tx_key, c.rx_key, 32),
	      "session %s: one key per direction", m);
	n = st_seal(&c, a, 1);
	memcpy(again, a, sizeof(a));
	check(n == (int)sizeof(a) &&
	      (mode == PUMA_SEC_MODE_AUTH) == (a[PUMA_SEC_FRAME_HDR_LEN + 5] == 6) &&
	      (mode == PUMA_SEC_MODE_AUTH) == (a[5] == PUMA_SEC_F_CLEAR),
	      "session %s: payload %s on the wire", m,
	      mode == PUMA_SEC_MODE_AUTH ? "in clear" : "encrypted");
	check(st_open_ok(&s, a, n, 1), "session %s: client to server", m);
	check(st_seal(&s, b, 2) == n && st_open_ok(&c, b, n, 2),
	      "session %s: server to client", m);
	check(st_refused(&s, again, n, PUMA_SEC_REJ_REPLAY_OR_REORDER),
	      "session %s: a replayed frame is refused (replay_or_reorder)", m);
	psec_free(&c);
	psec_free(&s);

	pair(&c, &s, mode, mode, st_psk, false);
	n = st_seal(&c, a, 3);
	a[PUMA_SEC_FRAME_HDR_LEN + 77] ^= 0x04;
	check(st_refused(&s, a, n, PUMA_SEC_REJ_BAD_TAG),
	      "session %s: a flipped payload byte is refused (bad_tag)", m);
	n = st_seal(&c, a, 4);
	check(st_refused(&c, a, n, PUMA_SEC_REJ_BAD_TAG),
	      "session %s: a frame reflected to its sender is refused", m);
	psec_free(&c);
	psec_free(&s);
}

static void test_handshake_refusals(void)
{
	struct psec c, s;

	check(pair(&c, &s, BOTH, BOTH, st_psk_b, false) == -EACCES &&
	      c.why == PUMA_SEC_REJ_WRONG_KEY,
	      "session: a server with another key fails the client (wrong_key)");
	psec_free(&c);
	psec_free(&s);
	check(pair(&c, &s, BOTH, BOTH, st_psk_b, true) == -EACCES &&
	      !c.server_mac_ok && s.why == PUMA_SEC_REJ_WRONG_KEY,
	      "session: a client with another key fails the server (wrong_key)");
	psec_free(&c);
	psec_free(&s);
	check(pair(&c, &s, ENC, AUTH, st_psk, false) == -EPROTONOSUPPORT &&
	      s.why == PUMA_SEC_REJ_NO_COMMON_CAPS,
	      "session: no common mode is refused by the server (no_common_caps)");
	psec_free(&c);
	psec_free(&s);
}

/* Nonces 00..1f for the client, 20..3f for the server. */
static u8 kat_next;

static int kat_random(void *buf, size_t len)
{
	u8 *p = buf;

	while (len--)
		*p++ = kat_next++;
	return 0;
}

/*
 * SHA-256 of CLIENT_HELLO | SERVER_HELLO | CLIENT_FINISH, of k_c2s |
 * k_s2c, and of the client's then the server's first frame (200 bytes
 * 0x40 + i, then 0x80 + i), the client offering both modes, the server
 * the one named.  Computed with Python from lib/secure.c's definitions.
 */
static const u8 kat[2][3][32] = {
	{	/* encrypt */
		{ 0x4b, 0x3f, 0x2b, 0xd9, 0x61, 0xe0, 0x20, 0xb2, 0x21, 0x08,
		  0x8b, 0xa4, 0xbb, 0xe2, 0x39, 0x5f, 0x7b, 0xad, 0xe0, 0x92,
		  0x1c, 0xc9, 0x2b, 0x7b, 0x7e, 0x82, 0x35, 0x99, 0xca, 0x80,
		  0x7a, 0x51 },
		{ 0xe5, 0x58, 0x77, 0x5e, 0xca, 0x9a, 0x68, 0x96, 0x29, 0xd9,
		  0x0a, 0xf9, 0x0f, 0x6b, 0xcf, 0xab, 0xae, 0x91, 0xd2, 0xfe,
		  0xa5, 0x96, 0x09, 0x86, 0xd9, 0xeb, 0xc7, 0x84, 0x37, 0x71,
		  0xe6, 0x91 },
		{ 0xeb, 0x03, 0x71, 0xfe, 0x68, 0xb3, 0xda, 0xec, 0xe2, 0xe6,
		  0xd0, 0x40, 0x74, 0xe4, 0xe5, 0x0e, 0x66, 0x54, 0x21, 0x2d,
		  0x91, 0x22, 0x99, 0x62, 0x90, 0xc8, 0x8f, 0x49, 0xb5, 0x8a,
		  0x17, 0xc9 },
	}, {	/* auth */
		{ 0x92, 0x05, 0xca, 0xf0, 0x1e, 0x6e, 0xed, 0x55, 0x6c, 0x1a,
		  0x7b, 0x1d, 0xd2, 0xcb, 0x20, 0x97, 0x30, 0x24, 0xad, 0x59,
		  0xdd, 0x92, 0xbe, 0xd7, 0xc4, 0x72, 0x2f, 0x0a, 0xa3, 0x17,
		  0xb1, 0x64 },
		{ 0xad, 0x93, 0xcd, 0x62, 0xab, 0x9c, 0xa0, 0xcc, 0xd8, 0x5c,
		  0xcb, 0x7f, 0x55, 0xb0, 0x99, 0x04, 0x6e, 0x1c, 0xce, 0x99,
		  0x07, 0x7e, 0x19, 0x37, 0xcb, 0x13, 0x96, 0xc0, 0xbc, 0xaf,
		  0x2d, 0x4b },
		{ 0x52, 0x85, 0x01, 0x4a, 0x71, 0x12, 0x16, 0xbf, 0x0e, 0xcc,
		  0x78, 0x9b, 0x25, 0x8e, 0xb4, 0xc1, 0x73, 0xe3, 0x1d, 0x7c,
		  0x75, 0xaa, 0xf3, 0x63, 0x52, 0xd7, 0x36, 0x93, 0x39, 0x9d,
		  0x4b, 0x13 },
	},
};

static void test_kat(int i, u8 mode)
{
	u8 hs[HS_ALL_LEN], keys[64], frames[2 * (ST_LEN + PUMA_SEC_FRAME_OVERHEAD)];
	const char *m = psec_mode_name(mode);
	u8 d[32];
	struct psec c, s;
	bool ok;

	kat_next = 0;
	psec_random = kat_random;
	ok = !pair_rec(&c, &s, BOTH, mode, st_psk, false, hs);
	psec_random = random_bytes;
	check(ok && !sha256(hs, sizeof(hs), d) && !memcmp(d, kat[i][0], 32),
	      "known answer %s: CLIENT_HELLO, SERVER_HELLO, CLIENT_FINISH", m);
	memcpy(keys, c.tx_key, 32);
	memcpy(keys + 32, c.rx_key, 32);
	check(ok && !sha256(keys, sizeof(keys), d) && !memcmp(d, kat[i][1], 32),
	      "known answer %s: k_c2s and k_s2c", m);
	ok = ok && st_seal(&c, frames, 0x40) == ST_LEN + PUMA_SEC_FRAME_OVERHEAD &&
	     st_seal(&s, frames + ST_LEN + PUMA_SEC_FRAME_OVERHEAD, 0x80) ==
	     ST_LEN + PUMA_SEC_FRAME_OVERHEAD;
	check(ok && !sha256(frames, sizeof(frames), d) && !memcmp(d, kat[i][2], 32),
	      "known answer %s: first sealed frame each way", m);
	psec_free(&c);
	psec_free(&s);
}

/* Mini servers: how each ended, as its exit status. */
enum {
	MINI_EOF = 0,		/* the peer closed, or sent CLOSE */
	MINI_REJ = 10,		/* + enum puma_sec_reject */
	MINI_TIMEOUT = 30,	/* nothing received, or no room to send */
	MINI_BAD = 31,		/* a transport frame or message refused */
	MINI_LOCAL = 40,
	MINI_ANY = -2,		/* for the checks: ended without a refusal */
};
#define MINI_IDLE_MS	1500
#define MINI_STORE	64

static u8 mini_modes;
static pid_t kids[4];
static int nkids;

static int mini_end(struct link *l, int err)
{
	if (l->sec.why >= 0)
		return MINI_REJ + l->sec.why;
	if (err == -ESHUTDOWN || err == -ECONNRESET || err == -EPIPE)
		return MINI_EOF;
	if (err == -ETIMEDOUT)
		return MINI_TIMEOUT;
	return err == -EPROTO ? MINI_BAD : MINI_LOCAL;
}

/* The other end of the attacks: PUMA's server, in miniature. */
static int mini_serve(int fd)
{
	static struct { struct puma_key key; u8 data[HOSTILE_PAGE]; } store[MINI_STORE];
	static u8 pages[TP_MAX_PAGES * HOSTILE_PAGE];
	static struct puma_wire_msg out;
	const struct puma_wire_msg *in;
	unsigned int i, j, n, stored = 0;
	struct link l;
	int err;

	if (link_init(&l, fd, true))
		return MINI_LOCAL;
	in = &l.wm;
	err = link_server_handshake(&l, st_psk, sizeof(st_psk), mini_modes,
				    now_ms() + MINI_IDLE_MS);
	while (!err) {
		err = link_recv_msg(&l, now_ms() + MINI_IDLE_MS);
		if (err < 0)
			break;
		err = n = 0;
		memset(&out, 0, sizeof(out));
		switch (in->hdr.type) {
		case PUMA_WIRE_HELLO:
			out.hdr.type = PUMA_WIRE_HELLO;
			out.hello.node_id = 0x5e1f;
			out.hello.caps = PUMA_WIRE_CAP_SERVER;
			out.hello.page_size = PUMA_WIRE_PAGE_SIZE;
			out.hello.max_batch = PUMA_WIRE_MAX_BATCH;
			break;
		case PUMA_WIRE_PUT:
			for (i = 0; i < in->batch.count; i++) {
				for (j = 0; j < stored; j++)
					if (puma_key_equal(&store[j].key,
							   &in->batch.keys[i]))
						break;
				if (j == MINI_STORE)
					continue;	/* full: dropped */
				stored += j == stored;
				store[j].key = in->batch.keys[i];
				memcpy(store[j].data, l.pages + i * HOSTILE_PAGE,
				       HOSTILE_PAGE);
			}
			continue;
		case PUMA_WIRE_GET:
			out.hdr.type = PUMA_WIRE_GET_RESPONSE;
			out.batch.ref_seq = in->hdr.seq;
			out.batch.count = in->batch.count;
			for (i = 0; i < in->batch.count; i++) {
				out.batch.keys[i] = in->batch.keys[i];
				for (j = 0; j < stored; j++)
					if (puma_key_equal(&store[j].key,
							   &in->batch.keys[i]))
						break;
				if (j == stored)
					continue;
				out.batch.hits |= 1U << i;
				memcpy(pages + n++ * HOSTILE_PAGE, store[j].data,
				       HOSTILE_PAGE);
			}
			break;
		case PUMA_WIRE_PING:
			out.hdr.type = PUMA_WIRE_PONG;
			out.cookie = in->cookie;
			break;
		default:
			continue;
		}
		err = link_send_msg(&l, &out, pages, n, now_ms() + MINI_IDLE_MS);
	}
	err = mini_end(&l, err);
	link_close(&l);
	return err;
}

/* conn_hook: a new mini server on a socketpair; our end. */
static int mini_conn(const struct opts *o)
{
	int sv[2], fd;
	pid_t pid;

	(void)o;
	if (nkids == ARRAY_SIZE(kids))
		return -EMFILE;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (!pid) {
		/* Only its own end: others' ends would keep them open. */
		for (fd = 3; fd < 1024; fd++)
			if (fd != sv[1])
				close(fd);
		_exit(mini_serve(sv[1]));
	}
	close(sv[1]);
	kids[nkids++] = pid;
	return sv[0];
}

/* The exit statuses of the mini servers started, in order. */
static int reap(int *codes)
{
	int64_t end = now_ms() + 10000;
	int i, n = nkids, st = 0;

	for (i = 0; i < n; i++) {
		while (!waitpid(kids[i], &st, WNOHANG)) {
			if (now_ms() > end)
				kill(kids[i], SIGKILL);	/* a bug: it hung */
			usleep(5000);
		}
		codes[i] = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
	nkids = 0;
	return n;
}

struct st_case {
	const char *attack;
	u8 cmodes, smodes;
	long seconds, count;
	int status;		/* the tool's exit status */
	const char *result;
	int ncodes;
	int codes[2];		/* the mini servers' */
};

#define REJ(r)	(MINI_REJ + PUMA_SEC_REJ_##r)

static const struct st_case cases[] = {
	{ "good", ENC, ENC, 5, 0, 0, "ok", 1, { MINI_EOF } },
	{ "good", AUTH, AUTH, 5, 0, 0, "ok", 1, { MINI_EOF } },
	{ "good", BOTH, AUTH, 5, 0, 0, "ok", 1, { MINI_EOF } },
	{ "good", ENC, AUTH, 5, 0, 1, "error", 1, { REJ(NO_COMMON_CAPS) } },
	{ "nokey", BOTH, ENC, 5, 0, 0, "closed", 1, { REJ(MALFORMED) } },
	{ "wrongkey", BOTH, ENC, 5, 0, 0, "refused", 1, { REJ(WRONG_KEY) } },
	{ "replay-handshake", BOTH, ENC, 5, 0, 0, "refused", 2,
	  { MINI_EOF, REJ(WRONG_KEY) } },
	{ "tampered-put", ENC, ENC, 5, 0, 0, "closed", 1, { REJ(BAD_TAG) } },
	{ "tampered-put", AUTH, AUTH, 5, 0, 0, "closed", 1, { REJ(BAD_TAG) } },
	{ "replay-msg", ENC, ENC, 5, 0, 0, "closed", 1,
	  { REJ(REPLAY_OR_REORDER) } },
	{ "replay-msg", AUTH, AUTH, 5, 0, 0, "closed", 1,
	  { REJ(REPLAY_OR_REORDER) } },
	{ "oversized", ENC, ENC, 5, 0, 0, "closed", 1, { REJ(OVERSIZED) } },
	{ "truncated", ENC, ENC, 6, 0, 0, "closed", 1, { MINI_TIMEOUT } },
	{ "get-flood", ENC, ENC, 1, 0, 0, "bounded", 1, { MINI_ANY } },
	{ "put-flood", AUTH, AUTH, 10, 300, 0, "bounded", 1, { MINI_ANY } },
	{ "never-read", ENC, ENC, 6, 0, 0, "closed", 1, { MINI_TIMEOUT } },
};

static void test_attack(const struct st_case *t)
{
	struct opts o = {
		.attack = t->attack,
		.psk_len = sizeof(st_psk),
		.modes = t->cmodes,
		.seconds = t->seconds,
		.count = t->count,
		.interval_ms = 1000,
		.connect_ms = 3000,
		.node = 0x5e1f7e57,
		.pool = 7,
	};
	attack_fn fn = attack_find(t->attack);
	int codes[ARRAY_SIZE(kids)], n, i, status;
	bool ok;

	memcpy(o.psk, st_psk, sizeof(st_psk));
	mini_modes = t->smodes;
	last_result[0] = '\0';
	attack_defaults(&o);
	status = fn(&o);
	n = reap(codes);
	ok = status == t->status && !strcmp(last_result, t->result) &&
	     n == t->ncodes;
	for (i = 0; ok && i < n; i++)
		ok = t->codes[i] == MINI_ANY ?
		     codes[i] < MINI_REJ || codes[i] == MINI_TIMEOUT :
		     codes[i] == t->codes[i];
	check(ok, "attack %s (client %s, server %s): result=%s status=%d server=%d%s",
	      t->attack, psec_mode_name(t->cmodes), psec_mode_name(t->smodes),
	      last_result, status, n ? codes[0] : -1,
	      n > 1 ? (codes[1] == REJ(WRONG_KEY) ? ",wrong_key" : ",?") : "");
}

/*
 * Listening attacks: the server forked on a loopback socket bound here,
 * so that its port is known before it runs; what it saw comes back on a
 * pipe when it ends (after --conns connections, or --seconds).
 */
struct lrun {
	pid_t pid;
	int pipe;
	struct opts o;		/* the client's, aimed at the server */
};

struct lrun_out {
	struct serve_stats st;
	char result[32];
	int status;		/* the server's exit status, -1: it hung */
};

static int st_lfd = -1;

static int st_listen(const struct opts *o)
{
	(void)o;
	return st_lfd;
}

/* Options as the self test runs attacks with, either side. */
static void st_opts(struct opts *o, u8 modes)
{
	memset(o, 0, sizeof(*o));
	memcpy(o->psk, st_psk, sizeof(st_psk));
	o->psk_len = sizeof(st_psk);
	o->modes = modes;
	o->interval_ms = 1000;
	o->connect_ms = 3000;
	o->node = 0x5e1f7e57;
	o->pool = 7;
}

/* The child: run @attack on st_lfd, send back what it saw, exit. */
static void __attribute__((noreturn))
lrun_child(const char *attack, u8 modes, long count, long conns, int out)
{
	struct opts o;
	struct lrun_out r = { .status = 0 };
	attack_fn fn = attack_find(attack);

	st_opts(&o, modes);
	o.attack = attack;
	o.count = count;
	o.conns = conns;
	o.seconds = 10;		/* if a client never ends */
	o.node = 0x5e7e;
	listen_hook = st_listen;
	last_result[0] = '\0';
	r.status = fn(&o);
	r.st = serve_last;
	memcpy(r.result, last_result, sizeof(r.result));
	_exit(write(out, &r, sizeof(r)) == sizeof(r) ? r.status : MINI_LOCAL);
}

static int lrun_start(struct lrun *r, const char *attack, u8 modes,
		      long count, long conns)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&r->o.addr;
	int p[2] = { -1, -1 };

	st_opts(&r->o, modes);
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->o.addr_len = sizeof(*in);
	st_lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st_lfd < 0 || bind(st_lfd, (struct sockaddr *)in, sizeof(*in)) ||
	    listen(st_lfd, 8) ||
	    getsockname(st_lfd, (struct sockaddr *)in, &r->o.addr_len) ||
	    pipe2(p, O_CLOEXEC))
		goto fail;
	fflush(NULL);
	r->pid = fork();
	if (r->pid < 0)
		goto fail;
	if (!r->pid) {
		close(p[0]);
		lrun_child(attack, modes, count, conns, p[1]);
	}
	close(p[1]);
	close(st_lfd);
	st_lfd = -1;
	r->pipe = p[0];
	return 0;
fail:
	if (st_lfd >= 0)
		close(st_lfd);
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	st_lfd = -1;
	return -1;
}

static void lrun_end(struct lrun *r, struct lrun_out *out)
{
	struct pollfd pfd = { .fd = r->pipe, .events = POLLIN };
	int st = 0;

	memset(out, 0, sizeof(*out));
	out->status = -1;
	/* Its --seconds is 10: it has said all well before 15. */
	if (poll(&pfd, 1, 15000) != 1 ||
	    read(r->pipe, out, sizeof(*out)) != sizeof(*out)) {
		kill(r->pid, SIGKILL);
		memset(out, 0, sizeof(*out));
		out->status = -1;
	}
	close(r->pipe);
	waitpid(r->pid, &st, 0);
	if (out->status >= 0)
		out->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* @attack of ours against the server of @r, as the client: its status. */
static int st_client(struct lrun *r, const char *attack, long seconds)
{
	struct opts o = r->o;

	o.attack = attack;
	o.seconds = seconds;
	o.count = 1;
	last_result[0] = last_refused[0] = '\0';
	return attack_find(attack)(&o);
}

static bool st_ends(const struct lrun_out *out, int n, const char *const *e)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(out->st.ends[i], e[i]))
			return false;
	return out->status == 0;
}

/*
 * Run the tool's "good" client, its modes @client_modes, against a
 * listening @attack offering @server_modes and keeping @count pages.
 * Return: the client's status (-1 if the server did not start).
 */
static int lrun_good(const char *attack, u8 server_modes, u8 client_modes,
		     long count, struct lrun_out *out)
{
	struct lrun r;
	int status = -1;

	if (!lrun_start(&r, attack, server_modes, count, 1)) {
		r.o.modes = client_modes;
		status = st_client(&r, "good", 5);
		lrun_end(&r, out);
	} else {
		memset(out, 0, sizeof(*out));
	}
	return status;
}

/* serve: the control, "good" against an honest server. */
static void test_listen_serve(u8 mode)
{
	static const char *const ends[] = { "closed_by_peer" };
	const char *m = psec_mode_name(mode);
	struct lrun_out out;
	int status = lrun_good("serve", BOTH, mode, 65536, &out);
	check(status == 0 && !strcmp(last_result, "ok") && !last_refused[0],
	      "listen serve (%s): good reads its 32 pages back: result=%s",
	      m, last_result);
	check(st_ends(&out, 1, ends) && !strcmp(out.result, "ok") &&
	      out.st.handshakes == 1 && out.st.hellos == 1 &&
	      out.st.put_pages == 32 && !out.st.put_drops &&
	      out.st.responses == 1 && out.st.hits == 32 && !out.st.tampered,
	      "listen serve (%s): 32 stored, 32 served, closed by the client: result=%s",
	      m, out.result);
}

/* tampered-get-response: the client's open must fail for the tag. */
static void test_listen_tampered(u8 mode)
{
	static const char *const ends[] = { "closed_by_peer" };
	const char *m = psec_mode_name(mode);
	struct lrun_out out;
	int status = lrun_good("tampered-get-response", mode, BOTH, 65536, &out);
	check(status == 1 && !strcmp(last_result, "error") &&
	      !strcmp(last_refused, "bad_tag"),
	      "listen tampered-get-response (%s): the client refuses it: refused=%s",
	      m, last_refused);
	check(st_ends(&out, 1, ends) && !strcmp(out.result, "closed") &&
	      out.st.tampered == 1 && out.st.responses == 1,
	      "listen tampered-get-response (%s): 1 sent, client hung up: result=%s",
	      m, out.result);
}

/* forged-get-response: authentic and wrong, which only a data check sees. */
static void test_listen_forged(void)
{
	struct lrun_out out;
	int status = lrun_good("forged-get-response", ENC, ENC, 65536, &out);
	check(status == 0 && !strcmp(last_result, "mismatch") &&
	      !last_refused[0] && out.st.forged == 1 &&
	      !strcmp(out.result, "forged"),
	      "listen forged-get-response: good sees the wrong page: result=%s",
	      last_result);
}

/* --count bounds the store: half the PUT dropped, half served. */
static void test_listen_bound(void)
{
	struct lrun_out out;
	int status = lrun_good("serve", ENC, ENC, 16, &out);
	check(status == 0 && !strcmp(last_result, "partial") &&
	      out.st.put_pages == 32 && out.st.put_drops == 16 &&
	      out.st.hits == 16 && out.st.misses == 16,
	      "listen serve --count 16: 16 of 32 pages kept and served: result=%s",
	      last_result);
}

static void st_fill(u8 *page, unsigned int i)
{
	memset(page, 0x40 + i, HOSTILE_PAGE);
}

/* The next message of @type, others skipped. */
static int st_next(struct link *l, u8 type)
{
	int64_t deadline = now_ms() + 3000;
	int r;

	do {
		r = link_recv_msg(l, deadline);
	} while (r == 1 && l->wm.hdr.type != type);
	return r == 1 ? 0 : -EPROTO;
}

static int st_batch(struct link *l, u8 type, u16 flags,
		    const struct puma_key *keys, unsigned int n,
		    const u8 *pages)
{
	struct puma_wire_msg wm = { .hdr.type = type, .hdr.flags = flags };

	wm.batch.count = n;
	memcpy(wm.batch.keys, keys, n * sizeof(*keys));
	return link_send_msg(l, &wm, pages, type == PUMA_WIRE_PUT ? n : 0,
			     now_ms() + 3000);
}

/*
 * GET @n of @keys: whether the response answers it with hits @hits and,
 * for each hit in order, the page st_fill() made for @fill[i].
 */
static bool st_get(struct link *l, const struct puma_key *keys,
		   unsigned int n, u16 flags, u32 hits, const int *fill)
{
	static u8 want[HOSTILE_PAGE];
	unsigned int i, k = 0;

	if (st_batch(l, PUMA_WIRE_GET, flags, keys, n, NULL) ||
	    st_next(l, PUMA_WIRE_GET_RESPONSE) ||
	    l->wm.batch.ref_seq != l->seq || l->wm.batch.count != n ||
	    l->wm.batch.hits != hits)
		return false;
	for (i = 0; i < n; i++) {
		if (!(hits & (1U << i)))
			continue;
		st_fill(want, fill[k]);
		if (memcmp(l->pages + (size_t)k++ * HOSTILE_PAGE, want,
			   HOSTILE_PAGE))
			return false;
	}
	return true;
}

/*
 * The server's answers, message by message; the step that failed, or 0.
 * Keys: 0, 1 and 4 of pool 7 inode 1, 2 of pool 7 inode 2, 3 of pool 9.
 * @again: a second session, which must not find the first one's pages.
 */
static int st_drive(struct lrun *r, bool again)
{
	static u8 pages[5 * HOSTILE_PAGE];
	static const struct puma_key k[5] = {
		{ 7, 1, 0 }, { 7, 1, 1 }, { 7, 2, 0 }, { 9, 3, 0 }, { 7, 1, 2 },
	};
	struct puma_wire_msg wm = { .hdr.type = PUMA_WIRE_HELLO };
	struct puma_key pair[2];
	struct link l;
	unsigned int i;
	int fd, step = 1;

	fd = net_connect(&r->o.addr, r->o.addr_len, now_ms() + 3000);
	if (fd < 0)
		return step;
	if (link_init(&l, fd, true)) {
		close(fd);
		return step;
	}
	if (link_client_handshake(&l, st_psk, sizeof(st_psk), ENC, NULL,
				  now_ms() + 3000))
		goto out;
	/* HELLO answered by the server's, then the lending state. */
	step++;
	wm.hello.node_id = 0xc1;
	wm.hello.caps = PUMA_WIRE_CAP_CLIENT;
	wm.hello.page_size = PUMA_WIRE_PAGE_SIZE;
	wm.hello.max_batch = PUMA_WIRE_MAX_BATCH;
	if (link_send_msg(&l, &wm, NULL, 0, now_ms() + 3000) ||
	    link_recv_msg(&l, now_ms() + 3000) != 1 ||
	    l.wm.hdr.type != PUMA_WIRE_HELLO || l.wm.hello.node_id != 0x5e7e ||
	    l.wm.hello.caps != PUMA_WIRE_CAP_SERVER ||
	    l.wm.hello.page_size != PUMA_WIRE_PAGE_SIZE ||
	    l.wm.hello.max_batch != PUMA_WIRE_MAX_BATCH ||
	    link_recv_msg(&l, now_ms() + 3000) != 1 ||
	    l.wm.hdr.type != PUMA_WIRE_RESUME)
		goto out;
	if (again) {
		/* Pool 9's page was never invalidated: it went with the session. */
		step = st_get(&l, &k[3], 1, 0, 0, NULL) ? 0 : 10;
		goto out;
	}
	step++;
	for (i = 0; i < 5; i++)
		st_fill(pages + i * HOSTILE_PAGE, i);
	if (st_batch(&l, PUMA_WIRE_PUT, 0, k, 5, pages))
		goto out;
	/* An exclusive GET takes the page: the next one misses. */
	step++;
	if (!st_get(&l, &k[0], 1, PUMA_WIRE_F_EXCLUSIVE, 1, (int[]){ 0 }) ||
	    !st_get(&l, &k[0], 1, 0, 0, NULL))
		goto out;
	step++;
	pair[0] = k[1];
	pair[1] = k[4];
	if (st_batch(&l, PUMA_WIRE_INVALIDATE_PAGE, 0, &k[1], 1, NULL) ||
	    !st_get(&l, pair, 2, 0, 2, (int[]){ 4 }))
		goto out;
	step++;
	wm = (struct puma_wire_msg){ .hdr.type = PUMA_WIRE_INVALIDATE_INODE };
	wm.inode = (struct puma_key){ 7, 1, 0 };
	pair[0] = k[4];
	pair[1] = k[2];
	if (link_send_msg(&l, &wm, NULL, 0, now_ms() + 3000) ||
	    !st_get(&l, pair, 2, 0, 2, (int[]){ 2 }))
		goto out;
	step++;
	wm = (struct puma_wire_msg){ .hdr.type = PUMA_WIRE_INVALIDATE_POOL };
	wm.pool = 7;
	pair[0] = k[2];
	pair[1] = k[3];
	if (link_send_msg(&l, &wm, NULL, 0, now_ms() + 3000) ||
	    !st_get(&l, pair, 2, 0, 2, (int[]){ 3 }))
		goto out;
	step++;
	wm = (struct puma_wire_msg){ .hdr.type = PUMA_WIRE_PING };
	wm.cookie = 0xc00c1e;
	if (link_send_msg(&l, &wm, NULL, 0, now_ms() + 3000) ||
	    st_next(&l, PUMA_WIRE_PONG) || l.wm.cookie != 0xc00c1e)
		goto out;
	step = 0;
out:
	bye(&l);
	return step;
}

static void test_listen_messages(void)
{
	struct lrun_out out;
	struct lrun r;
	int step = -1;

	if (!lrun_start(&r, "serve", ENC, 65536, 2)) {
		step = st_drive(&r, false);
		if (!step)
			step = st_drive(&r, true);
		lrun_end(&r, &out);
	} else {
		memset(&out, 0, sizeof(out));
	}
	check(!step && out.status == 0 && out.st.put_pages == 5 &&
	      out.st.gets == 6 && out.st.hits == 4 && out.st.invalidated == 3 &&
	      out.st.pings == 1 && !strcmp(out.st.ends[0], "closed_by_peer"),
	      "listen serve: answers as server.c, pages gone with the session (failed step %d)",
	      step);
}

/* Hostile clients, one after the other, then a good one: all served. */
static void test_listen_hostile(void)
{
	static const struct {
		const char *attack, *result, *end;
	} seq[] = {
		{ "nokey", "closed", "handshake_failed:malformed" },
		{ "wrongkey", "refused", "handshake_failed:wrong_key" },
		{ "oversized", "closed", "refused:oversized" },
		{ "tampered-put", "closed", "refused:bad_tag" },
		{ "replay-msg", "closed", "refused:replay_or_reorder" },
		{ "good", "ok", "closed_by_peer" },
	};
	const char *ends[ARRAY_SIZE(seq)];
	struct lrun_out out;
	struct lrun r;
	size_t i;
	bool up = !lrun_start(&r, "serve", ENC, 65536, ARRAY_SIZE(seq));
	int status;

	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		ends[i] = seq[i].end;
		status = up ? st_client(&r, seq[i].attack, 3) : -1;
		check(status == 0 && !strcmp(last_result, seq[i].result),
		      "listen serve: a client's %s ends as on a server: result=%s",
		      seq[i].attack, last_result);
	}
	if (up)
		lrun_end(&r, &out);
	else
		memset(&out, 0, sizeof(out));
	check(st_ends(&out, ARRAY_SIZE(seq), ends) &&
	      out.st.accepted == ARRAY_SIZE(seq) &&
	      out.st.handshake_failures == 2 && out.st.by_error == 5 &&
	      out.st.by_peer == 1 && out.st.hits == 32,
	      "listen serve: each connection ended for its reason (%s, ...)",
	      out.st.ends[0]);
}

int selftest(void)
{
	size_t i;

	test_rfc8439();
	test_rfc8439_a5();
	test_hmac_hkdf();
	test_kat(0, PUMA_SEC_MODE_ENCRYPT);
	test_kat(1, PUMA_SEC_MODE_AUTH);
	test_sessions(PUMA_SEC_MODE_ENCRYPT);
	test_sessions(PUMA_SEC_MODE_AUTH);
	test_handshake_refusals();

	quiet = true;
	conn_hook = mini_conn;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		test_attack(&cases[i]);
	conn_hook = NULL;
	test_listen_serve(ENC);
	test_listen_serve(AUTH);
	test_listen_tampered(ENC);
	test_listen_tampered(AUTH);
	test_listen_forged();
	test_listen_bound();
	test_listen_messages();
	test_listen_hostile();
	quiet = false;

	printf("HOSTILE selftest.checks=%d\nHOSTILE selftest.failures=%d\n"
	       "HOSTILE selftest.result=%s\n", checks, failures,
	       failures ? "fail" : "pass");
	return failures ? 1 : 0;
}
