/* link.h — an async Redis connection that reconnects with backoff. */
#ifndef SSE_LINK_H
#define SSE_LINK_H

#include "bridge.h"

void link_init(struct link *l, struct bridge *b, const char *role, void (*on_up)(struct bridge *));
void link_connect(struct link *l);
void link_close(struct link *l);
/* Sends a command on the link; -1 when it is down (the callback is not called). */
int link_command(struct link *l, redisCallbackFn *fn, void *privdata, int argc,
		 const char **argv, const size_t *argvlen);
/* Called by reply callbacks of link_command, first thing. */
void link_replied(struct link *l);
/* Once a second: drop a command link whose replies stopped coming. */
void link_cron(struct link *l, int64_t now);

#endif
