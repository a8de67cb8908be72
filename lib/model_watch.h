/* model_watch.h — the Redis side of commit polling (watch.h): the schedule (watch, a zset of
 * slugs by the time their next poll is due, ms), the poll fields of the project hash
 * (last_polled_commit, last_polled_at, poll_next_ms, poll_failures, poll_error), the lock of
 * a repository being polled (poll:lock:{repository hash}, with a TTL) and the budget of polls
 * per minute (poll:minute:{minute}, shared by all dispatchers). */
#ifndef SKIFF_MODEL_WATCH_H
#define SKIFF_MODEL_WATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "redis.h"

/* Marks slug watched (field watch = 1, due at now_ms) or not (0, off the schedule).
 * SKIFF_ENOTFOUND when the project does not exist. */
int model_watch_set(struct redis *r, const char *slug, bool watch, long long now_ms,
		    struct error *err);
/* Slugs due at now_ms, at most limit, into *slugs (the caller's). */
int model_watch_due(struct redis *r, long long now_ms, size_t limit, json_t **slugs,
		    struct error *err);
/* What a poll needs of the project: 1 with git_url and branch filled when it exists and is
 * watched; 0 when not (and it leaves the schedule). */
int model_watch_project(struct redis *r, const char *slug, char *git_url, size_t urllen,
			char *branch, size_t branchlen, struct error *err);
/* Keeps a running poll's project off the schedule until due_ms (only if scheduled). */
void model_watch_defer(struct redis *r, const char *slug, long long due_ms);

/* A poll found head: records it and schedules the next poll at next_ms. 1 when head is new
 * (no deployment of it yet: one is due), 0 otherwise; result names the outcome for the log
 * ("new", "same", "gone", "unwatched"). */
int model_watch_head(struct redis *r, const char *slug, const char *head, long long now_ms,
		     long long next_ms, char result[16], struct error *err);
/* head was deployed: later polls that find it again do nothing. */
int model_watch_seen(struct redis *r, const char *slug, const char *head, struct error *err);
/* A poll failed with msg: counts it and schedules the next one after interval_ms doubled per
 * failure, at most max_ms, times jitter per mille. *failures gets the count (-1 when the
 * project is gone). */
int model_watch_failure(struct redis *r, const char *slug, const char *msg, long long now_ms,
			long interval_ms, long max_ms, long jitter, long long *failures,
			struct error *err);

/* The lock of repository repo (a hash) for token, held ttl_ms: 1 taken, 0 held by another. */
int model_watch_lock(struct redis *r, const char *repo, const char *token, long ttl_ms,
		     struct error *err);
/* Releases the lock if token still holds it. */
void model_watch_unlock(struct redis *r, const char *repo, const char *token);
/* Takes one unit of the budget of minute (ms / 60000); the units taken so far, this one
 * included. */
int model_watch_budget(struct redis *r, long long minute, long long *used, struct error *err);

#endif
