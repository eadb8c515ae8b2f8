// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PUMA virtio transport's shared regions in VMs: QEMU's ivshmem PCI
 * device (QEMU's docs/specs/ivshmem-spec.rst).  BAR2 is the region both
 * VMs map, here cacheable (memremap); BAR0 holds the registers: our
 * doorbell id (IVPosition) and the doorbell that interrupts a peer.  With
 * ivshmem-doorbell, the peer's ring arrives as MSI-X vector 0; with
 * ivshmem-plain there is no interrupt and the transport's tick polls.
 * Each device becomes a medium named "ivshmemN" (N in probe order).
 *
 * Lock ordering: none of its own.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/pci.h>

#include "virtio.h"

#if IS_ENABLED(CONFIG_PCI)

#define PVQ_IVSHMEM_IVPOSITION	0x08
#define PVQ_IVSHMEM_DOORBELL	0x0c

struct pvq_ivshmem {
	void __iomem *regs;
	struct pvq_medium *med;
	int id;
	bool irq;
	char name[24];
};

static DEFINE_IDA(pvq_ivshmem_ida);

static void pvq_ivshmem_notify(struct pvq_medium *med, void *priv, u32 peer)
{
	struct pvq_ivshmem *iv = priv;

	/* Vector 0 of that peer; QEMU ignores an id it does not know. */
	writel((peer & 0xffff) << 16, iv->regs + PVQ_IVSHMEM_DOORBELL);
}

static const struct pvq_medium_ops pvq_ivshmem_ops = {
	.notify	= pvq_ivshmem_notify,
};

static irqreturn_t pvq_ivshmem_irq(int irq, void *data)
{
	struct pvq_ivshmem *iv = data;

	pvq_medium_interrupt(iv->med);
	return IRQ_HANDLED;
}

static int pvq_ivshmem_probe(struct pci_dev *pdev,
			     const struct pci_device_id *id)
{
	resource_size_t size = pci_resource_len(pdev, 2);
	struct pvq_ivshmem *iv;
	int doorbell = -1;
	void *shm;
	int err;

	iv = devm_kzalloc(&pdev->dev, sizeof(*iv), GFP_KERNEL);
	if (!iv)
		return -ENOMEM;
	err = pcim_enable_device(pdev);
	if (err)
		return err;
	err = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (err)
		return err;
	iv->regs = pcim_iomap_table(pdev)[0];
	if (!devm_request_mem_region(&pdev->dev, pci_resource_start(pdev, 2),
				     size, KBUILD_MODNAME))
		return -EBUSY;
	/* Memory both VMs write: a cacheable mapping, as for RAM. */
	shm = devm_memremap(&pdev->dev, pci_resource_start(pdev, 2), size,
			    MEMREMAP_WB);
	if (IS_ERR(shm))
		return PTR_ERR(shm);

	iv->id = ida_alloc(&pvq_ivshmem_ida, GFP_KERNEL);
	if (iv->id < 0)
		return iv->id;
	snprintf(iv->name, sizeof(iv->name), "ivshmem%d", iv->id);

	/* An MSI is a write by the device: without bus mastering it is lost. */
	pci_set_master(pdev);
	if (pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX) == 1) {
		iv->irq = true;
		doorbell = readl(iv->regs + PVQ_IVSHMEM_IVPOSITION);
	}
	iv->med = pvq_medium_register(iv->name, shm, size, &pvq_ivshmem_ops,
				      iv, doorbell);
	if (IS_ERR(iv->med)) {
		err = PTR_ERR(iv->med);
		goto fail;
	}
	if (iv->irq) {
		err = request_irq(pci_irq_vector(pdev, 0), pvq_ivshmem_irq, 0,
				  iv->name, iv);
		if (err) {
			pvq_medium_unregister(iv->med);
			goto fail;
		}
	}
	pci_set_drvdata(pdev, iv);
	dev_info(&pdev->dev, "%s: %s\n", iv->name,
		 iv->irq ? "doorbell and MSI-X" : "no interrupt: polled");
	return 0;

fail:
	if (iv->irq)
		pci_free_irq_vectors(pdev);
	ida_free(&pvq_ivshmem_ida, iv->id);
	return err;
}

static void pvq_ivshmem_remove(struct pci_dev *pdev)
{
	struct pvq_ivshmem *iv = pci_get_drvdata(pdev);

	if (iv->irq) {
		free_irq(pci_irq_vector(pdev, 0), iv);
		pci_free_irq_vectors(pdev);
	}
	/* Waits until no connection touches the region: then devres unmaps. */
	pvq_medium_unregister(iv->med);
	ida_free(&pvq_ivshmem_ida, iv->id);
}

static const struct pci_device_id pvq_ivshmem_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) },
	{ }
};
MODULE_DEVICE_TABLE(pci, pvq_ivshmem_ids);

static struct pci_driver pvq_ivshmem_driver = {
	.name		= KBUILD_MODNAME,
	.id_table	= pvq_ivshmem_ids,
	.probe		= pvq_ivshmem_probe,
	.remove		= pvq_ivshmem_remove,
};

int pvq_ivshmem_init(void)
{
	return pci_register_driver(&pvq_ivshmem_driver);
}

void pvq_ivshmem_exit(void)
{
	pci_unregister_driver(&pvq_ivshmem_driver);
}

#else /* !CONFIG_PCI */

int pvq_ivshmem_init(void)
{
	return 0;
}

void pvq_ivshmem_exit(void)
{
}

#endif
