/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PUMA deactivation policy: when should reclaim deactivate active file
 * pages so that hosted pages can use more than the inactive list's share?
 *
 * PUMA's own: the paper's policy and its thresholds.
 */
#ifndef _PUMA_POLICY_H
#define _PUMA_POLICY_H

#include <linux/types.h>

/**
 * DOC: PUMA deactivation policy
 *
 * A node that hosts pages for others keeps them on its inactive file list
 * only, never the active one, so that its own pages keep priority.  The
 * kernel keeps the active list at up to about half of the file cache, so
 * without help hosted pages can never use more than the other half, even
 * when the node's own active pages are idle.  This policy answers the
 * question reclaim asks through the cleancache operation
 * ->file_inactive_is_low(): the inactive file list counts as low, and
 * reclaim deactivates active file pages, while
 *
 * - hosted pages are more than a threshold share of the inactive list
 *   (default 900 per mille: "more than 90 %"), and
 * - the active list is above a floor share of the whole file LRU,
 *   inactive plus active (default 100 per mille: "at least 10 % active").
 *
 * Both shares are in per mille, from 0 to %PUMA_POLICY_PERMILLE_MAX.  The
 * decision is pure arithmetic over the caller's numbers and exact for any
 * unsigned long values: no product overflows.
 *
 * A &struct puma_policy belongs to its caller.  It holds only the two
 * thresholds; the setters validate and store them with WRITE_ONCE() and
 * the decision reads each one once with READ_ONCE(), so the decision may
 * run in any context, concurrently with the setters, without a lock (it
 * then sees the old or the new value of each threshold).  A caller that
 * must change both thresholds as one serialises its setters itself.
 */

/* Largest share, in per mille: the whole list. */
#define PUMA_POLICY_PERMILLE_MAX		1000U
/* Default threshold: hosted pages are more than 90 % of the inactive list. */
#define PUMA_POLICY_HOSTED_PERMILLE_DEFAULT	900U
/* Default floor: the active list keeps at least 10 % of the file LRU. */
#define PUMA_POLICY_FLOOR_PERMILLE_DEFAULT	100U

/**
 * struct puma_policy - Thresholds of a deactivation policy.
 * @hosted_permille: Report "low" only while hosted pages are more than
 *	this share of the inactive file list, in per mille.
 * @floor_permille: Report "low" only while the active file list is more
 *	than this share of the file LRU (inactive plus active), in per mille.
 *
 * Set up with %PUMA_POLICY_INIT; change the fields
 * only with the setters.
 */
struct puma_policy {
	unsigned int hosted_permille;
	unsigned int floor_permille;
};

/* Static initialiser with the default thresholds. */
#define PUMA_POLICY_INIT {						\
	.hosted_permille = PUMA_POLICY_HOSTED_PERMILLE_DEFAULT,		\
	.floor_permille = PUMA_POLICY_FLOOR_PERMILLE_DEFAULT,		\
}

/**
 * enum puma_policy_verdict - A decision of puma_policy_decide().
 * @PUMA_POLICY_NOT_LOW: Hosted pages are at most the threshold share of
 *	the inactive list: nothing to ask of reclaim.
 * @PUMA_POLICY_AT_FLOOR: Hosted pages are above the threshold, but the
 *	active list is at or below its floor: deactivate no more.
 * @PUMA_POLICY_LOW: Report the inactive list as low: reclaim should
 *	deactivate active file pages.
 */
enum puma_policy_verdict {
	PUMA_POLICY_NOT_LOW,
	PUMA_POLICY_AT_FLOOR,
	PUMA_POLICY_LOW,
};

int puma_policy_set_hosted_permille(struct puma_policy *policy,
				    unsigned int permille);
int puma_policy_set_floor_permille(struct puma_policy *policy,
				   unsigned int permille);
unsigned int puma_policy_hosted_permille(const struct puma_policy *policy);
unsigned int puma_policy_floor_permille(const struct puma_policy *policy);

enum puma_policy_verdict puma_policy_decide(const struct puma_policy *policy,
					    unsigned long inactive,
					    unsigned long active,
					    unsigned long hosted);
bool puma_policy_kernel_ratio_is_low(unsigned long inactive,
				     unsigned long active);

#endif /* _PUMA_POLICY_H */
