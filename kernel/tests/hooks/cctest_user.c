// SPDX-License-Identifier: GPL-2.0
/*
 * Coherence tests for the cleancache hooks, run in a QEMU guest with the
 * cctest backend loaded (inclusive mode: a get keeps the copy).
 *
 * Each test: write version 1 of a file, sync, drop caches so every page is
 * put; stop the backend from accepting puts; change the data through the
 * path under test; drop caches again (nothing new is stored, so only an
 * invalidation can remove the old copies); read everything back and
 * compare with what the file must contain.  A missing hook shows up as
 * version-1 data served by a get.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PG 4096
#define NP 64

static const char *dir = "/mnt";
static int failures;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void fill(uint64_t *p, unsigned int tag, unsigned long idx)
{
	for (int i = 0; i < PG / 8; i++)
		p[i] = tag ? ((uint64_t)tag << 48) | ((uint64_t)idx << 16) | i : 0;
}

static void wfile(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		die(path);
	close(fd);
}

static void drop(void)
{
	sync();
	wfile("/proc/sys/vm/drop_caches", "1");
}

static void puts_on(int on)
{
	wfile("/sys/module/cctest/parameters/accept_puts", on ? "Y" : "N");
}

static long stat_of(const char *name)
{
	char line[128], key[64];
	long v, r = -1;
	FILE *f = fopen("/sys/kernel/debug/cctest/stats", "r");

	if (!f)
		die("stats");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", key, &v) == 2 && !strcmp(key, name))
			r = v;
	fclose(f);
	return r;
}

static void write_pages(int fd, unsigned long first, unsigned long n,
			unsigned int tag)
{
	static uint64_t buf[PG / 8];

	for (unsigned long i = first; i < first + n; i++) {
		fill(buf, tag, i);
		if (pwrite(fd, buf, PG, (off_t)i * PG) != PG)
			die("pwrite");
	}
}

/* expect[i] is the tag page i must hold (0: zeros), idx[i] its stamp. */
static int check(const char *test, int fd, unsigned long n,
		 const unsigned int *expect, const unsigned long *idx)
{
	static uint64_t got[PG / 8], want[PG / 8];
	int bad = 0;

	for (unsigned long i = 0; i < n; i++) {
		if (pread(fd, got, PG, (off_t)i * PG) != PG)
			die("pread");
		fill(want, expect[i], idx ? idx[i] : i);
		if (memcmp(got, want, PG)) {
			if (bad < 4)
				printf("  %s: page %lu: got %016llx want %016llx\n",
				       test, i, (unsigned long long)got[1],
				       (unsigned long long)want[1]);
			bad++;
		}
	}
	return bad;
}

static int mkfile(const char *name, unsigned int tag, char *path)
{
	int fd;

	sprintf(path, "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		die(path);
	write_pages(fd, 0, NP, tag);
	return fd;
}

/* Version 1 written, synced and put; puts now refused. */
static int setup(const char *name, char *path)
{
	int fd = mkfile(name, 1, path);
	long before = stat_of("stored");

	puts_on(1);
	drop();
	if (stat_of("stored") < before + NP / 2)
		printf("  %s: only %ld pages stored\n", name,
		       stat_of("stored") - before);
	puts_on(0);
	return fd;
}

static void result(const char *test, int bad, long hits0)
{
	printf("%s %s (get hits during check: %ld)\n", bad ? "FAIL" : "PASS",
	       test, stat_of("get_hit") - hits0);
	failures += !!bad;
}

int main(int argc, char **argv)
{
	unsigned int exp[2 * NP];
	unsigned long idx[2 * NP];
	char path[256];
	long hits0;
	int fd, bad;

	/* "check FILE TAG NPAGES": verify a file written with write_pages(). */
	if (argc == 5 && !strcmp(argv[1], "check")) {
		unsigned long n = strtoul(argv[4], NULL, 0);
		unsigned int *e = calloc(n, sizeof(*e));

		fd = open(argv[2], O_RDONLY);
		if (fd < 0 || !e)
			die(argv[2]);
		for (unsigned long i = 0; i < n; i++)
			e[i] = strtoul(argv[3], NULL, 0);
		bad = check(argv[2], fd, n, e, NULL);
		printf("%s check %s: %d bad page(s)\n", bad ? "FAIL" : "PASS",
		       argv[2], bad);
		return !!bad;
	}
	/* "make FILE TAG NPAGES": write such a file. */
	if (argc == 5 && !strcmp(argv[1], "make")) {
		fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die(argv[2]);
		write_pages(fd, 0, strtoul(argv[4], NULL, 0),
			    strtoul(argv[3], NULL, 0));
		fsync(fd);
		return 0;
	}
	if (argc > 1)
		dir = argv[1];

	/* T0: put and get work at all: version 1 comes back from the backend. */
	fd = setup("t0", path);
	hits0 = stat_of("get_hit");
	for (int i = 0; i < NP; i++)
		exp[i] = 1;
	bad = check("t0", fd, NP, exp, NULL);
	if (stat_of("get_hit") - hits0 < NP / 2)
		bad++, printf("  t0: too few get hits\n");
	result("t0 put-then-get returns the data", bad, hits0);
	close(fd);

	/* T1: full-page buffered overwrite of uncached pages (no read). */
	fd = setup("t1", path);
	write_pages(fd, 0, NP, 2);
	drop();
	hits0 = stat_of("get_hit");
	for (int i = 0; i < NP; i++)
		exp[i] = 2;
	result("t1 buffered full-page overwrite", check("t1", fd, NP, exp, NULL),
	       hits0);
	close(fd);

	/* T2: read (get hit, copy kept), then partial buffered overwrite. */
	fd = setup("t2", path);
	for (int i = 0; i < NP; i++)
		exp[i] = 1;
	check("t2-pre", fd, NP, exp, NULL);
	write_pages(fd, 0, NP, 2);
	drop();
	hits0 = stat_of("get_hit");
	for (int i = 0; i < NP; i++)
		exp[i] = 2;
	result("t2 overwrite of pages got from cleancache",
	       check("t2", fd, NP, exp, NULL), hits0);
	close(fd);

	/* T3: shared mmap write. */
	fd = setup("t3", path);
	{
		uint64_t *m = mmap(NULL, NP * PG, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0);

		if (m == MAP_FAILED)
			die("mmap");
		for (int i = 0; i < NP; i++)
			fill(m + i * (PG / 8), 3, i);
		msync(m, NP * PG, MS_SYNC);
		munmap(m, NP * PG);
	}
	drop();
	hits0 = stat_of("get_hit");
	for (int i = 0; i < NP; i++)
		exp[i] = 3;
	result("t3 mmap shared write", check("t3", fd, NP, exp, NULL), hits0);
	close(fd);

	/* T4: O_DIRECT write over pages that are only in cleancache. */
	fd = setup("t4", path);
	{
		int dfd = open(path, O_RDWR | O_DIRECT);
		void *buf;

		if (dfd < 0 || posix_memalign(&buf, PG, PG))
			die("odirect");
		for (int i = 0; i < NP; i++) {
			fill(buf, 4, i);
			if (pwrite(dfd, buf, PG, (off_t)i * PG) != PG)
				die("dio pwrite");
		}
		close(dfd);
		free(buf);
	}
	drop();
	hits0 = stat_of("get_hit");
	for (int i = 0; i < NP; i++)
		exp[i] = 4;
	result("t4 O_DIRECT write", check("t4", fd, NP, exp, NULL), hits0);
	close(fd);

	/* T5: truncate to zero, then extend: holes must read as zeros. */
	fd = setup("t5", path);
	if (ftruncate(fd, 0) || ftruncate(fd, NP * PG))
		die("ftruncate");
	drop();
	hits0 = stat_of("get_hit");
	memset(exp, 0, sizeof(exp));
	result("t5 truncate then extend", check("t5", fd, NP, exp, NULL), hits0);
	close(fd);

	/* T5b: truncate into the middle of a page, then extend. */
	fd = setup("t5b", path);
	if (ftruncate(fd, 10 * PG + 100) || ftruncate(fd, NP * PG))
		die("ftruncate");
	drop();
	hits0 = stat_of("get_hit");
	{
		static uint64_t got[PG / 8], want[PG / 8];

		bad = 0;
		for (int i = 0; i < NP; i++)
			exp[i] = i < 10 ? 1 : 0;
		bad += check("t5b", fd, 10, exp, NULL);
		if (pread(fd, got, PG, 10 * PG) != PG)
			die("pread");
		fill(want, 1, 10);
		memset((char *)want + 100, 0, PG - 100);
		bad += !!memcmp(got, want, PG);
		for (int i = 11; i < NP; i++) {
			if (pread(fd, got, PG, (off_t)i * PG) != PG)
				die("pread");
			memset(want, 0, PG);
			bad += !!memcmp(got, want, PG);
		}
	}
	result("t5b truncate mid-page then extend", bad, hits0);
	close(fd);

	/* T6: punch hole, page-aligned and with partial pages. */
	fd = setup("t6", path);
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      8 * PG, 8 * PG))
		die("punch");
	drop();
	hits0 = stat_of("get_hit");
	for (int i = 0; i < NP; i++)
		exp[i] = (i >= 8 && i < 16) ? 0 : 1;
	result("t6 punch hole", check("t6", fd, NP, exp, NULL), hits0);
	close(fd);

	/* T7: zero range. */
	fd = setup("t7", path);
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE, 20 * PG, 4 * PG))
		die("zero range");
	drop();
	hits0 = stat_of("get_hit");
	for (int i = 0; i < NP; i++)
		exp[i] = (i >= 20 && i < 24) ? 0 : 1;
	result("t7 zero range", check("t7", fd, NP, exp, NULL), hits0);
	close(fd);

	/* T8: collapse range: pages after the range move down. */
	fd = setup("t8", path);
	if (fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 8 * PG, 8 * PG))
		die("collapse");
	drop();
	hits0 = stat_of("get_hit");
	for (int i = 0; i < NP - 8; i++) {
		exp[i] = 1;
		idx[i] = i < 8 ? i : i + 8;
	}
	result("t8 collapse range", check("t8", fd, NP - 8, exp, idx), hits0);
	close(fd);

	/* T9: insert range: pages after the offset move up. */
	fd = setup("t9", path);
	if (fallocate(fd, FALLOC_FL_INSERT_RANGE, 8 * PG, 8 * PG))
		die("insert");
	drop();
	hits0 = stat_of("get_hit");
	for (int i = 0; i < NP + 8; i++) {
		exp[i] = (i >= 8 && i < 16) ? 0 : 1;
		idx[i] = i < 16 ? i : i - 8;
	}
	result("t9 insert range", check("t9", fd, NP + 8, exp, idx), hits0);
	close(fd);

	/* T10: unlink and recreate (same inode number, if ext4 reuses it). */
	{
		struct stat st1, st2;

		fd = setup("t10", path);
		fstat(fd, &st1);
		close(fd);
		unlink(path);
		sync();
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("recreate");
		fstat(fd, &st2);
		if (ftruncate(fd, NP * PG))
			die("ftruncate");
		drop();
		hits0 = stat_of("get_hit");
		memset(exp, 0, sizeof(exp));
		printf("  t10: inode %lu -> %lu\n", (unsigned long)st1.st_ino,
		       (unsigned long)st2.st_ino);
		result("t10 unlink and recreate", check("t10", fd, NP, exp, NULL),
		       hits0);
		close(fd);
	}

	/* T11: inline data written in place, then converted to extents. */
	{
		char a[40], b[40], got[40];
		int flags = 0;

		memset(a, 'A', sizeof(a));
		memset(b, 'B', sizeof(b));
		sprintf(path, "%s/t11", dir);
		unlink(path);
		fd = open(path, O_RDWR | O_CREAT, 0644);
		if (fd < 0 || pwrite(fd, a, sizeof(a), 0) != sizeof(a))
			die("t11");
		puts_on(1);
		drop();
		ioctl(fd, FS_IOC_GETFLAGS, &flags);
		if (!(flags & FS_INLINE_DATA_FL)) {
			printf("SKIP t11 inline data (filesystem without inline_data)\n");
		} else {
			puts_on(0);
			if (pwrite(fd, b, sizeof(b), 0) != sizeof(b))
				die("t11 pwrite");
			drop();
			/*
			 * fallocate converts to extents without touching page
			 * 0 (KEEP_SIZE: no zeroing past the old i_size).
			 */
			if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, PG))
				die("t11 fallocate");
			ioctl(fd, FS_IOC_GETFLAGS, &flags);
			drop();
			hits0 = stat_of("get_hit");
			if (pread(fd, got, sizeof(got), 0) != sizeof(got))
				die("t11 pread");
			bad = !!memcmp(got, b, sizeof(b));
			if (bad)
				printf("  t11: got '%.8s'\n", got);
			printf("  t11: inline after fallocate: %d\n",
			       !!(flags & FS_INLINE_DATA_FL));
			result("t11 inline data write then conversion", bad,
			       hits0);
		}
		close(fd);
	}

	puts_on(1);
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
