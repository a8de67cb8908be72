/* model.h — skiff's Redis data model (DESIGN.md section 3): projects, deployments, the build
 * queue, leases and each deployment's log stream. Every write that must agree with another is
 * one Lua script, so no half-written state is ever visible. */
#ifndef SKIFF_MODEL_H
#define SKIFF_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include "error.h"
#include "buf.h"
#include "id.h"
#include "redis.h"

/* Deployment states and build phases. */
#define STATE_QUEUED "queued"
#define STATE_BUILDING "building"
#define STATE_READY "ready"
#define STATE_ERROR "error"
#define STATE_CANCELED "canceled"
#define STATE_EXPIRED "expired"     /* past retention: its immutable URL answers 410 */

/* Log stream entry kinds and sources (fields k and s). */
#define LOG_KIND_LINE "line"
#define LOG_KIND_STATE "state"
#define LOG_KIND_END "end"
#define LOG_SRC_STDOUT "stdout"
#define LOG_SRC_STDERR "stderr"
#define LOG_SRC_SYSTEM "system"

#define LOG_LINE_MAX 4096  /* longer lines are cut and marked */

/* Milliseconds since the epoch. */
long long model_now_ms(void);

/* A new project with its first deployment, queued, in one atomic step.
 * project: object of string fields (slug, git_url, branch, build_command, install_command,
 * output_dir, ...). deployment: object of string fields (id, trigger, ref, ...).
 * SKIFF_ECONFLICT when the slug is taken. */
int model_project_create(struct redis *r, json_t *project, json_t *deployment, struct error *err);
/* A new queued deployment of an existing project (SKIFF_ENOTFOUND when it does not exist). */
int model_deployment_create(struct redis *r, const char *slug, json_t *deployment,
			    struct error *err);
/* Records as objects of strings (HGETALL); *out is the caller's. SKIFF_ENOTFOUND. */
int model_project_get(struct redis *r, const char *slug, json_t **out, struct error *err);
int model_deployment_get(struct redis *r, const char *id, json_t **out, struct error *err);
/* The slug's current deployment id into out (empty when none). One round trip. */
int model_project_current(struct redis *r, const char *slug, char out[ID_LEN + 1],
			  struct error *err);
/* Slugs (newest first) / deployment ids of a project (newest first), at most limit. */
int model_project_list(struct redis *r, size_t limit, json_t **slugs, struct error *err);
int model_deployment_list(struct redis *r, const char *slug, size_t offset, size_t limit,
			  json_t **ids, struct error *err);
/* A place in a project's history: the created score (ms) and id of a deployment. */
struct model_cursor {
	long long score;
	char id[ID_LEN + 1];
};
/* One page of a project's deployment ids, newest first (score, then id, descending), strictly
 * after *after (NULL: from the newest), at most limit; positions[i] (room for limit) receives
 * the place of ids[i]. A deployment created between two pages never shifts the next one. */
int model_deployment_page(struct redis *r, const char *slug, const struct model_cursor *after,
			  size_t limit, json_t **ids, struct model_cursor *positions,
			  struct error *err);

/* Sets string fields of a deployment record (no state change, no log entry); never creates a
 * record: SKIFF_ENOTFOUND once the deployment was deleted. */
int model_deployment_update(struct redis *r, const char *id, json_t *fields, struct error *err);
/* Changes state (and phase, may be NULL or ""), sets extra fields, appends a state entry to
 * the log and wakes listeners. A final state (ready, error, canceled) also appends the end
 * entry. Refuses (SKIFF_ECONFLICT) to leave a final state. */
int model_deployment_state(struct redis *r, const char *id, const char *state, const char *phase,
			   json_t *fields, struct error *err);
/* Makes id the current deployment of its project and marks it ready, atomically, unless the
 * deployment was canceled meanwhile (SKIFF_ECANCELED). Going live (the project not pinned)
 * clears the project's record of an earlier rollback (rolled_back_from, _at, _by). */
int model_deployment_promote(struct redis *r, const char *id, json_t *fields, struct error *err);

/* Appends one log line (source: stdout, stderr, system) and wakes listeners. SKIFF_ENOTFOUND
 * when the deployment was deleted: its stream is not created again. */
int model_log_append(struct redis *r, const char *id, const char *source, const char *text,
		     size_t len, struct error *err);
/* The whole log as text lines (one per entry; state entries as "==> state"). */
int model_log_read(struct redis *r, const char *id, struct buf *out, struct error *err);

/* The reliable queue. pop: BLMOVE queue → active, waiting at most timeout_s (clamped below
 * redis_timeout_ms so the connection never times out first); *id empty on timeout. done: removes id from active. */
int model_queue_pop(struct redis *r, double timeout_s, char id[ID_LEN + 1], struct error *err);
int model_queue_done(struct redis *r, const char *id, struct error *err);
/* Ids in the active list. */
int model_queue_active(struct redis *r, json_t **ids, struct error *err);
/* Lease of a running build. */
int model_lease_renew(struct redis *r, const char *id, long ttl_s, struct error *err);
int model_lease_alive(struct redis *r, const char *id, struct error *err); /* 1, 0, <0 */
int model_lease_drop(struct redis *r, const char *id, struct error *err);

#endif
