/* children.h — builds run as local child processes: launch, reap, lease scan. */
#ifndef SKIFF_DISPATCH_CHILDREN_H
#define SKIFF_DISPATCH_CHILDREN_H

#include "dispatch.h"

/* Starts skiff-build for an id claimed with token (the claim set its first lease; the
 * build gets the token as SKIFF_LEASE_TOKEN). 0, or negative when it could not start (the
 * id stays active and its lease expires: the scan queues it again). */
int dispatch_launch(struct dispatch *d, const char *id, const char *token);
/* Reaps exited builds and finishes their bookkeeping: a build that died without a final
 * state is marked error, and the id leaves the active list. Retries pending bookkeeping. */
void dispatch_reap(struct dispatch *d);
/* SIGTERM to every running local build, up to grace_s seconds for them to record their end,
 * then SIGKILL; each is marked and what it left is removed. */
void dispatch_stop_children(struct dispatch *d, long grace_s);
/* Renews this dispatcher's heartbeat (putting back what dead dispatchers had popped but not
 * claimed), queues again builds in the active list whose lease expired (ending in error
 * after MODEL_QUEUE_ATTEMPTS), and drops finished ids from the active list. Safe with any
 * number of dispatchers (model_queue.h). 0, or negative when Redis failed. */
int dispatch_scan(struct dispatch *d);
/* 1 when id is one of our children. */
int dispatch_is_child(const struct dispatch *d, const char *id);

#endif
