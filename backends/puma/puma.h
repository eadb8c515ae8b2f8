/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PUMA backend: declarations shared by its files, not an API.
 */
#ifndef _PUMA_BACKEND_H
#define _PUMA_BACKEND_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/percpu_counter.h>
#include <linux/types.h>

#include <puma/msg.h>

struct dentry;
struct folio;
struct puma_outbox_stats;
struct puma_transport;
struct puma_transport_msg;
struct puma_wire_msg;
struct seq_file;

enum puma_stat {
	PUMA_STAT_PUTS,			/* pages staged for the server */
	PUMA_STAT_PUT_DROPS,		/* puts dropped: no staging slot */
	PUMA_STAT_PUT_SKIPS,		/* puts skipped: no server, suspended */
	PUMA_STAT_PUTS_SENT,		/* pages sent in PUT batches */
	PUMA_STAT_GETS,			/* page-cache misses asked about */
	PUMA_STAT_HITS,			/* served by the server */
	PUMA_STAT_LOCAL_HITS,		/* served from the client's outbox */
	PUMA_STAT_MISSES,		/* server had no copy */
	PUMA_STAT_FILTERED,		/* no round trip: filter said absent */
	PUMA_STAT_TIMEOUTS,		/* no answer in time: went to disk */
	PUMA_STAT_GET_ERRORS,		/* no server, send failed, bad data */
	PUMA_STAT_GET_ROUND_TRIPS,	/* GET messages sent (batches) */
	PUMA_STAT_INV_PAGE,
	PUMA_STAT_INV_RANGE,
	PUMA_STAT_INV_INODE,
	PUMA_STAT_INV_POOL,
	PUMA_STAT_RESETS,		/* sessions dropped to stay correct */
	PUMA_STAT_RECLAIM_REPORTS,	/* client: pages the server dropped */
	PUMA_STAT_SUSPENDS,		/* client: SUSPENDs received */
	PUMA_STAT_RESUMES,		/* client: RESUMEs received */
	PUMA_STAT_SRV_STORED,		/* server: pages hosted */
	PUMA_STAT_SRV_PUT_DROPS,	/* server: puts refused (cap, memory) */
	PUMA_STAT_SRV_HITS,
	PUMA_STAT_SRV_MISSES,
	PUMA_STAT_SRV_INVALIDATED,	/* server: pages dropped on request */
	PUMA_STAT_SRV_RECLAIMED,	/* server: hosted pages reclaim took */
	PUMA_STAT_SRV_REPORT_DROPS,	/* server: reclaim reports not sent */
	PUMA_STAT_SRV_PUT_SUSPENDED,	/* server: pages dropped, suspended */
	PUMA_STAT_SRV_SUSPENDS,		/* server: lending suspended */
	PUMA_STAT_SRV_RESUMES,		/* server: lending resumed */
	PUMA_STAT_CONNECTS,		/* client: connections that came up */
	PUMA_STAT_SRV_SESSION_ABORTS,	/* server: sessions closed to stay correct */
	PUMA_STAT_SRV_LENDING_RETRIES,	/* server: lending state sends retried */
	PUMA_STAT_SRV_SEND_QUEUE_FULL,	/* server: a client's queue was full */
	PUMA_STAT_SUSPEND_EXPIRIES,	/* client: SUSPEND leases run out */
	/* Allocation failures, by path (each costs speed, never data). */
	PUMA_STAT_ENOMEM_CLIENT_PUT,	/* PUT batch pages or message */
	PUMA_STAT_ENOMEM_CLIENT_GET,	/* GET request */
	PUMA_STAT_ENOMEM_CLIENT_RX,	/* decoding a received message */
	PUMA_STAT_ENOMEM_CLIENT_INV_MSG,	/* invalidation message: reset */
	PUMA_STAT_ENOMEM_SERVER_PUT,	/* hosting a page */
	PUMA_STAT_ENOMEM_SERVER_GET,	/* copying a page for a GET */
	PUMA_STAT_ENOMEM_SERVER_MSG,	/* responses, reports, lending */
	PUMA_STAT_BAD_MSGS,		/* well formed, but unexpected here */
	PUMA_STAT_PINGS,		/* client: PINGs sent, GETs timing out */
	PUMA_STAT_SRV_QUOTA_EVICTIONS,	/* server: pages a client over its quota gave back */
	PUMA_STAT_SRV_FAIR_EVICTIONS,	/* server: pages taken back from the biggest client */
	PUMA_STAT_SRV_RECYCLED,		/* server: a client's oldest pages, for its newer ones */
	PUMA_STAT_NR,
};

extern struct percpu_counter puma_stats[PUMA_STAT_NR];

static inline void puma_count(enum puma_stat stat, s64 n)
{
	percpu_counter_add(&puma_stats[stat], n);
}

/*
 * Answered GETs by round trip (send to answer): buckets of microseconds,
 * exact below 4, then four per power of two (so within 25 %); debugfs
 * puma/get_rtt_us.
 */
#define PUMA_RTT_BUCKETS	96
extern atomic_long_t puma_get_rtt[PUMA_RTT_BUCKETS];

static inline unsigned int puma_rtt_bucket(u64 us)
{
	unsigned int l;

	if (us < 4)
		return us;
	l = ilog2(us);
	return min_t(unsigned int, 4 * (l - 1) + ((us >> (l - 2)) & 3),
		     PUMA_RTT_BUCKETS - 1);
}

/*
 * Failures the KUnit suite injects (kunit/backend_kunit.c), each armed for
 * one hit; compiled out of other builds.
 */
enum puma_fault {
	PUMA_FAULT_CONNECT,		/* client: the connection fails */
	PUMA_FAULT_EARLY_DEATH,		/* client: it dies while connecting */
	PUMA_FAULT_HELLO,		/* client: HELLO cannot be built */
	PUMA_FAULT_LENDING_SEND,	/* server: a lending send fails */
	PUMA_FAULT_LENDING_LOST,	/* server: a lending message is lost */
	PUMA_FAULT_SLOW_FREE,		/* server: a session is freed late */
	PUMA_FAULT_NR,
};

#if IS_ENABLED(CONFIG_PUMA_BACKEND_KUNIT_TEST)
extern unsigned long puma_faults;

static inline bool puma_fault(enum puma_fault fault)
{
	return test_and_clear_bit(fault, &puma_faults);
}

/* Test access to the client's and server's state. */
int puma_client_test_state(void);
bool puma_client_test_suspended(void);
int puma_test_roles_start(void);
void puma_test_roles_stop(void);
long puma_server_test_charge(u64 node);
int puma_server_test_wait_settled(unsigned long timeout);
unsigned long puma_client_test_get_folios(int pool, u64 ino, pgoff_t index,
					  struct folio **folios,
					  unsigned int nr, int *status);
void puma_client_test_put_folio(int pool, u64 ino, pgoff_t index,
				struct folio *folio);
#else
static inline bool puma_fault(enum puma_fault fault)
{
	return false;
}
#endif

/* Module parameters, validated by main.c. */
extern unsigned int puma_get_timeout_us;
extern unsigned int puma_staging_pages;
extern unsigned int puma_max_hosted_pct;
extern unsigned long puma_max_hosted_pages;
extern unsigned int puma_max_client_pct;
extern bool puma_exclusive;
extern unsigned int puma_suspend_lease_ms;

/* Helpers shared by both roles (main.c). */
extern struct puma_msg_stats puma_msgs;
u64 puma_node_id(void);

int puma_client_start(struct puma_transport *t, const char *addr);
void puma_client_stop(void);
void puma_client_outbox_stats(struct puma_outbox_stats *stats);
int puma_server_start(struct puma_transport *t, const char *addr);
void puma_server_stop(void);
unsigned long puma_server_hosted(void);
void puma_server_sessions_show(struct seq_file *m);
bool puma_server_set_lending(bool lend, const char *reason);
bool puma_server_lending(void);

/* lending.c: the server's activity detector and deactivation policy. */
int puma_lending_start(int default_mode, struct dentry *debugfs);
void puma_lending_stop(void);

#endif /* _PUMA_BACKEND_H */
