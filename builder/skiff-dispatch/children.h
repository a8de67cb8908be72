/* children.h — builds run as local child processes: launch, reap, lease scan. */
#ifndef SKIFF_DISPATCH_CHILDREN_H
#define SKIFF_DISPATCH_CHILDREN_H

#include "dispatch.h"

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
/* 1 when id is one of our children. */
int dispatch_is_child(const struct dispatch *d, const char *id);

#endif
