// SPDX-License-Identifier: GPL-2.0-only
/*
 * Split virtqueues in a region shared with another kernel
 * (transports/virtio_ring.h).
 *
 * Ordering between the two kernels uses the virt_*() barriers: the peer
 * may run on another host CPU even when this kernel has one.  The sender
 * fills the buffers and descriptors, then publishes the available entry,
 * then the available index with release semantics; the receiver loads
 * the index with acquire semantics before reading what it covers.  The
 * used ring works the same way in the other direction.
 *
 * Locking: none here; each pvq_tx and pvq_rx is serialised by its user.
 */

#include <linux/compiler.h>
#include <linux/highmem.h>
#include <linux/string.h>

#include <asm/barrier.h>

#include <kunit/visibility.h>

#include "virtio_ring.h"

static u8 *pvq_buf(u8 *bufs, u16 i)
{
	return bufs + (size_t)i * PVQ_BUF_SIZE;
}

/**
 * pvq_tx_init() - attach a sender to a direction of the region
 * @tx: the sender's state
 * @dir: the direction, PVQ_DIR_SIZE bytes of the region
 *
 * Context: any context.
 */
void pvq_tx_init(struct pvq_tx *tx, void *dir)
{
	tx->vring = dir;
	tx->bufs = (u8 *)dir + PAGE_SIZE;
}
EXPORT_SYMBOL_IF_KUNIT(pvq_tx_init);

/**
 * pvq_rx_init() - attach a receiver to a direction of the region
 * @rx: the receiver's state
 * @dir: the direction, PVQ_DIR_SIZE bytes of the region
 *
 * Context: any context.
 */
void pvq_rx_init(struct pvq_rx *rx, void *dir)
{
	rx->vring = dir;
	rx->bufs = (u8 *)dir + PAGE_SIZE;
}
EXPORT_SYMBOL_IF_KUNIT(pvq_rx_init);

/**
 * pvq_tx_reset() - start a direction afresh, as its sender
 * @tx: the sender's state
 *
 * Clears what the sender owns in the region (descriptors, available ring)
 * and frees every descriptor.  Only before the peer is told of a new
 * connection: it must not read the ring meanwhile.
 *
 * Context: any context.
 */
void pvq_tx_reset(struct pvq_tx *tx)
{
	u16 i;

	memset(tx->vring->desc, 0, sizeof(tx->vring->desc));
	memset(&tx->vring->avail, 0, sizeof(tx->vring->avail));
	tx->avail_idx = 0;
	tx->last_used = 0;
	tx->inflight = 0;
	tx->nr_free = PVQ_NUM;
	tx->free_head = 0;
	for (i = 0; i < PVQ_NUM; i++) {
		tx->next[i] = i + 1;
		tx->chain_len[i] = 0;
	}
}
EXPORT_SYMBOL_IF_KUNIT(pvq_tx_reset);

/**
 * pvq_rx_reset() - start a direction afresh, as its receiver
 * @rx: the receiver's state
 *
 * Clears the used ring, which the receiver owns.  Same rule as
 * pvq_tx_reset().
 *
 * Context: any context.
 */
void pvq_rx_reset(struct pvq_rx *rx)
{
	memset(&rx->vring->used, 0, sizeof(rx->vring->used));
	rx->last_avail = 0;
	rx->used_idx = 0;
}
EXPORT_SYMBOL_IF_KUNIT(pvq_rx_reset);

/**
 * pvq_tx_room() - whether a message fits in the free descriptors
 * @tx: the sender's state
 * @nr_pages: its payload pages
 *
 * Context: any context.
 * Return: true if pvq_tx_add() would succeed.
 */
bool pvq_tx_room(const struct pvq_tx *tx, unsigned int nr_pages)
{
	return tx->nr_free >= 1 + nr_pages;
}
EXPORT_SYMBOL_IF_KUNIT(pvq_tx_room);

/**
 * pvq_tx_add() - copy a message into the ring and publish it
 * @tx: the sender's state
 * @msg: the message; the caller keeps it
 *
 * Context: any context; copies up to PVQ_MAX_CHAIN buffers.
 * Return: 0, or -ENOSPC if the free descriptors are too few, or -EINVAL
 * for a message the ring cannot carry.
 */
int pvq_tx_add(struct pvq_tx *tx, const struct puma_transport_msg *msg)
{
	struct pvq_vring *vr = tx->vring;
	u16 head, d, i;

	if (msg->head_len > PVQ_BUF_SIZE ||
	    msg->nr_pages > PUMA_TRANSPORT_MAX_PAGES)
		return -EINVAL;
	if (!pvq_tx_room(tx, msg->nr_pages))
		return -ENOSPC;

	head = tx->free_head;
	d = head;
	for (i = 0; i <= msg->nr_pages; i++) {
		u32 len = i ? PAGE_SIZE : msg->head_len;

		if (i)
			memcpy_from_page(pvq_buf(tx->bufs, d), msg->pages[i - 1],
					 0, PAGE_SIZE);
		else
			memcpy(pvq_buf(tx->bufs, d), msg->head, len);
		vr->desc[d].addr = cpu_to_le64((u64)d * PVQ_BUF_SIZE);
		vr->desc[d].len = cpu_to_le32(len);
		vr->desc[d].flags = cpu_to_le16(i < msg->nr_pages ?
						PVQ_DESC_F_NEXT : 0);
		vr->desc[d].next = cpu_to_le16(tx->next[d]);
		d = tx->next[d];
	}
	/* The private links chain the descriptors used: cut the free list. */
	tx->free_head = d;
	tx->nr_free -= 1 + msg->nr_pages;
	tx->chain_len[head] = 1 + msg->nr_pages;
	tx->inflight++;

	WRITE_ONCE(vr->avail.ring[tx->avail_idx % PVQ_NUM], cpu_to_le16(head));
	tx->avail_idx++;
	/* Buffers, descriptors and entry before the index that covers them. */
	virt_store_release(&vr->avail.idx, cpu_to_le16(tx->avail_idx));
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(pvq_tx_add);

/* Put chain @head back on the free list, through the private links. */
static void pvq_tx_free_chain(struct pvq_tx *tx, u16 head)
{
	u16 n = tx->chain_len[head], last = head, i;

	for (i = 1; i < n; i++)
		last = tx->next[last];
	tx->next[last] = tx->free_head;
	tx->free_head = head;
	tx->nr_free += n;
	tx->chain_len[head] = 0;
	tx->inflight--;
}

/**
 * pvq_tx_reclaim() - take back the chains the receiver has returned
 * @tx: the sender's state
 * @why: set to the reason when the used ring is refused
 *
 * Context: any context.
 * Return: the number of chains taken back, or -EPROTO if the receiver
 * returned more chains than are in flight, or one that is not.
 */
int pvq_tx_reclaim(struct pvq_tx *tx, enum pvq_err *why)
{
	struct pvq_used *used = &tx->vring->used;
	u16 idx, n, k;
	int done = 0;

	/* Pairs with pvq_rx_done(): the entries it covers, then reuse. */
	idx = le16_to_cpu(virt_load_acquire(&used->idx));
	n = idx - tx->last_used;
	if (n > tx->inflight) {
		*why = PVQ_ERR_USED_IDX;
		return -EPROTO;
	}
	for (k = 0; k < n; k++) {
		u32 id = le32_to_cpu(READ_ONCE(used->ring[tx->last_used % PVQ_NUM].id));

		if (id >= PVQ_NUM || !tx->chain_len[id]) {
			*why = PVQ_ERR_USED_ID;
			return -EPROTO;
		}
		pvq_tx_free_chain(tx, id);
		tx->last_used++;
		done++;
	}
	return done;
}
EXPORT_SYMBOL_IF_KUNIT(pvq_tx_reclaim);

/**
 * pvq_rx_peek() - check the next available chain
 * @rx: the receiver's state
 * @chain: filled with the chain as checked
 * @why: set to the reason when the chain is refused
 *
 * Reads every field of the chain once, checks it, and keeps the copy:
 * what the peer writes afterwards changes nothing but buffer bytes.
 *
 * Context: any context.
 * Return: 1 with @chain filled, 0 if no chain is available, or -EPROTO
 * for a ring that breaks the rules.
 */
int pvq_rx_peek(struct pvq_rx *rx, struct pvq_chain *chain, enum pvq_err *why)
{
	struct pvq_vring *vr = rx->vring;
	u16 idx, head, d;
	unsigned int n;

	/* Pairs with pvq_tx_add(): the buffers and descriptors it covers. */
	idx = le16_to_cpu(virt_load_acquire(&vr->avail.idx));
	if (idx == rx->last_avail)
		return 0;
	if ((u16)(idx - rx->last_avail) > PVQ_NUM) {
		*why = PVQ_ERR_AVAIL_IDX;
		return -EPROTO;
	}
	head = le16_to_cpu(READ_ONCE(vr->avail.ring[rx->last_avail % PVQ_NUM]));
	if (head >= PVQ_NUM) {
		*why = PVQ_ERR_HEAD;
		return -EPROTO;
	}

	chain->head = head;
	chain->nr_pages = 0;
	d = head;
	for (n = 0; ; n++) {
		u64 addr = le64_to_cpu(READ_ONCE(vr->desc[d].addr));
		u32 len = le32_to_cpu(READ_ONCE(vr->desc[d].len));
		u16 flags = le16_to_cpu(READ_ONCE(vr->desc[d].flags));
		u16 next = le16_to_cpu(READ_ONCE(vr->desc[d].next));

		if (addr != (u64)d * PVQ_BUF_SIZE ||
		    (flags & ~PVQ_DESC_F_NEXT) ||
		    (n ? len != PAGE_SIZE : len > PVQ_BUF_SIZE)) {
			*why = PVQ_ERR_DESC;
			return -EPROTO;
		}
		if (n)
			chain->page_desc[n - 1] = d;
		else
			chain->head_len = len;
		if (!(flags & PVQ_DESC_F_NEXT))
			break;
		if (next >= PVQ_NUM || n + 1 >= PVQ_MAX_CHAIN) {
			*why = PVQ_ERR_CHAIN;
			return -EPROTO;
		}
		d = next;
	}
	chain->nr_pages = n;
	return 1;
}
EXPORT_SYMBOL_IF_KUNIT(pvq_rx_peek);

/**
 * pvq_rx_copy() - copy a checked chain out of the region into a message
 * @rx: the receiver's state
 * @chain: a chain from pvq_rx_peek()
 * @msg: a message of @chain->head_len head bytes and, unless its payload
 *	was dropped (@msg->nr_pages 0), @chain->nr_pages pages
 *
 * Context: any context.
 */
void pvq_rx_copy(const struct pvq_rx *rx, const struct pvq_chain *chain,
		 struct puma_transport_msg *msg)
{
	u32 i;

	memcpy(msg->head, rx->bufs + (size_t)chain->head * PVQ_BUF_SIZE,
	       chain->head_len);
	for (i = 0; i < msg->nr_pages; i++)
		memcpy_to_page(msg->pages[i], 0,
			       rx->bufs + (size_t)chain->page_desc[i] * PVQ_BUF_SIZE,
			       PAGE_SIZE);
}
EXPORT_SYMBOL_IF_KUNIT(pvq_rx_copy);

/**
 * pvq_rx_done() - return a chain to its sender
 * @rx: the receiver's state
 * @chain: the chain pvq_rx_peek() gave, copied out
 *
 * Context: any context.
 */
void pvq_rx_done(struct pvq_rx *rx, const struct pvq_chain *chain)
{
	struct pvq_used *used = &rx->vring->used;

	WRITE_ONCE(used->ring[rx->used_idx % PVQ_NUM].id,
		   cpu_to_le32(chain->head));
	WRITE_ONCE(used->ring[rx->used_idx % PVQ_NUM].len, 0);
	rx->used_idx++;
	rx->last_avail++;
	/* Copied out before the sender may reuse the buffers. */
	virt_store_release(&used->idx, cpu_to_le16(rx->used_idx));
}
EXPORT_SYMBOL_IF_KUNIT(pvq_rx_done);
