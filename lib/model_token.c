/* model_token.c — project deploy tokens in Redis: token:{id} (a hash), tokenhash:{sha256} (the
 * token id) and project:{slug}:tokens (a zset of ids by creation time), kept by
 * model_credential.c. */
#include "model_token.h"
#include "model_credential.h"

#include <string.h>

static const struct model_credential_kind model_token_kind = {
	.record = "token",
	.index = "tokenhash",
	.list = "tokens",
	.field = "scope",
	.noun = "token",
	.too_many = "too_many_tokens",
	.unknown = "unknown_token",
	.invalid = "invalid_token",
	.invalid_message = "the token is not valid",
	.per_project_max = TOKEN_PER_PROJECT_MAX,
	.touch_ms = TOKEN_TOUCH_MS,
};

void model_token_secret_new(char out[TOKEN_LEN + 1])
{
	id_secret_new(TOKEN_PREFIX, out, TOKEN_LEN);
}

int model_token_secret_valid(const char *s)
{
	return id_secret_valid(TOKEN_PREFIX, TOKEN_LEN, s);
}

int model_token_scope_valid(const char *scope)
{
	return scope && (!strcmp(scope, "deploy") || !strcmp(scope, "preview"));
}

int model_token_name_valid(const char *name)
{
	return model_credential_name_valid(name);
}

int model_token_create(struct redis *r, const struct token *t, const char *secret,
		       struct error *err)
{
	struct credential c;
	MODEL_CREDENTIAL_COPY(&c, t);
	return model_credential_create(r, &model_token_kind, &c, t->scope, secret, err);
}

int model_token_list(struct redis *r, const char *slug, json_t **out, struct error *err)
{
	return model_credential_list(r, &model_token_kind, slug, out, err);
}

int model_token_delete(struct redis *r, const char *slug, const char *id, struct error *err)
{
	return model_credential_delete(r, &model_token_kind, slug, id, err);
}

int model_token_lookup(struct redis *r, const char *secret, struct token *out,
		       struct error *err)
{
	struct credential c;
	memset(out, 0, sizeof(*out));
	int rc = model_credential_lookup(r, &model_token_kind, secret, &c, out->scope,
					 sizeof(out->scope), err);
	if (rc < 0)
		return rc;
	MODEL_CREDENTIAL_COPY(out, &c);
	return 0;
}
