/* sites.h — this web node's fast path follows switches made through any node: the bridge
 * subscribes to the switch channel (lib/model_switch.h) and drops the announced site's link
 * in fastpath_dir (lib/fastpath_switch.h). Dropping removes the tree the link named (some
 * hundred ms for 10,000 files), so it runs in a thread of its own, never in the main thread
 * that feeds the live logs. */
#ifndef SSE_SITES_H
#define SSE_SITES_H

#include "bridge.h"

#define SITES_QUEUE_MAX 1024   /* slugs waiting for the thread; past it, every link goes */

/* Starts the dropping thread when fastpath_dir is set (b->sites stays NULL otherwise). */
int sites_start(struct bridge *b);
/* On the subscriber link's (re)connection: subscribes, and once subscribed drops every link
 * (announcements made while not subscribed are lost). Nothing without fastpath_dir. */
void sites_subscribe(struct bridge *b);
/* Stops the thread after the drops already asked for, and frees it. */
void sites_stop(struct bridge *b);

#endif
