/* domains.h — skiff-dispatch's custom domain work: the ownership checks of pending domains
 * (an HTTP fetch of their token, retried with backoff) and the ACME configuration of the web
 * server (rewritten and reloaded when the live domains change). */
#ifndef SKIFF_DISPATCH_DOMAINS_H
#define SKIFF_DISPATCH_DOMAINS_H

#include "config.h"
#include "redis.h"

#define DOMAINS_TICK_MS 1000           /* between passes */
#define DOMAINS_CHECKS_MAX 4           /* checks per pass (each up to domain_check_timeout) */
#define DOMAINS_BODY_MAX 256           /* bytes read of a check's answer */
#define DOMAINS_CLIENT_TIMEOUT_S 300   /* one run of the ACME client (acme = lighttpd) */
#define DOMAINS_ORDER_RETRY_MS 60000   /* after a failed order; doubles up to an hour */

struct domains;

struct domains *domains_new(const struct config *cfg);
void domains_free(struct domains *ds);
/* One pass when due (now: monotonic ms): checks, then the ACME file. Negative when Redis
 * failed (err set). */
int domains_tick(struct domains *ds, struct redis *r, long long now, struct error *err);

#endif
