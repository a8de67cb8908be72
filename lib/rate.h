/* rate.h — rate limits of the requests that cost a build or a Redis write: project creation,
 * redeploys and webhook deliveries, per client address and per project, from skiff.conf. */
#ifndef SKIFF_RATE_H
#define SKIFF_RATE_H

#include "config.h"
#include "error.h"
#include "redis.h"
#include "request.h"
#include "response.h"

enum rate_kind {
	RATE_CREATE,   /* POST /api/projects: rate_limit_create per address */
	RATE_DEPLOY,   /* redeploys: rate_limit_deploy per address, _deploy_project per project */
	RATE_HOOK,     /* webhook deliveries: rate_limit_hook per address, _hook_project per project */
};

/* Counts one request of kind from client address addr (REMOTE_ADDR; NULL or "" counts as
 * "-") when slug is NULL, or for project slug otherwise. SKIFF_ERATE ("rate_limited", the
 * message says which limit) with *retry_after (seconds, at least 1) when over the configured
 * limit; 0 when within it or when that limit is 0 (off). Redis errors propagate. */
int rate_check(struct redis *r, const struct config *cfg, enum rate_kind kind, const char *addr,
	       const char *slug, long *retry_after, struct error *err);

/* rate_check for a request: the address is REMOTE_ADDR; on SKIFF_ERATE the response carries
 * Retry-After (the caller answers with its error: 429 and the JSON error). */
int rate_request(struct http_request *req, struct http_response *resp, struct redis *r,
		 enum rate_kind kind, const char *slug, struct error *err);

#endif
