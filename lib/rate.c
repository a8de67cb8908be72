/* rate.c — which limit applies to a request, and the refusal with its Retry-After. */
#include "rate.h"
#include "model_rate.h"

#include <stdio.h>
#include <string.h>

struct rate_rule {
	const char *scope;   /* counter scope: "{kind}:{addr|project}" */
	const char *what;    /* for the message */
};

static const struct rate_rule rate_rules[][2] = {
	[RATE_CREATE] = { { "create:addr", "project creations from this address" },
			  { "create:project", "project creations" } }, /* no per-project limit */
	[RATE_DEPLOY] = { { "deploy:addr", "redeploys from this address" },
			  { "deploy:project", "redeploys of this project" } },
	[RATE_HOOK] = { { "hook:addr", "webhook deliveries from this address" },
			{ "hook:project", "webhook deliveries for this project" } },
};

static long rate_limit(const struct config *cfg, enum rate_kind kind, bool per_project)
{
	switch (kind) {
	case RATE_CREATE:
		return per_project ? 0 : cfg->rate_limit_create;
	case RATE_DEPLOY:
		return per_project ? cfg->rate_limit_deploy_project : cfg->rate_limit_deploy;
	case RATE_HOOK:
		return per_project ? cfg->rate_limit_hook_project : cfg->rate_limit_hook;
	}
	return 0;
}

/* The address as a key part: what the web server put in REMOTE_ADDR, checked to be an
 * address (digits, hex, '.', ':'), else one shared "-" bucket (a CGI run from a shell). */
static const char *rate_addr(const char *addr)
{
	size_t n = addr ? strlen(addr) : 0;
	if (n == 0 || n > MODEL_RATE_WHO_MAX || strspn(addr, "0123456789abcdefABCDEF.:") != n)
		return "-";
	return addr;
}

int rate_check(struct redis *r, const struct config *cfg, enum rate_kind kind, const char *addr,
	       const char *slug, long *retry_after, struct error *err)
{
	bool per_project = slug != NULL;
	long limit = rate_limit(cfg, kind, per_project);
	*retry_after = 0;
	if (limit <= 0)
		return 0;
	const struct rate_rule *rule = &rate_rules[kind][per_project];
	long long count = 0, reset_ms = 0;
	int rc = model_rate_hit(r, rule->scope, per_project ? slug : rate_addr(addr),
				cfg->rate_limit_window, &count, &reset_ms, err);
	if (rc < 0 || count <= limit)
		return rc;
	*retry_after = (long)((reset_ms + 999) / 1000);
	if (*retry_after < 1)
		*retry_after = 1;
	return error_set(err, SKIFF_ERATE, "rate_limited",
			 "too many %s: at most %ld in %ld s; retry in %ld s", rule->what, limit,
			 cfg->rate_limit_window, *retry_after);
}

int rate_request(struct http_request *req, struct http_response *resp, struct redis *r,
		 enum rate_kind kind, const char *slug, struct error *err)
{
	long retry_after;
	int rc = rate_check(r, req->cfg, kind, request_param(req, "REMOTE_ADDR"), slug, &retry_after,
			    err);
	if (rc == SKIFF_ERATE)
		response_header(resp, "Retry-After", "%ld", retry_after);
	return rc;
}
