/* lease.h — the deployment's lease, renewed from a thread. */
#ifndef SKIFF_BUILD_LEASE_H
#define SKIFF_BUILD_LEASE_H

#include "build.h"

/* Renews the lease every lease_ttl/3 s from a thread with its own Redis connection,
 * and sets b->stop when the deployment was canceled. */
int build_lease_start(struct build *b, struct error *err);
void build_lease_stop(struct build *b);

#endif
