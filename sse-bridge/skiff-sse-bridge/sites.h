/* sites.h — this web node's fast path follows switches made through any node: the bridge
 * subscribes to the switch channel (lib/model_switch.h) and drops the announced site's link
 * in fastpath_dir (lib/fastpath_switch.h). */
#ifndef SSE_SITES_H
#define SSE_SITES_H

#include "bridge.h"

/* On the subscriber link's (re)connection: subscribes, and once subscribed drops every link
 * (announcements made while not subscribed are lost). Nothing when fastpath_dir is empty. */
void sites_subscribe(struct bridge *b);

#endif
