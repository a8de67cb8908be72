/* model_notify.h — outgoing deploy notifications in Redis: a project's notification hooks
 * (project:{slug}:notify, a hash of id → JSON {url, events, secret (sealed), created}), the
 * outbox of deployment events the model's scripts write when a deployment with hooks changes
 * state (notify:outbox, "id event ms" entries, MODEL_LUA_NOTIFY in model_script.h), the deliveries
 * (notify:delivery:{id}, a hash), the schedule of their next attempts (notify:due, a zset) and
 * each project's bounded delivery history (project:{slug}:notify:log, a zset); and the
 * project's commit status settings (project:{slug}:status: provider, API URL, repository, the
 * sealed token), whose deliveries go the same way (hook "commit-status"). */
#ifndef SKIFF_MODEL_NOTIFY_H
#define SKIFF_MODEL_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "id.h"
#include "redis.h"

#define NOTIFY_URL_MAX 2048             /* bytes of a receiver's URL */
#define NOTIFY_HOOKS_MAX 10             /* notification hooks of one project */
#define NOTIFY_HISTORY_MAX 50           /* deliveries kept per project (older ones go) */
#define NOTIFY_OUTBOX_MAX 10000         /* events waiting for the dispatcher (older ones go) */
#define NOTIFY_ENTRY_MAX 96             /* an outbox entry: "id event ms" */
#define NOTIFY_BODY_MAX 16384           /* a notification's JSON */
#define NOTIFY_ERROR_MAX 200            /* bytes of an attempt's error kept */

/* Adds hook id to project slug: hook is {url, events, secret, created} (borrowed).
 * SKIFF_ENOTFOUND without the project, SKIFF_ELIMIT past NOTIFY_HOOKS_MAX. */
int model_notify_hook_create(struct redis *r, const char *slug, const char *id, json_t *hook,
			     struct error *err);
/* Removes hook id of project slug (its pending deliveries are dropped when due).
 * SKIFF_ENOTFOUND when slug has no such hook. */
int model_notify_hook_delete(struct redis *r, const char *slug, const char *id,
			     struct error *err);
/* The project's hooks as an object id → {url, events, secret, created} (*out, the caller's;
 * with_secret false leaves the secret out). */
int model_notify_hooks(struct redis *r, const char *slug, bool with_secret, json_t **out,
		       struct error *err);

/* The oldest outbox entry into entry ("" when the outbox is empty). */
int model_notify_outbox_peek(struct redis *r, char entry[NOTIFY_ENTRY_MAX + 1],
			     struct error *err);
/* Takes entry off the outbox if it is still the oldest and, in the same step, records
 * deliveries (an array of {id, project, hook, url, event, deployment, body, created}; may be
 * empty), due now, in their projects' histories. 1 when done here, 0 when another dispatcher
 * took the entry first. */
int model_notify_outbox_take(struct redis *r, const char *entry, json_t *deliveries,
			     struct error *err);

/* Claims at most max deliveries due at now_ms for lease_ms (another dispatcher does not take
 * them meanwhile): *out (the caller's) is an array of {id, url, secret (as stored: sealed),
 * event, body, attempts, created, project, hook}. A delivery whose hook was removed is dropped instead. */
int model_notify_claim(struct redis *r, long long now_ms, long lease_ms, size_t max,
		       json_t **out, struct error *err);
/* Records an attempt of delivery id: state "delivered", "failed" (given up) or "pending"
 * (again at next_ms), the attempt count, the receiver's HTTP status (0: none) and error. */
int model_notify_attempt(struct redis *r, const char *id, const char *state, long attempts,
			 long status, const char *error, long long now_ms, long long next_ms,
			 struct error *err);
/* The project's latest deliveries, newest first, as API objects (*out, the caller's). */
int model_notify_history(struct redis *r, const char *slug, size_t limit, json_t **out,
			 struct error *err);
/* A project's commit statuses (project:{slug}:status): provider ("github", "gitlab"), API
 * base URL, repository ("owner/name", "group/sub/name") and the token, sealed by the caller.
 * Replaces what was there. SKIFF_ENOTFOUND without the project. */
int model_notify_status_set(struct redis *r, const char *slug, const char *provider,
			    const char *api_url, const char *repository, const char *sealed,
			    struct error *err);
/* Stops them: SKIFF_ENOTFOUND "no_commit_status" when there were none. */
int model_notify_status_delete(struct redis *r, const char *slug, struct error *err);
/* {provider, apiUrl, repository, token (sealed)} into *out (the caller's), or NULL when the
 * project posts no commit statuses. */
int model_notify_status_get(struct redis *r, const char *slug, json_t **out, struct error *err);

#endif
