/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Between the PUMA virtio transport (transports/virtio.c) and the drivers
 * of its shared regions (transports/virtio_ivshmem.c).  Private to
 * puma_virtio.ko and its KUnit suite.
 */
#ifndef _PUMA_VIRTIO_H
#define _PUMA_VIRTIO_H

#include <linux/types.h>

/* Most channels (connections) one region carries. */
#define PVQ_MAX_CHAN		16

struct pvq_medium;

/**
 * struct pvq_medium_ops - what a shared region's driver provides
 * @notify: ring doorbell @peer (the peer's id, as it announced it);
 *	any context, must not sleep
 * @release: nothing refers to the medium any more; process context
 */
struct pvq_medium_ops {
	void (*notify)(struct pvq_medium *med, void *priv, u32 peer);
	void (*release)(struct pvq_medium *med, void *priv);
};

struct pvq_medium *pvq_medium_register(const char *name, void *base,
				       size_t size,
				       const struct pvq_medium_ops *ops,
				       void *priv, int doorbell);
void pvq_medium_unregister(struct pvq_medium *med);
void pvq_medium_interrupt(struct pvq_medium *med);

int pvq_ivshmem_init(void);
void pvq_ivshmem_exit(void);

#if IS_ENABLED(CONFIG_KUNIT)
enum pvq_err;
extern bool pvq_test_mem_polled;
void *pvq_test_dir(const char *addr, unsigned int chan, unsigned int dir);
long pvq_test_err_count(enum pvq_err why);
#endif

#endif /* _PUMA_VIRTIO_H */
