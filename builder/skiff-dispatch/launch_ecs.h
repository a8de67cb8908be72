/* launch_ecs.h — builds run as ECS tasks: launch, poll, adopt. */
#ifndef SKIFF_DISPATCH_LAUNCH_ECS_H
#define SKIFF_DISPATCH_LAUNCH_ECS_H

#include "dispatch.h"

/* launch_ecs.c: RunTask of a popped id; DescribeTasks of the launched ones (every
 * few seconds, from dispatch_reap); taking over ECS builds of an earlier dispatcher. */
int dispatch_ecs_launch(struct dispatch *d, const char *id);
void dispatch_ecs_poll(struct dispatch *d);
int dispatch_ecs_adopt(struct dispatch *d, const char *id);

#endif
