/* model_buildhook.c — build hooks in Redis: buildhook:{id} (a hash), buildhookhash:{sha256}
 * (the hook's id) and project:{slug}:buildhooks (a zset of ids by creation time), kept by
 * model_credential.c. */
#include "model_buildhook.h"
#include "model_credential.h"

#include <string.h>

static const struct model_credential_kind model_buildhook_kind = {
	.record = "buildhook",
	.index = "buildhookhash",
	.list = "buildhooks",
	.field = "branch",
	.noun = "build hook",
	.too_many = "too_many_build_hooks",
	.unknown = "unknown_build_hook",
	.invalid = "unknown_build_hook",
	.invalid_message = "no such build hook (revoked, or never issued)",
	.per_project_max = BUILDHOOK_PER_PROJECT_MAX,
	.touch_ms = 0,
};

void model_buildhook_secret_new(char out[BUILDHOOK_SECRET_LEN + 1])
{
	id_secret_new("", out, BUILDHOOK_SECRET_LEN);
}

int model_buildhook_secret_valid(const char *s)
{
	return id_secret_valid("", BUILDHOOK_SECRET_LEN, s);
}

int model_buildhook_name_valid(const char *name)
{
	return model_credential_name_valid(name);
}

int model_buildhook_create(struct redis *r, const struct buildhook *h, const char *secret,
			   struct error *err)
{
	struct credential c;
	MODEL_CREDENTIAL_COPY(&c, h);
	return model_credential_create(r, &model_buildhook_kind, &c, h->branch, secret, err);
}

int model_buildhook_list(struct redis *r, const char *slug, json_t **out, struct error *err)
{
	return model_credential_list(r, &model_buildhook_kind, slug, out, err);
}

int model_buildhook_delete(struct redis *r, const char *slug, const char *id, struct error *err)
{
	return model_credential_delete(r, &model_buildhook_kind, slug, id, err);
}

int model_buildhook_lookup(struct redis *r, const char *secret, struct buildhook *out,
			   struct error *err)
{
	struct credential c;
	memset(out, 0, sizeof(*out));
	int rc = model_credential_lookup(r, &model_buildhook_kind, secret, &c, out->branch,
					 sizeof(out->branch), err);
	if (rc < 0)
		return rc;
	MODEL_CREDENTIAL_COPY(out, &c);
	return 0;
}
