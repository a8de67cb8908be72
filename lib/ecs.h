/* ecs.h — the ECS (Fargate) launcher of skiff-dispatch: one RunTask per build, DescribeTasks
 * polling that notices tasks which died without finishing their build, StopTask on cancel.
 * Calls are signed SigV4 (aws:amz:{region}:ecs), throttling is retried with backoff, and
 * RunTask is paced by a token bucket (ecs_run_rate, under the account's 20 calls/s). */
#ifndef SKIFF_ECS_H
#define SKIFF_ECS_H

#include <jansson.h>
#include <stddef.h>
#include "config.h"
#include "error.h"
#include "redis.h"

#define ECS_ARN_MAX 256
#define ECS_BATCH 100          /* DescribeTasks takes at most 100 tasks */

struct ecs;

/* Reads the launcher settings (config.h: ecs_cluster, ecs_task_definition, ...) and
 * checks that the required ones are set. */
int ecs_new(struct ecs **out, const struct config *cfg, struct error *err);
void ecs_free(struct ecs *e);

/* RunTask of deployment id's build: FARGATE (or the ecs_capacity_providers strategy, e.g.
 * Fargate Spot), the configured network, container overrides carrying only the deployment id,
 * the API's URL and a build token minted for this launch (model_buildtoken.h; skiff-build
 * --remote speaks the deploy protocol with it: no Redis, no store); clientToken = id and a hash of the other parameters, so
 * a repeated launch never starts a second task. On success (0) the deployment record gets
 * launcher=ecs, task_arn and launched (the task's createdAt, ms). A temporary capacity
 * shortage (failures[] with a RESOURCE:* or capacity reason, or throttling beyond the
 * retries) returns 1: the build stays queued with a line in its log, and ecs_poll asks again
 * with backoff, within ecs_start_timeout. Any other failure marks the deployment error (with
 * the reason) and is returned. */
int ecs_launch(struct ecs *e, struct redis *r, const char *id, struct error *err);

enum ecs_poll_result {
	ECS_POLL_RUNNING = 0,  /* the build goes on: poll again */
	ECS_POLL_DONE = 1,     /* the deployment is final (by the build, or marked here): forget it */
};

/* Checks the builds ids[0..n) launched on ECS (one DescribeTasks per 100). For each one:
 * a final deployment is DONE (a canceled one's task is stopped if it still runs); a deleted
 * one (no record) has its task stopped from the ARN model_lifecycle_delete left; a task that
 * STOPPED while the build was not final marks the deployment error with the stop reason and
 * the container's exit code; a build still queued ecs_start_timeout seconds after launch is
 * stopped and marked error; a build waiting for capacity is launched again when its backoff
 * is over. The exit code is the one of the container named ecs_container, wherever ECS lists
 * it. results[i] receives the outcome of ids[i]. */
int ecs_poll(struct ecs *e, struct redis *r, const char *const *ids, size_t n,
	     enum ecs_poll_result *results, struct error *err);

/* StopTask (cancel). reason is shown by ECS as the task's stoppedReason. */
int ecs_stop(struct ecs *e, const char *task_arn, const char *reason, struct error *err);

/* One call of the ECS API (target without the service prefix, e.g. "DescribeTasks"),
 * retried on throttling, 5xx and transport errors. *out is the caller's. */
int ecs_call(struct ecs *e, const char *target, json_t *request, json_t **out,
	     struct error *err);

/* The RunTask request body for deployment id, whose task gets build_token (exposed for
 * tests). */
json_t *ecs_run_request(const struct ecs *e, const char *id, const char *build_token);

#endif
