/* model_lifecycle.h — the life of a project after its first build: redeploy (newest queued build
 * wins), rollback and pinning, cancel, delete. Each is one Lua script: atomic. */
#ifndef SKIFF_MODEL_LIFECYCLE_H
#define SKIFF_MODEL_LIFECYCLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "id.h"
#include "model.h"
#include "redis.h"

/* Queues deployment d (with its id) of slug. A deployment of the same
 * project that is still queued (not started) is canceled as superseded; its id is written
 * to superseded (empty when none). SKIFF_ENOTFOUND when the project does not exist. */
int model_lifecycle_redeploy(struct redis *r, const char *slug, const struct deployment *d,
			     char superseded[ID_LEN + 1], struct error *err);
/* The same for a preview deployment (d->preview names pv->key): the preview record is
 * created or updated with pv's fields (key, kind, branch, git_url, title, pr, fork), and
 * the deployment still queued for that preview (not production's, not another preview's) is
 * superseded. SKIFF_ECONFLICT (preview_taken) when another branch holds the key,
 * SKIFF_ELIMIT (too_many_previews) for a new preview of a project with PREVIEW_OPEN_MAX. */
int model_lifecycle_preview_deploy(struct redis *r, const char *slug, const struct deployment *d,
				   const struct preview *pv, char superseded[ID_LEN + 1],
				   struct error *err);
/* Removes preview key of slug and its address; a build of it still queued is canceled (its id
 * into canceled, else ""). 1 when the preview existed, 0 when not. Its deployments stay and
 * follow retention. */
int model_lifecycle_preview_close(struct redis *r, const char *slug, const char *key,
				  char canceled[ID_LEN + 1], struct error *err);
/* Makes id (a ready deployment of slug) current; pin keeps later builds from replacing it.
 * who: the user or "api". SKIFF_ECONFLICT when not ready, of another project or a preview. The project
 * records rolled_back_from/_at/_by until a build goes live. When id is current already, only
 * the pin is set (0, no rollback recorded). */
int model_lifecycle_rollback(struct redis *r, const char *slug, const char *id, bool pin,
		       const char *who, struct error *err);
int model_lifecycle_unpin(struct redis *r, const char *slug, struct error *err);
/* Cancels a queued deployment, or one marked building whose build is gone (no lease);
 * idempotent on a canceled one; SKIFF_ECONFLICT on a finished one. A running build is asked
 * to stop instead (cancel_requested; *stopping set): it records canceled itself once its
 * processes are gone, within about a second. */
int model_lifecycle_cancel(struct redis *r, const char *id, bool *stopping, struct error *err);
/* Removes the project, its deployment records, log streams and leases. Builds still queued
 * or running are canceled first (a local build stops when its record is gone); the ECS task
 * of one is left (model_lifecycle_orphan_task) for ecs_poll to stop. Blobs go at the next
 * sweep. */
int model_lifecycle_delete(struct redis *r, const char *slug, struct error *err);

/* How long the ARN of a deleted deployment's ECS task is kept for ecs_poll. */
#define MODEL_ORPHAN_TASK_TTL_S 86400
/* The ECS task ARN a delete left for deployment id into arn: 1 when there is one, 0 when not
 * (arn empty). drop forgets it once the task is stopped. */
int model_lifecycle_orphan_task(struct redis *r, const char *id, char *arn, size_t arnlen,
				struct error *err);
void model_lifecycle_orphan_task_drop(struct redis *r, const char *id);

#endif
