/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PUMA wire protocol codec.
 *
 * PUMA's own: the protocol between PUMA clients and servers.
 *
 * Messages between PUMA peers are a fixed 32-byte header, a body whose
 * length is fully determined by the message type and its counts, and, for
 * PUT and GET_RESPONSE, whole pages of data.  The byte layout, validation
 * rules and versioning are described in Documentation/wire-protocol.rst.
 *
 * The codec works on byte buffers only and never sees a struct page: page
 * data is protected by its own CRC32C, which the caller computes page by
 * page with puma_wire_crc32c().  It keeps no global state and can be built
 * in user space (include lib/wire_shim.h before this header there).
 */
#ifndef _PUMA_WIRE_H
#define _PUMA_WIRE_H

#ifdef __KERNEL__
#include <linux/types.h>
#endif

#include <puma/key.h>

/* "PUMA" in its first four bytes on the wire. */
#define PUMA_WIRE_MAGIC		0x414d5550U
/* 2: RECLAIMED reports what the server's reclaim took (1 sent INVALIDATE_PAGE). */
#define PUMA_WIRE_VERSION	2
/* Unit of page data on the wire, whatever the peers' PAGE_SIZE. */
#define PUMA_WIRE_PAGE_SIZE	4096U
/* Most keys in one PUT, GET, GET_RESPONSE, INVALIDATE_PAGE or RECLAIMED. */
#define PUMA_WIRE_MAX_BATCH	32
#define PUMA_WIRE_HDR_LEN	32U
#define PUMA_WIRE_KEY_LEN	24U
#define PUMA_WIRE_BATCH_LEN	16U
/* Largest body: a full batch (GET_RESPONSE, PUT, GET, INVALIDATE_PAGE, RECLAIMED). */
#define PUMA_WIRE_MAX_BODY	(PUMA_WIRE_BATCH_LEN + \
				 PUMA_WIRE_MAX_BATCH * PUMA_WIRE_KEY_LEN)
/* Largest header plus body; page data comes on top of it. */
#define PUMA_WIRE_MAX_MSG	(PUMA_WIRE_HDR_LEN + PUMA_WIRE_MAX_BODY)
/* Largest frame: header, body and a full batch of pages. */
#define PUMA_WIRE_MAX_FRAME	(PUMA_WIRE_MAX_MSG + \
				 PUMA_WIRE_MAX_BATCH * PUMA_WIRE_PAGE_SIZE)

/**
 * enum puma_wire_type - Message types.
 * @PUMA_WIRE_HELLO: First message in each direction: node id, page size,
 *	largest batch accepted and capabilities.
 * @PUMA_WIRE_PUT: Store a batch of pages; carries one page per key.
 * @PUMA_WIRE_GET: Ask for a batch of pages.
 * @PUMA_WIRE_GET_RESPONSE: Answer to a GET: the same keys, a hit bitmap
 *	and one page per hit, in key order.
 * @PUMA_WIRE_INVALIDATE_PAGE: Client to server: drop a batch of pages.
 * @PUMA_WIRE_INVALIDATE_INODE: Drop every page of one inode.
 * @PUMA_WIRE_INVALIDATE_POOL: Drop every page of one pool.
 * @PUMA_WIRE_SUSPEND: The server stops accepting PUTs for a while.
 * @PUMA_WIRE_RESUME: The server accepts PUTs again.
 * @PUMA_WIRE_PING: Liveness probe carrying an opaque cookie.
 * @PUMA_WIRE_PONG: Answer to a PING, echoing its cookie.
 * @PUMA_WIRE_ERROR: A request failed or a message was refused.
 * @PUMA_WIRE_RECLAIMED: Server to client: its reclaim took these pages.
 * @PUMA_WIRE_TYPE_MAX: Highest valid type.
 *
 * Zero is not a type, so that a zeroed buffer never decodes.
 */
enum puma_wire_type {
	PUMA_WIRE_HELLO = 1,
	PUMA_WIRE_PUT,
	PUMA_WIRE_GET,
	PUMA_WIRE_GET_RESPONSE,
	PUMA_WIRE_INVALIDATE_PAGE,
	PUMA_WIRE_INVALIDATE_INODE,
	PUMA_WIRE_INVALIDATE_POOL,
	PUMA_WIRE_SUSPEND,
	PUMA_WIRE_RESUME,
	PUMA_WIRE_PING,
	PUMA_WIRE_PONG,
	PUMA_WIRE_ERROR,
	PUMA_WIRE_RECLAIMED,
	PUMA_WIRE_TYPE_MAX = PUMA_WIRE_RECLAIMED,
};

/*
 * Header flags.  PUMA_WIRE_F_EXCLUSIVE is valid on GET only: the server
 * drops every page it returns (exclusive caching).  Any other bit, or this
 * one on another type, is rejected.
 */
#define PUMA_WIRE_F_EXCLUSIVE	0x0001U

/*
 * HELLO capability bits.  Unknown bits are carried through untouched so
 * that a newer peer can advertise features an older one ignores.
 */
#define PUMA_WIRE_CAP_SERVER	0x00000001U	/* lends memory */
#define PUMA_WIRE_CAP_CLIENT	0x00000002U	/* puts and gets pages */

/**
 * enum puma_wire_err - Error codes carried by ERROR messages.
 * @PUMA_WIRE_ERR_PROTO: The referenced message was malformed or unexpected.
 * @PUMA_WIRE_ERR_VERSION: Version or page size not supported.
 * @PUMA_WIRE_ERR_NOMEM: The server could not host the pages.
 * @PUMA_WIRE_ERR_SUSPENDED: The server is suspended and refused a PUT.
 * @PUMA_WIRE_ERR_INTERNAL: Any other failure on the sender's side.
 * @PUMA_WIRE_ERR_MAX: Highest valid code.
 *
 * These are protocol values, not errnos, whose numbers differ between
 * architectures.
 */
enum puma_wire_err {
	PUMA_WIRE_ERR_PROTO = 1,
	PUMA_WIRE_ERR_VERSION,
	PUMA_WIRE_ERR_NOMEM,
	PUMA_WIRE_ERR_SUSPENDED,
	PUMA_WIRE_ERR_INTERNAL,
	PUMA_WIRE_ERR_MAX = PUMA_WIRE_ERR_INTERNAL,
};

/**
 * enum puma_wire_reject - Why the codec refused a message.
 * @PUMA_WIRE_REJ_MAGIC: Wrong magic number.
 * @PUMA_WIRE_REJ_VERSION: Unsupported version or HELLO page size.
 * @PUMA_WIRE_REJ_TYPE: Unknown message type.
 * @PUMA_WIRE_REJ_FLAGS: Flag unknown or not valid for the type.
 * @PUMA_WIRE_REJ_RESERVED: Nonzero reserved field.
 * @PUMA_WIRE_REJ_LENGTH: Buffer length, body length or page count not what
 *	the header, type and counts imply.
 * @PUMA_WIRE_REJ_COUNT: Batch count zero or above %PUMA_WIRE_MAX_BATCH.
 * @PUMA_WIRE_REJ_FIELD: Field value out of range (hit bitmap, error code,
 *	referenced type, HELLO max_batch).
 * @PUMA_WIRE_REJ_CRC: Header CRC mismatch.
 * @PUMA_WIRE_REJ_DATA_CRC: Page data CRC mismatch.
 * @PUMA_WIRE_REJ_NR: Number of reasons.
 */
enum puma_wire_reject {
	PUMA_WIRE_REJ_MAGIC,
	PUMA_WIRE_REJ_VERSION,
	PUMA_WIRE_REJ_TYPE,
	PUMA_WIRE_REJ_FLAGS,
	PUMA_WIRE_REJ_RESERVED,
	PUMA_WIRE_REJ_LENGTH,
	PUMA_WIRE_REJ_COUNT,
	PUMA_WIRE_REJ_FIELD,
	PUMA_WIRE_REJ_CRC,
	PUMA_WIRE_REJ_DATA_CRC,
	PUMA_WIRE_REJ_NR,
};

/**
 * struct puma_wire_stats - Rejected messages, by reason.
 * @rejected: Count per &enum puma_wire_reject.
 *
 * Owned by the caller (typically one per connection) and updated without
 * locking: the caller serialises decoders sharing one instance.
 */
struct puma_wire_stats {
	u64 rejected[PUMA_WIRE_REJ_NR];
};

/**
 * struct puma_wire_hdr - Decoded message header.
 * @seq: Sender's sequence number, opaque to the codec.
 * @body_len: Body length in bytes; output of the decoder, ignored by the
 *	encoders, which derive it from type and counts.
 * @data_crc: puma_wire_crc32c() of the page data, 0 when there is none
 *	or when the link authenticates it (include/puma/msg.h).
 * @flags: PUMA_WIRE_F_* flags.
 * @nr_pages: Pages of data that follow the body; output of the decoder,
 *	ignored by the encoders.
 * @type: &enum puma_wire_type.
 */
struct puma_wire_hdr {
	u64 seq;
	u32 body_len;
	u32 data_crc;
	u16 flags;
	u16 nr_pages;
	u8 type;
};

/**
 * struct puma_wire_hello - HELLO body.
 * @node_id: Sender's node identifier.
 * @caps: PUMA_WIRE_CAP_* bits; unknown bits are preserved.
 * @page_size: Page data unit; must be %PUMA_WIRE_PAGE_SIZE in version 1.
 * @max_batch: Largest batch the sender accepts, 1 to %PUMA_WIRE_MAX_BATCH.
 */
struct puma_wire_hello {
	u64 node_id;
	u32 caps;
	u32 page_size;
	u16 max_batch;
};

/**
 * struct puma_wire_batch - Body of PUT, GET, GET_RESPONSE, INVALIDATE_PAGE
 *	and RECLAIMED.
 * @ref_seq: GET_RESPONSE: sequence number of the GET answered; 0 otherwise.
 * @hits: GET_RESPONSE: bit i set if keys[i] is returned; 0 otherwise.
 * @count: Number of keys, 1 to %PUMA_WIRE_MAX_BATCH.
 * @keys: The keys; a PUT carries the page of keys[i] as its i-th page.
 */
struct puma_wire_batch {
	u64 ref_seq;
	u32 hits;
	u32 count;
	struct puma_key keys[PUMA_WIRE_MAX_BATCH];
};

/**
 * struct puma_wire_error - ERROR body.
 * @ref_seq: Sequence number of the message refused, 0 if none.
 * @code: &enum puma_wire_err.
 * @ref_type: Type of the message refused, 0 if unknown.
 */
struct puma_wire_error {
	u64 ref_seq;
	u16 code;
	u8 ref_type;
};

/**
 * struct puma_wire_msg - A decoded message, or one to encode.
 * @hdr: Header.
 * @hello: HELLO.
 * @batch: PUT, GET, GET_RESPONSE, INVALIDATE_PAGE and RECLAIMED.
 * @inode: INVALIDATE_INODE: @inode.pool and @inode.ino (@inode.index is
 *	unused and must be zero).
 * @pool: INVALIDATE_POOL: the pool.
 * @suspend_ms: SUSPEND: how long to stop sending PUTs; 0 means until
 *	RESUME.
 * @cookie: PING, PONG: opaque value a PONG echoes.
 * @error: ERROR.
 *
 * RESUME has no body.  Zero the whole structure before filling it in, so
 * that members a type does not use hold no stale values.  At over 800
 * bytes it is too large for most kernel stacks: allocate it or embed it in
 * a per-connection structure.
 */
struct puma_wire_msg {
	struct puma_wire_hdr hdr;
	union {
		struct puma_wire_hello hello;
		struct puma_wire_batch batch;
		struct puma_key inode;
		u32 pool;
		u32 suspend_ms;
		u64 cookie;
		struct puma_wire_error error;
	};
};

u32 puma_wire_crc32c(u32 crc, const void *buf, size_t len);
int puma_wire_encode(const struct puma_wire_msg *msg, void *buf, size_t size);
int puma_wire_decode(const void *buf, size_t len, struct puma_wire_msg *msg,
		     struct puma_wire_stats *stats);
int puma_wire_check_data(const struct puma_wire_hdr *hdr, u32 data_crc,
			 struct puma_wire_stats *stats);
const char *puma_wire_type_name(unsigned int type);

/*
 * Exported to the KUnit suites only (EXPORT_SYMBOL_IF_KUNIT): no module
 * needs them yet.  Declared here for puma.ko itself and for the
 * user-space build of the codec (tools/wire-host/).
 */
int puma_wire_decode_header(const void *buf, size_t len,
			    struct puma_wire_hdr *hdr,
			    struct puma_wire_stats *stats);
int puma_wire_encode_frame(const struct puma_wire_msg *msg, const void *data,
			   void *buf, size_t size);
int puma_wire_decode_frame(const void *buf, size_t len,
			   struct puma_wire_msg *msg, const void **data,
			   struct puma_wire_stats *stats);

#endif /* _PUMA_WIRE_H */
