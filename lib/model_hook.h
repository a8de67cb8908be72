/* model_hook.h — what webhooks keep in Redis: the index of projects by repository
 * (hookrepo:{sha256 of the normalised URL}, a set of slugs: URLs are too long for key names),
 * the delivery ids already handled (delivery:{id}, with a TTL), and the project fields a
 * delivery is checked against. */
#ifndef SKIFF_MODEL_HOOK_H
#define SKIFF_MODEL_HOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "model.h"
#include "redis.h"

/* Adds slug to (add true) or removes it from the index entry of the URL whose hash is
 * url_hash. */
int model_hook_index_change(struct redis *r, const char *url_hash, const char *slug, bool add,
			    struct error *err);
/* At most max slugs of the entry url_hash into *slugs (the caller's). */
int model_hook_index_members(struct redis *r, const char *url_hash, int max, json_t **slugs,
			     struct error *err);
/* Remembers delivery for ttl_s seconds: 1 when it was new, 0 for a replay. */
int model_hook_delivery_claim(struct redis *r, const char *delivery, int ttl_s,
			      struct error *err);
/* Forgets delivery (its handling failed: GitHub's redelivery must not count as a replay). */
void model_hook_delivery_forget(struct redis *r, const char *delivery);
/* The fields of a project a delivery is checked against and acted on. */
struct model_hook_project {
	char git_url[GIT_URL_MAX + 1];
	char branch[BRANCH_MAX + 1];
	char secret[MODEL_SECRET_MAX + 1];
	char previews[PREVIEW_SETTING_MAX + 1];
	bool preview_forks;
};
/* Those fields of project slug into *out: 1 when the project exists (each field "" when
 * missing or too long for its buffer), 0 when not. */
int model_hook_project(struct redis *r, const char *slug, struct model_hook_project *out,
		       struct error *err);

#endif
