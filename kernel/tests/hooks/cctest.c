// SPDX-License-Identifier: GPL-2.0
/*
 * cctest: a tiny cleancache backend for testing the hook series.
 *
 * Keeps copies of put folios in RAM (inclusive: a get does not drop the
 * copy, which is the mode where a missing invalidation would show up as
 * stale data), up to max_pages, and counts every call.  Stats in
 * /sys/kernel/debug/cctest/stats; "echo reset > .../stats" zeroes them.
 */
#include <linux/cleancache.h>
#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

static unsigned int max_pages = 16384;
module_param(max_pages, uint, 0444);
static bool exclusive;
module_param(exclusive, bool, 0644);
static bool accept_puts = true;
module_param(accept_puts, bool, 0644);
/* Puts and gets of this inode number are also counted apart. */
static ulong watch_ino;
module_param(watch_ino, ulong, 0644);

struct cc_entry {
	struct hlist_node node;
	int pool;
	u64 ino;
	pgoff_t index;
	struct page *page;
};

static DEFINE_HASHTABLE(cc_hash, 12);
static DEFINE_SPINLOCK(cc_lock);
static unsigned int cc_nr;
static int cc_next_pool;

enum { S_INIT, S_PUT, S_PUT_STORED, S_GET, S_GET_HIT, S_INV_FOLIO,
	S_INV_RANGE, S_INV_INODE, S_INV_FS, S_REFAULT, S_REFAULT_PAGES,
	S_DEACT, S_DEACT_PAGES, S_LOW_Q, S_DROPPED, S_PUT_WATCH, S_GET_WATCH,
	S_NR };
static const char * const cc_names[S_NR] = {
	"init_fs", "put", "put_stored", "get", "get_hit", "inv_folio",
	"inv_range", "inv_inode", "inv_fs", "refault", "refault_pages",
	"deactivate", "deactivate_pages", "inactive_is_low_queries",
	"dropped_entries", "put_watch", "get_watch",
};
static atomic_long_t cc_stats[S_NR];

static u32 cc_key(int pool, u64 ino, pgoff_t index)
{
	return hash_64(ino * 1000003ULL + index + ((u64)pool << 56), 12);
}

static struct cc_entry *cc_find(int pool, u64 ino, pgoff_t index)
{
	struct cc_entry *e;

	hash_for_each_possible(cc_hash, e, node, cc_key(pool, ino, index))
		if (e->pool == pool && e->ino == ino && e->index == index)
			return e;
	return NULL;
}

static void cc_free(struct cc_entry *e)
{
	hash_del(&e->node);
	cc_nr--;
	__free_page(e->page);
	kfree(e);
	atomic_long_inc(&cc_stats[S_DROPPED]);
}

static int cc_init_fs(struct super_block *sb)
{
	int pool;

	atomic_long_inc(&cc_stats[S_INIT]);
	spin_lock_irq(&cc_lock);
	pool = cc_next_pool++;
	spin_unlock_irq(&cc_lock);
	pr_info("cctest: init_fs %s (%s) -> pool %d\n", sb->s_id,
		sb->s_type->name, pool);
	return pool;
}

static void cc_put(int pool, u64 ino, pgoff_t index, struct folio *folio)
{
	struct cc_entry *e;
	struct page *page;
	unsigned long flags;
	void *src, *dst;

	atomic_long_inc(&cc_stats[S_PUT]);
	if (ino == READ_ONCE(watch_ino))
		atomic_long_inc(&cc_stats[S_PUT_WATCH]);
	lockdep_assert_irqs_disabled();
	if (!READ_ONCE(accept_puts))
		return;
	/* Reclaim calls this with PF_MEMALLOC: stay out of the reserves. */
	page = alloc_page(GFP_NOWAIT | __GFP_NOMEMALLOC | __GFP_NOWARN);
	if (!page)
		return;
	src = kmap_local_folio(folio, 0);
	dst = kmap_local_page(page);
	memcpy(dst, src, PAGE_SIZE);
	kunmap_local(dst);
	kunmap_local(src);

	spin_lock_irqsave(&cc_lock, flags);
	e = cc_find(pool, ino, index);
	if (e) {
		__free_page(e->page);
		e->page = page;
	} else if (cc_nr < max_pages) {
		e = kmalloc(sizeof(*e),
			    GFP_NOWAIT | __GFP_NOMEMALLOC | __GFP_NOWARN);
		if (e) {
			e->pool = pool;
			e->ino = ino;
			e->index = index;
			e->page = page;
			hash_add(cc_hash, &e->node, cc_key(pool, ino, index));
			cc_nr++;
		}
	}
	spin_unlock_irqrestore(&cc_lock, flags);
	if (e)
		atomic_long_inc(&cc_stats[S_PUT_STORED]);
	else
		__free_page(page);
}

static int cc_get(int pool, u64 ino, pgoff_t index, struct folio *folio)
{
	struct cc_entry *e;
	void *dst, *src;
	int ret = -ENOENT;

	atomic_long_inc(&cc_stats[S_GET]);
	if (ino == READ_ONCE(watch_ino))
		atomic_long_inc(&cc_stats[S_GET_WATCH]);
	might_sleep();
	spin_lock_irq(&cc_lock);
	e = cc_find(pool, ino, index);
	if (e) {
		src = kmap_local_page(e->page);
		dst = kmap_local_folio(folio, 0);
		memcpy(dst, src, PAGE_SIZE);
		kunmap_local(dst);
		kunmap_local(src);
		if (READ_ONCE(exclusive))
			cc_free(e);
		ret = 0;
	}
	spin_unlock_irq(&cc_lock);
	if (!ret)
		atomic_long_inc(&cc_stats[S_GET_HIT]);
	return ret;
}

static void cc_inv_folio(int pool, u64 ino, pgoff_t index)
{
	struct cc_entry *e;
	unsigned long flags;

	atomic_long_inc(&cc_stats[S_INV_FOLIO]);
	spin_lock_irqsave(&cc_lock, flags);
	e = cc_find(pool, ino, index);
	if (e)
		cc_free(e);
	spin_unlock_irqrestore(&cc_lock, flags);
}

static void cc_drop_if(bool (*match)(struct cc_entry *, int, u64, pgoff_t,
				     pgoff_t),
		       int pool, u64 ino, pgoff_t start, pgoff_t end)
{
	struct hlist_node *tmp;
	struct cc_entry *e;
	unsigned long flags;
	int bkt;

	spin_lock_irqsave(&cc_lock, flags);
	hash_for_each_safe(cc_hash, bkt, tmp, e, node)
		if (match(e, pool, ino, start, end))
			cc_free(e);
	spin_unlock_irqrestore(&cc_lock, flags);
}

static bool m_range(struct cc_entry *e, int pool, u64 ino, pgoff_t s,
		    pgoff_t end)
{
	return e->pool == pool && e->ino == ino && e->index >= s &&
	       e->index <= end;
}

static bool m_inode(struct cc_entry *e, int pool, u64 ino, pgoff_t s,
		    pgoff_t end)
{
	return e->pool == pool && e->ino == ino;
}

static bool m_fs(struct cc_entry *e, int pool, u64 ino, pgoff_t s,
		 pgoff_t end)
{
	return e->pool == pool;
}

static void cc_inv_range(int pool, u64 ino, pgoff_t start, pgoff_t end)
{
	atomic_long_inc(&cc_stats[S_INV_RANGE]);
	might_sleep();
	cc_drop_if(m_range, pool, ino, start, end);
}

static void cc_inv_inode(int pool, u64 ino)
{
	atomic_long_inc(&cc_stats[S_INV_INODE]);
	might_sleep();
	cc_drop_if(m_inode, pool, ino, 0, 0);
}

static void cc_inv_fs(int pool)
{
	atomic_long_inc(&cc_stats[S_INV_FS]);
	might_sleep();
	pr_info("cctest: invalidate_fs pool %d\n", pool);
	cc_drop_if(m_fs, pool, 0, 0, 0);
}

static void cc_refault(unsigned long nr)
{
	atomic_long_inc(&cc_stats[S_REFAULT]);
	atomic_long_add(nr, &cc_stats[S_REFAULT_PAGES]);
}

static void cc_deactivate(unsigned long nr)
{
	atomic_long_inc(&cc_stats[S_DEACT]);
	atomic_long_add(nr, &cc_stats[S_DEACT_PAGES]);
}

static bool cc_inactive_is_low(struct lruvec *lruvec, unsigned long inactive,
			       unsigned long active)
{
	atomic_long_inc(&cc_stats[S_LOW_Q]);
	return false;
}

static const struct cleancache_ops cc_ops = {
	.init_fs = cc_init_fs,
	.put_folio = cc_put,
	.get_folio = cc_get,
	.invalidate_folio = cc_inv_folio,
	.invalidate_range = cc_inv_range,
	.invalidate_inode = cc_inv_inode,
	.invalidate_fs = cc_inv_fs,
};

static const struct cleancache_lru_ops cc_lru_ops = {
	.refault = cc_refault,
	.deactivate = cc_deactivate,
	.file_inactive_is_low = cc_inactive_is_low,
};

static int cc_stats_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < S_NR; i++)
		seq_printf(m, "%s %ld\n", cc_names[i],
			   atomic_long_read(&cc_stats[i]));
	seq_printf(m, "stored %u\n", READ_ONCE(cc_nr));
	return 0;
}

static int cc_stats_open(struct inode *inode, struct file *file)
{
	return single_open(file, cc_stats_show, NULL);
}

static ssize_t cc_stats_write(struct file *file, const char __user *buf,
			      size_t len, loff_t *pos)
{
	int i;

	for (i = 0; i < S_NR; i++)
		atomic_long_set(&cc_stats[i], 0);
	return len;
}

static const struct file_operations cc_stats_fops = {
	.owner = THIS_MODULE,
	.open = cc_stats_open,
	.read = seq_read,
	.write = cc_stats_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static struct dentry *cc_dir;

static int __init cc_init(void)
{
	int ret;

	cc_dir = debugfs_create_dir("cctest", NULL);
	debugfs_create_file("stats", 0600, cc_dir, NULL, &cc_stats_fops);
	ret = cleancache_register_lru_ops(&cc_lru_ops);
	pr_info("cctest: register lru -> %d\n", ret);
	if (ret)
		goto out;
	/* One table of each kind at a time, and never none. */
	if (cleancache_register_lru_ops(&cc_lru_ops) != -EBUSY ||
	    cleancache_register_lru_ops(NULL) != -EINVAL) {
		pr_err("cctest: FAIL: a second or an empty LRU table was taken\n");
		ret = -EINVAL;
		goto unregister_lru;
	}
	ret = cleancache_register_ops(&cc_ops);
	pr_info("cctest: register -> %d\n", ret);
	if (!ret)
		return 0;
unregister_lru:
	cleancache_unregister_lru_ops(&cc_lru_ops);
out:
	debugfs_remove_recursive(cc_dir);
	return ret;
}

static void __exit cc_exit(void)
{
	struct hlist_node *tmp;
	struct cc_entry *e;
	int bkt;

	cleancache_unregister_ops(&cc_ops);
	cleancache_unregister_lru_ops(&cc_lru_ops);
	debugfs_remove_recursive(cc_dir);
	spin_lock_irq(&cc_lock);
	hash_for_each_safe(cc_hash, bkt, tmp, e, node)
		cc_free(e);
	spin_unlock_irq(&cc_lock);
	pr_info("cctest: unregistered\n");
}

module_init(cc_init);
module_exit(cc_exit);
MODULE_DESCRIPTION("Test backend for the cleancache hooks");
MODULE_LICENSE("GPL");
