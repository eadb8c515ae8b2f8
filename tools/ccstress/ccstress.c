// SPDX-License-Identifier: GPL-2.0
/*
 * ccstress - concurrent page-cache coherency stress and checker.
 *
 * Runs in one directory: N files, each up to B blocks of 4 KiB, and per
 * file several threads: buffered, O_DIRECT and shared-mmap writers,
 * buffered readers that verify every block they read, a "shaper" that
 * punches holes (PUNCH_HOLE|KEEP_SIZE), truncates and extends, an evictor
 * (fdatasync, then POSIX_FADV_DONTNEED: the clean pages leave the page
 * cache, into cleancache when a backend is loaded), plus recreator threads
 * that unlink a file and create it again (a new incarnation, very likely
 * on the same inode number).
 *
 * Every block written carries (magic, file id, incarnation, block number,
 * generation, checksum); generations come from one global counter, taken
 * when an operation starts.  Mutations of one block are serialised (a
 * per-block busy flag for writes and punches; truncate and extend hold the
 * file's size lock exclusively; recreate holds the file's incarnation lock
 * exclusively), so the versions of a block form a sequence.
 *
 * Staleness rule.  Per block the checker keeps, under a per-block mutex,
 * the generation and kind (data or zeros) of the last operation whose
 * completion was published (after its syscall or store returned: "done"),
 * and the generation of the last one started ("started", published before
 * the syscall).  A read samples done (F) just before its pread and started
 * (S2) and the last zeroing op started (Z) just after it; then:
 *   - stamped data of generation g, right file/incarnation/block, good
 *     checksum: valid iff g == F (F a data write), or F < g <= S2 (a write
 *     that overlapped the read); g < F is STALE (a write, punch, truncate,
 *     extend or recreate completed before the read began and the read
 *     returned what was there before it); g > S2 is CORRUPT (never
 *     written);
 *   - zeros (a whole zero block, or a 0-byte read past EOF): valid iff F
 *     is a zeroing op (punch, truncate, extend, or recreate past its
 *     size), or a zeroing op started after F and before the read ended
 *     (Z > F); otherwise STALE if the block was zeroed earlier (Z < F,
 *     an old version), else CORRUPT (zero-block);
 *   - data of an older incarnation of the file: STALE (old-incarnation);
 *     another file, another block, a newer incarnation: CORRUPT;
 *   - bad magic or checksum, or a short read: TORN (allowed, counted) if
 *     an operation on the block overlapped the read (S2 > F), else
 *     CORRUPT.
 * Evictions do not change data and are not operations in this sense.
 *
 * Output: CCSTRESS-FAIL lines (first --max-report), then one summary line
 *   CCSTRESS reads=... verified=... stale=... corrupt=... writes=... ...
 * (first_stale_s: when the first stale read was seen, -1 if none).
 * Exit: 0 pass, 1 stale/corrupt/I/O error (with --expect-stale: 0 iff
 * stale > 0 and no I/O error), 2 usage or setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>

#define BS		4096u
#define WORDS		(BS / 8)
#define HIST		8
#define MAGIC		0x3153455254534343ull	/* "CCSTRES1" little endian */
#define SAVED		32

enum { K_DATA = 0, K_ZERO = 1 };

/* Header word indexes. */
enum { H_MAGIC, H_ID, H_BLOCK, H_GEN, H_WRITER, H_CSUM };

struct op {
	uint64_t gen;
	int64_t t0, t1;		/* ns since start; t1 = 0 while in flight */
	char kind;		/* 'D' data, 'Z' zeros */
	char how;		/* b d m: buffered/direct/mmap write; p punch;
				 * t truncate; x extend; c create */
};

struct blk {
	pthread_mutex_t mu;
	atomic_int busy;
	uint64_t started;	/* gen of the last op started */
	uint64_t zstarted;	/* gen of the last zeroing op started */
	int64_t zstarted_t0;	/* and when */
	uint64_t done;		/* gen of the last op completed */
	int done_kind;
	int64_t done_t0, done_t1;
	struct op hist[HIST];
	unsigned int nh;
};

struct cfile {
	unsigned int id;
	char path[PATH_MAX];
	pthread_rwlock_t inc_lock;	/* recreate: exclusive */
	pthread_rwlock_t size_lock;	/* truncate, extend: exclusive */
	uint32_t inc;
	int fd, dfd;
	atomic_uint size;		/* blocks */
	struct blk *b;
};

static struct {
	const char *dir;
	unsigned int files, blocks, hot;
	double duration;
	uint64_t reads;
	unsigned int readers, bufw, diow, mmapw, shapers, evictors, recreators;
	unsigned int extent, dio_extent;
	unsigned int write_delay_us, shape_delay_us, evict_delay_us;
	unsigned int recreate_ms;
	unsigned int msync_pct;
	unsigned int inject_every;
	unsigned int max_report;
	unsigned int min_size;
	unsigned int lock_blocks;
	unsigned int final_passes;
	bool expect_stale, no_readahead, evict_whole;
	uint64_t seed;
} cfg = {
	.files = 4, .blocks = 256, .duration = 10, .readers = 2, .bufw = 1,
	.diow = 1, .mmapw = 1, .shapers = 1, .evictors = 1, .recreators = 1,
	.extent = 8, .dio_extent = 16, .write_delay_us = 1000,
	.shape_delay_us = 20000, .evict_delay_us = 5000, .recreate_ms = 3000,
	.msync_pct = 25, .max_report = 10, .seed = 1,
	.lock_blocks = 1, .final_passes = 1,
};

static struct cfile *files;
static atomic_uint_fast64_t gen_ctr = 1;
static atomic_int stop;
static struct timespec t_origin;
static pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool dio_ok = true, punch_ok = true;
static atomic_llong first_stale_ns = -1;

#define COUNTERS(X) X(reads) X(verified) X(data_ok) X(zero_ok) X(eof_reads) \
	X(overlap_reads) X(newer_reads) X(torn) X(stale) X(corrupt) \
	X(injected) X(io_errors) X(buf_writes) X(dio_writes) X(mmap_writes) \
	X(msyncs) X(blocks_written) X(punches) X(truncs) X(extends) X(evicts) \
	X(recreates) X(busy_retries) X(final_reads)
#define DECL(n) atomic_uint_fast64_t n;
static struct { COUNTERS(DECL) } cnt;
#define INC(n) atomic_fetch_add_explicit(&cnt.n, 1, memory_order_relaxed)
#define ADD(n, v) atomic_fetch_add_explicit(&cnt.n, (v), memory_order_relaxed)
#define GET(n) atomic_load(&cnt.n)

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ccstress: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t_origin.tv_sec) * 1000000000ll +
		(t.tv_nsec - t_origin.tv_nsec);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *s)
{
	return splitmix(s);
}

static uint32_t rnd_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(rnd(s) % n) : 0;
}

static void usleep_stoppable(unsigned int us)
{
	while (us && !atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned int d = us > 100000 ? 100000 : us;
		struct timespec ts = { 0, (long)d * 1000 };

		nanosleep(&ts, NULL);
		us -= d;
	}
}

/* ---- block stamps ---------------------------------------------------- */

static uint64_t block_csum(const uint64_t *w)
{
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned int i;

	for (i = 0; i < WORDS; i++) {
		h ^= i == H_CSUM ? 0 : w[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

static void stamp(void *buf, unsigned int fid, uint32_t inc, uint64_t block,
		  uint64_t gen, uint64_t writer)
{
	uint64_t *w = buf;
	uint64_t s = ((uint64_t)fid << 48) ^ ((uint64_t)inc << 32) ^
		(block << 8) ^ (gen * 0x9e3779b97f4a7c15ull);
	unsigned int i;

	w[H_MAGIC] = MAGIC;
	w[H_ID] = (uint64_t)fid << 32 | inc;
	w[H_BLOCK] = block;
	w[H_GEN] = gen;
	w[H_WRITER] = writer;
	w[H_CSUM] = 0;
	for (i = H_CSUM + 1; i < WORDS; i++)
		w[i] = splitmix(&s);
	w[H_CSUM] = block_csum(w);
}

static bool all_zero(const void *buf, size_t n)
{
	const uint64_t *w = buf;
	size_t i;

	for (i = 0; i < n / 8; i++)
		if (w[i])
			return false;
	return true;
}

/* ---- per-block operation log ----------------------------------------- */

static uint64_t op_start(struct cfile *f, uint32_t b0, uint32_t n, int kind,
			 char how, int64_t *t0)
{
	uint64_t g = atomic_fetch_add(&gen_ctr, 1);
	uint32_t b;

	*t0 = now_ns();
	for (b = b0; b < b0 + n; b++) {
		struct blk *k = &f->b[b];
		struct op *o;

		pthread_mutex_lock(&k->mu);
		o = &k->hist[k->nh++ % HIST];
		o->gen = g;
		o->t0 = *t0;
		o->t1 = 0;
		o->kind = kind == K_ZERO ? 'Z' : 'D';
		o->how = how;
		k->started = g;
		if (kind == K_ZERO) {
			k->zstarted = g;
			k->zstarted_t0 = *t0;
		}
		pthread_mutex_unlock(&k->mu);
	}
	return g;
}

static void op_done(struct cfile *f, uint32_t b0, uint32_t n, int kind,
		    uint64_t g, int64_t t0)
{
	int64_t t1 = now_ns();
	uint32_t b;
	unsigned int i;

	for (b = b0; b < b0 + n; b++) {
		struct blk *k = &f->b[b];

		pthread_mutex_lock(&k->mu);
		k->done = g;
		k->done_kind = kind;
		k->done_t0 = t0;
		k->done_t1 = t1;
		for (i = 0; i < HIST; i++)
			if (k->hist[i].gen == g)
				k->hist[i].t1 = t1;
		pthread_mutex_unlock(&k->mu);
	}
}

/*
 * Mutations are serialised per group of --lock-blocks aligned blocks (1 by
 * default); group g's flag is f->b[g].busy.
 */
static bool busy_acquire(struct cfile *f, uint32_t b0, uint32_t n)
{
	uint32_t g0 = b0 / cfg.lock_blocks, g1 = (b0 + n - 1) / cfg.lock_blocks;
	uint32_t g;

	for (g = g0; g <= g1; g++) {
		int z = 0;

		if (!atomic_compare_exchange_strong(&f->b[g].busy, &z, 1)) {
			while (g-- > g0)
				atomic_store(&f->b[g].busy, 0);
			INC(busy_retries);
			return false;
		}
	}
	return true;
}

static void busy_release(struct cfile *f, uint32_t b0, uint32_t n)
{
	uint32_t g0 = b0 / cfg.lock_blocks, g1 = (b0 + n - 1) / cfg.lock_blocks;
	uint32_t g;

	for (g = g0; g <= g1; g++)
		atomic_store(&f->b[g].busy, 0);
}

/* ---- files ------------------------------------------------------------ */

static void io_error(const char *what, struct cfile *f, uint64_t off)
{
	int e = errno;

	INC(io_errors);
	pthread_mutex_lock(&print_mu);
	printf("CCSTRESS-ERROR op=%s file=%s offset=%" PRIu64 " errno=%d (%s)\n",
	       what, f->path, off, e, strerror(e));
	fflush(stdout);
	pthread_mutex_unlock(&print_mu);
}

static bool write_full(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t r = pwrite(fd, p, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		len -= r;
		off += r;
	}
	return true;
}

/*
 * (Re)create file f as incarnation inc with size blocks stamped data;
 * blocks past it are a zero op.  Caller holds inc_lock exclusively (or is
 * alone).  Returns false on an I/O error.
 */
static bool create_file(struct cfile *f, uint32_t inc, uint32_t size)
{
	enum { CHUNK = 64 };
	void *buf;
	uint32_t b, n;
	uint64_t g, gz = 0;
	int64_t t0, tz = 0;
	bool ok = true;

	if (posix_memalign(&buf, BS, (size_t)CHUNK * BS))
		die("out of memory");
	if (f->fd >= 0)
		close(f->fd);
	if (f->dfd >= 0)
		close(f->dfd);
	f->fd = f->dfd = -1;
	if (unlink(f->path) && errno != ENOENT)
		die("unlink %s: %s", f->path, strerror(errno));
	f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (f->fd < 0)
		die("create %s: %s", f->path, strerror(errno));
	if (cfg.no_readahead)
		posix_fadvise(f->fd, 0, 0, POSIX_FADV_RANDOM);
	f->inc = inc;
	g = op_start(f, 0, size, K_DATA, 'c', &t0);
	if (size < cfg.blocks)
		gz = op_start(f, size, cfg.blocks - size, K_ZERO, 'c', &tz);
	for (b = 0; b < size; b += n) {
		uint32_t i;

		n = size - b < CHUNK ? size - b : CHUNK;
		for (i = 0; i < n; i++)
			stamp((char *)buf + (size_t)i * BS, f->id, inc, b + i, g, 0);
		if (!write_full(f->fd, buf, (size_t)n * BS, (off_t)b * BS)) {
			io_error("create-write", f, (uint64_t)b * BS);
			ok = false;
			break;
		}
	}
	if (ftruncate(f->fd, (off_t)size * BS)) {
		io_error("create-ftruncate", f, 0);
		ok = false;
	}
	op_done(f, 0, size, K_DATA, g, t0);
	if (size < cfg.blocks)
		op_done(f, size, cfg.blocks - size, K_ZERO, gz, tz);
	atomic_store(&f->size, size);
	if (atomic_load(&dio_ok)) {
		f->dfd = open(f->path, O_RDWR | O_DIRECT);
		if (f->dfd < 0) {
			fprintf(stderr, "ccstress: note: O_DIRECT open of %s: %s; no O_DIRECT writes\n",
				f->path, strerror(errno));
			atomic_store(&dio_ok, false);
		}
	}
	free(buf);
	return ok;
}

/* ---- the check -------------------------------------------------------- */

struct snap {
	uint64_t fgen, s2, z2;
	int64_t z_t0;
	int fkind;
	int64_t ft0, ft1;
	struct op hist[HIST];
	unsigned int nh;
};

enum verdict { V_DATA, V_ZERO, V_EOF, V_TORN, V_STALE, V_CORRUPT };

static void report(const char *kind, const char *detail, struct cfile *f,
		   uint32_t inc, uint32_t block, const struct snap *s,
		   int64_t r0, int64_t r1, const uint64_t *w, ssize_t n)
{
	static unsigned int reported;
	unsigned int i;

	pthread_mutex_lock(&print_mu);
	if (reported++ >= cfg.max_report) {
		pthread_mutex_unlock(&print_mu);
		return;
	}
	printf("CCSTRESS-FAIL kind=%s detail=%s file=%s id=%u inc=%u block=%u "
	       "expected_gen=%" PRIu64 " expected_kind=%s started_gen=%" PRIu64,
	       kind, detail, f->path, f->id, inc, block, s->fgen,
	       s->fkind == K_ZERO ? "zero" : "data", s->s2);
	if (n == BS && w[H_MAGIC] == MAGIC)
		printf(" got_gen=%" PRIu64 " got_id=%" PRIu64 " got_inc=%" PRIu64
		       " got_block=%" PRIu64 " got_writer=%" PRIx64,
		       w[H_GEN], w[H_ID] >> 32, w[H_ID] & 0xffffffffu,
		       w[H_BLOCK], w[H_WRITER]);
	else if (n == BS && all_zero(w, BS))
		printf(" got=zeros");
	else
		printf(" got=%s bytes=%zd", n == BS ? "garbage" : "short", n);
	printf(" read_start_us=%.1f read_end_us=%.1f expected_op_start_us=%.1f"
	       " expected_op_end_us=%.1f\n", r0 / 1e3, r1 / 1e3, s->ft0 / 1e3,
	       s->ft1 / 1e3);
	printf("CCSTRESS-FAIL-HISTORY block=%u ops=", block);
	for (i = s->nh > HIST ? s->nh - HIST : 0; i < s->nh; i++) {
		const struct op *o = &s->hist[i % HIST];

		printf("%s%c%c:gen=%" PRIu64 ":%.1f-%.1fus",
		       i == (s->nh > HIST ? s->nh - HIST : 0) ? "" : ",",
		       o->how, o->kind, o->gen, o->t0 / 1e3,
		       o->t1 ? o->t1 / 1e3 : -1.0);
	}
	printf("\n");
	fflush(stdout);
	pthread_mutex_unlock(&print_mu);
}

static enum verdict check(struct cfile *f, uint32_t inc, uint32_t block,
			  const struct snap *s, const void *buf, ssize_t n,
			  int64_t r0, int64_t r1)
{
	const uint64_t *w = buf;
	bool overlap = s->s2 > s->fgen;
	/* A zeroing op that overlapped: started after F, before the read ended. */
	bool zero_ok = s->fkind == K_ZERO || (s->z2 > s->fgen && s->z_t0 <= r1);
	const char *detail;
	unsigned int i;

	if (n == 0 || (n == BS && all_zero(buf, BS))) {
		if (zero_ok)
			return n == 0 ? V_EOF : V_ZERO;
		if (s->z2 && s->z2 < s->fgen) {
			report("stale", "zeros-after-write", f, inc, block, s, r0,
			       r1, w, n);
			return V_STALE;
		}
		report("corrupt", "zero-block", f, inc, block, s, r0, r1, w, n);
		return V_CORRUPT;
	}
	if (n != BS) {
		if (overlap)
			return V_TORN;
		report("corrupt", "short-read", f, inc, block, s, r0, r1, w, n);
		return V_CORRUPT;
	}
	if (w[H_MAGIC] != MAGIC || w[H_CSUM] != block_csum(w)) {
		if (overlap)
			return V_TORN;
		detail = w[H_MAGIC] != MAGIC ? "bad-magic" : "bad-checksum";
		report("corrupt", detail, f, inc, block, s, r0, r1, w, n);
		return V_CORRUPT;
	}
	if (w[H_ID] >> 32 != f->id) {
		report("corrupt", "foreign-file", f, inc, block, s, r0, r1, w, n);
		return V_CORRUPT;
	}
	if ((w[H_ID] & 0xffffffffu) != inc) {
		if ((w[H_ID] & 0xffffffffu) < inc) {
			report("stale", "old-incarnation", f, inc, block, s, r0,
			       r1, w, n);
			return V_STALE;
		}
		report("corrupt", "future-incarnation", f, inc, block, s, r0,
		       r1, w, n);
		return V_CORRUPT;
	}
	if (w[H_BLOCK] != block) {
		report("corrupt", "misplaced", f, inc, block, s, r0, r1, w, n);
		return V_CORRUPT;
	}
	if (w[H_GEN] == s->fgen && s->fkind == K_DATA)
		return V_DATA;
	if (w[H_GEN] > s->fgen && w[H_GEN] <= s->s2) {
		/* The write must have started before the read ended. */
		for (i = 0; i < HIST; i++)
			if (s->hist[i].gen == w[H_GEN] && s->hist[i].t0 > r1) {
				report("corrupt", "from-the-future", f, inc, block,
				       s, r0, r1, w, n);
				return V_CORRUPT;
			}
		INC(newer_reads);
		return V_DATA;
	}
	if (w[H_GEN] < s->fgen) {
		report("stale", s->fkind == K_ZERO ? "data-in-hole" : "old-gen",
		       f, inc, block, s, r0, r1, w, n);
		return V_STALE;
	}
	report("corrupt", "never-written-gen", f, inc, block, s, r0, r1, w, n);
	return V_CORRUPT;
}

static void count(enum verdict v, bool overlap)
{
	INC(reads);
	if (overlap)
		INC(overlap_reads);
	switch (v) {
	case V_DATA: INC(verified); INC(data_ok); break;
	case V_ZERO: INC(verified); INC(zero_ok); break;
	case V_EOF: INC(verified); INC(eof_reads); break;
	case V_TORN: INC(torn); break;
	case V_STALE: {
		long long none = -1;

		INC(stale);
		atomic_compare_exchange_strong(&first_stale_ns, &none, now_ns());
		break;
	}
	case V_CORRUPT: INC(corrupt); break;
	}
}

/*
 * One checked read of f's block; the caller holds f->inc_lock shared.
 * @saved: the reader's table of old copies (--inject-stale), or NULL.
 */
struct saved {
	bool valid;
	unsigned int fid;
	uint32_t inc, block;
	uint64_t gen;
	uint64_t data[WORDS];
};

static enum verdict read_one(struct cfile *f, uint32_t block, void *buf,
			     struct saved *saved, uint64_t *rs)
{
	struct blk *k = &f->b[block];
	struct snap s;
	int64_t r0, r1;
	ssize_t n;
	enum verdict v;
	uint32_t inc = f->inc;

	pthread_mutex_lock(&k->mu);
	s.fgen = k->done;
	s.fkind = k->done_kind;
	s.ft0 = k->done_t0;
	s.ft1 = k->done_t1;
	pthread_mutex_unlock(&k->mu);
	r0 = now_ns();
	do {
		n = pread(f->fd, buf, BS, (off_t)block * BS);
	} while (n < 0 && errno == EINTR);
	r1 = now_ns();
	pthread_mutex_lock(&k->mu);
	s.s2 = k->started;
	s.z2 = k->zstarted;
	s.z_t0 = k->zstarted_t0;
	memcpy(s.hist, k->hist, sizeof(s.hist));
	s.nh = k->nh;
	pthread_mutex_unlock(&k->mu);
	if (n < 0) {
		io_error("pread", f, (uint64_t)block * BS);
		return V_CORRUPT;
	}
	if (saved) {
		struct saved *e = &saved[(f->id * 131u + block) % SAVED];

		if (e->valid && e->fid == f->id && e->inc == inc &&
		    e->block == block && e->gen < s.fgen &&
		    rnd_below(rs, cfg.inject_every) == 0) {
			/* Debug: pretend the kernel served an old copy. */
			memcpy(buf, e->data, BS);
			n = BS;
			e->valid = false;
			INC(injected);
		}
	}
	v = check(f, inc, block, &s, buf, n, r0, r1);
	count(v, s.s2 > s.fgen);
	if (saved && v == V_DATA) {
		struct saved *e = &saved[(f->id * 131u + block) % SAVED];
		const uint64_t *w = buf;

		if (!e->valid || e->fid != f->id || e->block != block ||
		    e->inc != inc) {
			e->valid = true;
			e->fid = f->id;
			e->inc = inc;
			e->block = block;
			e->gen = w[H_GEN];
			memcpy(e->data, buf, BS);
		}
	}
	return v;
}

/* ---- threads ----------------------------------------------------------- */

struct thr {
	pthread_t t;
	struct cfile *f;	/* NULL for recreators */
	unsigned int idx;
	char role;
	uint64_t rs;
};

static uint32_t hot_limit(uint32_t size)
{
	return cfg.hot && cfg.hot < size ? cfg.hot : size;
}

static void *reader(void *arg)
{
	struct thr *t = arg;
	struct cfile *f = t->f;
	struct saved *saved = NULL;
	void *buf;

	if (posix_memalign(&buf, BS, BS))
		die("out of memory");
	if (cfg.inject_every) {
		saved = calloc(SAVED, sizeof(*saved));
		if (!saved)
			die("out of memory");
	}
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint32_t size, block;

		pthread_rwlock_rdlock(&f->inc_lock);
		size = atomic_load(&f->size);
		/* Mostly inside the file; sometimes past EOF. */
		if (rnd_below(&t->rs, 16) == 0)
			block = rnd_below(&t->rs, hot_limit(cfg.blocks));
		else
			block = rnd_below(&t->rs, hot_limit(size ? size : 1));
		read_one(f, block, buf, saved, &t->rs);
		pthread_rwlock_unlock(&f->inc_lock);
	}
	free(saved);
	free(buf);
	return NULL;
}

static void *writer(void *arg)
{
	struct thr *t = arg;
	struct cfile *f = t->f;
	unsigned int max = t->role == 'd' ? cfg.dio_extent : cfg.extent;
	void *buf;
	uint64_t wid = (uint64_t)t->role << 56 | (uint64_t)f->id << 32 | t->idx;

	if (posix_memalign(&buf, BS, (size_t)max * BS))
		die("out of memory");
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint32_t size, lim, b0, n, i;
		uint64_t g;
		int64_t t0;
		bool ok = true;

		usleep_stoppable(cfg.write_delay_us);
		if (t->role == 'd' && !atomic_load(&dio_ok))
			break;
		pthread_rwlock_rdlock(&f->inc_lock);
		pthread_rwlock_rdlock(&f->size_lock);
		size = atomic_load(&f->size);
		lim = hot_limit(size);
		if (!lim) {
			pthread_rwlock_unlock(&f->size_lock);
			pthread_rwlock_unlock(&f->inc_lock);
			continue;
		}
		n = 1 + rnd_below(&t->rs, max < lim ? max : lim);
		b0 = rnd_below(&t->rs, lim - n + 1);
		if (!busy_acquire(f, b0, n)) {
			pthread_rwlock_unlock(&f->size_lock);
			pthread_rwlock_unlock(&f->inc_lock);
			sched_yield();
			continue;
		}
		g = op_start(f, b0, n, K_DATA, t->role, &t0);
		for (i = 0; i < n; i++)
			stamp((char *)buf + (size_t)i * BS, f->id, f->inc, b0 + i,
			      g, wid);
		switch (t->role) {
		case 'b':
			ok = write_full(f->fd, buf, (size_t)n * BS, (off_t)b0 * BS);
			if (!ok)
				io_error("pwrite", f, (uint64_t)b0 * BS);
			INC(buf_writes);
			break;
		case 'd':
			ok = write_full(f->dfd, buf, (size_t)n * BS, (off_t)b0 * BS);
			if (!ok)
				io_error("pwrite-direct", f, (uint64_t)b0 * BS);
			INC(dio_writes);
			break;
		case 'm': {
			void *m = mmap(NULL, (size_t)n * BS, PROT_READ | PROT_WRITE,
				       MAP_SHARED, f->fd, (off_t)b0 * BS);

			if (m == MAP_FAILED) {
				io_error("mmap", f, (uint64_t)b0 * BS);
				ok = false;
				break;
			}
			memcpy(m, buf, (size_t)n * BS);
			if (rnd_below(&t->rs, 100) < cfg.msync_pct) {
				if (msync(m, (size_t)n * BS, MS_SYNC))
					io_error("msync", f, (uint64_t)b0 * BS);
				INC(msyncs);
			}
			munmap(m, (size_t)n * BS);
			INC(mmap_writes);
			break;
		}
		}
		/*
		 * Even a failed write is published: what the block holds is
		 * then unknown, and a later read is judged against it (and
		 * the I/O error fails the run anyway).
		 */
		op_done(f, b0, n, K_DATA, g, t0);
		if (ok)
			ADD(blocks_written, n);
		busy_release(f, b0, n);
		pthread_rwlock_unlock(&f->size_lock);
		pthread_rwlock_unlock(&f->inc_lock);
	}
	free(buf);
	return NULL;
}

static void punch(struct thr *t, struct cfile *f)
{
	uint32_t size, lim, b0, n;
	uint64_t g;
	int64_t t0;

	pthread_rwlock_rdlock(&f->size_lock);
	size = atomic_load(&f->size);
	lim = hot_limit(size);
	if (lim) {
		n = 1 + rnd_below(&t->rs, cfg.extent < lim ? cfg.extent : lim);
		b0 = rnd_below(&t->rs, lim - n + 1);
		if (busy_acquire(f, b0, n)) {
			g = op_start(f, b0, n, K_ZERO, 'p', &t0);
			if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (off_t)b0 * BS, (off_t)n * BS)) {
				/* The block's content is unknown now: fail. */
				io_error("punch", f, (uint64_t)b0 * BS);
			} else {
				INC(punches);
			}
			op_done(f, b0, n, K_ZERO, g, t0);
			busy_release(f, b0, n);
		}
	}
	pthread_rwlock_unlock(&f->size_lock);
}

static void resize(struct thr *t, struct cfile *f, bool grow)
{
	uint32_t size, to, lo, hi;
	uint64_t g;
	int64_t t0;

	pthread_rwlock_wrlock(&f->size_lock);
	size = atomic_load(&f->size);
	if (grow) {
		if (size >= cfg.blocks)
			goto out;
		to = size + 1 + rnd_below(&t->rs, cfg.blocks - size);
		lo = size;
		hi = to;
	} else {
		if (size <= cfg.min_size)
			goto out;
		to = cfg.min_size + rnd_below(&t->rs, size - cfg.min_size);
		lo = to;
		hi = size;
	}
	g = op_start(f, lo, hi - lo, K_ZERO, grow ? 'x' : 't', &t0);
	if (ftruncate(f->fd, (off_t)to * BS))
		io_error("ftruncate", f, (uint64_t)to * BS);
	else if (grow)
		INC(extends);
	else
		INC(truncs);
	op_done(f, lo, hi - lo, K_ZERO, g, t0);
	atomic_store(&f->size, to);
out:
	pthread_rwlock_unlock(&f->size_lock);
}

static void *shaper(void *arg)
{
	struct thr *t = arg;
	struct cfile *f = t->f;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint32_t r = rnd_below(&t->rs, 10);

		usleep_stoppable(cfg.shape_delay_us);
		pthread_rwlock_rdlock(&f->inc_lock);
		if (r < 6 && atomic_load(&punch_ok))
			punch(t, f);
		else
			resize(t, f, r >= 8 || (r < 6 && rnd_below(&t->rs, 2)));
		pthread_rwlock_unlock(&f->inc_lock);
	}
	return NULL;
}

static void *evictor(void *arg)
{
	struct thr *t = arg;
	struct cfile *f = t->f;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		off_t off = 0, len = 0;
		int e;

		usleep_stoppable(cfg.evict_delay_us);
		pthread_rwlock_rdlock(&f->inc_lock);
		if (!cfg.evict_whole && rnd_below(&t->rs, 2)) {
			uint32_t lim = hot_limit(cfg.blocks);
			uint32_t n = 1 + rnd_below(&t->rs, lim);

			off = (off_t)rnd_below(&t->rs, lim - n + 1) * BS;
			len = (off_t)n * BS;
		}
		/* Only clean pages can leave: write the dirty ones first. */
		if (fdatasync(f->fd))
			io_error("fdatasync", f, 0);
		e = posix_fadvise(f->fd, off, len, POSIX_FADV_DONTNEED);
		if (e) {
			errno = e;
			io_error("fadvise-dontneed", f, (uint64_t)off);
		} else {
			INC(evicts);
		}
		pthread_rwlock_unlock(&f->inc_lock);
	}
	return NULL;
}

static void *recreator(void *arg)
{
	struct thr *t = arg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct cfile *f;
		uint32_t size;

		usleep_stoppable(cfg.recreate_ms * 1000u);
		if (atomic_load(&stop))
			break;
		f = &files[rnd_below(&t->rs, cfg.files)];
		pthread_rwlock_wrlock(&f->inc_lock);
		size = cfg.blocks - rnd_below(&t->rs, cfg.blocks / 4 + 1);
		if (size < cfg.min_size)
			size = cfg.min_size;
		create_file(f, f->inc + 1, size);
		INC(recreates);
		pthread_rwlock_unlock(&f->inc_lock);
	}
	return NULL;
}

/* ---- main ------------------------------------------------------------- */

static void usage(FILE *o)
{
	fputs(
"usage: ccstress --dir DIR [options]\n"
"  --files N          files (default 4)\n"
"  --blocks N         blocks of 4 KiB per file at most (default 256)\n"
"  --duration SEC     run time (default 10); the run stops at the first of\n"
"  --reads N            this and N verified reads\n"
"  --readers N        buffered verifying readers per file (default 2)\n"
"  --buf-writers N    buffered pwrite writers per file (default 1)\n"
"  --dio-writers N    O_DIRECT writers per file (default 1)\n"
"  --mmap-writers N   MAP_SHARED store writers per file (default 1)\n"
"  --shapers N        punch/truncate/extend threads per file (default 1)\n"
"  --evictors N       fdatasync + FADV_DONTNEED threads per file (default 1)\n"
"  --recreators N     unlink + re-create threads in all (default 1)\n"
"  --extent N         blocks per buffered/mmap write and punch, at most (8)\n"
"  --dio-extent N     blocks per O_DIRECT write, at most (16)\n"
"  --hot N            writers, punches, evictions and reads on blocks < N\n"
"  --min-size N       truncate never below N blocks (default blocks/4)\n"
"  --lock-blocks N    serialise mutations per aligned group of N blocks\n"
"                     (default 1: per block; a kernel whose page cache has\n"
"                     large folios needs the folio size, see test-host.sh)\n"
"  --write-delay-us N pause between writes of one writer (1000)\n"
"  --shape-delay-us N pause between punch/truncate/extend (20000)\n"
"  --evict-delay-us N pause between evictions (5000)\n"
"  --evict-whole      evict whole files only (default: half ranges)\n"
"  --recreate-ms N    pause between re-creations (3000)\n"
"  --msync-pct N      percent of mmap writes followed by msync (25)\n"
"  --no-readahead     POSIX_FADV_RANDOM on the files\n"
"  --final-passes N   after the run, evict the files and verify every block,\n"
"                     N times (default 1; 0 = --no-final)\n"
"  --seed S           (default 1)\n"
"  --max-report N     failures printed in detail (default 10)\n"
"  --inject-stale N   debug: 1 in N reads of a block a reader saw before at\n"
"                     an older generation returns that old copy instead\n"
"  --expect-stale     negative control: exit 0 only if stale reads were seen\n",
	      o);
}

static unsigned long long num(const char *opt, const char *s)
{
	char *e;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &e, 0);
	if (errno || e == s || *e || s[0] == '-') {
		fprintf(stderr, "ccstress: bad number for %s: '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv)
{
	int i;

	cfg.min_size = UINT_MAX;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned int *u = NULL;

#define U(name, field) else if (!strcmp(a, name)) u = &cfg.field
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--expect-stale")) {
			cfg.expect_stale = true;
			continue;
		} else if (!strcmp(a, "--no-final")) {
			cfg.final_passes = 0;
			continue;
		} else if (!strcmp(a, "--no-readahead")) {
			cfg.no_readahead = true;
			continue;
		} else if (!strcmp(a, "--evict-whole")) {
			cfg.evict_whole = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "ccstress: %s needs a value (see --help)\n", a);
			exit(2);
		}
		if (!strcmp(a, "--dir")) {
			cfg.dir = v;
		} else if (!strcmp(a, "--duration")) {
			char *e;

			cfg.duration = strtod(v, &e);
			if (e == v || *e || !(cfg.duration > 0)) {
				fprintf(stderr, "ccstress: bad --duration '%s'\n", v);
				exit(2);
			}
		} else if (!strcmp(a, "--reads")) {
			cfg.reads = num(a, v);
		} else if (!strcmp(a, "--seed")) {
			cfg.seed = num(a, v);
		}
		U("--files", files); U("--blocks", blocks); U("--hot", hot);
		U("--readers", readers); U("--buf-writers", bufw);
		U("--dio-writers", diow); U("--mmap-writers", mmapw);
		U("--shapers", shapers); U("--evictors", evictors);
		U("--recreators", recreators); U("--extent", extent);
		U("--dio-extent", dio_extent); U("--min-size", min_size);
		U("--write-delay-us", write_delay_us);
		U("--shape-delay-us", shape_delay_us);
		U("--evict-delay-us", evict_delay_us);
		U("--recreate-ms", recreate_ms); U("--msync-pct", msync_pct);
		U("--inject-stale", inject_every); U("--max-report", max_report);
		U("--lock-blocks", lock_blocks); U("--final-passes", final_passes);
		else {
			fprintf(stderr, "ccstress: unknown option '%s' (see --help)\n", a);
			exit(2);
		}
#undef U
		if (u) {
			unsigned long long x = num(a, v);

			if (x > UINT_MAX / 2) {
				fprintf(stderr, "ccstress: %s too large\n", a);
				exit(2);
			}
			*u = (unsigned int)x;
		}
		i++;
	}
	if (!cfg.dir) {
		usage(stderr);
		exit(2);
	}
	if (!cfg.files || !cfg.blocks || cfg.blocks > (1u << 24))
		die("--files and --blocks must be >= 1 (blocks <= 2^24)");
	if (!cfg.extent || !cfg.dio_extent || !cfg.lock_blocks)
		die("--extent, --dio-extent and --lock-blocks must be >= 1");
	if (!cfg.readers)
		die("--readers must be >= 1: nothing would be checked");
	if (cfg.min_size == UINT_MAX)
		cfg.min_size = cfg.blocks / 4;
	if (cfg.min_size > cfg.blocks)
		cfg.min_size = cfg.blocks;
	if (cfg.msync_pct > 100)
		die("--msync-pct is a percentage");
}

/*
 * What the file system supports: O_DIRECT writes and hole punching are
 * tried on a scratch file; without them those threads do not run (noted).
 */
static void probe_fs(void)
{
	char path[PATH_MAX + 16];
	void *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/ccs.probe", cfg.dir);
	if (posix_memalign(&buf, BS, BS))
		die("out of memory");
	memset(buf, 0x5a, BS);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		die("cannot create %s: %s", path, strerror(errno));
	if (!write_full(fd, buf, BS, 0) || !write_full(fd, buf, BS, BS))
		die("cannot write %s: %s", path, strerror(errno));
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, BS)) {
		fprintf(stderr, "ccstress: note: no hole punching in %s (%s)\n",
			cfg.dir, strerror(errno));
		atomic_store(&punch_ok, false);
	}
	close(fd);
	fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0 || !write_full(fd, buf, BS, BS)) {
		fprintf(stderr, "ccstress: note: no O_DIRECT writes in %s (%s)\n",
			cfg.dir, strerror(errno));
		atomic_store(&dio_ok, false);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(buf);
}

/*
 * Quiet final passes: every block, the files evicted first (so the reads
 * come from PUMA or the disk), then again (from what the first cached).
 */
static void final_check(void)
{
	void *buf;
	unsigned int i, pass;
	uint32_t b;

	if (posix_memalign(&buf, BS, BS))
		die("out of memory");
	for (pass = 0; pass < cfg.final_passes; pass++) {
		for (i = 0; i < cfg.files; i++) {
			struct cfile *f = &files[i];

			if (pass == 0) {
				if (fdatasync(f->fd))
					io_error("fdatasync", f, 0);
				posix_fadvise(f->fd, 0, 0, POSIX_FADV_DONTNEED);
			}
			for (b = 0; b < cfg.blocks; b++) {
				read_one(f, b, buf, NULL, NULL);
				INC(final_reads);
			}
		}
	}
	free(buf);
}

int main(int argc, char **argv)
{
	pthread_rwlockattr_t ra;
	struct thr *thr;
	unsigned int nthr = 0, i, j, per_file;
	int64_t t_end;
	double el;
	bool fail;
	uint64_t rs;
	unsigned int k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse(argc, argv);
	clock_gettime(CLOCK_MONOTONIC, &t_origin);
	rs = cfg.seed * 0x2545f4914f6cdd1dull + 7;

	pthread_rwlockattr_init(&ra);
	/* Writers (recreate, truncate) must not starve behind readers. */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	probe_fs();
	files = calloc(cfg.files, sizeof(*files));
	if (!files)
		die("out of memory");
	for (i = 0; i < cfg.files; i++) {
		struct cfile *f = &files[i];

		f->id = i + 1;
		if (snprintf(f->path, sizeof(f->path), "%s/ccs.%u", cfg.dir, f->id) >=
		    (int)sizeof(f->path))
			die("--dir too long");
		pthread_rwlock_init(&f->inc_lock, &ra);
		pthread_rwlock_init(&f->size_lock, &ra);
		f->fd = f->dfd = -1;
		f->b = calloc(cfg.blocks, sizeof(*f->b));
		if (!f->b)
			die("out of memory");
		for (j = 0; j < cfg.blocks; j++)
			pthread_mutex_init(&f->b[j].mu, NULL);
		if (!create_file(f, 1, cfg.blocks))
			die("cannot create %s", f->path);
	}

	per_file = cfg.readers + cfg.bufw + cfg.diow + cfg.mmapw + cfg.shapers +
		cfg.evictors;
	thr = calloc((size_t)per_file * cfg.files + cfg.recreators, sizeof(*thr));
	if (!thr)
		die("out of memory");
	for (i = 0; i < cfg.files; i++) {
		static const struct { char role; size_t off; } roles[] = {
			{ 'r', offsetof(typeof(cfg), readers) },
			{ 'b', offsetof(typeof(cfg), bufw) },
			{ 'd', offsetof(typeof(cfg), diow) },
			{ 'm', offsetof(typeof(cfg), mmapw) },
			{ 's', offsetof(typeof(cfg), shapers) },
			{ 'e', offsetof(typeof(cfg), evictors) },
		};

		for (k = 0; k < sizeof(roles) / sizeof(roles[0]); k++) {
			unsigned int n = *(unsigned int *)((char *)&cfg + roles[k].off);

			for (j = 0; j < n; j++) {
				struct thr *t = &thr[nthr];

				t->f = &files[i];
				t->idx = nthr++;
				t->role = roles[k].role;
				t->rs = splitmix(&rs);
			}
		}
	}
	for (j = 0; j < cfg.recreators; j++) {
		struct thr *t = &thr[nthr];

		t->idx = nthr++;
		t->role = 'c';
		t->rs = splitmix(&rs);
	}
	for (i = 0; i < nthr; i++) {
		void *(*fn)(void *);

		switch (thr[i].role) {
		case 'r': fn = reader; break;
		case 's': fn = shaper; break;
		case 'e': fn = evictor; break;
		case 'c': fn = recreator; break;
		default: fn = writer; break;
		}
		if (pthread_create(&thr[i].t, NULL, fn, &thr[i]))
			die("pthread_create: %s", strerror(errno));
	}
	t_end = now_ns() + (int64_t)(cfg.duration * 1e9);
	while (now_ns() < t_end && !(cfg.reads && GET(verified) >= cfg.reads))
		usleep(20000);
	atomic_store(&stop, 1);
	for (i = 0; i < nthr; i++)
		pthread_join(thr[i].t, NULL);
	el = now_ns() / 1e9;
	if (cfg.final_passes)
		final_check();

	if (cfg.expect_stale)
		fail = !GET(stale) || GET(io_errors);
	else
		fail = GET(stale) || GET(corrupt) || GET(io_errors) || !GET(verified);
	printf("CCSTRESS reads=%" PRIuFAST64 " verified=%" PRIuFAST64
	       " stale=%" PRIuFAST64 " corrupt=%" PRIuFAST64 " torn=%" PRIuFAST64
	       " io_errors=%" PRIuFAST64 " injected=%" PRIuFAST64
	       " data_ok=%" PRIuFAST64 " zero_ok=%" PRIuFAST64 " eof_reads=%" PRIuFAST64
	       " overlap_reads=%" PRIuFAST64 " newer_reads=%" PRIuFAST64
	       " final_reads=%" PRIuFAST64
	       " writes=%" PRIuFAST64 " buf_writes=%" PRIuFAST64
	       " dio_writes=%" PRIuFAST64 " mmap_writes=%" PRIuFAST64
	       " msyncs=%" PRIuFAST64 " blocks_written=%" PRIuFAST64
	       " punches=%" PRIuFAST64 " truncs=%" PRIuFAST64 " extends=%" PRIuFAST64
	       " evicts=%" PRIuFAST64 " recreates=%" PRIuFAST64
	       " busy_retries=%" PRIuFAST64 " files=%u blocks=%u threads=%u"
	       " dio=%d punch=%d elapsed_s=%.2f reads_per_s=%.0f"
	       " first_stale_s=%.2f expect_stale=%d"
	       " verdict=%s\n",
	       GET(reads), GET(verified), GET(stale), GET(corrupt), GET(torn),
	       GET(io_errors), GET(injected), GET(data_ok), GET(zero_ok),
	       GET(eof_reads), GET(overlap_reads), GET(newer_reads),
	       GET(final_reads),
	       GET(buf_writes) + GET(dio_writes) + GET(mmap_writes),
	       GET(buf_writes), GET(dio_writes), GET(mmap_writes), GET(msyncs),
	       GET(blocks_written), GET(punches), GET(truncs), GET(extends),
	       GET(evicts), GET(recreates), GET(busy_retries), cfg.files,
	       cfg.blocks, nthr, (int)atomic_load(&dio_ok),
	       (int)atomic_load(&punch_ok), el, el > 0 ? GET(reads) / el : 0,
	       atomic_load(&first_stale_ns) < 0 ? -1.0 :
	       atomic_load(&first_stale_ns) / 1e9,
	       cfg.expect_stale, fail ? "fail" : "pass");
	return fail ? 1 : 0;
}
