/* model_log.h — each deployment's log stream (log:{id}, a stream, and
 * events:{id}, the channel that wakes its listeners). The SSE bridge speaks the async hiredis
 * API: for it, functions that only name the keys. */
#ifndef SKIFF_MODEL_LOG_H
#define SKIFF_MODEL_LOG_H

#include <stddef.h>
#include "buf.h"
#include "config.h"
#include "error.h"
#include "id.h"
#include "redis.h"

/* Log stream entry kinds and sources (fields k and s). */
#define LOG_KIND_LINE "line"
#define LOG_KIND_STATE "state"
#define LOG_KIND_END "end"
#define LOG_SRC_STDOUT "stdout"
#define LOG_SRC_STDERR "stderr"
#define LOG_SRC_SYSTEM "system"

#define LOG_LINE_MAX 4096  /* longer lines are cut and marked */

/* Appends one log line (source: stdout, stderr, system) and wakes listeners. SKIFF_ENOTFOUND
 * when the deployment was deleted: its stream is not created again. */
int model_log_append(struct redis *r, const char *id, const char *source, const char *text,
		     size_t len, struct error *err);
/* The whole log as text lines (one per entry; state entries as "==> state"). */
int model_log_read(struct redis *r, const char *id, struct buf *out, struct error *err);

/* One entry of a stream as model_log_each hands it over: borrowed, valid during the call. */
struct model_log_entry {
	const char *id;      /* the stream id, "1732270000000-0" */
	size_t id_len;
	const char *kind;    /* LOG_KIND_*, "" when missing */
	const char *source;  /* LOG_SRC_*, "" when missing */
	const char *text;    /* "" when missing */
};
/* Calls fn for the first entries of the stream, at most max; fn returning nonzero stops.
 * *more tells whether the stream has entries after the last one handed over. */
int model_log_each(struct redis *r, const char *id, size_t max,
		   int (*fn)(const struct model_log_entry *e, void *ctx), void *ctx, int *more,
		   struct error *err);
/* Removes the stream (once archived in the store). 1 when there was one, 0 when not. */
int model_log_drop(struct redis *r, const char *id, struct error *err);

/* Names for the async API: key of the log stream, of the wake-up channel and of the
 * deployment record (its existence tells a finished log from an unknown one), each with
 * cfg's prefix. */
#define MODEL_LOG_KEY_MAX (sizeof(((struct config *)0)->redis_prefix) + 16 + ID_LEN)
void model_log_stream_key(const struct config *cfg, const char *id, char out[MODEL_LOG_KEY_MAX]);
void model_log_channel_key(const struct config *cfg, const char *id,
			   char out[MODEL_LOG_KEY_MAX]);
void model_log_record_key(const struct config *cfg, const char *id, char out[MODEL_LOG_KEY_MAX]);
/* The deployment id a wake-up channel name (len bytes) belongs to, or NULL when it is not
 * one: a pointer into channel. */
const char *model_log_channel_id(const struct config *cfg, const char *channel, size_t len);

#endif
