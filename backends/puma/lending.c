// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA server: when to lend.  It registers the cleancache LRU operations.
 * The library's activity detector (lib/detector.c) watches the node's own
 * page-cache pressure through their refault and deactivate signals and
 * suspends lending while the node needs its memory; the deactivation
 * policy (lib/policy.c) answers reclaim's "is the inactive file list
 * low?" so that an idle server turns its cold active pages over to
 * hosting.
 *
 * The signals arrive from reclaim and page faults, in any context: they
 * only feed the detector and kick a work item, which tells every client
 * (puma_server_set_lending()) and re-arms itself for the end of the
 * detector's window.  One work item means SUSPEND and RESUME go out in
 * the order the detector decided them.
 *
 * Lock ordering: the detector's own raw spinlock is innermost; nothing
 * here takes another lock in the signal paths.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cleancache.h>
#include <linux/debugfs.h>
#include <linux/ktime.h>
#include <linux/memcontrol.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include <puma/detector.h>
#include <puma/policy.h>
#include <puma/rlru.h>

#include "puma.h"

static struct puma_detector_watch puma_detector;
static struct puma_policy puma_policy = PUMA_POLICY_INIT;
static bool puma_lending_started;
/*
 * What reclaim's file_inactive_is_low queries got: one count per policy
 * verdict, and those answered "no" before the policy was asked because
 * lending was suspended.
 */
static atomic_long_t puma_policy_answers[PUMA_POLICY_LOW + 1];
static atomic_long_t puma_policy_suspended;

/*
 * Parameters; the setters validate through the library.  The detector's
 * default depends on the role: with role=both the node's own workload is
 * the client's, whose refaults would suspend lending to itself.
 */
static struct puma_detector_param puma_detector_mode = {
	.mode = PUMA_DETECTOR_MODE_UNSET,
};

static unsigned int puma_detector_window_ms = 3000;
static bool puma_deactivation_policy = true;
static bool puma_hosted_workingset = true;

module_param_cb(detector, &puma_detector_param_ops, &puma_detector_mode, 0644);
MODULE_PARM_DESC(detector,
		 "server: what suspends lending: off, shadow, deactivation or combined (default for role=server; off for role=both)");

static int puma_detector_window_set(const char *val,
				    const struct kernel_param *kp)
{
	unsigned int ms;
	int err;

	err = kstrtouint(val, 0, &ms);
	if (err)
		return err;
	if (!ms || ms > 3600 * MSEC_PER_SEC)
		return -EINVAL;
	WRITE_ONCE(puma_detector_window_ms, ms);
	if (READ_ONCE(puma_lending_started))
		puma_detector_set_window(&puma_detector.det,
					 (u64)ms * NSEC_PER_MSEC);
	return 0;
}

static const struct kernel_param_ops puma_detector_window_ops = {
	.set = puma_detector_window_set,
	.get = param_get_uint,
};
module_param_cb(detector_window_ms, &puma_detector_window_ops,
		&puma_detector_window_ms, 0644);
MODULE_PARM_DESC(detector_window_ms,
		 "server: lending stays suspended this long after the last activity (1-3600000, default 3000)");

static int puma_permille_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int err;

	err = kstrtouint(val, 0, &v);
	if (err)
		return err;
	if (kp->arg == &puma_policy.hosted_permille)
		return puma_policy_set_hosted_permille(&puma_policy, v);
	return puma_policy_set_floor_permille(&puma_policy, v);
}

static const struct kernel_param_ops puma_permille_ops = {
	.set = puma_permille_set,
	.get = param_get_uint,
};
module_param_cb(hosted_permille, &puma_permille_ops,
		&puma_policy.hosted_permille, 0644);
MODULE_PARM_DESC(hosted_permille,
		 "server: deactivate local active file pages once hosted pages exceed this share of the inactive list, in 1/1000 (0-1000, default 900)");
module_param_cb(floor_permille, &puma_permille_ops,
		&puma_policy.floor_permille, 0644);
MODULE_PARM_DESC(floor_permille,
		 "server: but keep at least this share of the file LRU active, in 1/1000 (0-1000, default 100)");
module_param_named(deactivation_policy, puma_deactivation_policy, bool, 0644);
MODULE_PARM_DESC(deactivation_policy,
		 "server: turn cold active file pages over to hosting (default Y)");
module_param_named(hosted_workingset, puma_hosted_workingset, bool, 0644);
MODULE_PARM_DESC(hosted_workingset,
		 "server: a local page pushed out by hosted pages is activated, and counts as a shadow hit, when it refaults (default Y)");

/* Every client hears of each change, in the order the detector made them. */
static void puma_lending_changed(struct puma_detector_watch *watch,
				 bool suspended, const char *reason)
{
	puma_server_set_lending(!suspended, reason);
}

static void puma_signal_refault(unsigned long nr_pages)
{
	if (!READ_ONCE(puma_lending_started))
		return;
	puma_detector_watch_event(&puma_detector, PUMA_DETECTOR_REFAULT,
				  nr_pages);
}

static void puma_signal_deactivate(unsigned long nr_pages)
{
	if (!READ_ONCE(puma_lending_started))
		return;
	/*
	 * Deactivations our own policy asked for say nothing about the
	 * node's needs: count only those the kernel's ratio would make.
	 */
	if (!puma_policy_kernel_ratio_is_low(global_node_page_state(NR_INACTIVE_FILE),
					     global_node_page_state(NR_ACTIVE_FILE)))
		return;
	puma_detector_watch_event(&puma_detector, PUMA_DETECTOR_DEACTIVATE,
				  nr_pages);
}

/* Hosted folios are charged to the root: other groups host none. */
static unsigned long puma_lruvec_hosted(struct lruvec *lruvec)
{
	struct mem_cgroup *memcg = lruvec_memcg(lruvec);

	if (memcg && parent_mem_cgroup(memcg))
		return 0;
	return puma_rlru_node_count(lruvec_pgdat(lruvec)->node_id);
}

static bool puma_signal_file_inactive_is_low(struct lruvec *lruvec,
					     unsigned long inactive,
					     unsigned long active)
{
	enum puma_policy_verdict verdict;
	unsigned long hosted;

	if (!READ_ONCE(puma_lending_started) ||
	    !READ_ONCE(puma_deactivation_policy))
		return false;
	/* The node needs its cache: its active pages are not for hosting. */
	if (puma_detector_suspended(&puma_detector.det)) {
		atomic_long_inc(&puma_policy_suspended);
		return false;
	}
	hosted = puma_lruvec_hosted(lruvec);
	if (!hosted)
		return false;
	verdict = puma_policy_decide(&puma_policy, inactive, active, hosted);
	atomic_long_inc(&puma_policy_answers[verdict]);
	return verdict == PUMA_POLICY_LOW;
}

/*
 * The hosted pages are the node's to take back, so a local page they
 * pushed out is part of the node's workingset: the kernel activates it
 * when it refaults, which both protects it from the hosted pages and
 * reports a shadow hit at the first such read, not once the active list
 * has grown.
 */
static unsigned long puma_signal_hosted_pages(struct lruvec *lruvec)
{
	if (!READ_ONCE(puma_lending_started) ||
	    !READ_ONCE(puma_hosted_workingset))
		return 0;
	return puma_lruvec_hosted(lruvec);
}

static const struct cleancache_lru_ops puma_lending_lru_ops = {
	.refault		= puma_signal_refault,
	.deactivate		= puma_signal_deactivate,
	.file_inactive_is_low	= puma_signal_file_inactive_is_low,
	.hosted_pages		= puma_signal_hosted_pages,
};

static int puma_lending_detector_show(struct seq_file *m, void *v)
{
	puma_detector_show(m, &puma_detector.det, "", "lending");
	seq_printf(m, "deactivation_policy %s\n",
		   READ_ONCE(puma_deactivation_policy) ? "on" : "off");
	seq_printf(m, "hosted_permille %u\n",
		   puma_policy_hosted_permille(&puma_policy));
	seq_printf(m, "floor_permille %u\n",
		   puma_policy_floor_permille(&puma_policy));
	seq_printf(m, "policy_low %ld\n",
		   atomic_long_read(&puma_policy_answers[PUMA_POLICY_LOW]));
	seq_printf(m, "policy_not_low %ld\n",
		   atomic_long_read(&puma_policy_answers[PUMA_POLICY_NOT_LOW]));
	seq_printf(m, "policy_at_floor %ld\n",
		   atomic_long_read(&puma_policy_answers[PUMA_POLICY_AT_FLOOR]));
	seq_printf(m, "policy_suspended %ld\n",
		   atomic_long_read(&puma_policy_suspended));
	seq_printf(m, "hosted_workingset %s\n",
		   READ_ONCE(puma_hosted_workingset) ? "on" : "off");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(puma_lending_detector);

/* No signal arrives any more, or none ever did. */
static void puma_lending_stop_watch(void)
{
	WRITE_ONCE(puma_lending_started, false);
	kernel_param_lock(THIS_MODULE);
	puma_detector_mode.watch = NULL;
	kernel_param_unlock(THIS_MODULE);
	puma_detector_watch_stop(&puma_detector);
}

/**
 * puma_lending_start() - start watching this node's activity
 * @default_mode: the detector's mode unless the "detector" parameter set one
 * @debugfs: directory for the "detector" file
 *
 * Registers the cleancache LRU operations, which carry the node's activity
 * signals and reclaim's queries; the client role, if on, registers the
 * cache operations separately.
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno.
 */
int puma_lending_start(int default_mode, struct dentry *debugfs)
{
	int mode, err;

	/* The parameter's setter finds the watcher under this lock. */
	kernel_param_lock(THIS_MODULE);
	mode = puma_detector_mode.mode;
	if (mode == PUMA_DETECTOR_MODE_UNSET)
		mode = default_mode;
	err = puma_detector_watch_init(&puma_detector, mode,
				       (u64)READ_ONCE(puma_detector_window_ms) *
				       NSEC_PER_MSEC, puma_lending_changed);
	if (!err)
		puma_detector_mode.watch = &puma_detector;
	kernel_param_unlock(THIS_MODULE);
	if (err)
		return err;
	WRITE_ONCE(puma_lending_started, true);
	err = cleancache_register_lru_ops(&puma_lending_lru_ops);
	if (err) {
		pr_err("cannot register the cleancache LRU operations: %d\n",
		       err);
		puma_lending_stop_watch();
		return err;
	}
	debugfs_create_file("detector", 0444, debugfs, NULL,
			    &puma_lending_detector_fops);
	return 0;
}

/**
 * puma_lending_stop() - stop watching
 *
 * Context: process context, may sleep.
 */
void puma_lending_stop(void)
{
	cleancache_unregister_lru_ops(&puma_lending_lru_ops);
	puma_lending_stop_watch();
}
