// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA backend: module parameters, statistics and the two roles' setup.
 *
 * The client role registers with the kernel's cleancache hooks and sends
 * clean pages that reclaim drops to a server; the server role hosts them
 * on its LRU through the remote-LRU component.  Either or both run in one
 * kernel; "both" over the loopback transport is how the integration test
 * runs a whole PUMA in one machine.
 *
 * Lock ordering: main.c takes none; see client.c and server.c.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <puma/detector.h>
#include <puma/outbox.h>
#include <puma/rlru.h>
#include <puma/transport.h>
#include <puma/wire.h>

#include "puma.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static char *role = "both";
module_param(role, charp, 0444);
MODULE_PARM_DESC(role, "client, server or both (default both)");

static char *transport = "loop";
module_param(transport, charp, 0444);
MODULE_PARM_DESC(transport, "transport name (default loop)");

static char *server_addr = "puma0";
module_param(server_addr, charp, 0444);
MODULE_PARM_DESC(server_addr, "address the client connects to");

static char *listen_addr = "puma0";
module_param(listen_addr, charp, 0444);
MODULE_PARM_DESC(listen_addr, "address the server listens on");

static char *strategy = "exclusive";
module_param(strategy, charp, 0444);
MODULE_PARM_DESC(strategy, "exclusive (a served page leaves the server) or inclusive");

unsigned int puma_get_timeout_us = 1000;
module_param_named(get_timeout_us, puma_get_timeout_us, uint, 0444);
MODULE_PARM_DESC(get_timeout_us, "how long a read waits for the server, in us (default 1000)");

unsigned int puma_staging_pages = 1024;
module_param_named(staging_pages, puma_staging_pages, uint, 0444);
MODULE_PARM_DESC(staging_pages, "pages the client may hold in flight to the server (default 1024)");

unsigned int puma_max_hosted_pct = 50;
module_param_named(max_hosted_pct, puma_max_hosted_pct, uint, 0444);
MODULE_PARM_DESC(max_hosted_pct, "most RAM the server lends, in percent (default 50)");

unsigned long puma_max_hosted_pages;
module_param_named(max_hosted_pages, puma_max_hosted_pages, ulong, 0644);
MODULE_PARM_DESC(max_hosted_pages, "server: lend at most this many pages, metadata included, if below max_hosted_pct (default 0: no such limit)");

unsigned int puma_max_client_pct = 100;
module_param_named(max_client_pct, puma_max_client_pct, uint, 0444);
MODULE_PARM_DESC(max_client_pct, "server: most of the lent memory one client may hold, in percent (default 100: all that others leave)");

bool puma_exclusive = true;

#if IS_ENABLED(CONFIG_PUMA_BACKEND_KUNIT_TEST)
unsigned long puma_faults;
#endif

struct percpu_counter puma_stats[PUMA_STAT_NR];
static u64 puma_node;
static struct puma_transport *puma_transport;
static struct dentry *puma_debugfs;
static bool puma_client_on, puma_server_on;

static const char *const puma_stat_names[PUMA_STAT_NR] = {
	[PUMA_STAT_PUTS]		= "puts",
	[PUMA_STAT_PUT_DROPS]		= "put_drops",
	[PUMA_STAT_PUT_SKIPS]		= "put_skips",
	[PUMA_STAT_PUTS_SENT]		= "puts_sent",
	[PUMA_STAT_GETS]		= "gets",
	[PUMA_STAT_HITS]		= "hits",
	[PUMA_STAT_LOCAL_HITS]		= "local_hits",
	[PUMA_STAT_MISSES]		= "misses",
	[PUMA_STAT_FILTERED]		= "filtered",
	[PUMA_STAT_TIMEOUTS]		= "timeouts",
	[PUMA_STAT_GET_ERRORS]		= "get_errors",
	[PUMA_STAT_GET_ROUND_TRIPS]	= "get_round_trips",
	[PUMA_STAT_INV_PAGE]		= "invalidate_page",
	[PUMA_STAT_INV_RANGE]		= "invalidate_range",
	[PUMA_STAT_INV_INODE]		= "invalidate_inode",
	[PUMA_STAT_INV_POOL]		= "invalidate_pool",
	[PUMA_STAT_RESETS]		= "resets",
	[PUMA_STAT_RECLAIM_REPORTS]	= "reclaim_reports",
	[PUMA_STAT_SUSPENDS]		= "suspends",
	[PUMA_STAT_RESUMES]		= "resumes",
	[PUMA_STAT_SRV_STORED]		= "server_stored",
	[PUMA_STAT_SRV_PUT_DROPS]	= "server_put_drops",
	[PUMA_STAT_SRV_HITS]		= "server_hits",
	[PUMA_STAT_SRV_MISSES]		= "server_misses",
	[PUMA_STAT_SRV_INVALIDATED]	= "server_invalidated",
	[PUMA_STAT_SRV_RECLAIMED]	= "reclaimed",
	[PUMA_STAT_SRV_REPORT_DROPS]	= "server_report_drops",
	[PUMA_STAT_SRV_PUT_SUSPENDED]	= "server_put_suspended",
	[PUMA_STAT_SRV_SUSPENDS]	= "server_suspends",
	[PUMA_STAT_SRV_RESUMES]		= "server_resumes",
	[PUMA_STAT_CONNECTS]		= "connects",
	[PUMA_STAT_SRV_SESSION_ABORTS]	= "server_session_aborts",
	[PUMA_STAT_SRV_LENDING_RETRIES]	= "server_lending_retries",
	[PUMA_STAT_SRV_SEND_QUEUE_FULL]	= "server_send_queue_full",
	[PUMA_STAT_SRV_QUOTA_EVICTIONS]	= "server_quota_evictions",
	[PUMA_STAT_SRV_FAIR_EVICTIONS]	= "server_fair_evictions",
	[PUMA_STAT_SRV_RECYCLED]	= "server_recycled",
	[PUMA_STAT_SUSPEND_EXPIRIES]	= "suspend_expiries",
	[PUMA_STAT_ENOMEM_CLIENT_PUT]	= "enomem_client_put",
	[PUMA_STAT_ENOMEM_CLIENT_GET]	= "enomem_client_get",
	[PUMA_STAT_ENOMEM_CLIENT_RX]	= "enomem_client_rx",
	[PUMA_STAT_ENOMEM_CLIENT_INV_MSG] = "enomem_client_inv_msg",
	[PUMA_STAT_ENOMEM_SERVER_PUT]	= "enomem_server_put",
	[PUMA_STAT_ENOMEM_SERVER_GET]	= "enomem_server_get",
	[PUMA_STAT_ENOMEM_SERVER_MSG]	= "enomem_server_msg",
	[PUMA_STAT_BAD_MSGS]		= "unexpected_messages",
	[PUMA_STAT_PINGS]		= "pings",
};

u64 puma_node_id(void)
{
	return puma_node;
}

struct puma_msg_stats puma_msgs;
atomic_long_t puma_get_rtt[PUMA_RTT_BUCKETS];

/* Lowest round trip of bucket @b, in microseconds. */
static u64 puma_rtt_bucket_floor(unsigned int b)
{
	return b < 4 ? b : (u64)(4 + b % 4) << (b / 4 - 1);
}

/* "FROM_US COUNT" per bucket that holds any GET. */
static int puma_get_rtt_show(struct seq_file *m, void *v)
{
	unsigned int b;
	long n;

	for (b = 0; b < PUMA_RTT_BUCKETS; b++) {
		n = atomic_long_read(&puma_get_rtt[b]);
		if (n)
			seq_printf(m, "%llu %ld\n", puma_rtt_bucket_floor(b), n);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(puma_get_rtt);

static int puma_stats_show(struct seq_file *m, void *v)
{
	struct puma_outbox_stats ob;
	int i;

	for (i = 0; i < PUMA_STAT_NR; i++)
		seq_printf(m, "%s %lld\n", puma_stat_names[i],
			   percpu_counter_sum(&puma_stats[i]));
	seq_printf(m, "hosted %lu\n", puma_server_on ? puma_server_hosted() : 0);
	seq_printf(m, "charged %lu\n",
		   puma_server_on ? puma_rlru_total_charge() : 0);
	/* The client's outbox (<puma/outbox.h>); zeros without a client. */
	memset(&ob, 0, sizeof(ob));
	if (puma_client_on)
		puma_client_outbox_stats(&ob);
	seq_printf(m, "invalidate_overflows %llu\n", ob.inv_overflows);
	seq_printf(m, "enomem_client_inv %llu\n", ob.enomem);
	seq_printf(m, "outbox_inv_filtered %llu\n", ob.inv_filtered);
	seq_printf(m, "outbox_inv_pool_empty %llu\n", ob.inv_pool_empty);
	seq_printf(m, "outbox_flushes %llu\n", ob.flushes);
	seq_printf(m, "outbox_drain_errors %llu\n", ob.drain_errors);
	seq_printf(m, "outbox_queued %u\n", ob.queued);
	/* The message layer (<puma/msg.h>). */
	seq_printf(m, "rx_pages_dropped %lld\n",
		   atomic64_read(&puma_msgs.pages_dropped));
	seq_printf(m, "bad_messages %lld\n", atomic64_read(&puma_msgs.bad));
	seq_printf(m, "bytes_sent %lld\n", atomic64_read(&puma_msgs.bytes_sent));
	seq_printf(m, "bytes_received %lld\n",
		   atomic64_read(&puma_msgs.bytes_received));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(puma_stats);

static int puma_sessions_show(struct seq_file *m, void *v)
{
	puma_server_sessions_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(puma_sessions);

/* "lending": read "on" or "suspended"; write "suspend" or "resume". */
static ssize_t puma_lending_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	const char *state = puma_server_lending() ? "on\n" : "suspended\n";

	return simple_read_from_buffer(ubuf, count, ppos, state,
				       strlen(state));
}

static ssize_t puma_lending_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	char buf[16];
	size_t len = min(count, sizeof(buf) - 1);

	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sysfs_streq(buf, "suspend"))
		puma_server_set_lending(false, "debugfs");
	else if (sysfs_streq(buf, "resume"))
		puma_server_set_lending(true, "debugfs");
	else
		return -EINVAL;
	return count;
}

static const struct file_operations puma_lending_fops = {
	.owner	= THIS_MODULE,
	.read	= puma_lending_read,
	.write	= puma_lending_write,
	.llseek	= default_llseek,
};

static int __init puma_parse_params(void)
{
	if (!strcmp(role, "client")) {
		puma_client_on = true;
	} else if (!strcmp(role, "server")) {
		puma_server_on = true;
	} else if (!strcmp(role, "both")) {
		puma_client_on = true;
		puma_server_on = true;
	} else {
		pr_err("role=%s: expected client, server or both\n", role);
		return -EINVAL;
	}
	if (!strcmp(strategy, "exclusive")) {
		puma_exclusive = true;
	} else if (!strcmp(strategy, "inclusive")) {
		puma_exclusive = false;
	} else {
		pr_err("strategy=%s: expected exclusive or inclusive\n",
		       strategy);
		return -EINVAL;
	}
	if (!puma_get_timeout_us || puma_get_timeout_us > 10 * USEC_PER_SEC) {
		pr_err("get_timeout_us=%u: expected 1 to 10000000\n",
		       puma_get_timeout_us);
		return -EINVAL;
	}
	if (puma_staging_pages < PUMA_WIRE_MAX_BATCH ||
	    puma_staging_pages > 65536) {
		pr_err("staging_pages=%u: expected %u to 65536\n",
		       puma_staging_pages, PUMA_WIRE_MAX_BATCH);
		return -EINVAL;
	}
	if (!puma_max_hosted_pct || puma_max_hosted_pct > 95) {
		pr_err("max_hosted_pct=%u: expected 1 to 95\n",
		       puma_max_hosted_pct);
		return -EINVAL;
	}
	if (!puma_max_client_pct || puma_max_client_pct > 100) {
		pr_err("max_client_pct=%u: expected 1 to 100\n",
		       puma_max_client_pct);
		return -EINVAL;
	}
	if (puma_client_on && !*server_addr) {
		pr_err("the client role needs server_addr\n");
		return -EINVAL;
	}
	if (puma_server_on && !*listen_addr) {
		pr_err("the server role needs listen_addr\n");
		return -EINVAL;
	}
	return 0;
}

#if IS_ENABLED(CONFIG_PUMA_BACKEND_KUNIT_TEST)
/* Both roles over the module's transport at "puma0", for the suite. */
int puma_test_roles_start(void)
{
	int err;

	err = puma_server_start(puma_transport, "puma0");
	if (err)
		return err;
	err = puma_client_start(puma_transport, "puma0");
	if (err)
		puma_server_stop();
	return err;
}

void puma_test_roles_stop(void)
{
	puma_client_stop();
	puma_server_stop();
}
#endif

static int __init puma_init(void)
{
	int i, err;

	err = puma_parse_params();
	if (err)
		return err;
	for (i = 0; i < PUMA_STAT_NR; i++) {
		err = percpu_counter_init(&puma_stats[i], 0, GFP_KERNEL);
		if (err)
			goto free_stats;
	}
	puma_node = get_random_u64();

	puma_transport = puma_transport_get(transport);
	if (IS_ERR(puma_transport)) {
		err = PTR_ERR(puma_transport);
		pr_err("transport=%s: not available (%d)\n", transport, err);
		goto free_stats;
	}
	puma_debugfs = debugfs_create_dir("puma", NULL);
	if (IS_ENABLED(CONFIG_PUMA_BACKEND_KUNIT_TEST)) {
		/* The suite starts and stops the roles around its cases. */
		puma_client_on = false;
		puma_server_on = false;
	}
	if (puma_server_on) {
		err = puma_server_start(puma_transport, listen_addr);
		if (err)
			goto put_transport;
		/* role=both: the node's own refaults would stop its lending. */
		err = puma_lending_start(puma_client_on ? PUMA_DETECTOR_OFF :
					 PUMA_DETECTOR_COMBINED, puma_debugfs);
		if (err)
			goto stop_server;
	}
	if (puma_client_on) {
		err = puma_client_start(puma_transport, server_addr);
		if (err)
			goto stop_lending;
	}
	debugfs_create_file("stats", 0444, puma_debugfs, NULL,
			    &puma_stats_fops);
	if (puma_client_on)
		debugfs_create_file("get_rtt_us", 0444, puma_debugfs, NULL,
				    &puma_get_rtt_fops);
	if (puma_server_on) {
		debugfs_create_file("lending", 0644, puma_debugfs, NULL,
				    &puma_lending_fops);
		debugfs_create_file("sessions", 0444, puma_debugfs, NULL,
				    &puma_sessions_fops);
	}
	pr_info("%s%s%s over %s, %s strategy\n",
		puma_client_on ? "client" : "",
		puma_client_on && puma_server_on ? " and " : "",
		puma_server_on ? "server" : "", transport, strategy);
	return 0;

stop_lending:
	if (puma_server_on)
		puma_lending_stop();
stop_server:
	if (puma_server_on)
		puma_server_stop();
put_transport:
	debugfs_remove(puma_debugfs);
	puma_transport_put(puma_transport);
free_stats:
	while (--i >= 0)
		percpu_counter_destroy(&puma_stats[i]);
	return err;
}

static void __exit puma_exit(void)
{
	int i;

	debugfs_remove(puma_debugfs);
	/* Unregistering the hooks first: no signal kicks the work after. */
	if (puma_client_on)
		puma_client_stop();
	if (puma_server_on) {
		puma_lending_stop();
		puma_server_stop();
	}
	puma_transport_put(puma_transport);
	for (i = 0; i < PUMA_STAT_NR; i++)
		percpu_counter_destroy(&puma_stats[i]);
}

module_init(puma_init);
module_exit(puma_exit);

MODULE_DESCRIPTION("PUMA: remote cache of clean page-cache pages");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
