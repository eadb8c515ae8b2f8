// SPDX-License-Identifier: GPL-2.0
/*
 * mallocbench - memory-allocation latency benchmark.
 *
 * After the allocation experiment of the PUMA paper (figures 3 and 4): an
 * application that needs more and more memory allocates a chunk at a fixed
 * rate, so that a given total is allocated over a given duration, and
 * writes into each chunk so that the pages are really given to it.  What
 * is measured is how long each allocation takes while the VM's memory is
 * held by something else (page cache, hosted PUMA pages, a balloon).  The
 * paper reports under 1 ms normally, 20 ms on average (some over 1 s) with
 * KVM auto-ballooning, 1.8 ms (sd 2.2) with PUMA.
 *
 *   mallocbench --total SIZE --chunk SIZE --duration SEC [--csv FILE]
 *               [--hold SEC] [--keep-free SIZE]
 *
 * Allocation i (0-based) starts at i * interval after the start, with
 * interval = duration / count and count = ceil(total / chunk), that is
 * duration * chunk / total when chunk divides total; the last chunk holds
 * the remainder.  The schedule is absolute: an allocation that overruns
 * its interval delays the next one, which then starts at once, so the
 * total is still reached as close to the duration as the system allows
 * (late= counts allocations started more than 1 ms behind schedule).
 *
 * One allocation is an anonymous private mmap (not malloc: glibc could
 * hand back memory it already has, and free/munmap never happens anyway)
 * plus one 8-byte write per page, so that every page is faulted in; the
 * latency is the time of both (CLOCK_MONOTONIC).  Each page gets a distinct
 * value, so that neither the guest nor host-side KSM can merge the pages
 * back into one.  Memory is never freed before exit: the point is to grow.
 *
 * --csv FILE gets one row per allocation, written (and flushed) as it
 * completes, so that a run killed by the OOM killer keeps its rows:
 *
 *   t_s,alloc_idx,bytes,latency_us
 *
 * (start of the allocation in seconds since the run start, its index, its
 * size in bytes, its latency in microseconds).
 *
 * At the end of the allocations, the summary is printed both one key per
 * line (count=, mean_us=, stddev_us=, p50_us=, p99_us=, max_us=, ...) and
 * as one line in the format of blockcheck's summary,
 *
 *   MALLOCBENCH alloc count=N ... failures=F elapsed_s=T
 *
 * which the QEMU rig's parser (scripts/vm/guest/lib.sh) reads.  Then, with
 * --hold SEC, the memory is kept for SEC more seconds before exit.
 *
 * --keep-free SIZE stops early, without failing, before an allocation
 * that would take MemFree (/proc/meminfo) below SIZE: the QEMU rig writes
 * a VM's free memory once at boot this way, as close to the kernel's
 * watermarks as it can without waking reclaim or the OOM killer, which a
 * fixed --total cannot promise while the kernel allocates beside it (the
 * benchmark's own page tables, for one).
 *
 * Exit status: 0 done, 1 an allocation failed (the summary covers the
 * allocations before it), 2 usage error.
 *
 * Built static (tools/mallocbench/Makefile) for the busybox initramfs of
 * the QEMU rig.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define NSEC		1000000000ULL
#define LATE_NS		1000000ULL	/* "late": over 1 ms behind schedule */
#define MAX_COUNT	10000000ULL	/* latencies are kept: 80 MB at most */

static const char *prog = "mallocbench";

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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

/* Sleep until CLOCK_MONOTONIC reaches @t_ns (absolute, so no drift). */
static void sleep_until(uint64_t t_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t_ns / NSEC),
		.tv_nsec = (long)(t_ns % NSEC),
	};
	int err;

	do {
		err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	} while (err == EINTR);
	if (err)
		die("clock_nanosleep: %s", strerror(err));
}

/*
 * SIZE: a byte count with an optional binary suffix K, M, G or T (case
 * insensitive, optionally followed by "B" or "iB"): 4096, 64K, 200M, 1GiB.
 */
static uint64_t parse_size(const char *s, const char *what)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-' || *s == '+')
		die("bad %s '%s' (want bytes, e.g. 4096, 64K, 200M, 1G)", what, s);
	if (*end) {
		u = strchr(units, end[0] >= 'a' ? end[0] - 'a' + 'A' : end[0]);
		if (!u || !*u)
			die("bad %s '%s': unknown unit '%s' (K, M, G or T)",
			    what, s, end);
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
		if (*end)
			die("bad %s '%s': junk '%s' after the unit", what, s, end);
	}
	if (v > (UINT64_MAX >> shift))
		die("bad %s '%s': too large", what, s);
	v <<= shift;
	if (!v)
		die("bad %s '%s': must be > 0", what, s);
	return v;
}

/* Non-negative seconds; refuses nan, inf and junk. */
static double parse_secs(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v < 1e9))
		die("bad %s '%s' (want seconds, >= 0)", what, s);
	return v;
}

/* MemFree of /proc/meminfo in bytes; 0 (stop) if it cannot be read. */
static uint64_t mem_free(void)
{
	unsigned long long kb = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: mallocbench --total SIZE --chunk SIZE --duration SEC [--csv FILE]\n"
"                   [--hold SEC] [--keep-free SIZE]\n"
"\n"
"Allocate --total bytes in chunks of --chunk bytes, one every\n"
"duration / ceil(total / chunk) seconds (duration * chunk / total when\n"
"chunk divides total; the last chunk holds the remainder), and time each\n"
"allocation: an anonymous private mmap plus a write to every page of it.\n"
"Memory is kept until exit.  After the PUMA paper's malloc micro-benchmark.\n"
"\n"
"  --total SIZE     bytes to allocate in all (suffix K, M, G, T: 200M)\n"
"  --chunk SIZE     bytes per allocation (<= total)\n"
"  --duration SEC   spread the allocations over SEC seconds (0: back to\n"
"                   back); allocation i starts at i * interval\n"
"  --csv FILE       one row per allocation, flushed as it completes:\n"
"                     t_s,alloc_idx,bytes,latency_us\n"
"                   (start in s since the run start, index from 0, size,\n"
"                   mmap + touch time in microseconds)\n"
"  --hold SEC       after the summary, keep the memory SEC seconds more\n"
"  --keep-free SIZE stop (exit 0) before an allocation that would leave\n"
"                   less than SIZE of MemFree (/proc/meminfo)\n"
"  -h, --help       this text\n"
"\n"
"Summary, one key per line: count, bytes, chunk, interval_s, mean_us,\n"
"stddev_us (sample, n-1), min_us, p50_us, p99_us, max_us (percentiles\n"
"exact, nearest rank), late (allocations started over 1 ms behind\n"
"schedule), failures, elapsed_s; then the same on one line,\n"
"  MALLOCBENCH alloc count=N ... elapsed_s=T\n"
"Exit status: 0 done, 1 an allocation failed, 2 usage error.\n");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile of a sorted array (nearest rank), as blockcheck reports it. */
static uint64_t pct(const uint64_t *s, uint64_t n, double p)
{
	uint64_t k;

	if (!n)
		return 0;
	k = (uint64_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return s[k - 1];
}

struct stats {
	uint64_t count, bytes, late, failures;
	double mean_us, stddev_us, min_us, p50_us, p99_us, max_us;
};

static void compute_stats(uint64_t *lat, uint64_t n, struct stats *st)
{
	double sum = 0, sq = 0;
	uint64_t i;

	st->count = n;
	if (!n)
		return;
	for (i = 0; i < n; i++)
		sum += lat[i] / 1e3;
	st->mean_us = sum / n;
	for (i = 0; i < n; i++) {
		double d = lat[i] / 1e3 - st->mean_us;

		sq += d * d;
	}
	st->stddev_us = n > 1 ? sqrt(sq / (n - 1)) : 0.0;
	qsort(lat, n, sizeof(*lat), cmp_u64);
	st->min_us = lat[0] / 1e3;
	st->p50_us = pct(lat, n, 50) / 1e3;
	st->p99_us = pct(lat, n, 99) / 1e3;
	st->max_us = lat[n - 1] / 1e3;
}

static void print_summary(const struct stats *st, uint64_t chunk,
			  double interval_s, double elapsed_s)
{
	char line[1024];

	snprintf(line, sizeof(line),
		 "count=%" PRIu64 " bytes=%" PRIu64 " chunk=%" PRIu64
		 " interval_s=%.6f mean_us=%.3f stddev_us=%.3f min_us=%.3f"
		 " p50_us=%.3f p99_us=%.3f max_us=%.3f late=%" PRIu64
		 " failures=%" PRIu64 " elapsed_s=%.3f",
		 st->count, st->bytes, chunk, interval_s, st->mean_us,
		 st->stddev_us, st->min_us, st->p50_us, st->p99_us, st->max_us,
		 st->late, st->failures, elapsed_s);
	/* One key per line ... */
	for (const char *p = line; *p; p++)
		putchar(*p == ' ' ? '\n' : *p);
	putchar('\n');
	/* ... and the one-line form of blockcheck's summary. */
	printf("MALLOCBENCH alloc %s\n", line);
	fflush(stdout);
}

enum { O_TOTAL = 256, O_CHUNK, O_DURATION, O_CSV, O_HOLD, O_KEEP_FREE };

static const struct option long_opts[] = {
	{ "total", required_argument, NULL, O_TOTAL },
	{ "chunk", required_argument, NULL, O_CHUNK },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "csv", required_argument, NULL, O_CSV },
	{ "hold", required_argument, NULL, O_HOLD },
	{ "keep-free", required_argument, NULL, O_KEEP_FREE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	uint64_t total = 0, chunk = 0, keep_free = 0, count, interval_ns, page;
	uint64_t t0, i;
	double duration = -1, hold = 0;
	const char *csv_path = NULL;
	struct stats st = { 0 };
	uint64_t *lat;
	FILE *csv = NULL;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case O_TOTAL: total = parse_size(optarg, "--total"); break;
		case O_CHUNK: chunk = parse_size(optarg, "--chunk"); break;
		case O_DURATION: duration = parse_secs(optarg, "--duration"); break;
		case O_CSV: csv_path = optarg; break;
		case O_HOLD: hold = parse_secs(optarg, "--hold"); break;
		case O_KEEP_FREE:
			keep_free = parse_size(optarg, "--keep-free");
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (try --help)", argv[optind]);
	if (!total || !chunk || duration < 0)
		die("--total, --chunk and --duration are required (try --help)");
	if (chunk > total)
		die("--chunk (%" PRIu64 ") is larger than --total (%" PRIu64 ")",
		    chunk, total);
	if (chunk > SIZE_MAX / 2)
		die("--chunk %" PRIu64 " is too large for this machine", chunk);
	count = total / chunk + (total % chunk != 0);
	if (count > MAX_COUNT)
		die("%" PRIu64 " allocations is too many (at most %llu): use a"
		    " larger --chunk", count, MAX_COUNT);
	interval_ns = (uint64_t)(duration * 1e9 / (double)count);
	page = (uint64_t)sysconf(_SC_PAGESIZE);

	lat = calloc(count, sizeof(*lat));
	if (!lat)
		die("out of memory for %" PRIu64 " latencies", count);
	if (csv_path) {
		csv = fopen(csv_path, "w");
		if (!csv)
			die("%s: %s", csv_path, strerror(errno));
		fprintf(csv, "t_s,alloc_idx,bytes,latency_us\n");
		fflush(csv);
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		uint64_t bytes = i == count - 1 ? total - i * chunk : chunk;
		uint64_t due = t0 + i * interval_ns, s, e, off;
		unsigned char *p;

		if (now_ns() < due)
			sleep_until(due);
		if (keep_free && mem_free() < keep_free + bytes) {
			fprintf(stderr, "%s: stopped after %" PRIu64 " bytes:"
				" MemFree would fall below --keep-free\n",
				prog, st.bytes);
			break;
		}
		s = now_ns();
		if (s - due > LATE_NS)
			st.late++;
		p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "%s: error: allocation %" PRIu64 " of %"
				PRIu64 " bytes failed after %" PRIu64
				" bytes: mmap: %s\n", prog, i, bytes, st.bytes,
				strerror(errno));
			st.failures++;
			rc = 1;
			break;
		}
		/* A distinct value per page: no zero page, nothing to merge. */
		for (off = 0; off < bytes; off += page) {
			uint64_t v = (i << 32) ^ (off / page) ^ 0x5a5a5a5a00000000ULL;

			memcpy(p + off, &v, sizeof(v) <= bytes - off ?
			       sizeof(v) : bytes - off);
		}
		e = now_ns();
		lat[i] = e - s;
		st.bytes += bytes;
		if (csv) {
			fprintf(csv, "%.6f,%" PRIu64 ",%" PRIu64 ",%.3f\n",
				(s - t0) / 1e9, i, bytes, lat[i] / 1e3);
			fflush(csv);
		}
	}
	if (csv && fclose(csv)) {
		fprintf(stderr, "%s: error: %s: %s\n", prog, csv_path,
			strerror(errno));
		rc = rc ? rc : 2;
	}
	compute_stats(lat, i, &st);
	print_summary(&st, chunk, interval_ns / 1e9, (now_ns() - t0) / 1e9);
	free(lat);
	if (hold > 0 && !rc)
		sleep_until(now_ns() + (uint64_t)(hold * 1e9));
	return rc;
}
