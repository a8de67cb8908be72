/* launch_ecs.h — builds run as ECS tasks: launch, poll, adopt. */
#ifndef SKIFF_DISPATCH_LAUNCH_ECS_H
#define SKIFF_DISPATCH_LAUNCH_ECS_H

#include "dispatch.h"

/* launch_ecs.c: RunTask of a claimed id; DescribeTasks of the launched ones (every few
 * seconds, from dispatch_reap), renewing their leases while their tasks run or wait to
 * start; taking over ECS builds of a dispatcher that stopped (their lease expired). */
int dispatch_ecs_launch(struct dispatch *d, const char *id, const char *token);
void dispatch_ecs_poll(struct dispatch *d);
int dispatch_ecs_adopt(struct dispatch *d, const char *id);

#endif
