// SPDX-License-Identifier: GPL-2.0-only
/*
 * Transport throughput benchmark: a small user of the transport API that
 * moves pages between two machines the way PUMA's PUT batches do, so the
 * transport can be compared with plain TCP between the same machines
 * (tools/tcpbench) in the same run.
 *
 *   sink:   insmod puma_transport_bench.ko role=sink addr=10.0.0.1:7071
 *   source: insmod puma_transport_bench.ko role=source addr=10.0.2.1:7071 \
 *		pages=65536
 *
 * The source sends @pages pages in messages of @batch pages, each with a
 * head of @head_len bytes (816 is PUMA's PUT of 32 pages: header, batch
 * and 32 keys), then a message with no pages; the sink answers it with
 * the number of pages it received, which stops the clock.  The source
 * prints one "puma_transport_bench: source ..." line and its module load
 * fails if anything went wrong, so a script can trust insmod's status.
 * The sink checks the first word of every page, to catch a lost or
 * reordered page, and stays loaded until removed.
 *
 * Lock ordering: bench_lock (sink state) is innermost; transport calls
 * made under it (disconnect) take only the transport's own locks.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/wait.h>

#include <puma/transport.h>

#define BENCH_MAGIC		0x48434e42U	/* "BNCH" */
#define BENCH_DONE_TIMEOUT	(120 * HZ)

static char *transport = "tcp";
module_param(transport, charp, 0444);
MODULE_PARM_DESC(transport, "transport name (default tcp)");

static char *role = "source";
module_param(role, charp, 0444);
MODULE_PARM_DESC(role, "sink (listens) or source (connects and sends)");

static char *addr;
module_param(addr, charp, 0444);
MODULE_PARM_DESC(addr, "address to listen on (sink) or connect to (source)");

static unsigned int pages = 65536;
module_param(pages, uint, 0444);
MODULE_PARM_DESC(pages, "pages the source sends (default 65536)");

static unsigned int batch = PUMA_TRANSPORT_MAX_PAGES;
module_param(batch, uint, 0444);
MODULE_PARM_DESC(batch, "pages per message (1-32, default 32)");

static unsigned int head_len = 816;
module_param(head_len, uint, 0444);
MODULE_PARM_DESC(head_len, "head bytes per message (16-4096, default 816)");

/* What starts every head. */
struct bench_head {
	u32 magic;
	u32 nr_pages;	/* in this message; 0 ends the run */
	u64 first;	/* number of this message's first page */
};

static struct puma_transport *bench_transport;
static struct puma_transport_listener *bench_listener;

/* Sink state: counters for one source at a time, and the open ends. */
#define BENCH_SINK_CONNS	8
static DEFINE_SPINLOCK(bench_lock);
static u64 sink_pages;
static u64 sink_errors;
static struct puma_transport_conn *sink_conns[BENCH_SINK_CONNS];
static DECLARE_WAIT_QUEUE_HEAD(sink_gone);

/* Source state. */
static DECLARE_COMPLETION(source_done);
static u64 source_acked;
static int source_err;

static void bench_sink_recv(struct puma_transport_conn *conn,
			    struct puma_transport_msg *msg)
{
	struct puma_transport_msg *reply;
	struct bench_head h = {};
	unsigned int i;
	u64 errors = 0;

	if (msg->head_len >= sizeof(h))
		memcpy(&h, msg->head, sizeof(h));
	if (h.magic != BENCH_MAGIC || h.nr_pages != msg->nr_pages)
		errors++;
	for (i = 0; i < msg->nr_pages; i++) {
		u64 *p = kmap_local_page(msg->pages[i]);

		if (*p != h.first + i)
			errors++;
		kunmap_local(p);
	}
	spin_lock(&bench_lock);
	sink_pages += msg->nr_pages;
	sink_errors += errors;
	h.first = sink_errors ? 0 : sink_pages;
	if (!msg->nr_pages) {
		pr_info("sink: %llu pages received, %llu errors\n",
			sink_pages, sink_errors);
		sink_pages = 0;
		sink_errors = 0;
	}
	spin_unlock(&bench_lock);
	if (msg->nr_pages) {
		puma_transport_msg_free(msg);
		return;
	}
	puma_transport_msg_free(msg);
	reply = puma_transport_msg_alloc(sizeof(h), 0, GFP_KERNEL);
	if (IS_ERR(reply))
		return;
	memcpy(reply->head, &h, sizeof(h));
	/* A recv callback must not wait on its own connection. */
	puma_transport_send(conn, reply, PUMA_TRANSPORT_NONBLOCK);
}

static void bench_sink_disconnected(struct puma_transport_conn *conn,
				    int reason)
{
	unsigned int i;

	spin_lock(&bench_lock);
	for (i = 0; i < BENCH_SINK_CONNS; i++)
		if (sink_conns[i] == conn)
			sink_conns[i] = NULL;
	spin_unlock(&bench_lock);
	puma_transport_conn_put(conn);
	wake_up_all(&sink_gone);
}

static bool bench_sink_idle(void)
{
	unsigned int i;
	bool idle = true;

	spin_lock(&bench_lock);
	for (i = 0; i < BENCH_SINK_CONNS; i++)
		if (sink_conns[i])
			idle = false;
	spin_unlock(&bench_lock);
	return idle;
}

static const struct puma_transport_conn_ops bench_sink_ops = {
	.recv		= bench_sink_recv,
	.disconnected	= bench_sink_disconnected,
};

static int bench_accept(struct puma_transport_listener *listener,
			struct puma_transport_conn *conn)
{
	int err = -EBUSY;
	unsigned int i;

	/* Recorded before any callback: exit must find every end. */
	spin_lock(&bench_lock);
	for (i = 0; i < BENCH_SINK_CONNS; i++) {
		if (!sink_conns[i]) {
			sink_conns[i] = conn;
			err = 0;
			break;
		}
	}
	spin_unlock(&bench_lock);
	if (err)
		return err;
	return puma_transport_conn_set_ops(conn, &bench_sink_ops, NULL);
}

static const struct puma_transport_listener_ops bench_listener_ops = {
	.accept		= bench_accept,
};

static void bench_source_recv(struct puma_transport_conn *conn,
			      struct puma_transport_msg *msg)
{
	struct bench_head h = {};

	if (msg->head_len >= sizeof(h))
		memcpy(&h, msg->head, sizeof(h));
	puma_transport_msg_free(msg);
	source_acked = h.first;
	source_err = h.magic == BENCH_MAGIC ? 0 : -EPROTO;
	complete(&source_done);
}

static void bench_source_disconnected(struct puma_transport_conn *conn,
				      int reason)
{
	if (!completion_done(&source_done)) {
		source_err = reason;
		complete(&source_done);
	}
}

static const struct puma_transport_conn_ops bench_source_ops = {
	.recv		= bench_source_recv,
	.disconnected	= bench_source_disconnected,
};

static struct puma_transport_msg *bench_msg(u64 first, unsigned int n)
{
	struct bench_head h = { .magic = BENCH_MAGIC, .nr_pages = n,
				.first = first };
	struct puma_transport_msg *msg;
	unsigned int i;

	msg = puma_transport_msg_alloc(head_len, n, GFP_KERNEL | __GFP_ZERO);
	if (IS_ERR(msg))
		return msg;
	memcpy(msg->head, &h, sizeof(h));
	for (i = 0; i < n; i++) {
		u64 *p = kmap_local_page(msg->pages[i]);

		*p = first + i;
		kunmap_local(p);
	}
	return msg;
}

static int bench_source_run(void)
{
	struct puma_transport_conn *conn;
	struct puma_transport_msg *msg;
	u64 sent = 0, ns;
	ktime_t start;
	int err = 0;

	conn = puma_transport_connect(bench_transport, addr, &bench_source_ops,
				      NULL);
	if (IS_ERR(conn)) {
		pr_err("source: connect to %s: %ld\n", addr, PTR_ERR(conn));
		return PTR_ERR(conn);
	}
	start = ktime_get();
	while (sent < pages && !err) {
		unsigned int n = min_t(u64, batch, pages - sent);

		msg = bench_msg(sent, n);
		err = IS_ERR(msg) ? PTR_ERR(msg) :
		      puma_transport_send(conn, msg, 0);
		sent += n;
	}
	if (!err) {
		msg = bench_msg(sent, 0);
		err = IS_ERR(msg) ? PTR_ERR(msg) :
		      puma_transport_send(conn, msg, 0);
	}
	if (!err && !wait_for_completion_timeout(&source_done,
						 BENCH_DONE_TIMEOUT))
		err = -ETIMEDOUT;
	ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	if (!err)
		err = source_err;
	if (!err && source_acked != pages)
		err = -EIO;
	puma_transport_disconnect(conn, -ESHUTDOWN);
	wait_for_completion_timeout(&source_done, BENCH_DONE_TIMEOUT);
	puma_transport_conn_put(conn);
	if (err) {
		pr_err("source: failed (%d) after %llu pages, sink acked %llu\n",
		       err, sent, source_acked);
		return err;
	}
	pr_info("source transport=%s pages=%u batch=%u head=%u ns=%llu pages_per_s=%llu mib_per_s=%llu\n",
		transport, pages, batch, head_len, ns,
		div64_u64((u64)pages * NSEC_PER_SEC, max_t(u64, ns, 1)),
		div64_u64((u64)pages * PAGE_SIZE * NSEC_PER_SEC,
			  max_t(u64, ns, 1) << 20));
	return 0;
}

static int __init bench_init(void)
{
	bool sink = !strcmp(role, "sink");
	int err;

	if (!sink && strcmp(role, "source")) {
		pr_err("role=%s: expected sink or source\n", role);
		return -EINVAL;
	}
	if (!addr || !*addr) {
		pr_err("addr is required\n");
		return -EINVAL;
	}
	if (!batch || batch > PUMA_TRANSPORT_MAX_PAGES || !pages ||
	    head_len < sizeof(struct bench_head) ||
	    head_len > PUMA_TRANSPORT_MAX_HEAD) {
		pr_err("pages, batch (1-%u) or head_len (%zu-%u) out of range\n",
		       PUMA_TRANSPORT_MAX_PAGES, sizeof(struct bench_head),
		       PUMA_TRANSPORT_MAX_HEAD);
		return -EINVAL;
	}
	bench_transport = puma_transport_get(transport);
	if (IS_ERR(bench_transport)) {
		pr_err("transport %s: %ld\n", transport,
		       PTR_ERR(bench_transport));
		return PTR_ERR(bench_transport);
	}
	if (sink) {
		bench_listener = puma_transport_listen(bench_transport, addr,
						       &bench_listener_ops,
						       NULL);
		if (!IS_ERR(bench_listener))
			return 0;
		err = PTR_ERR(bench_listener);
		pr_err("sink: listen on %s: %d\n", addr, err);
	} else {
		err = bench_source_run();
	}
	puma_transport_put(bench_transport);
	bench_transport = NULL;
	bench_listener = NULL;
	/* A source that succeeded stays loaded, idle, until removed. */
	return err;
}

/* Sink ends run our callbacks: they must be gone before our code is. */
static void __exit bench_exit(void)
{
	unsigned int i;

	puma_transport_listener_close(bench_listener);
	spin_lock(&bench_lock);
	for (i = 0; i < BENCH_SINK_CONNS; i++)
		if (sink_conns[i])
			puma_transport_disconnect(sink_conns[i], -ESHUTDOWN);
	spin_unlock(&bench_lock);
	wait_event(sink_gone, bench_sink_idle());
	puma_transport_put(bench_transport);
}

module_init(bench_init);
module_exit(bench_exit);

MODULE_IMPORT_NS(PUMA);
MODULE_DESCRIPTION("PUMA transport throughput benchmark");
MODULE_LICENSE("GPL");
