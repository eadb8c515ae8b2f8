// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark of the PUMA page index against a plain xarray.
 *
 * For each size, the same N pages are inserted, looked up and erased in
 * the same shuffled order, once in a plain xarray indexed by position
 * (the baseline: the cost of an xarray store, load and erase at that
 * size) and once in a page index where the pages spread over inodes of
 * 64K pages each, as a file-backed workload would.  Times are the best of
 * PUMA_BENCH_ROUNDS alternated rounds, in ns per operation.  Index
 * metadata is the growth of slab memory while the index is full, in bytes
 * per entry; it includes the xarray nodes, so the baseline's figure is
 * printed beside it.
 *
 * It asserts only that every operation did what it should; the figures go
 * to the log.  Run with "make bench" (UML, no debug options).
 */

#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

#include "../lib/index.h"

#define PUMA_BENCH_ROUNDS	3
#define PUMA_BENCH_FILE_PAGES	BIT(16)

struct bench_times {
	u64 insert, lookup, erase;	/* ns per operation */
	long bytes;			/* slab growth per entry */
};

static const unsigned long bench_sizes[] = {
	BIT(10), BIT(16), BIT(20), BIT(22),
};

static void bench_size_desc(const unsigned long *size, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%lu entries", *size);
}

KUNIT_ARRAY_PARAM(bench_size, bench_sizes, bench_size_desc);

static long slab_bytes(void)
{
	return (global_node_page_state_pages(NR_SLAB_RECLAIMABLE_B) +
		global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B)) *
		PAGE_SIZE;
}

static u64 per_op(ktime_t start, unsigned long n)
{
	return div_u64(ktime_to_ns(ktime_sub(ktime_get(), start)), n);
}

static void *bench_entry(unsigned long i)
{
	return xa_mk_value(i);
}

static struct puma_key bench_key(unsigned long i)
{
	return (struct puma_key){
		.pool = 1,
		.ino = i / PUMA_BENCH_FILE_PAGES,
		.index = i % PUMA_BENCH_FILE_PAGES,
	};
}

static unsigned long bench_xarray(struct kunit *test, const u32 *order,
				  unsigned long n, struct bench_times *t)
{
	unsigned long i, bad = 0;
	struct xarray xa;
	long before;
	ktime_t start;

	xa_init(&xa);
	before = slab_bytes();
	start = ktime_get();
	for (i = 0; i < n; i++)
		bad += xa_insert(&xa, order[i], bench_entry(order[i]),
				 GFP_KERNEL) != 0;
	t->insert = per_op(start, n);
	t->bytes = (slab_bytes() - before) / (long)n;

	start = ktime_get();
	for (i = 0; i < n; i++)
		bad += xa_load(&xa, order[i]) != bench_entry(order[i]);
	t->lookup = per_op(start, n);

	start = ktime_get();
	for (i = 0; i < n; i++)
		bad += xa_erase(&xa, order[i]) != bench_entry(order[i]);
	t->erase = per_op(start, n);
	xa_destroy(&xa);
	return bad;
}

/*
 * The index's layout without the index: one plain xarray per inode, the
 * inode found by array position.  Tells the cost of splitting pages by
 * inode apart from the cost of finding the inode.
 */
static unsigned long bench_split(struct kunit *test, const u32 *order,
				 unsigned long n, struct bench_times *t)
{
	unsigned long i, nr = DIV_ROUND_UP(n, PUMA_BENCH_FILE_PAGES), bad = 0;
	struct puma_key k;
	struct xarray *xas;
	long before;
	ktime_t start;

	xas = kvcalloc(nr, sizeof(*xas), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, xas);
	for (i = 0; i < nr; i++)
		xa_init(&xas[i]);
	before = slab_bytes();
	start = ktime_get();
	for (i = 0; i < n; i++) {
		k = bench_key(order[i]);
		bad += xa_insert(&xas[k.ino], k.index, bench_entry(order[i]),
				 GFP_KERNEL) != 0;
	}
	t->insert = per_op(start, n);
	t->bytes = (slab_bytes() - before) / (long)n;

	start = ktime_get();
	for (i = 0; i < n; i++) {
		k = bench_key(order[i]);
		bad += xa_load(&xas[k.ino], k.index) != bench_entry(order[i]);
	}
	t->lookup = per_op(start, n);

	start = ktime_get();
	for (i = 0; i < n; i++) {
		k = bench_key(order[i]);
		bad += xa_erase(&xas[k.ino], k.index) != bench_entry(order[i]);
	}
	t->erase = per_op(start, n);
	for (i = 0; i < nr; i++)
		xa_destroy(&xas[i]);
	kvfree(xas);
	return bad;
}

static unsigned long bench_index(struct kunit *test, const u32 *order,
				 unsigned long n, struct bench_times *t)
{
	struct puma_index *index;
	unsigned long i, bad = 0;
	struct puma_key k;
	long before;
	ktime_t start;

	/* Too big for the stack with its inode cache. */
	index = kunit_kzalloc(test, sizeof(*index), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, index);
	KUNIT_ASSERT_EQ(test, puma_index_init(index), 0);
	before = slab_bytes();
	start = ktime_get();
	for (i = 0; i < n; i++) {
		k = bench_key(order[i]);
		bad += puma_index_insert(index, &k, bench_entry(order[i]),
					 GFP_KERNEL) != 0;
	}
	t->insert = per_op(start, n);
	t->bytes = (slab_bytes() - before) / (long)n;

	start = ktime_get();
	for (i = 0; i < n; i++) {
		k = bench_key(order[i]);
		bad += puma_index_lookup(index, &k) != bench_entry(order[i]);
	}
	t->lookup = per_op(start, n);

	start = ktime_get();
	for (i = 0; i < n; i++) {
		k = bench_key(order[i]);
		bad += puma_index_erase(index, &k) != bench_entry(order[i]);
	}
	t->erase = per_op(start, n);
	bad += puma_index_count(index) != 0;
	puma_index_destroy(index, NULL, NULL);
	return bad;
}

static void best_of(struct bench_times *best, const struct bench_times *t)
{
	best->insert = min(best->insert, t->insert);
	best->lookup = min(best->lookup, t->lookup);
	best->erase = min(best->erase, t->erase);
	best->bytes = t->bytes;
}

/* Ratio index/baseline in hundredths, for printing without floats. */
static unsigned int ratio(u64 a, u64 b)
{
	return b ? div64_u64(a * 100, b) : 0;
}

static void puma_index_bench_ops(struct kunit *test)
{
	const unsigned long n = *(const unsigned long *)test->param_value;
	struct bench_times base = { U64_MAX, U64_MAX, U64_MAX, 0 };
	struct bench_times idx = base, split = base, t;
	unsigned long i, j, bad = 0;
	int round;
	u32 *order;

	order = vmalloc(array_size(n, sizeof(*order)));
	KUNIT_ASSERT_NOT_NULL(test, order);
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = get_random_u32_below(i + 1);
		swap(order[i], order[j]);
	}

	for (round = 0; round < PUMA_BENCH_ROUNDS; round++) {
		bad += bench_xarray(test, order, n, &t);
		best_of(&base, &t);
		bad += bench_split(test, order, n, &t);
		best_of(&split, &t);
		bad += bench_index(test, order, n, &t);
		best_of(&idx, &t);
		cond_resched();
	}
	vfree(order);
	KUNIT_EXPECT_EQ(test, bad, 0UL);

	kunit_info(test, "entries=%lu xarray_ns insert=%llu lookup=%llu erase=%llu bytes_per_entry=%ld\n",
		   n, base.insert, base.lookup, base.erase, base.bytes);
	kunit_info(test, "entries=%lu split_ns  insert=%llu lookup=%llu erase=%llu bytes_per_entry=%ld\n",
		   n, split.insert, split.lookup, split.erase, split.bytes);
	kunit_info(test, "entries=%lu index_ns  insert=%llu lookup=%llu erase=%llu bytes_per_entry=%ld\n",
		   n, idx.insert, idx.lookup, idx.erase, idx.bytes);
	kunit_info(test, "entries=%lu ratio_x100 insert=%u lookup=%u erase=%u\n",
		   n, ratio(idx.insert, base.insert),
		   ratio(idx.lookup, base.lookup),
		   ratio(idx.erase, base.erase));
}

static struct kunit_case puma_index_bench_cases[] = {
	KUNIT_CASE_PARAM_ATTR(puma_index_bench_ops, bench_size_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite puma_index_bench_suite = {
	.name = "puma_index_bench",
	.test_cases = puma_index_bench_cases,
};

kunit_test_suite(puma_index_bench_suite);

MODULE_DESCRIPTION("Benchmark of the PUMA page index");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PUMA);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
