/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The rings of the PUMA virtio transport (transports/virtio.c): virtio's
 * split virtqueue (VIRTIO 1.1, section 2.6) in a memory region that two
 * kernels share, one ring per direction, with the buffers in the region
 * too.  Private to puma_virtio.ko and its KUnit suite.
 *
 * Each direction has one sender, which owns the descriptor table, the
 * available ring and the buffers, and one receiver, which owns the used
 * ring.  Descriptor i always names buffer i (PVQ_BUF_SIZE bytes), so a
 * descriptor's address is checked, never followed.  A message is one
 * chain: its head bytes in the first descriptor, then one descriptor per
 * payload page.
 *
 * Everything the peer writes is hostile: each index, length, flag and
 * link is read once, checked, and only then used; a bad one is an error
 * the caller turns into a closed connection (enum pvq_err), never an
 * access outside the region.
 */
#ifndef _PUMA_VIRTIO_RING_H
#define _PUMA_VIRTIO_RING_H

#include <linux/build_bug.h>
#include <linux/types.h>

#include <puma/transport.h>

/* Descriptors per ring: room for several full messages (33 each). */
#define PVQ_NUM			128
#define PVQ_BUF_SIZE		PAGE_SIZE
/* The longest chain: the head and PUMA_TRANSPORT_MAX_PAGES pages. */
#define PVQ_MAX_CHAIN		(1 + PUMA_TRANSPORT_MAX_PAGES)

#define PVQ_DESC_F_NEXT		1

/* The split virtqueue's layout, little-endian as in VIRTIO 1.x. */
struct pvq_desc {
	__le64 addr;
	__le32 len;
	__le16 flags;
	__le16 next;
};

struct pvq_avail {
	__le16 flags;
	__le16 idx;
	__le16 ring[PVQ_NUM];
	__le16 used_event;
};

struct pvq_used_elem {
	__le32 id;
	__le32 len;
};

struct pvq_used {
	__le16 flags;
	__le16 idx;
	struct pvq_used_elem ring[PVQ_NUM];
	__le16 avail_event;
};

/* One direction's rings in the region: one page, then the buffers. */
struct pvq_vring {
	struct pvq_desc desc[PVQ_NUM];
	struct pvq_avail avail;
	/* The used ring is written by the other side: its own cache line. */
	struct pvq_used used ____cacheline_aligned;
};

static_assert(sizeof(struct pvq_vring) <= PAGE_SIZE);

/* Bytes of one direction in the region: its rings and buffers. */
#define PVQ_DIR_SIZE		(PAGE_SIZE + PVQ_NUM * PVQ_BUF_SIZE)

/* Why a ring was refused; each has a counter (puma_virtio/stats). */
enum pvq_err {
	PVQ_ERR_AVAIL_IDX,	/* the available index ran ahead of the ring */
	PVQ_ERR_HEAD,		/* an available entry out of range */
	PVQ_ERR_DESC,		/* a descriptor's address, length or flags */
	PVQ_ERR_CHAIN,		/* a link out of range, or a chain too long */
	PVQ_ERR_USED_IDX,	/* the used index ran ahead of what was sent */
	PVQ_ERR_USED_ID,	/* a used entry that names no chain in flight */
	PVQ_ERR_NR,
};

/**
 * struct pvq_tx - the sending side of one direction, its private state
 * @vring: the rings in the region
 * @bufs: the buffers in the region, descriptor i's at i * PVQ_BUF_SIZE
 * @avail_idx: next available index to publish
 * @last_used: used entries consumed so far
 * @nr_free: descriptors free
 * @free_head: first free descriptor, linked through @next
 * @inflight: chains published and not yet returned
 * @next: private links of free descriptors and of chains in flight, never
 *	read back from the region
 * @chain_len: descriptors of the chain headed by i while it is in flight,
 *	else 0
 *
 * Serialised by its user (the connection's lock).
 */
struct pvq_tx {
	struct pvq_vring *vring;
	u8 *bufs;
	u16 avail_idx;
	u16 last_used;
	u16 nr_free;
	u16 free_head;
	u16 inflight;
	u16 next[PVQ_NUM];
	u8 chain_len[PVQ_NUM];
};

/**
 * struct pvq_rx - the receiving side of one direction, its private state
 * @vring: the rings in the region
 * @bufs: the buffers in the region
 * @last_avail: available entries consumed so far
 * @used_idx: next used index to publish
 *
 * Serialised by its user (the connection's work item).
 */
struct pvq_rx {
	struct pvq_vring *vring;
	const u8 *bufs;
	u16 last_avail;
	u16 used_idx;
};

/**
 * struct pvq_chain - one received chain, as checked; only this is used
 * @head: its first descriptor, returned in the used ring
 * @head_len: bytes of message head, in buffer @head
 * @nr_pages: payload pages, in the buffers of @page_desc
 * @page_desc: descriptor of each payload page
 */
struct pvq_chain {
	u16 head;
	u16 head_len;
	u16 nr_pages;
	u16 page_desc[PUMA_TRANSPORT_MAX_PAGES];
};

void pvq_tx_init(struct pvq_tx *tx, void *dir);
void pvq_rx_init(struct pvq_rx *rx, void *dir);
void pvq_tx_reset(struct pvq_tx *tx);
void pvq_rx_reset(struct pvq_rx *rx);
bool pvq_tx_room(const struct pvq_tx *tx, unsigned int nr_pages);
int pvq_tx_add(struct pvq_tx *tx, const struct puma_transport_msg *msg);
int pvq_tx_reclaim(struct pvq_tx *tx, enum pvq_err *why);
int pvq_rx_peek(struct pvq_rx *rx, struct pvq_chain *chain,
		enum pvq_err *why);
void pvq_rx_copy(const struct pvq_rx *rx, const struct pvq_chain *chain,
		 struct puma_transport_msg *msg);
void pvq_rx_done(struct pvq_rx *rx, const struct pvq_chain *chain);

#endif /* _PUMA_VIRTIO_RING_H */
