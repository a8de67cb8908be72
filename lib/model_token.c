/* model_token.c — project deploy tokens in Redis: token:{id} (a hash), tokenhash:{sha256} (the
 * token id) and project:{slug}:tokens (a zset of ids by creation time). */
#include "model_token.h"
#include "clock.h"
#include "model.h"
#include "model_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS: project, token, tokenhash, project tokens
 * ARGV: id, created, fields json, max. The token remembers the project's own creation time, so
 * that a project deleted and created again under the same slug does not inherit it. */
static const char model_lua_token_create[] = MODEL_LUA_HSET
	"local pc = redis.call('HGET', KEYS[1], 'created') "
	"if not pc then return -2 end "
	"if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[4]) then return -3 end "
	"hset(KEYS[2], ARGV[3]) "
	"redis.call('HSET', KEYS[2], 'project_created', pc) "
	"redis.call('SET', KEYS[3], ARGV[1]) "
	"redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1]) "
	"return 1";

/* KEYS: project tokens; ARGV: prefix. Every token as {id, name, scope, created, last_used}. */
static const char model_lua_token_list[] =
	"local out = {} "
	"for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do "
	"  local t = redis.call('HMGET', ARGV[1] .. 'token:' .. id, 'name', 'scope', 'created', "
	"  'last_used') "
	"  if t[1] then out[#out+1] = {id, t[1], t[2] or '', t[3] or '0', t[4] or '0'} end "
	"end "
	"return out";

/* KEYS: token, project tokens; ARGV: slug, id, prefix */
static const char model_lua_token_delete[] =
	"local t = redis.call('HMGET', KEYS[1], 'project', 'hash') "
	"if t[1] ~= ARGV[1] then return -2 end "
	"redis.call('DEL', KEYS[1], ARGV[3] .. 'tokenhash:' .. t[2]) "
	"redis.call('ZREM', KEYS[2], ARGV[2]) "
	"return 1";

/* KEYS: tokenhash; ARGV: prefix, now, touch interval. */
static const char model_lua_token_lookup[] =
	"local id = redis.call('GET', KEYS[1]) "
	"if not id then return -2 end "
	"local tk = ARGV[1] .. 'token:' .. id "
	"local t = redis.call('HMGET', tk, 'project', 'name', 'scope', 'created', 'last_used', "
	"'project_created') "
	"if not t[1] then return -2 end "
	"local pc = redis.call('HGET', ARGV[1] .. 'project:' .. t[1], 'created') "
	"if pc ~= t[6] then return -2 end "
	"local used = t[5] or '0' "
	"if tonumber(ARGV[2]) - tonumber(used) >= tonumber(ARGV[3]) then "
	"  redis.call('HSET', tk, 'last_used', ARGV[2]) used = ARGV[2] "
	"end "
	"return {id, t[1], t[2] or '', t[3] or '', t[4] or '0', used}";

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
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > TOKEN_NAME_MAX)
		return 0;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return 0;
	return 1;
}

static long long model_token_num(const redisReply *e)
{
	char s[24];
	model_script_str(e, s, sizeof(s));
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	return end && end != s && *end == '\0' ? v : 0;
}

int model_token_create(struct redis *r, const struct token *t, const char *secret,
		       struct error *err)
{
	char kp[REDIS_KEY_MAX], kt[REDIS_KEY_MAX], kh[REDIS_KEY_MAX], kz[REDIS_KEY_MAX],
		hash[HASH_HEX_LEN + 1], created[24], max[16];
	hash_buffer(secret, strlen(secret), hash);
	redis_key(r, kp, "project:%s", t->project);
	redis_key(r, kt, "token:%s", t->id);
	redis_key(r, kh, "tokenhash:%s", hash);
	redis_key(r, kz, "project:%s:tokens", t->project);
	snprintf(created, sizeof(created), "%lld", t->created);
	snprintf(max, sizeof(max), "%d", TOKEN_PER_PROJECT_MAX);
	json_t *fields = json_pack("{ssssssssss}", "project", t->project, "name", t->name, "scope",
				   t->scope, "hash", hash, "created", created);
	char *fj = model_script_json(fields);
	json_decref(fields);
	const char *args[] = { kp, kt, kh, kz, t->id, created, fj, max };
	int rc = model_script_run(r, model_lua_token_create, 4, 8, args, "project", "too_many", err);
	free(fj);
	if (rc == SKIFF_ECONFLICT)
		rc = error_set(err, SKIFF_ELIMIT, "too_many_tokens",
			       "a project has at most %d tokens; revoke one first",
			       TOKEN_PER_PROJECT_MAX);
	return rc;
}

int model_token_list(struct redis *r, const char *slug, json_t **out, struct error *err)
{
	char kz[REDIS_KEY_MAX];
	redis_key(r, kz, "project:%s:tokens", slug);
	const char *args[] = { kz, redis_prefix(r) };
	redisReply *reply = NULL;
	*out = NULL;
	int rc = model_script_reply(r, model_lua_token_list, 1, 2, args, &reply, err);
	if (rc < 0)
		return rc;
	json_t *list = json_array();
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		redisReply *e = reply->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 5)
			continue;
		char id[ID_LEN + 1], name[TOKEN_NAME_MAX + 1], scope[TOKEN_SCOPE_MAX + 1];
		model_script_str(e->element[0], id, sizeof(id));
		model_script_str(e->element[1], name, sizeof(name));
		model_script_str(e->element[2], scope, sizeof(scope));
		long long used = model_token_num(e->element[4]);
		json_t *t = json_pack("{sssssssI}", "id", id, "name", name, "scope", scope, "created",
				      (json_int_t)model_token_num(e->element[3]));
		json_object_set_new(t, "lastUsed", used ? json_integer(used) : json_null());
		json_array_append_new(list, t);
	}
	freeReplyObject(reply);
	*out = list;
	return 0;
}

int model_token_delete(struct redis *r, const char *slug, const char *id, struct error *err)
{
	char kt[REDIS_KEY_MAX], kz[REDIS_KEY_MAX];
	redis_key(r, kt, "token:%s", id);
	redis_key(r, kz, "project:%s:tokens", slug);
	const char *args[] = { kt, kz, slug, id, redis_prefix(r) };
	int rc = model_script_run(r, model_lua_token_delete, 2, 5, args, "token", "", err);
	if (rc == SKIFF_ENOTFOUND)
		error_set(err, SKIFF_ENOTFOUND, "unknown_token", "project %s has no token %s", slug, id);
	return rc;
}

int model_token_lookup(struct redis *r, const char *secret, struct token *out,
		       struct error *err)
{
	char kh[REDIS_KEY_MAX], hash[HASH_HEX_LEN + 1], now[24], touch[16];
	memset(out, 0, sizeof(*out));
	hash_buffer(secret, strlen(secret), hash);
	redis_key(r, kh, "tokenhash:%s", hash);
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	snprintf(touch, sizeof(touch), "%d", TOKEN_TOUCH_MS);
	const char *args[] = { kh, redis_prefix(r), now, touch };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_token_lookup, 1, 4, args, &reply, err);
	if (rc < 0)
		return rc;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 6) {
		freeReplyObject(reply);
		return error_set(err, SKIFF_ENOTFOUND, "invalid_token", "the token is not valid");
	}
	model_script_str(reply->element[0], out->id, sizeof(out->id));
	model_script_str(reply->element[1], out->project, sizeof(out->project));
	model_script_str(reply->element[2], out->name, sizeof(out->name));
	model_script_str(reply->element[3], out->scope, sizeof(out->scope));
	out->created = model_token_num(reply->element[4]);
	out->last_used = model_token_num(reply->element[5]);
	freeReplyObject(reply);
	return 0;
}
