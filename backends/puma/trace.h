/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracepoints of the PUMA backend, under events/puma/ in tracefs:
 *   puma_put		a clean page offered by reclaim, and what became of it
 *   puma_get		a page-cache miss asked about, and its answer
 *   puma_reclaim_report	the server's reclaim took pages of this client
 *   puma_suspend, puma_resume	lending stopped or started again
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM puma

#if !defined(_PUMA_BACKEND_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PUMA_BACKEND_TRACE_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(puma_page,
		    TP_PROTO(int pool, u64 ino, pgoff_t index, int result),
		    TP_ARGS(pool, ino, index, result),
		    TP_STRUCT__entry(__field(int, pool)
				     __field(u64, ino)
				     __field(pgoff_t, index)
				     __field(int, result)),
		    TP_fast_assign(__entry->pool = pool;
				   __entry->ino = ino;
				   __entry->index = index;
				   __entry->result = result;),
		    TP_printk("pool=%d ino=%llu index=%lu result=%d",
			      __entry->pool, __entry->ino, __entry->index,
			      __entry->result));

/* result: 0 staged, -ENOSPC no staging slot, -EAGAIN no server/suspended. */
DEFINE_EVENT(puma_page, puma_put,
	     TP_PROTO(int pool, u64 ino, pgoff_t index, int result),
	     TP_ARGS(pool, ino, index, result));

/* result: 0 hit, -ENODATA miss, -ETIMEDOUT, or another error. */
DEFINE_EVENT(puma_page, puma_get,
	     TP_PROTO(int pool, u64 ino, pgoff_t index, int result),
	     TP_ARGS(pool, ino, index, result));

TRACE_EVENT(puma_reclaim_report,
	    TP_PROTO(unsigned int nr_pages),
	    TP_ARGS(nr_pages),
	    TP_STRUCT__entry(__field(unsigned int, nr_pages)),
	    TP_fast_assign(__entry->nr_pages = nr_pages;),
	    TP_printk("nr_pages=%u", __entry->nr_pages));

DECLARE_EVENT_CLASS(puma_lending,
		    TP_PROTO(bool server, const char *reason),
		    TP_ARGS(server, reason),
		    TP_STRUCT__entry(__field(bool, server)
				     __string(reason, reason)),
		    TP_fast_assign(__entry->server = server;
				   __assign_str(reason);),
		    TP_printk("%s reason=%s",
			      __entry->server ? "server" : "client",
			      __get_str(reason)));

DEFINE_EVENT(puma_lending, puma_suspend,
	     TP_PROTO(bool server, const char *reason),
	     TP_ARGS(server, reason));

DEFINE_EVENT(puma_lending, puma_resume,
	     TP_PROTO(bool server, const char *reason),
	     TP_ARGS(server, reason));

#endif /* _PUMA_BACKEND_TRACE_H */

/* Kbuild puts this directory on main.o's include path. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
