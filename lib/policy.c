// SPDX-License-Identifier: GPL-2.0-only
/*
 * PUMA deactivation policy.
 *
 * Pure decisions over the sizes of the file LRU lists and the number of
 * hosted pages that the caller supplies; no state but the caller's two
 * thresholds (include/puma/policy.h, Documentation/policy.rst).
 *
 * Every comparison is of the form a * ma > b * mb with a and b any
 * unsigned long and small multipliers; the products are formed exactly in
 * 96 bits (puma_policy_mul()), so counts near ULONG_MAX decide as they
 * should instead of wrapping.
 *
 * Lock ordering: no locks.  The thresholds are single words written with
 * WRITE_ONCE() by the setters and read once with READ_ONCE() by the
 * decisions; the caller serialises the setters if it needs them to change
 * together.
 */

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/math.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/wordpart.h>

#include <kunit/visibility.h>

#include <puma/policy.h>

#include "internal.h"

/* Largest multiplier puma_policy_mul() takes: the product fits 96 bits. */
#define PUMA_POLICY_MUL_MAX	BIT(31)
static_assert(PUMA_POLICY_PERMILLE_MAX <= PUMA_POLICY_MUL_MAX);

/* @x * @m as (*@hi << 32) + *@lo, exact for @m <= PUMA_POLICY_MUL_MAX. */
static void puma_policy_mul(u64 x, u32 m, u64 *hi, u32 *lo)
{
	u64 low = (u64)lower_32_bits(x) * m;

	*hi = (u64)upper_32_bits(x) * m + upper_32_bits(low);
	*lo = lower_32_bits(low);
}

/* Is @a * @ma greater than @b * @mb?  Exact; no product overflows. */
static bool puma_policy_mul_gt(u64 a, u32 ma, u64 b, u32 mb)
{
	u64 ahi, bhi;
	u32 alo, blo;

	puma_policy_mul(a, ma, &ahi, &alo);
	puma_policy_mul(b, mb, &bhi, &blo);
	return ahi > bhi || (ahi == bhi && alo > blo);
}

/**
 * puma_policy_init() - Set the default thresholds.
 * @policy: Policy to set up.
 *
 * The defaults are the paper's: hosted pages more than 90 % of the
 * inactive list, at least 10 % of the file LRU active.
 *
 * Context: Any context.
 */
void puma_policy_init(struct puma_policy *policy)
{
	WRITE_ONCE(policy->hosted_permille,
		   PUMA_POLICY_HOSTED_PERMILLE_DEFAULT);
	WRITE_ONCE(policy->floor_permille, PUMA_POLICY_FLOOR_PERMILLE_DEFAULT);
}
EXPORT_SYMBOL_IF_KUNIT(puma_policy_init);

/**
 * puma_policy_set_hosted_permille() - Set the hosted-share threshold.
 * @policy: Policy.
 * @permille: Share of the inactive file list, in per mille, that hosted
 *	pages must exceed for the list to count as low.  0 makes any hosted
 *	page enough; %PUMA_POLICY_PERMILLE_MAX makes the policy fire only
 *	if the caller's hosted count exceeds the whole inactive list.
 *
 * Context: Any context.  May run concurrently with the decisions.
 * Return: 0, or -EINVAL if @permille is above %PUMA_POLICY_PERMILLE_MAX
 * (the threshold is then unchanged).
 */
int puma_policy_set_hosted_permille(struct puma_policy *policy,
				    unsigned int permille)
{
	if (permille > PUMA_POLICY_PERMILLE_MAX)
		return -EINVAL;
	WRITE_ONCE(policy->hosted_permille, permille);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_policy_set_hosted_permille, PUMA);

/**
 * puma_policy_set_floor_permille() - Set the active-list floor.
 * @policy: Policy.
 * @permille: Share of the file LRU (inactive plus active), in per mille,
 *	at or below which the active list is not reported for deactivation.
 *	0 lets the policy ask until the active list is empty;
 *	%PUMA_POLICY_PERMILLE_MAX turns the policy off.
 *
 * Context: Any context.  May run concurrently with the decisions.
 * Return: 0, or -EINVAL if @permille is above %PUMA_POLICY_PERMILLE_MAX
 * (the floor is then unchanged).
 */
int puma_policy_set_floor_permille(struct puma_policy *policy,
				   unsigned int permille)
{
	if (permille > PUMA_POLICY_PERMILLE_MAX)
		return -EINVAL;
	WRITE_ONCE(policy->floor_permille, permille);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(puma_policy_set_floor_permille, PUMA);

/**
 * puma_policy_hosted_permille() - Read the hosted-share threshold.
 * @policy: Policy.
 *
 * Context: Any context.
 * Return: The threshold, in per mille.
 */
unsigned int puma_policy_hosted_permille(const struct puma_policy *policy)
{
	return READ_ONCE(policy->hosted_permille);
}
EXPORT_SYMBOL_NS_GPL(puma_policy_hosted_permille, PUMA);

/**
 * puma_policy_floor_permille() - Read the active-list floor.
 * @policy: Policy.
 *
 * Context: Any context.
 * Return: The floor, in per mille.
 */
unsigned int puma_policy_floor_permille(const struct puma_policy *policy)
{
	return READ_ONCE(policy->floor_permille);
}
EXPORT_SYMBOL_NS_GPL(puma_policy_floor_permille, PUMA);

/**
 * puma_policy_decide() - Decide whether the inactive file list is low.
 * @policy: Thresholds.
 * @inactive: Pages on the inactive file list.
 * @active: Pages on the active file list.
 * @hosted: Hosted pages among the @inactive ones (the caller's count for
 *	the same lists; a count above @inactive is taken as it is).
 *
 * The list is low when hosted pages are more than the threshold share of
 * the inactive list, hosted * 1000 > threshold * inactive, and the active
 * list is above its floor share of the file LRU, active * 1000 > floor *
 * (inactive + active).  Both tests are exact for any values.  With nothing
 * hosted, or an empty active list, the list is never low.
 *
 * Context: Any context; does not sleep, takes no lock.
 * Return: %PUMA_POLICY_LOW if reclaim should deactivate active file
 * pages, %PUMA_POLICY_AT_FLOOR if it should not because the active list is
 * at or below its floor, %PUMA_POLICY_NOT_LOW if hosted pages are not
 * above the threshold.
 */
enum puma_policy_verdict puma_policy_decide(const struct puma_policy *policy,
					    unsigned long inactive,
					    unsigned long active,
					    unsigned long hosted)
{
	unsigned int threshold = READ_ONCE(policy->hosted_permille);
	unsigned int floor = READ_ONCE(policy->floor_permille);

	if (!puma_policy_mul_gt(hosted, PUMA_POLICY_PERMILLE_MAX,
				inactive, threshold))
		return PUMA_POLICY_NOT_LOW;
	/*
	 * active * 1000 > floor * (inactive + active), rearranged so that
	 * the sum, which may overflow, is never formed.
	 */
	if (floor >= PUMA_POLICY_PERMILLE_MAX ||
	    !puma_policy_mul_gt(active, PUMA_POLICY_PERMILLE_MAX - floor,
				inactive, floor))
		return PUMA_POLICY_AT_FLOOR;
	return PUMA_POLICY_LOW;
}
EXPORT_SYMBOL_NS_GPL(puma_policy_decide, PUMA);

/**
 * puma_policy_inactive_is_low() - Should the inactive file list count as low?
 * @policy: Thresholds.
 * @inactive: Pages on the inactive file list.
 * @active: Pages on the active file list.
 * @hosted: Hosted pages among the @inactive ones.
 *
 * The body of a cleancache ->file_inactive_is_low() operation: pass the
 * list sizes reclaim read, and the hosted count that matches the lruvec.
 * See puma_policy_decide() for the rule.
 *
 * Context: Any context; does not sleep, takes no lock.
 * Return: true if reclaim should deactivate active file pages.
 */
bool puma_policy_inactive_is_low(const struct puma_policy *policy,
				 unsigned long inactive, unsigned long active,
				 unsigned long hosted)
{
	return puma_policy_decide(policy, inactive, active, hosted) ==
	       PUMA_POLICY_LOW;
}
EXPORT_SYMBOL_IF_KUNIT(puma_policy_inactive_is_low);

/**
 * puma_policy_kernel_ratio_is_low() - Would reclaim deactivate on its own?
 * @inactive: Pages on the inactive file list.
 * @active: Pages on the active file list.
 *
 * The rule of inactive_is_low() in Linux 6.12's mm/vmscan.c before it asks
 * cleancache: with gb the size of both lists in GiB, the inactive list is
 * low when inactive * ratio < active, where ratio is int_sqrt(10 * gb), or
 * 1 below 1 GiB.  A backend that feeds the activity detector with
 * deactivation events can use it to tell the kernel's own rebalancing,
 * which signals local activity, from the deactivations its policy asked
 * for, which do not.  Exact for any values.
 *
 * Context: Any context; does not sleep, takes no lock.
 * Return: true if the kernel's own ratio finds the inactive list low.
 */
bool puma_policy_kernel_ratio_is_low(unsigned long inactive,
				     unsigned long active)
{
	unsigned long total, gb, ratio = 1;

	if (check_add_overflow(inactive, active, &total))
		total = ULONG_MAX;
	gb = total >> (30 - PAGE_SHIFT);
	if (gb)
		ratio = int_sqrt(10 * gb);
	/* ratio < 2^27 on 64-bit: a valid multiplier. */
	return puma_policy_mul_gt(active, 1, inactive, ratio);
}
EXPORT_SYMBOL_NS_GPL(puma_policy_kernel_ratio_is_low, PUMA);
