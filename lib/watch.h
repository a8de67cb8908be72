/* watch.h — commit polling of watched projects: each due project's branch head is listed
 * with libgit2 (no clone) in a child process, and a new head queues a deployment (trigger
 * poll). Never blocks its caller on the network. (Not "poll.h": -Ilib would shadow <poll.h>.)
 * What it keeps in Redis is model_watch.h's. */
#ifndef SKIFF_WATCH_H
#define SKIFF_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "error.h"
#include "redis.h"

#define WATCH_COMMIT_MAX 64
#define WATCH_ERROR_MAX 300

struct watch_settings {
	long interval_ms;       /* between polls of one project (default 60 s) */
	int jitter_pct;         /* ± this percentage of randomness on every delay (default 10) */
	long per_minute;        /* polls started per minute by all dispatchers (default 120) */
	long timeout_ms;        /* a poll running longer is killed and fails (default 20 s) */
	int concurrency;        /* polls at once in this process (default 4) */
	long backoff_max_ms;    /* longest delay after repeated failures (default 1 h) */
};

struct watch;

void watch_settings_default(struct watch_settings *s);
/* The poller of one process. cfg is borrowed (allow_local_git decides which URLs are polled). */
struct watch *watch_new(const struct config *cfg, const struct watch_settings *s);
/* Kills and reaps running polls. */
void watch_free(struct watch *w);

/* One round, for the dispatcher's loop (call it every second or so): collects finished polls
 * (a new head queues a deployment; a failure backs off exponentially), kills polls past the
 * timeout, then starts polls of due projects within the limits: at most one poll of a
 * repository at a time, concurrency here, per_minute overall. */
int watch_tick(struct watch *w, struct redis *r, long long now_ms, struct error *err);
/* Polls running in this process. */
size_t watch_running(const struct watch *w);

/* Marks a project watched (field watch = 1) and due now; for project creation.
 * SKIFF_ENOTFOUND when the project does not exist. */
int watch_project_add(struct redis *r, const char *slug, struct error *err);
/* Stops polling a project (field watch = 0). */
int watch_project_remove(struct redis *r, const char *slug, struct error *err);

struct gitauth;
/* The head commit of branch (empty or NULL: the remote's HEAD) of url, listed with libgit2
 * without a clone, with auth's credentials and host key pin (auth may be NULL): what a poll's
 * child process runs. SKIFF_EGIT with libgit2's message, or gitauth's when credentials or the
 * host key were the cause. */
int watch_remote_head(const char *url, const char *branch, struct gitauth *auth,
		      char out[WATCH_COMMIT_MAX + 1], struct error *err);

#endif
