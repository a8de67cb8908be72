/* dispatch.h — skiff-dispatch's state: the running build processes it launched (children.h
 * and launch_ecs.h declare what acts on it). */
#ifndef SKIFF_DISPATCH_H
#define SKIFF_DISPATCH_H

#include <stdbool.h>
#include <sys/types.h>
#include "config.h"
#include "ecs.h"
#include "id.h"
#include "model_queue.h"
#include "redis.h"

#define DISPATCH_MAX_CHILDREN 256      /* config concurrency's upper bound */
#define DISPATCH_GRACE_S 10            /* on SIGTERM, wait this long for running builds */
#define DISPATCH_BACKOFF_MIN_MS 100
#define DISPATCH_BACKOFF_MAX_MS 5000
#define DISPATCH_GC_CHECK_MS 60000     /* how often a dispatcher asks whether a sweep is due */

struct dispatch_child {
	pid_t pid;                      /* 0 when the slot is free */
	char id[ID_LEN + 1];
	char token[MODEL_CLAIM_MAX];    /* its claim (model_queue.h) */
	bool ended;                     /* reaped; the deployment still needs finishing */
	int status;                     /* wait status once ended */
	bool swept;                     /* what it left (processes, work directory) removed */
};

struct dispatch {
	const struct config *cfg;
	const char *config_path;        /* passed on to skiff-build as -c, may be NULL */
	struct redis *redis;
	char owner[MODEL_OWNER_LEN + 1]; /* this process's dispatcher id (claims, heartbeat) */
	struct dispatch_child children[DISPATCH_MAX_CHILDREN];
	long running;                   /* slots in use (running or ended but unfinished) */
	bool stopping;                  /* SIGTERM: builds that end now were stopped by it */
	/* launcher = ecs: builds are Fargate tasks, polled instead of reaped */
	struct ecs *ecs;
	char ecs_ids[DISPATCH_MAX_CHILDREN][ID_LEN + 1];   /* their deployments; "" = free */
	char ecs_tokens[DISPATCH_MAX_CHILDREN][MODEL_CLAIM_MAX]; /* and their claims */
	long long ecs_next_poll;
};

#endif
