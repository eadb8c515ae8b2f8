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
#include <sys/swap.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
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

static void watch(unsigned long ino)
{
	char v[32];

	sprintf(v, "%lu", ino);
	wfile("/sys/module/cctest/parameters/watch_ino", v);
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

/*
 * T12: no put and no get of an inode while a direct write is in flight.
 * A child writes DIO_NP pages with one O_DIRECT pwritev() (a DIO_BUF-page
 * buffer, repeated: page i is stamped i % DIO_BUF); meanwhile the
 * parent reads pages of the same file (misses: gets), drops them with
 * POSIX_FADV_DONTNEED (puts) and reads them again, and counts the puts and
 * gets that reached the backend for this inode while the write was in
 * flight.  With /sys/kernel/debug/cleancache/dio_guard set to 0
 * (CONFIG_CLEANCACHE_DEBUG) the same run is a negative control: puts and
 * gets must then reach the backend.  Returns the number of failures, or
 * -1 if the write ended before the first round.
 */
#define DIO_NP 32768
#define DIO_BUF 4096
#define GUARD "/sys/kernel/debug/cleancache/dio_guard"

/* Sectors written to the test disk (/sys/block/vda/stat, field 7). */
static long disk_written(void)
{
	long f[7] = { 0 };
	FILE *st = fopen("/sys/block/vda/stat", "r");

	if (!st || fscanf(st, "%ld %ld %ld %ld %ld %ld %ld", &f[0], &f[1],
			  &f[2], &f[3], &f[4], &f[5], &f[6]) != 7)
		die("/sys/block/vda/stat");
	fclose(st);
	return f[6];
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int dio_round(const char *path, unsigned long ino, int guard_on,
		     unsigned int tag)
{
	volatile int *state = mmap(NULL, PG, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long puts0, gets0, puts, gets, p_prev = 0, g_prev = 0, w0;
	struct timespec t0, t1, m0;
	int nev = 0;
	struct iovec iov[DIO_NP / DIO_BUF];
	uint64_t *wbuf, rbuf[PG / 8];
	int fd, st, bad = 0;
	unsigned long it = 0;
	pid_t pid;

	if (state == MAP_FAILED)
		die("mmap");
	wbuf = mmap(NULL, (size_t)DIO_BUF * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (wbuf == MAP_FAILED)
		die("mmap");
	for (unsigned long i = 0; i < DIO_BUF; i++)
		fill(wbuf + i * (PG / 8), tag, i);
	for (int i = 0; i < DIO_NP / DIO_BUF; i++) {
		iov[i].iov_base = wbuf;
		iov[i].iov_len = (size_t)DIO_BUF * PG;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	watch(ino);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		int dfd = open(path, O_WRONLY | O_DIRECT);

		if (dfd < 0)
			_exit(2);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		state[0] = 1;
		if (pwritev(dfd, iov, DIO_NP / DIO_BUF, 0) !=
		    (ssize_t)DIO_NP * PG)
			_exit(3);
		state[0] = 2;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		state[1] = (t1.tv_sec - t0.tv_sec) * 1000 +
			   (t1.tv_nsec - t0.tv_nsec) / 1000000;
		_exit(0);
	}
	while (state[0] == 0)
		;
	/*
	 * Past inode_dio_begin() once the write's bios reach the disk: wait
	 * for 2 MiB of writes (the journal writes far less meanwhile).
	 */
	w0 = disk_written();
	while (state[0] == 1 && disk_written() - w0 < 4096)
		usleep(1000);
	clock_gettime(CLOCK_MONOTONIC, &m0);
	puts0 = stat_of("put_watch");
	gets0 = stat_of("get_watch");
	puts = gets = 0;
	/*
	 * Only rounds that end, counters read, while the write is still in
	 * flight count, and not the last of those either: the write's
	 * inode_dio_end() comes a little before the child's state change.
	 */
	while (state[0] == 1 && it < 100000) {
		off_t off = (off_t)((it * 97) % DIO_NP) * PG;
		long p, g;

		if (pread(fd, rbuf, PG, off) != PG)
			die("pread");
		posix_fadvise(fd, off, PG, POSIX_FADV_DONTNEED);
		if (pread(fd, rbuf, PG, off) != PG)
			die("pread");
		posix_fadvise(fd, off, PG, POSIX_FADV_DONTNEED);
		if (state[0] != 1)
			break;
		puts = p_prev;
		gets = g_prev;
		p = stat_of("put_watch") - puts0;
		g = stat_of("get_watch") - gets0;
		if (state[0] != 1)
			break;
		if ((p != p_prev || g != g_prev) && nev < 8)
			printf("  t12: round %lu at %ld ms: %ld puts, %ld gets so far\n",
			       it, ms_since(&m0), p, g), nev++;
		p_prev = p;
		g_prev = g;
		it++;
	}
	printf("  t12: the write ended %ld ms after the rounds began\n",
	       ms_since(&m0));
	it = it ? it - 1 : 0;
	while (state[0] == 1)
		;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		die("dio child");
	watch(0);
	printf("  t12: dio_guard %d: write took %d ms; %lu rounds while it was in flight, %ld puts, %ld gets reached the backend\n",
	       guard_on, state[1], it, puts, gets);
	if (guard_on && it && (puts || gets))
		bad++;
	if (!guard_on && it && puts + gets == 0)
		bad++;	/* the negative control did not show the race window */
	if (!it) {
		printf("  t12: inconclusive: the write ended before the first round\n");
		bad = -1;
	}
	close(fd);
	munmap(wbuf, (size_t)DIO_BUF * PG);
	munmap((void *)state, PG);
	return bad;
}

static void t12_dio_guard(void)
{
	char path[256], g[4] = "";
	unsigned int *e = calloc(DIO_NP, sizeof(*e));
	unsigned long *ix = calloc(DIO_NP, sizeof(*ix));
	struct stat sta;
	int fd, bad = 0, gfd, r, tries;
	long hits0;

	sprintf(path, "%s/t12", dir);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || !e || !ix)
		die(path);
	write_pages(fd, 0, DIO_NP, 1);
	fsync(fd);
	fstat(fd, &sta);
	puts_on(1);
	drop();
	for (tries = 0; (r = dio_round(path, sta.st_ino, 1, 2)) < 0 &&
	     ++tries < 3;)
		;
	bad += r < 0 ? 1 : r;
	drop();
	hits0 = stat_of("get_hit");
	for (unsigned long i = 0; i < DIO_NP; i++) {
		e[i] = 2;
		ix[i] = i % DIO_BUF;
	}
	bad += check("t12", fd, DIO_NP, e, ix);
	result("t12 no put or get while a direct write is in flight", bad,
	       hits0);

	gfd = open(GUARD, O_RDONLY);
	if (gfd < 0 || read(gfd, g, 1) != 1) {
		printf("SKIP t12n negative control (no " GUARD ")\n");
	} else {
		wfile(GUARD, "0");
		for (tries = 0; (r = dio_round(path, sta.st_ino, 0, 3)) < 0 &&
		     ++tries < 3;)
			;
		wfile(GUARD, "1");
		bad = r < 0 ? 1 : r;
		result("t12n negative control: dio_guard=0 lets puts and gets through",
		       bad, stat_of("get_hit"));
	}
	if (gfd >= 0)
		close(gfd);
	close(fd);
	unlink(path);
	free(e);
	free(ix);
}

/*
 * T13: EXT4_IOC_MOVE_EXT.  The original holds version 1, the donor version
 * 5, both put.  After the extents are swapped, every page of both files
 * read through the page cache (and so cleancache) must equal what an
 * O_DIRECT read finds on disk: the donor's old copies must be gone.
 */
static int same_as_disk(const char *test, const char *path, int fd,
			int *tag0)
{
	uint64_t got[PG / 8];
	uint64_t *disk;
	int dfd = open(path, O_RDONLY | O_DIRECT), bad = 0;

	if (dfd < 0 || posix_memalign((void **)&disk, PG, PG))
		die("odirect");
	for (int i = 0; i < NP; i++) {
		if (pread(fd, got, PG, (off_t)i * PG) != PG ||
		    pread(dfd, disk, PG, (off_t)i * PG) != PG)
			die("pread");
		if (!i)
			*tag0 = (int)(disk[1] >> 48);
		if (memcmp(got, disk, PG)) {
			if (bad < 4)
				printf("  %s: page %d: got %016llx, disk %016llx\n",
				       test, i, (unsigned long long)got[1],
				       (unsigned long long)disk[1]);
			bad++;
		}
	}
	close(dfd);
	free(disk);
	return bad;
}

struct move_extent {
	uint32_t reserved;
	uint32_t donor_fd;
	uint64_t orig_start;
	uint64_t donor_start;
	uint64_t len;
	uint64_t moved_len;
};

#define EXT4_IOC_MOVE_EXT _IOWR('f', 15, struct move_extent)

static void t13_move_ext(void)
{
	char opath[256], dpath[256];
	struct move_extent me = { 0 };
	unsigned int exp[NP];
	int ofd, dfd, bad, otag = -1, dtag = -1;
	long hits0;

	ofd = mkfile("t13o", 1, opath);
	dfd = mkfile("t13d", 5, dpath);
	fsync(ofd);
	fsync(dfd);
	puts_on(1);
	drop();
	puts_on(0);
	me.donor_fd = dfd;
	me.len = NP;	/* 4 KiB blocks */
	if (ioctl(ofd, EXT4_IOC_MOVE_EXT, &me) || me.moved_len != NP) {
		printf("SKIP t13 EXT4_IOC_MOVE_EXT: %s (moved %llu)\n",
		       strerror(errno), (unsigned long long)me.moved_len);
		goto out;
	}
	drop();
	hits0 = stat_of("get_hit");
	for (int i = 0; i < NP; i++)
		exp[i] = 1;
	bad = check("t13-orig", ofd, NP, exp, NULL);
	bad += same_as_disk("t13-orig", opath, ofd, &otag);
	bad += same_as_disk("t13-donor", dpath, dfd, &dtag);
	printf("  t13: on disk after the move: original page 0 tag %d, donor page 0 tag %d\n",
	       otag, dtag);
	result("t13 EXT4_IOC_MOVE_EXT: donor and original", bad, hits0);
out:
	close(ofd);
	close(dfd);
	unlink(opath);
	unlink(dpath);
}

/*
 * T14: a swap file.  Version 1 is put; the file becomes swap, anonymous
 * pages stamped 9 are paged out into it (MADV_PAGEOUT) and back in at
 * swapoff.  Read afterwards, every page must be what is on disk: a swapped
 * page where a slot was used, version 1 elsewhere (page 0: the header).
 */
#define SWAP_ANON 32

static void t14_swapfile(void)
{
	char path[256];
	uint64_t got[PG / 8], want[PG / 8];
	uint64_t *anon;
	int fd, bad = 0, swapped = 0;
	long hits0;

	fd = mkfile("t14", 1, path);
	fsync(fd);
	puts_on(1);
	drop();
	puts_on(0);
	/* mkswap: version 1, last page, no bad pages, magic at the end */
	memset(got, 0, PG);
	((uint32_t *)got)[256] = 1;
	((uint32_t *)got)[257] = NP - 1;
	memcpy((char *)got + PG - 10, "SWAPSPACE2", 10);
	if (pwrite(fd, got, PG, 0) != PG || fsync(fd))
		die("t14 header");
	if (swapon(path, 0)) {
		printf("SKIP t14 swap file: swapon: %s\n", strerror(errno));
		goto out;
	}
	anon = mmap(NULL, SWAP_ANON * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		die("mmap");
	for (int i = 0; i < SWAP_ANON; i++)
		fill(anon + i * (PG / 8), 9, i);
	if (madvise(anon, SWAP_ANON * PG, MADV_PAGEOUT))
		printf("  t14: MADV_PAGEOUT: %s\n", strerror(errno));
	/* reading the active swap file must neither get nor put */
	drop();
	if (swapoff(path))
		die("swapoff");
	for (int i = 0; i < SWAP_ANON; i++) {
		fill(want, 9, i);
		bad += !!memcmp(anon + i * (PG / 8), want, PG);
	}
	munmap(anon, SWAP_ANON * PG);
	drop();
	hits0 = stat_of("get_hit");
	for (int i = 1; i < NP; i++) {
		int ok = 0;

		if (pread(fd, got, PG, (off_t)i * PG) != PG)
			die("pread");
		fill(want, 1, i);
		ok = !memcmp(got, want, PG);
		for (int j = 0; !ok && j < SWAP_ANON; j++) {
			fill(want, 9, j);
			if (!memcmp(got, want, PG))
				ok = 1, swapped++;
		}
		bad += !ok;
	}
	printf("  t14: %d page(s) of the file hold swapped-out data\n",
	       swapped);
	if (!swapped)
		bad++;	/* nothing went to swap, or copies hid it */
	result("t14 swap file: copies dropped at swapon and swapoff", bad,
	       hits0);
out:
	close(fd);
	unlink(path);
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

	t12_dio_guard();
	t13_move_ext();
	t14_swapfile();

	puts_on(1);
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
