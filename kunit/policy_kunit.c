// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite "puma_policy": the PUMA deactivation policy.
 *
 * Decisions one below, at and one above each boundary (hosted share,
 * active floor), with shares that do and do not divide evenly, empty
 * lists, the extreme thresholds, counts near ULONG_MAX where a plain
 * product would wrap, parameter validation, and the kernel's own ratio.
 */

#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/module.h>

#include <puma/policy.h>

#include "../lib/internal.h"

#define NOT_LOW		PUMA_POLICY_NOT_LOW
#define AT_FLOOR	PUMA_POLICY_AT_FLOOR
#define LOW		PUMA_POLICY_LOW

/* Pages in one GiB. */
#define GIB_PAGES	(1UL << (30 - PAGE_SHIFT))

static struct puma_policy policy_defaults(void)
{
	struct puma_policy p;

	puma_policy_init(&p);
	return p;
}

static void puma_policy_init_sets_defaults(struct kunit *test)
{
	struct puma_policy p = { .hosted_permille = 1, .floor_permille = 2 };
	struct puma_policy s = PUMA_POLICY_INIT;

	puma_policy_init(&p);
	KUNIT_EXPECT_EQ(test, puma_policy_hosted_permille(&p), 900U);
	KUNIT_EXPECT_EQ(test, puma_policy_floor_permille(&p), 100U);
	KUNIT_EXPECT_EQ(test, puma_policy_hosted_permille(&s), 900U);
	KUNIT_EXPECT_EQ(test, puma_policy_floor_permille(&s), 100U);
}

/* Inactive 1000, active 1000 (far above the floor): hosted 900 is 90 %. */
static void puma_policy_decide_below_threshold(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1000, 899), NOT_LOW);
}

static void puma_policy_decide_at_threshold(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	/* "More than 90 %": exactly 90 % is not enough. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1000, 900), NOT_LOW);
}

static void puma_policy_decide_above_threshold(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1000, 901), LOW);
}

static void puma_policy_decide_threshold_uneven_share(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	/* 90 % of 1001 is 900.9: 900 is below, 901 above. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1001, 1000, 900), NOT_LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1001, 1000, 901), LOW);
	/* 90 % of 999 is 899.1: 899 is below, 900 above. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 999, 1000, 899), NOT_LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 999, 1000, 900), LOW);
	/* Tiny lists: more than 90 % of 1 page is 1 page. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1, 1000, 0), NOT_LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1, 1000, 1), LOW);
}

/*
 * Everything inactive is hosted; the file LRU is 900 inactive plus the
 * active pages, so the 10 % floor is 100 active pages at active = 100.
 */
static void puma_policy_decide_below_floor(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 900, 99, 900), AT_FLOOR);
}

static void puma_policy_decide_at_floor(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	/* Exactly 10 % active: deactivating more would go under it. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 900, 100, 900), AT_FLOOR);
}

static void puma_policy_decide_above_floor(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 900, 101, 900), LOW);
}

static void puma_policy_decide_floor_uneven_share(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	/* 901 + 100 = 1001 pages: the floor is 100.1, so 100 is under it. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 901, 100, 901), AT_FLOOR);
	/* 901 + 101 = 1002 pages: the floor is 100.2, 101 is above. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 901, 101, 901), LOW);
}

static void puma_policy_decide_empty_lists(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 0, 0, 0), NOT_LOW);
	/* A hosted count with no list to match is still no active to take. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 0, 0, 5), AT_FLOOR);
}

static void puma_policy_decide_empty_inactive(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	/* Nothing hosted: never low, whatever the lists. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 0, 1000, 0), NOT_LOW);
	/* A caller's count above the list is taken as it is. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 0, 1000, 1), LOW);
}

static void puma_policy_decide_empty_active(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 0, 1000), AT_FLOOR);
	KUNIT_ASSERT_EQ(test, puma_policy_set_floor_permille(&p, 0), 0);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 0, 1000), AT_FLOOR);
}

static void puma_policy_decide_nothing_hosted(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1000, 0), NOT_LOW);
	KUNIT_ASSERT_EQ(test, puma_policy_set_hosted_permille(&p, 0), 0);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1000, 0), NOT_LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, ULONG_MAX, ULONG_MAX, 0),
			NOT_LOW);
}

static void puma_policy_decide_hosted_exceeds_inactive(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1000, 2000), LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1000, ULONG_MAX),
			LOW);
}

/* Threshold boundary where hosted * 1000 and 900 * inactive both wrap. */
static void puma_policy_decide_huge_counts_threshold(struct kunit *test)
{
	struct puma_policy p = policy_defaults();
	unsigned long k = ULONG_MAX / 1000;

	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000 * k, ULONG_MAX,
						 900 * k - 1), NOT_LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000 * k, ULONG_MAX,
						 900 * k), NOT_LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000 * k, ULONG_MAX,
						 900 * k + 1), LOW);
	/* Half of ULONG_MAX is hosted: 50 %, below 90 %. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, ULONG_MAX, ULONG_MAX,
						 ULONG_MAX / 2), NOT_LOW);
	/*
	 * 90 % of ULONG_MAX is ULONG_MAX / 10 * 9 + 4.5: + 4 is below it,
	 * + 5 above.
	 */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, ULONG_MAX, ULONG_MAX,
						 ULONG_MAX / 10 * 9 + 4),
			NOT_LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, ULONG_MAX, ULONG_MAX,
						 ULONG_MAX / 10 * 9 + 5), LOW);
}

/* Floor boundary where inactive + active overflows. */
static void puma_policy_decide_huge_counts_floor(struct kunit *test)
{
	struct puma_policy p = policy_defaults();
	unsigned long k = ULONG_MAX / 9;

	/* Active k of 10k pages is exactly 10 %. */
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 9 * k, k - 1, 9 * k),
			AT_FLOOR);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 9 * k, k, 9 * k),
			AT_FLOOR);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 9 * k, k + 1, 9 * k),
			LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, ULONG_MAX, ULONG_MAX,
						 ULONG_MAX), LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, ULONG_MAX, 1, ULONG_MAX),
			AT_FLOOR);
}

static void puma_policy_decide_threshold_zero(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_ASSERT_EQ(test, puma_policy_set_hosted_permille(&p, 0), 0);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1000, 1), LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, ULONG_MAX, ULONG_MAX, 1),
			LOW);
}

static void puma_policy_decide_threshold_max(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_ASSERT_EQ(test, puma_policy_set_hosted_permille(&p, 1000), 0);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1000, 1000),
			NOT_LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1000, 1001), LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, ULONG_MAX, ULONG_MAX,
						 ULONG_MAX), NOT_LOW);
}

static void puma_policy_decide_floor_zero(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_ASSERT_EQ(test, puma_policy_set_floor_permille(&p, 0), 0);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1, 1000), LOW);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, ULONG_MAX, 1, ULONG_MAX),
			LOW);
}

static void puma_policy_decide_floor_max(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_ASSERT_EQ(test, puma_policy_set_floor_permille(&p, 1000), 0);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1000, 1000, 1000),
			AT_FLOOR);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 0, ULONG_MAX, 1),
			AT_FLOOR);
}

static void puma_policy_decide_floor_999(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	/* Active must be more than 99.9 % of the LRU. */
	KUNIT_ASSERT_EQ(test, puma_policy_set_floor_permille(&p, 999), 0);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1, 999, 1), AT_FLOOR);
	KUNIT_EXPECT_EQ(test, puma_policy_decide(&p, 1, 1000, 1), LOW);
}

static void puma_policy_inactive_is_low_follows_decide(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_EXPECT_FALSE(test, puma_policy_inactive_is_low(&p, 1000, 1000,
							     900));
	KUNIT_EXPECT_FALSE(test, puma_policy_inactive_is_low(&p, 900, 100,
							     900));
	KUNIT_EXPECT_TRUE(test, puma_policy_inactive_is_low(&p, 900, 101,
							    900));
}

static void puma_policy_set_hosted_permille_rejects_out_of_range(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_EXPECT_EQ(test, puma_policy_set_hosted_permille(&p, 1001),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, puma_policy_set_hosted_permille(&p, UINT_MAX),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, puma_policy_hosted_permille(&p), 900U);
}

static void puma_policy_set_hosted_permille_accepts_range(struct kunit *test)
{
	struct puma_policy p = policy_defaults();
	unsigned int v[] = { 0, 1, 500, 999, 1000 };
	int i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		KUNIT_EXPECT_EQ(test, puma_policy_set_hosted_permille(&p, v[i]),
				0);
		KUNIT_EXPECT_EQ(test, puma_policy_hosted_permille(&p), v[i]);
	}
	KUNIT_EXPECT_EQ(test, puma_policy_floor_permille(&p), 100U);
}

static void puma_policy_set_floor_permille_rejects_out_of_range(struct kunit *test)
{
	struct puma_policy p = policy_defaults();

	KUNIT_EXPECT_EQ(test, puma_policy_set_floor_permille(&p, 1001),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, puma_policy_set_floor_permille(&p, UINT_MAX),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, puma_policy_floor_permille(&p), 100U);
}

static void puma_policy_set_floor_permille_accepts_range(struct kunit *test)
{
	struct puma_policy p = policy_defaults();
	unsigned int v[] = { 0, 1, 500, 999, 1000 };
	int i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		KUNIT_EXPECT_EQ(test, puma_policy_set_floor_permille(&p, v[i]),
				0);
		KUNIT_EXPECT_EQ(test, puma_policy_floor_permille(&p), v[i]);
	}
	KUNIT_EXPECT_EQ(test, puma_policy_hosted_permille(&p), 900U);
}

/* Below 1 GiB the kernel's ratio is 1: low when inactive < active. */
static void puma_policy_kernel_ratio_is_low_small_lists(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, puma_policy_kernel_ratio_is_low(0, 0));
	KUNIT_EXPECT_TRUE(test, puma_policy_kernel_ratio_is_low(0, 1));
	KUNIT_EXPECT_FALSE(test, puma_policy_kernel_ratio_is_low(1000, 999));
	KUNIT_EXPECT_FALSE(test, puma_policy_kernel_ratio_is_low(1000, 1000));
	KUNIT_EXPECT_TRUE(test, puma_policy_kernel_ratio_is_low(1000, 1001));
}

/* At 10 GiB the ratio is int_sqrt(100) = 10: low when 10 * inactive < active. */
static void puma_policy_kernel_ratio_is_low_10gib(struct kunit *test)
{
	unsigned long total = 10 * GIB_PAGES;
	/* Largest inactive with 11 * inactive < total. */
	unsigned long x = (total - 1) / 11;

	KUNIT_EXPECT_TRUE(test, puma_policy_kernel_ratio_is_low(x, total - x));
	KUNIT_EXPECT_FALSE(test, puma_policy_kernel_ratio_is_low(x + 1,
								 total - x - 1));
	/* Just under 1 GiB in all, the ratio is still 1. */
	KUNIT_EXPECT_TRUE(test,
			  puma_policy_kernel_ratio_is_low(GIB_PAGES / 2 - 1,
							  GIB_PAGES / 2));
	/* At 1 GiB the ratio is int_sqrt(10) = 3. */
	KUNIT_EXPECT_TRUE(test,
			  puma_policy_kernel_ratio_is_low(GIB_PAGES / 4 - 1,
							  3 * GIB_PAGES / 4 + 1));
	KUNIT_EXPECT_FALSE(test,
			   puma_policy_kernel_ratio_is_low(GIB_PAGES / 4,
							   3 * GIB_PAGES / 4));
}

static void puma_policy_kernel_ratio_is_low_huge_counts(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, puma_policy_kernel_ratio_is_low(ULONG_MAX,
								 ULONG_MAX));
	KUNIT_EXPECT_TRUE(test, puma_policy_kernel_ratio_is_low(0, ULONG_MAX));
	KUNIT_EXPECT_TRUE(test, puma_policy_kernel_ratio_is_low(1, ULONG_MAX));
	/* inactive * ratio wraps in 64 bits: must still read "not low". */
	KUNIT_EXPECT_FALSE(test,
			   puma_policy_kernel_ratio_is_low(ULONG_MAX / 2,
							   ULONG_MAX / 2));
}

static struct kunit_case puma_policy_cases[] = {
	KUNIT_CASE(puma_policy_init_sets_defaults),
	KUNIT_CASE(puma_policy_decide_below_threshold),
	KUNIT_CASE(puma_policy_decide_at_threshold),
	KUNIT_CASE(puma_policy_decide_above_threshold),
	KUNIT_CASE(puma_policy_decide_threshold_uneven_share),
	KUNIT_CASE(puma_policy_decide_below_floor),
	KUNIT_CASE(puma_policy_decide_at_floor),
	KUNIT_CASE(puma_policy_decide_above_floor),
	KUNIT_CASE(puma_policy_decide_floor_uneven_share),
	KUNIT_CASE(puma_policy_decide_empty_lists),
	KUNIT_CASE(puma_policy_decide_empty_inactive),
	KUNIT_CASE(puma_policy_decide_empty_active),
	KUNIT_CASE(puma_policy_decide_nothing_hosted),
	KUNIT_CASE(puma_policy_decide_hosted_exceeds_inactive),
	KUNIT_CASE(puma_policy_decide_huge_counts_threshold),
	KUNIT_CASE(puma_policy_decide_huge_counts_floor),
	KUNIT_CASE(puma_policy_decide_threshold_zero),
	KUNIT_CASE(puma_policy_decide_threshold_max),
	KUNIT_CASE(puma_policy_decide_floor_zero),
	KUNIT_CASE(puma_policy_decide_floor_max),
	KUNIT_CASE(puma_policy_decide_floor_999),
	KUNIT_CASE(puma_policy_inactive_is_low_follows_decide),
	KUNIT_CASE(puma_policy_set_hosted_permille_rejects_out_of_range),
	KUNIT_CASE(puma_policy_set_hosted_permille_accepts_range),
	KUNIT_CASE(puma_policy_set_floor_permille_rejects_out_of_range),
	KUNIT_CASE(puma_policy_set_floor_permille_accepts_range),
	KUNIT_CASE(puma_policy_kernel_ratio_is_low_small_lists),
	KUNIT_CASE(puma_policy_kernel_ratio_is_low_10gib),
	KUNIT_CASE(puma_policy_kernel_ratio_is_low_huge_counts),
	{}
};

static struct kunit_suite puma_policy_suite = {
	.name = "puma_policy",
	.test_cases = puma_policy_cases,
};

kunit_test_suite(puma_policy_suite);

MODULE_DESCRIPTION("KUnit tests for the PUMA deactivation policy");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
