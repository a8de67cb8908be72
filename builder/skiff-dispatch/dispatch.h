/* dispatch.h — skiff-dispatch's state: the running build processes it launched. */
#ifndef SKIFF_DISPATCH_H
#define SKIFF_DISPATCH_H

#include <stdbool.h>
#include <sys/types.h>
#include "config.h"
#include "ecs.h"
#include "id.h"
#include "redis.h"

#define DISPATCH_MAX_CHILDREN 256      /* config concurrency's upper bound */
#define DISPATCH_GRACE_S 10            /* on SIGTERM, wait this long for running builds */
#define DISPATCH_BACKOFF_MIN_MS 100
#define DISPATCH_BACKOFF_MAX_MS 5000

struct dispatch_child {
	pid_t pid;                      /* 0 when the slot is free */
	char id[ID_LEN + 1];
	bool ended;                     /* reaped; the deployment still needs finishing */
	int status;                     /* wait status once ended */
	bool swept;                     /* what it left (processes, work directory) removed */
};

struct dispatch {
	const struct config *cfg;
	const char *config_path;        /* passed on to skiff-build as -c, may be NULL */
	struct redis *redis;
	struct dispatch_child children[DISPATCH_MAX_CHILDREN];
	long running;                   /* slots in use (running or ended but unfinished) */
	bool stopping;                  /* SIGTERM: builds that end now were stopped by it */
	/* launcher = ecs (issue 5): builds are Fargate tasks, polled instead of reaped */
	struct ecs *ecs;
	char ecs_ids[DISPATCH_MAX_CHILDREN][ID_LEN + 1];   /* their deployments; "" = free */
	long long ecs_next_poll;
};

/* Starts skiff-build for a popped id (after setting its first lease). 0, or negative when
 * Redis failed (the id stays in the active list and is retried by the lease scan). */
int dispatch_launch(struct dispatch *d, const char *id);
/* Reaps exited builds and finishes their bookkeeping: a build that died without a final
 * state is marked error, and the id leaves the active list. Retries pending bookkeeping. */
void dispatch_reap(struct dispatch *d);
/* SIGTERM to every running local build, up to grace_s seconds for them to record their end,
 * then SIGKILL; each is marked and what it left is removed. */
void dispatch_stop_children(struct dispatch *d, long grace_s);
/* Marks builds in the active list whose lease expired (and that are not ours) as lost, and
 * drops finished ids from the active list. 0, or negative when Redis failed. */
int dispatch_scan(struct dispatch *d);
/* launch_ecs.c (issue 5): RunTask of a popped id; DescribeTasks of the launched ones (every
 * few seconds, from dispatch_reap); taking over ECS builds of an earlier dispatcher. */
int dispatch_ecs_launch(struct dispatch *d, const char *id);
void dispatch_ecs_poll(struct dispatch *d);
int dispatch_ecs_adopt(struct dispatch *d, const char *id);
/* 1 when id is one of our children. */
int dispatch_is_child(const struct dispatch *d, const char *id);

#endif
