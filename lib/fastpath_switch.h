/* fastpath_switch.h — the fast path on several web nodes. Each node has its own fastpath_dir,
 * and a node's web server answers warm hits from it without asking skiff-serve, so a switch
 * made through another node (promote, rollback, deletion, primary domain) must reach every
 * node's tree. The writer drops its own node's link and announces the slug on Redis
 * (model_switch.h); skiff-sse-bridge, one per web node, drops the link of every slug
 * announced, and every link when it (re)subscribes, having perhaps missed announcements.
 * Each node's skiff-serve links the current deployment again on the site's next request. */
#ifndef SKIFF_FASTPATH_SWITCH_H
#define SKIFF_FASTPATH_SWITCH_H

#include "config.h"
#include "redis.h"

/* After the write that changed slug's site: drops this node's link (fastpath_drop) and
 * tells the other nodes, also when this node has no fastpath_dir. A failed announcement is
 * logged: the other nodes then keep the old tree until their bridge subscribes again. */
void fastpath_switch_announce(struct redis *r, const struct config *cfg, const char *slug);
/* Drops the link of every site in dir (none when dir is ""); returns how many. */
int fastpath_switch_drop_all(const char *dir);

#endif
