// SPDX-License-Identifier: GPL-2.0
/*
 * blockcheck - stamped-block workload and verification tool.
 *
 * Every 4 KiB block of a test file carries an identity that does not depend
 * on the inode: a user-chosen file id, the block's offset (block number),
 * a generation, and a 64-bit checksum over the whole block.  The rest of the
 * block is a pseudo-random fill derived from (id, block, generation).  A
 * block read back is compared byte for byte with the block regenerated from
 * what the file must hold now, so a stale, misplaced, foreign or corrupted
 * block is always detected, and diagnosed from its header when possible.
 *
 * What the file must hold now (id, size, and per block the generation and
 * the length of its stamped prefix; generation 0 means "must read as
 * zeros") is kept in a state file OUTSIDE the file system under test
 * (tmpfs), and every mutating subcommand updates it after the mutation is
 * durable (fsync).  Verification after remounts, drop_caches, unlink and
 * re-create (same inode number, new id) etc. therefore knows the truth.
 *
 * "read --random" doubles as the random-read benchmark of the paper's
 * evaluation (IOPS per second over a file larger than the cache): a fixed
 * seed gives the same block sequence on every run, every block read is
 * still verified, each pread is timed, and --count and/or --seconds bound
 * the run.  --csv writes one row per second,
 *
 *   t_s,iops,p50_us,p99_us,max_us,failures,reads
 *
 * (the second the reads started in, reads per second over it, latency
 * percentiles and max in microseconds, failed reads, read count), and the
 * summary line adds p50_us, p99_us, max_us and iops over the whole run.
 * Percentiles come from a log-linear histogram (see "Latency statistics"),
 * within 0.4 % of the exact nearest-rank value.
 *
 * Built static (tools/blockcheck/Makefile) so that it runs in the
 * busybox initramfs of the QEMU rig (scripts/vm/).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define BS		4096u
#define BLK_MAGIC	0x314b4c42414d5550ULL	/* "PUMABLK1" little endian */
#define ST_MAGIC	0x3145544154534342ULL	/* "BCSTATE1" little endian */
#define HDR_SIZE	48u
#define MAX_RUN		256u			/* blocks per write in create */

/* On-disk block header (first HDR_SIZE bytes of every stamped block). */
struct blk_hdr {
	uint64_t magic;
	uint64_t id;
	uint64_t block;
	uint64_t gen;
	uint64_t bsize;
	uint64_t csum;		/* over the whole block with this field 0 */
};

/* Per-block expectation in the state file. */
struct st_blk {
	uint64_t gen;		/* 0: must be zeros */
	uint32_t len;		/* stamped prefix length; the rest is zeros */
	uint32_t pad;
};

struct st_hdr {
	uint64_t magic;
	uint64_t version;
	uint64_t id;
	uint64_t size;		/* file size in bytes */
	uint64_t nblocks;	/* entries that follow */
};

struct state {
	uint64_t id;
	uint64_t size;
	uint64_t nblocks;
	struct st_blk *b;
};

/* Options shared by all subcommands. */
static const char *prog = "blockcheck";
static const char *opt_state;
static int opt_max_report = 10;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

static void *xalign(size_t n)
{
	void *p;

	if (posix_memalign(&p, BS, n))
		die("out of memory (%zu aligned bytes)", n);
	memset(p, 0, n);
	return p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- */
/* Block content                                                     */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* 64-bit hash over a 4 KiB block, with the checksum word taken as 0. */
static uint64_t block_csum(const unsigned char *blk)
{
	const uint64_t p1 = 0x9e3779b185ebca87ULL, p2 = 0xc2b2ae3d27d4eb4fULL;
	uint64_t h = 0x27d4eb2f165667c5ULL ^ BS;
	size_t i;

	for (i = 0; i < BS / 8; i++) {
		uint64_t w;

		if (i == offsetof(struct blk_hdr, csum) / 8)
			w = 0;
		else
			memcpy(&w, blk + i * 8, 8);
		h ^= rotl64(w * p2, 31) * p1;
		h = rotl64(h, 27) * p1 + 0x85ebca77c2b2ae63ULL;
	}
	h ^= h >> 33;
	h *= p2;
	h ^= h >> 29;
	return h;
}

/* Fill @blk with the stamped content of (id, block, gen); gen must be > 0. */
static void make_block(unsigned char *blk, uint64_t id, uint64_t block,
		       uint64_t gen)
{
	struct blk_hdr h = {
		.magic = BLK_MAGIC, .id = id, .block = block, .gen = gen,
		.bsize = BS, .csum = 0,
	};
	uint64_t seed = id * 0x9e3779b97f4a7c15ULL ^ rotl64(block, 21) ^
			rotl64(gen, 42) ^ 0x5bd1e9955bd1e995ULL;
	size_t i;

	memcpy(blk, &h, sizeof(h));
	for (i = HDR_SIZE; i < BS; i += 8) {
		uint64_t w = splitmix64(&seed);

		memcpy(blk + i, &w, 8);
	}
	h.csum = block_csum(blk);
	memcpy(blk + offsetof(struct blk_hdr, csum), &h.csum, 8);
}

static bool all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

struct vstats {
	uint64_t checked;
	uint64_t failures;
	int reported;
};

static void report_fail(struct vstats *vs, const char *file, uint64_t blk,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void report_fail(struct vstats *vs, const char *file, uint64_t blk,
			const char *fmt, ...)
{
	va_list ap;

	vs->failures++;
	if (vs->reported >= opt_max_report)
		return;
	vs->reported++;
	printf("BLOCKCHECK-FAIL file=%s block=%" PRIu64 " ", file, blk);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * Check @got (@n bytes read at block @blk) against the state.  Returns
 * true if the block is as expected.  @scratch is a BS buffer.
 */
static bool check_block(struct vstats *vs, const char *file,
			const struct state *st, uint64_t blk,
			const unsigned char *got, size_t n,
			unsigned char *scratch)
{
	const struct st_blk *e = &st->b[blk];
	uint64_t off = blk * BS;
	size_t want_n = st->size - off < BS ? (size_t)(st->size - off) : BS;
	size_t len = e->gen ? (e->len < want_n ? e->len : want_n) : 0;
	struct blk_hdr h = { 0 };
	size_t i;

	vs->checked++;
	if (n != want_n) {
		report_fail(vs, file, blk, "expected_gen=%" PRIu64
			    " detail=short-read got=%zu want=%zu",
			    e->gen, n, want_n);
		return false;
	}
	if (len) {
		make_block(scratch, st->id, blk, e->gen);
		if (memcmp(scratch, got, len) == 0 &&
		    all_zero(got + len, n - len))
			return true;
	} else if (all_zero(got, n)) {
		return true;
	}

	/* Diagnose. */
	if (all_zero(got, n)) {
		report_fail(vs, file, blk, "expected_gen=%" PRIu64
			    " detail=zero-block (expected stamped data)", e->gen);
		return false;
	}
	memcpy(&h, got, n >= sizeof(h) ? sizeof(h) : 0);
	if (n == BS && h.magic == BLK_MAGIC && h.bsize == BS &&
	    h.csum == block_csum(got)) {
		const char *what = "unexpected-stamp";

		if (!e->gen)
			what = "data-in-hole (expected zeros)";
		else if (h.id != st->id)
			what = "foreign-id";
		else if (h.block != blk)
			what = "misplaced";
		else if (h.gen != e->gen)
			what = h.gen < e->gen ? "stale-gen" : "newer-gen";
		else if (len < n)
			what = "tail-not-zero (stamped past the valid prefix)";
		report_fail(vs, file, blk, "expected_gen=%" PRIu64
			    " expected_id=%" PRIu64 " detail=%s got_id=%" PRIu64
			    " got_block=%" PRIu64 " got_gen=%" PRIu64,
			    e->gen, st->id, what, h.id, h.block, h.gen);
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char want = i < len ? scratch[i] : 0;

		if (got[i] != want)
			break;
	}
	report_fail(vs, file, blk, "expected_gen=%" PRIu64 " detail=corrupt"
		    " first_bad_byte=%zu got=0x%02x want=0x%02x%s", e->gen,
		    i, i < n ? got[i] : 0,
		    i < n ? (i < len ? scratch[i] : 0) : 0,
		    n >= 8 && h.magic == BLK_MAGIC ? " (header magic ok, checksum bad)" : "");
	return false;
}

/* ---------------------------------------------------------------- */
/* State file                                                        */

static char state_buf[PATH_MAX];

static const char *state_path(const char *file)
{
	const char *dir;
	char abs[PATH_MAX];
	size_t i, j;

	if (opt_state)
		return opt_state;
	dir = getenv("BLOCKCHECK_STATE_DIR");
	if (!dir || !*dir)
		dir = "/run/blockcheck";
	if (file[0] == '/') {
		snprintf(abs, sizeof(abs), "%s", file);
	} else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			die("getcwd: %s", strerror(errno));
		if ((size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, file) >= sizeof(abs))
			die("path too long");
	}
	mkdir(dir, 0700);
	j = (size_t)snprintf(state_buf, sizeof(state_buf), "%s/", dir);
	for (i = 0; abs[i] && j < sizeof(state_buf) - 8; i++)
		state_buf[j++] = abs[i] == '/' ? '_' : abs[i];
	snprintf(state_buf + j, sizeof(state_buf) - j, ".state");
	return state_buf;
}

static void state_resize(struct state *st, uint64_t nblocks)
{
	uint64_t i;

	st->b = realloc(st->b, (nblocks ? nblocks : 1) * sizeof(*st->b));
	if (!st->b)
		die("out of memory for %" PRIu64 " state entries", nblocks);
	for (i = st->nblocks; i < nblocks; i++)
		st->b[i] = (struct st_blk){ 0, 0, 0 };
	st->nblocks = nblocks;
}

static void state_load(const char *file, struct state *st)
{
	const char *p = state_path(file);
	struct st_hdr h;
	FILE *f = fopen(p, "rb");

	if (!f)
		die("no state for %s (%s: %s); run 'create' first", file, p,
		    strerror(errno));
	if (fread(&h, sizeof(h), 1, f) != 1 || h.magic != ST_MAGIC ||
	    h.version != 1 || h.nblocks != (h.size + BS - 1) / BS)
		die("%s: not a blockcheck state file", p);
	memset(st, 0, sizeof(*st));
	state_resize(st, h.nblocks);
	st->id = h.id;
	st->size = h.size;
	if (h.nblocks && fread(st->b, sizeof(*st->b), h.nblocks, f) != h.nblocks)
		die("%s: truncated state file", p);
	fclose(f);
}

static void state_save(const char *file, const struct state *st)
{
	const char *p = state_path(file);
	char tmp[PATH_MAX + 8];
	struct st_hdr h = {
		.magic = ST_MAGIC, .version = 1, .id = st->id,
		.size = st->size, .nblocks = st->nblocks,
	};
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	f = fopen(tmp, "wb");
	if (!f)
		die("%s: %s", tmp, strerror(errno));
	if (fwrite(&h, sizeof(h), 1, f) != 1 ||
	    (st->nblocks &&
	     fwrite(st->b, sizeof(*st->b), st->nblocks, f) != st->nblocks) ||
	    fflush(f) || fsync(fileno(f)))
		die("%s: write failed: %s", tmp, strerror(errno));
	fclose(f);
	if (rename(tmp, p))
		die("rename %s: %s", p, strerror(errno));
}

/* Bring the state to a new file size: blocks beyond it vanish, a new
 * partial tail keeps only its prefix, and blocks added read as zeros. */
static void state_set_size(struct state *st, uint64_t size)
{
	uint64_t nb = (size + BS - 1) / BS;

	if (size < st->size && size % BS) {
		struct st_blk *e = &st->b[size / BS];

		if (e->gen && e->len > size % BS)
			e->len = (uint32_t)(size % BS);
		if (e->gen && !e->len)
			e->gen = 0;
	}
	state_resize(st, nb);
	st->size = size;
}

/* ---------------------------------------------------------------- */
/* I/O helpers                                                       */

static void pwrite_all(int fd, const void *buf, size_t n, uint64_t off,
		       const char *file)
{
	const char *p = buf;

	while (n) {
		ssize_t r = pwrite(fd, p, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("%s: write at %" PRIu64 ": %s", file, off,
			    r < 0 ? strerror(errno) : "short write");
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
}

/* Read up to @n bytes; returns bytes read (short only at EOF). */
static size_t pread_full(int fd, void *buf, size_t n, uint64_t off,
			 const char *file)
{
	char *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, p + done, n - done, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("%s: read at %" PRIu64 ": %s", file, off + done,
			    strerror(errno));
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return done;
}

static int open_file(const char *file, int flags, bool direct)
{
	int fd = open(file, flags | (direct ? O_DIRECT : 0), 0644);

	if (fd < 0)
		die("%s: open%s: %s", file, direct ? " (O_DIRECT)" : "",
		    strerror(errno));
	return fd;
}

static void xfsync(int fd, const char *file)
{
	if (fsync(fd))
		die("%s: fsync: %s", file, strerror(errno));
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		die("bad %s '%s'", what, s);
	return v;
}

/* ---------------------------------------------------------------- */
/* Block lists: "3", "1,5,9", "10:20" (half-open), mixed "1,4,10:20"  */

struct blist {
	uint64_t *v;
	size_t n, cap;
};

static void blist_add(struct blist *l, uint64_t b)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			die("out of memory");
	}
	l->v[l->n++] = b;
}

static void parse_range(const char *s, uint64_t *a, uint64_t *b)
{
	char tmp[64];
	char *colon;

	if (strlen(s) >= sizeof(tmp))
		die("bad range '%s'", s);
	strcpy(tmp, s);
	colon = strchr(tmp, ':');
	if (!colon)
		die("bad range '%s' (want A:B, blocks A..B-1)", s);
	*colon = 0;
	*a = parse_u64(tmp, "range start");
	*b = parse_u64(colon + 1, "range end");
	if (*b <= *a)
		die("empty range '%s' (A:B means blocks A..B-1)", s);
}

static void parse_blist(const char *spec, struct blist *l)
{
	char *dup = strdup(spec), *tok, *save = NULL;

	if (!dup)
		die("out of memory");
	for (tok = strtok_r(dup, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strchr(tok, ':')) {
			uint64_t a, b;

			parse_range(tok, &a, &b);
			for (; a < b; a++)
				blist_add(l, a);
		} else {
			blist_add(l, parse_u64(tok, "block"));
		}
	}
	free(dup);
	if (!l->n)
		die("empty block list '%s'", spec);
}

/* ---------------------------------------------------------------- */
/* Latency statistics                                                */

/*
 * Read latencies go into a log-linear histogram rather than an array, so
 * that a duration-limited run (--seconds) uses constant memory whatever its
 * length and IOPS: a 10-minute run at 100k IOPS would otherwise need
 * ~1 GB for the samples alone, more than the rig's VMs have.
 *
 * Values (ns) below H_LIN are counted exactly.  Above, each power of two
 * [2^e, 2^(e+1)) is split into H_SUB equal buckets of width 2^(e-7), and a
 * percentile is reported as its bucket's midpoint: the error is at most
 * half a bucket, 2^(e-8) / 2^e = 1/256 (0.4 %) of the value.  Max and min
 * are tracked exactly.  7424 buckets of 8 bytes: 58 KiB per histogram.
 */
#define H_SUB_BITS	7
#define H_SUB		(1u << H_SUB_BITS)		/* 128 */
#define H_LIN		(2 * H_SUB)			/* 256: exact below */
#define H_NB		(H_LIN + (63 - H_SUB_BITS) * H_SUB)

struct hist {
	uint64_t n, min, max;
	uint64_t c[H_NB];
};

static void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static unsigned int hist_idx(uint64_t v)
{
	unsigned int e;

	if (v < H_LIN)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);	/* >= H_SUB_BITS + 1 */
	return H_LIN + (e - H_SUB_BITS - 1) * H_SUB +
	       (unsigned int)((v >> (e - H_SUB_BITS)) - H_SUB);
}

/* Midpoint of bucket @i: within 1/256 of any value that falls in it. */
static uint64_t hist_mid(unsigned int i)
{
	unsigned int shift;
	uint64_t lo;

	if (i < H_LIN)
		return i;
	shift = (i - H_LIN) / H_SUB + 1;
	lo = (uint64_t)(H_SUB + (i - H_LIN) % H_SUB) << shift;
	return lo + ((1ULL << shift) - 1) / 2;
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->c[hist_idx(v)]++;
	h->n++;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/*
 * Percentile @p (nearest rank: the smallest value with at least p % of the
 * samples at or below it), clamped to [min, max] so that the reported
 * p50 <= p99 <= max always holds.  0 for an empty histogram.
 */
static uint64_t hist_pct(const struct hist *h, double p)
{
	uint64_t k, seen = 0, v;
	unsigned int i;

	if (!h->n)
		return 0;
	k = (uint64_t)(p / 100.0 * (double)h->n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > h->n)
		k = h->n;
	for (i = 0; i < H_NB; i++) {
		seen += h->c[i];
		if (seen >= k)
			break;
	}
	v = hist_mid(i < H_NB ? i : H_NB - 1);
	return v < h->min ? h->min : v > h->max ? h->max : v;
}

/*
 * Per-second series for --csv, written as each second closes so that a
 * long run keeps constant memory and an interrupted run keeps its rows.
 * A read belongs to the second in which it started.  A second in which no
 * read started (a stall) gets a row of zeros, so plots show the gap.
 */
struct series {
	FILE *f;
	const char *path;
	uint64_t sec;		/* second being filled, since run start */
	uint64_t fails;		/* failed reads started in it */
	struct hist h;
};

#define CSV_HEADER "t_s,iops,p50_us,p99_us,max_us,failures,reads"

static void series_open(struct series *s, const char *path)
{
	s->path = path;
	s->sec = 0;
	s->fails = 0;
	hist_reset(&s->h);
	s->f = fopen(path, "w");
	if (!s->f)
		die("%s: %s", path, strerror(errno));
	fprintf(s->f, CSV_HEADER "\n");
}

/* Write the row of the current second, which lasted @len_ns, and reset. */
static void series_row(struct series *s, uint64_t len_ns)
{
	const struct hist *h = &s->h;

	fprintf(s->f, "%" PRIu64 ",%.1f,%.3f,%.3f,%.3f,%" PRIu64 ",%" PRIu64 "\n",
		s->sec, len_ns ? h->n / (len_ns / 1e9) : 0.0,
		hist_pct(h, 50) / 1e3, hist_pct(h, 99) / 1e3,
		h->n ? h->max / 1e3 : 0.0, s->fails, h->n);
	fflush(s->f);
	s->sec++;
	s->fails = 0;
	hist_reset(&s->h);
}

/* A read that started @t_ns after the run start took @lat_ns. */
static void series_add(struct series *s, uint64_t t_ns, uint64_t lat_ns,
		       bool failed)
{
	while (t_ns >= (s->sec + 1) * 1000000000ULL)
		series_row(s, 1000000000ULL);
	hist_add(&s->h, lat_ns);
	s->fails += failed;
}

/* Close the series; the run lasted @elapsed_ns in all. */
static void series_close(struct series *s, uint64_t elapsed_ns)
{
	/* The last, partial second: its IOPS is a rate over what it lasted. */
	if (s->h.n)
		series_row(s, elapsed_ns - s->sec * 1000000000ULL);
	if (fclose(s->f))
		die("%s: %s", s->path, strerror(errno));
	s->f = NULL;
}

/* ---------------------------------------------------------------- */
/* Subcommands                                                       */

static void usage(FILE *f)
{
	fprintf(f,
"usage: blockcheck [GLOBAL] COMMAND FILE [OPTIONS]\n"
"\n"
"Stamped-block workload: every 4 KiB block holds a header (magic, file id,\n"
"block number, generation, 64-bit checksum) and a fill derived from\n"
"(id, block, generation).  Reads are compared byte for byte with what the\n"
"file must hold now, as recorded in a state file kept outside the file\n"
"system under test.  Generation 0 means the block must read as zeros.\n"
"\n"
"Commands:\n"
"  create FILE --blocks N --id ID [--gen G] [--direct]\n"
"        (re)create FILE with N stamped blocks of generation G (default 1),\n"
"        fsync, and reset the state (new id, all blocks at G).\n"
"  read FILE [--seq | --random [--seed S] | --blocks LIST] [--count C]\n"
"       [--seconds SEC] [--direct] [--csv OUT] [--lat-log OUT]\n"
"        read blocks one 4 KiB pread at a time and verify every one.\n"
"        --seq (default) reads blocks 0..N-1 (C of them if --count);\n"
"        --random reads uniformly random blocks drawn from seed S\n"
"        (default 1: the same seed gives the same block sequence);\n"
"        --blocks reads the blocks of LIST (see overwrite) in its order.\n"
"        The run stops after C reads or SEC seconds, whichever comes\n"
"        first; --random with neither reads N blocks, with --seconds only\n"
"        it runs for SEC seconds (--duration is the same option).\n"
"        Each pread is timed (CLOCK_MONOTONIC; verification excluded).\n"
"        Summary adds p50_us, p99_us, max_us, iops, seed (random),\n"
"        failed_reads.  Percentiles are nearest-rank, from a log-linear\n"
"        histogram (128 buckets per power of two, values <256 ns exact):\n"
"        within 0.4 %%; max is exact.\n"
"        --csv writes one row per second of the run:\n"
"          t_s,iops,p50_us,p99_us,max_us,failures,reads\n"
"        t_s: the second (0, 1, ...) in which the reads started; iops:\n"
"        reads per second over it (the last, partial second over what\n"
"        it lasted); failures: failed reads in it; reads: their count\n"
"        (the reads column adds up to blocks=).  A second in which no\n"
"        read started is a row of zeros.\n"
"        --lat-log writes every read: t_ns,block,lat_ns,ok (ok 1 or 0).\n"
"  verify FILE [--direct]\n"
"        check the file size, then read and verify every block in order.\n"
"  overwrite FILE (--blocks LIST | --random --count K [--seed S]) --gen G\n"
"            [--mode buffered|direct|mmap]\n"
"        rewrite blocks with generation G (mode default buffered), make it\n"
"        durable (fsync; msync for mmap), update the state.  LIST is\n"
"        comma-separated blocks and half-open ranges A:B (blocks A..B-1),\n"
"        e.g. 0,7,100:200.  --random picks K distinct random blocks\n"
"        (seed S, default 1).\n"
"  truncate FILE (--blocks N | --bytes N)\n"
"        ftruncate to N blocks (or bytes; a partial last block keeps only\n"
"        its prefix).  Growing leaves a hole: new blocks must read as zeros.\n"
"  evict FILE\n"
"        fsync, then drop the file's clean pages from the page cache\n"
"        (posix_fadvise DONTNEED), as reclaim would.\n"
"  extend FILE --blocks N [--gen G]\n"
"        grow the file to N blocks: a hole (ftruncate), or with --gen,\n"
"        new stamped blocks of generation G written at the end.\n"
"  punch FILE --range A:B\n"
"        fallocate(PUNCH_HOLE|KEEP_SIZE) over blocks A..B-1; they must\n"
"        read as zeros afterwards.\n"
"  state FILE\n"
"        print what the state file says FILE holds.\n"
"\n"
"Global options (before or after the command):\n"
"  --state PATH       state file (default $BLOCKCHECK_STATE_DIR, or\n"
"                     /run/blockcheck, + the file's absolute path with\n"
"                     '/' turned into '_' + .state)\n"
"  --max-report N     print at most N failure lines (default 10)\n"
"  -h, --help         this text\n"
"\n"
"Output: one line per failure,\n"
"  BLOCKCHECK-FAIL file=F block=B expected_gen=G detail=...\n"
"(detail: zero-block, data-in-hole, stale-gen, newer-gen, misplaced,\n"
"foreign-id, corrupt first_bad_byte=..., short-read), then a summary,\n"
"  BLOCKCHECK <command> file=F blocks=N failures=K ... elapsed_s=T\n"
"Exit status: 0 all good, 1 verification failures, 2 usage or I/O error.\n");
}

enum { O_BLOCKS = 256, O_BYTES, O_ID, O_GEN, O_DIRECT_, O_RANDOM, O_SEQ,
       O_SEED, O_COUNT, O_DURATION, O_CSV, O_MODE, O_RANGE, O_STATE,
       O_MAXREP, O_SECONDS, O_LATLOG };

static const struct option long_opts[] = {
	{ "blocks", required_argument, NULL, O_BLOCKS },
	{ "bytes", required_argument, NULL, O_BYTES },
	{ "id", required_argument, NULL, O_ID },
	{ "gen", required_argument, NULL, O_GEN },
	{ "direct", no_argument, NULL, O_DIRECT_ },
	{ "random", no_argument, NULL, O_RANDOM },
	{ "seq", no_argument, NULL, O_SEQ },
	{ "seed", required_argument, NULL, O_SEED },
	{ "count", required_argument, NULL, O_COUNT },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "seconds", required_argument, NULL, O_SECONDS },
	{ "lat-log", required_argument, NULL, O_LATLOG },
	{ "csv", required_argument, NULL, O_CSV },
	{ "mode", required_argument, NULL, O_MODE },
	{ "range", required_argument, NULL, O_RANGE },
	{ "state", required_argument, NULL, O_STATE },
	{ "max-report", required_argument, NULL, O_MAXREP },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct args {
	const char *cmd, *file;
	const char *blocks_s;	/* --blocks as given (number or list) */
	bool has_bytes, has_id, has_gen, direct, random, seq, has_count;
	uint64_t bytes, id, gen, seed, count;
	double duration;
	const char *csv, *mode, *range, *lat_log;
};

static void parse_args(int argc, char **argv, struct args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->seed = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case O_BLOCKS: a->blocks_s = optarg; break;
		case O_BYTES: a->has_bytes = true;
			a->bytes = parse_u64(optarg, "--bytes"); break;
		case O_ID: a->has_id = true; a->id = parse_u64(optarg, "--id"); break;
		case O_GEN: a->has_gen = true;
			a->gen = parse_u64(optarg, "--gen"); break;
		case O_DIRECT_: a->direct = true; break;
		case O_RANDOM: a->random = true; break;
		case O_SEQ: a->seq = true; break;
		case O_SEED: a->seed = parse_u64(optarg, "--seed"); break;
		case O_COUNT: a->has_count = true;
			a->count = parse_u64(optarg, "--count"); break;
		case O_DURATION:
		case O_SECONDS: {
			char *end;

			errno = 0;
			a->duration = strtod(optarg, &end);
			/* Also refuses nan, inf and what overflows the ns clock. */
			if (errno || end == optarg || *end ||
			    !(a->duration > 0 && a->duration < 1e9))
				die("bad %s '%s' (want seconds, > 0)",
				    c == O_SECONDS ? "--seconds" : "--duration",
				    optarg);
			break;
		}
		case O_CSV: a->csv = optarg; break;
		case O_LATLOG: a->lat_log = optarg; break;
		case O_MODE: a->mode = optarg; break;
		case O_RANGE: a->range = optarg; break;
		case O_STATE: opt_state = optarg; break;
		case O_MAXREP: opt_max_report = (int)parse_u64(optarg, "--max-report"); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		a->cmd = argv[optind++];
	if (optind < argc)
		a->file = argv[optind++];
	if (optind < argc)
		die("unexpected argument '%s'", argv[optind]);
	if (!a->cmd) {
		usage(stderr);
		exit(2);
	}
	if (!a->file)
		die("%s: missing FILE", a->cmd);
}

static uint64_t need_blocks_n(const struct args *a)
{
	if (!a->blocks_s)
		die("%s: --blocks N is required", a->cmd);
	return parse_u64(a->blocks_s, "--blocks");
}

/* Write stamped blocks [from, to) of generation gen, in runs. */
static void write_stamped(int fd, const char *file, uint64_t id,
			  uint64_t from, uint64_t to, uint64_t gen)
{
	unsigned char *buf = xalign((size_t)MAX_RUN * BS);

	while (from < to) {
		uint64_t n = to - from < MAX_RUN ? to - from : MAX_RUN, i;

		for (i = 0; i < n; i++)
			make_block(buf + i * BS, id, from + i, gen);
		pwrite_all(fd, buf, (size_t)(n * BS), from * BS, file);
		from += n;
	}
	free(buf);
}

static int cmd_create(const struct args *a)
{
	uint64_t n = need_blocks_n(a), gen = a->has_gen ? a->gen : 1, i;
	uint64_t t0 = now_ns(), t;
	struct state st = { 0 };
	int fd;

	if (!a->has_id)
		die("create: --id ID is required");
	if (!gen)
		die("create: generation must be >= 1 (0 means zeros)");
	fd = open_file(a->file, O_RDWR | O_CREAT | O_TRUNC, a->direct);
	write_stamped(fd, a->file, a->id, 0, n, gen);
	xfsync(fd, a->file);
	close(fd);
	st.id = a->id;
	state_resize(&st, n);
	st.size = n * BS;
	for (i = 0; i < n; i++)
		st.b[i] = (struct st_blk){ gen, BS, 0 };
	state_save(a->file, &st);
	t = now_ns() - t0;
	printf("BLOCKCHECK create file=%s blocks=%" PRIu64 " id=%" PRIu64
	       " gen=%" PRIu64 " failures=0 elapsed_s=%.3f mbps=%.1f\n",
	       a->file, n, a->id, gen, t / 1e9,
	       t ? (double)n * BS / (1 << 20) / (t / 1e9) : 0.0);
	free(st.b);
	return 0;
}

/*
 * read and verify.  Every block read is verified, in every mode; the read
 * itself (pread_full, one 4 KiB block) is timed with CLOCK_MONOTONIC, the
 * verification is not.  The run stops after --count reads, or after
 * --seconds, whichever comes first; a random run with --seconds and no
 * --count is limited by time only.
 */
static int do_read(const struct args *a, bool verify_all)
{
	struct state st;
	struct vstats vs = { 0 };
	struct hist *all = xmalloc(sizeof(*all));
	struct series ser = { 0 };
	struct blist list = { 0 };
	unsigned char *buf = xalign(BS), *scratch = xalign(BS);
	uint64_t rng, count, i, t0, dur_ns, elapsed, nfail_reads = 0;
	bool random = a->random && !verify_all;
	const char *name = verify_all ? "verify" : "read";
	FILE *lat_log = NULL;
	struct stat sb;
	int fd;

	if (a->random && a->seq)
		die("read: --random and --seq are exclusive");
	state_load(a->file, &st);
	fd = open_file(a->file, O_RDONLY, a->direct);
	if (fstat(fd, &sb))
		die("%s: stat: %s", a->file, strerror(errno));
	if ((uint64_t)sb.st_size != st.size) {
		vs.failures++;
		printf("BLOCKCHECK-FAIL file=%s size=%" PRIu64 " expected_size=%"
		       PRIu64 " detail=wrong-size\n", a->file,
		       (uint64_t)sb.st_size, st.size);
	}
	if (a->blocks_s && !verify_all) {
		if (random || a->seq)
			die("read: --blocks excludes --random and --seq");
		parse_blist(a->blocks_s, &list);
		for (i = 0; i < list.n; i++)
			if (list.v[i] >= st.nblocks)
				die("read: block %" PRIu64 " beyond the file (%"
				    PRIu64 " blocks)", list.v[i], st.nblocks);
	}
	dur_ns = a->duration > 0 && !verify_all ? (uint64_t)(a->duration * 1e9) : 0;
	if (a->has_count && !verify_all)
		count = a->count;
	else if (random && dur_ns)
		count = UINT64_MAX;	/* time-limited only */
	else
		count = list.n ? list.n : st.nblocks;
	if (!random && count > (list.n ? list.n : st.nblocks))
		count = list.n ? list.n : st.nblocks;
	if (random && !st.nblocks)
		count = 0;
	/* Open the outputs before the run, not discover a typo after it. */
	if (a->csv)
		series_open(&ser, a->csv);
	if (a->lat_log) {
		lat_log = fopen(a->lat_log, "w");
		if (!lat_log)
			die("%s: %s", a->lat_log, strerror(errno));
		fprintf(lat_log, "t_ns,block,lat_ns,ok\n");
	}
	hist_reset(all);
	rng = a->seed;
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		uint64_t blk = random ? splitmix64(&rng) % st.nblocks :
			       list.n ? list.v[i] : i;
		uint64_t s = now_ns(), e;
		size_t n = pread_full(fd, buf, BS, blk * BS, a->file);
		bool ok;

		e = now_ns();
		ok = check_block(&vs, a->file, &st, blk, buf, n, scratch);
		nfail_reads += !ok;
		hist_add(all, e - s);
		if (a->csv)
			series_add(&ser, s - t0, e - s, !ok);
		if (lat_log)
			fprintf(lat_log, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%d\n",
				s - t0, blk, e - s, ok);
		if (dur_ns && e - t0 >= dur_ns) {
			i++;
			break;
		}
	}
	elapsed = now_ns() - t0;
	close(fd);
	if (a->csv)
		series_close(&ser, elapsed);
	if (lat_log && fclose(lat_log))
		die("%s: %s", a->lat_log, strerror(errno));

	/*
	 * blocks= is the number of reads (each one verified); failures= counts
	 * failed reads plus a wrong file size, so a block read bad k times
	 * counts k times.
	 */
	printf("BLOCKCHECK %s file=%s mode=%s%s blocks=%" PRIu64 " failures=%"
	       PRIu64 " p50_us=%.3f p99_us=%.3f max_us=%.3f iops=%.0f",
	       name, a->file, random ? "random" : list.n ? "list" : "seq",
	       a->direct ? "-direct" : "", all->n, vs.failures,
	       hist_pct(all, 50) / 1e3, hist_pct(all, 99) / 1e3,
	       all->n ? all->max / 1e3 : 0.0,
	       elapsed ? all->n / (elapsed / 1e9) : 0.0);
	if (random)
		printf(" seed=%" PRIu64, a->seed);
	printf(" failed_reads=%" PRIu64 " elapsed_s=%.3f\n", nfail_reads,
	       elapsed / 1e9);
	free(all);
	free(list.v);
	free(buf);
	free(scratch);
	free(st.b);
	return vs.failures ? 1 : 0;
}

static int cmd_overwrite(const struct args *a)
{
	struct state st;
	struct blist l = { 0 };
	const char *mode = a->mode ? a->mode : "buffered";
	bool direct = !strcmp(mode, "direct"), mmapm = !strcmp(mode, "mmap");
	unsigned char *buf = xalign(BS);
	uint64_t t0 = now_ns(), t, i, newsize;
	int fd;

	if (!direct && !mmapm && strcmp(mode, "buffered"))
		die("overwrite: --mode must be buffered, direct or mmap");
	if (!a->has_gen || !a->gen)
		die("overwrite: --gen G (>= 1) is required");
	state_load(a->file, &st);
	if (a->random) {
		uint64_t rng = a->seed, k = a->count;
		unsigned char *seen;

		if (a->blocks_s)
			die("overwrite: --blocks and --random are exclusive");
		if (!k || k > st.nblocks)
			die("overwrite: --random needs --count K, 1 <= K <= %" PRIu64,
			    st.nblocks);
		seen = xmalloc(st.nblocks);
		while (l.n < k) {
			uint64_t b = splitmix64(&rng) % st.nblocks;

			if (!seen[b]) {
				seen[b] = 1;
				blist_add(&l, b);
			}
		}
		free(seen);
	} else {
		if (!a->blocks_s)
			die("overwrite: --blocks LIST or --random --count K is required");
		parse_blist(a->blocks_s, &l);
	}
	for (i = 0; i < l.n; i++)
		if (l.v[i] >= st.nblocks)
			die("overwrite: block %" PRIu64 " beyond the file (%"
			    PRIu64 " blocks)", l.v[i], st.nblocks);

	fd = open_file(a->file, O_RDWR, direct);
	/* A partial last block becomes whole: grow the file first. */
	newsize = st.size;
	for (i = 0; i < l.n; i++)
		if ((l.v[i] + 1) * BS > newsize)
			newsize = (l.v[i] + 1) * BS;
	if (newsize != st.size && ftruncate(fd, (off_t)newsize))
		die("%s: ftruncate: %s", a->file, strerror(errno));

	if (mmapm) {
		unsigned char *map = mmap(NULL, (size_t)newsize,
					  PROT_READ | PROT_WRITE, MAP_SHARED,
					  fd, 0);

		if (map == MAP_FAILED)
			die("%s: mmap: %s", a->file, strerror(errno));
		for (i = 0; i < l.n; i++) {
			make_block(buf, st.id, l.v[i], a->gen);
			memcpy(map + l.v[i] * BS, buf, BS);
		}
		if (msync(map, (size_t)newsize, MS_SYNC))
			die("%s: msync: %s", a->file, strerror(errno));
		munmap(map, (size_t)newsize);
	} else {
		for (i = 0; i < l.n; i++) {
			make_block(buf, st.id, l.v[i], a->gen);
			pwrite_all(fd, buf, BS, l.v[i] * BS, a->file);
		}
	}
	xfsync(fd, a->file);
	close(fd);
	st.size = newsize;
	for (i = 0; i < l.n; i++)
		st.b[l.v[i]] = (struct st_blk){ a->gen, BS, 0 };
	state_save(a->file, &st);
	t = now_ns() - t0;
	printf("BLOCKCHECK overwrite file=%s mode=%s blocks=%zu gen=%" PRIu64
	       " failures=0 elapsed_s=%.3f\n", a->file, mode, l.n, a->gen, t / 1e9);
	free(l.v);
	free(buf);
	free(st.b);
	return 0;
}

static int cmd_truncate(const struct args *a, bool extend)
{
	struct state st;
	uint64_t size, old, t0 = now_ns();
	int fd;

	state_load(a->file, &st);
	old = st.size;
	if (a->has_bytes && !extend) {
		if (a->blocks_s)
			die("truncate: --blocks and --bytes are exclusive");
		size = a->bytes;
	} else {
		size = need_blocks_n(a) * BS;
	}
	if (extend && size < old)
		die("extend: %" PRIu64 " blocks is smaller than the file", size / BS);
	if (extend && a->has_gen && old % BS)
		die("extend --gen: file size is not block aligned");
	if (!extend && a->has_gen)
		die("truncate: --gen is only for extend");
	fd = open_file(a->file, O_RDWR, false);
	if (extend && a->has_gen) {
		uint64_t i;

		if (!a->gen)
			die("extend: --gen must be >= 1");
		write_stamped(fd, a->file, st.id, old / BS, size / BS, a->gen);
		state_set_size(&st, size);
		for (i = old / BS; i < size / BS; i++)
			st.b[i] = (struct st_blk){ a->gen, BS, 0 };
	} else {
		if (ftruncate(fd, (off_t)size))
			die("%s: ftruncate: %s", a->file, strerror(errno));
		state_set_size(&st, size);
	}
	xfsync(fd, a->file);
	close(fd);
	state_save(a->file, &st);
	printf("BLOCKCHECK %s file=%s old_size=%" PRIu64 " size=%" PRIu64
	       " blocks=%" PRIu64 " failures=0 elapsed_s=%.3f\n",
	       extend ? "extend" : "truncate", a->file, old, size, st.nblocks,
	       (now_ns() - t0) / 1e9);
	free(st.b);
	return 0;
}

/*
 * Drop the file's clean pages from the page cache, through the same path
 * as reclaim's eviction, so that a page cache backend gets them and the
 * next read must come from it or from the disk.
 */
static int cmd_evict(const struct args *a)
{
	uint64_t t0 = now_ns();
	int fd, err;

	fd = open_file(a->file, O_RDONLY, false);
	xfsync(fd, a->file);
	err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (err)
		die("%s: posix_fadvise(DONTNEED): %s", a->file, strerror(err));
	close(fd);
	printf("BLOCKCHECK evict file=%s failures=0 elapsed_s=%.3f\n",
	       a->file, (now_ns() - t0) / 1e9);
	return 0;
}

static int cmd_punch(const struct args *a)
{
	struct state st;
	uint64_t from, to, i, t0 = now_ns();
	int fd;

	if (!a->range)
		die("punch: --range A:B is required");
	parse_range(a->range, &from, &to);
	state_load(a->file, &st);
	if (to > st.nblocks)
		die("punch: range beyond the file (%" PRIu64 " blocks)",
		    st.nblocks);
	fd = open_file(a->file, O_RDWR, false);
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(from * BS), (off_t)((to - from) * BS)))
		die("%s: fallocate(PUNCH_HOLE): %s", a->file, strerror(errno));
	xfsync(fd, a->file);
	close(fd);
	for (i = from; i < to; i++)
		st.b[i] = (struct st_blk){ 0, 0, 0 };
	state_save(a->file, &st);
	printf("BLOCKCHECK punch file=%s range=%" PRIu64 ":%" PRIu64
	       " blocks=%" PRIu64 " failures=0 elapsed_s=%.3f\n", a->file,
	       from, to, to - from, (now_ns() - t0) / 1e9);
	free(st.b);
	return 0;
}

static int cmd_state(const struct args *a)
{
	struct state st;
	uint64_t i, zeros = 0, partial = 0, gmin = UINT64_MAX, gmax = 0;

	state_load(a->file, &st);
	for (i = 0; i < st.nblocks; i++) {
		if (!st.b[i].gen) {
			zeros++;
			continue;
		}
		if (st.b[i].len < BS)
			partial++;
		if (st.b[i].gen < gmin)
			gmin = st.b[i].gen;
		if (st.b[i].gen > gmax)
			gmax = st.b[i].gen;
	}
	printf("BLOCKCHECK state file=%s state=%s id=%" PRIu64 " size=%" PRIu64
	       " blocks=%" PRIu64 " zero_blocks=%" PRIu64 " partial_blocks=%"
	       PRIu64 " min_gen=%" PRIu64 " max_gen=%" PRIu64 "\n", a->file,
	       state_path(a->file), st.id, st.size, st.nblocks, zeros, partial,
	       gmin == UINT64_MAX ? 0 : gmin, gmax);
	free(st.b);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv, &a);
	if (!strcmp(a.cmd, "create"))
		return cmd_create(&a);
	if (!strcmp(a.cmd, "read"))
		return do_read(&a, false);
	if (!strcmp(a.cmd, "verify"))
		return do_read(&a, true);
	if (!strcmp(a.cmd, "overwrite"))
		return cmd_overwrite(&a);
	if (!strcmp(a.cmd, "truncate"))
		return cmd_truncate(&a, false);
	if (!strcmp(a.cmd, "extend"))
		return cmd_truncate(&a, true);
	if (!strcmp(a.cmd, "punch"))
		return cmd_punch(&a);
	if (!strcmp(a.cmd, "evict"))
		return cmd_evict(&a);
	if (!strcmp(a.cmd, "state"))
		return cmd_state(&a);
	if (!strcmp(a.cmd, "help")) {
		usage(stdout);
		return 0;
	}
	die("unknown command '%s' (try --help)", a.cmd);
}
