/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TCP transport's framing on the stream, shared by the transport and
 * its test suite (which speaks it from raw sockets).  Not an API.
 */
#ifndef _PUMA_TCP_FRAME_H
#define _PUMA_TCP_FRAME_H

#include <linux/build_bug.h>
#include <linux/types.h>

#define PUMA_TCP_FRAME_MAGIC	0x50435450U	/* "PTCP" */
/* The framing's version, negotiated by the secure handshake. */
#define PUMA_TCP_PROTO_VERSION	1

/* Failures the KUnit suite injects, each armed for one hit. */
enum puma_tcp_fault {
	PUMA_TCP_FAULT_ACCEPT_START,	/* an accepted end's thread fails */
	PUMA_TCP_FAULT_RX_PAGES,	/* no memory for a message's pages */
};

/* The security module parameter's values. */
enum puma_tcp_security {
	PUMA_TCP_SECURITY_NONE,
	PUMA_TCP_SECURITY_AUTH,
	PUMA_TCP_SECURITY_ENCRYPT,
};

/* Longest pre-shared key description, with its NUL. */
#define PUMA_TCP_KEY_DESC_MAX	64
/* Longest allowed_peers list, with its NUL. */
#define PUMA_TCP_ALLOWED_PEERS_MAX	512

#if IS_ENABLED(CONFIG_KUNIT)
struct key;

extern unsigned long puma_tcp_test_faults;
/* The security mode of new connections. */
extern int puma_tcp_security;
/* If set, the keyring new connections take their key from. */
extern struct key *puma_tcp_test_keyring;
extern unsigned int puma_tcp_max_accepted;
extern unsigned int puma_tcp_max_handshakes;
extern char puma_tcp_allowed_peers[PUMA_TCP_ALLOWED_PEERS_MAX];
#endif

enum puma_tcp_frame_type {
	PUMA_TCP_FRAME_MSG = 1,
	PUMA_TCP_FRAME_PING,
	PUMA_TCP_FRAME_PONG,
};

/**
 * struct puma_tcp_frame - what precedes each message on the stream
 * @magic: %PUMA_TCP_FRAME_MAGIC
 * @type: an &enum puma_tcp_frame_type
 * @page_shift: the sender's PAGE_SHIFT; payload pages are that size
 * @nr_pages: payload pages that follow the head
 * @head_len: head bytes that follow this header
 * @reserved: zero
 */
struct puma_tcp_frame {
	__le32 magic;
	u8 type;
	u8 page_shift;
	__le16 nr_pages;
	__le32 head_len;
	__le32 reserved;
};

static_assert(sizeof(struct puma_tcp_frame) == 16);

#endif /* _PUMA_TCP_FRAME_H */
