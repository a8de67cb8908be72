/* model_buildhook.c — build hooks in Redis: buildhook:{id} (a hash), buildhookhash:{sha256}
 * (the hook's id) and project:{slug}:buildhooks (a zset of ids by creation time). */
#include "model_buildhook.h"
#include "clock.h"
#include "hash.h"
#include "model_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS: project, hook, hookhash, project hooks; ARGV: id, created, fields json, max. The hook
 * remembers the project's creation time: a project deleted and created again under the same
 * slug does not inherit it. */
static const char model_lua_buildhook_create[] = MODEL_LUA_HSET
	"local pc = redis.call('HGET', KEYS[1], 'created') "
	"if not pc then return -2 end "
	"if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[4]) then return -3 end "
	"hset(KEYS[2], ARGV[3]) "
	"redis.call('HSET', KEYS[2], 'project_created', pc) "
	"redis.call('SET', KEYS[3], ARGV[1]) "
	"redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1]) "
	"return 1";

/* KEYS: project hooks; ARGV: prefix. Every hook as {id, name, branch, created, last_used}. */
static const char model_lua_buildhook_list[] =
	"local out = {} "
	"for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do "
	"  local t = redis.call('HMGET', ARGV[1] .. 'buildhook:' .. id, 'name', 'branch', "
	"  'created', 'last_used') "
	"  if t[1] then out[#out+1] = {id, t[1], t[2] or '', t[3] or '0', t[4] or '0'} end "
	"end "
	"return out";

/* KEYS: hook, project hooks; ARGV: slug, id, prefix */
static const char model_lua_buildhook_delete[] =
	"local t = redis.call('HMGET', KEYS[1], 'project', 'hash') "
	"if t[1] ~= ARGV[1] then return -2 end "
	"redis.call('DEL', KEYS[1], ARGV[3] .. 'buildhookhash:' .. t[2]) "
	"redis.call('ZREM', KEYS[2], ARGV[2]) "
	"return 1";

/* KEYS: hookhash; ARGV: prefix, now */
static const char model_lua_buildhook_lookup[] =
	"local id = redis.call('GET', KEYS[1]) "
	"if not id then return -2 end "
	"local hk = ARGV[1] .. 'buildhook:' .. id "
	"local t = redis.call('HMGET', hk, 'project', 'name', 'branch', 'created', "
	"'project_created') "
	"if not t[1] then return -2 end "
	"if redis.call('HGET', ARGV[1] .. 'project:' .. t[1], 'created') ~= t[5] then return -2 end "
	"redis.call('HSET', hk, 'last_used', ARGV[2]) "
	"return {id, t[1], t[2] or '', t[3] or '', t[4] or '0', ARGV[2]}";

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
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > BUILDHOOK_NAME_MAX)
		return 0;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return 0;
	return 1;
}

static long long model_buildhook_num(const redisReply *e)
{
	char s[24];
	model_script_str(e, s, sizeof(s));
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	return end && end != s && *end == '\0' ? v : 0;
}

int model_buildhook_create(struct redis *r, const struct buildhook *h, const char *secret,
			   struct error *err)
{
	char kp[REDIS_KEY_MAX], kh[REDIS_KEY_MAX], kx[REDIS_KEY_MAX], kz[REDIS_KEY_MAX],
		hash[HASH_HEX_LEN + 1], created[24], max[16];
	hash_buffer(secret, strlen(secret), hash);
	redis_key(r, kp, "project:%s", h->project);
	redis_key(r, kh, "buildhook:%s", h->id);
	redis_key(r, kx, "buildhookhash:%s", hash);
	redis_key(r, kz, "project:%s:buildhooks", h->project);
	snprintf(created, sizeof(created), "%lld", h->created);
	snprintf(max, sizeof(max), "%d", BUILDHOOK_PER_PROJECT_MAX);
	json_t *fields = json_pack("{ssssssssss}", "project", h->project, "name", h->name, "branch",
				   h->branch, "hash", hash, "created", created);
	char *fj = model_script_json(fields);
	json_decref(fields);
	const char *args[] = { kp, kh, kx, kz, h->id, created, fj, max };
	int rc = model_script_run(r, model_lua_buildhook_create, 4, 8, args, "project", "too_many",
				  err);
	free(fj);
	if (rc == SKIFF_ECONFLICT)
		rc = error_set(err, SKIFF_ELIMIT, "too_many_build_hooks",
			       "a project has at most %d build hooks; revoke one first",
			       BUILDHOOK_PER_PROJECT_MAX);
	return rc;
}

int model_buildhook_list(struct redis *r, const char *slug, json_t **out, struct error *err)
{
	char kz[REDIS_KEY_MAX];
	redis_key(r, kz, "project:%s:buildhooks", slug);
	const char *args[] = { kz, redis_prefix(r) };
	redisReply *reply = NULL;
	*out = NULL;
	int rc = model_script_reply(r, model_lua_buildhook_list, 1, 2, args, &reply, err);
	if (rc < 0)
		return rc;
	json_t *list = json_array();
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		redisReply *e = reply->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 5)
			continue;
		char id[ID_LEN + 1], name[BUILDHOOK_NAME_MAX + 1], branch[BRANCH_MAX + 1];
		model_script_str(e->element[0], id, sizeof(id));
		model_script_str(e->element[1], name, sizeof(name));
		model_script_str(e->element[2], branch, sizeof(branch));
		long long used = model_buildhook_num(e->element[4]);
		json_t *h = json_pack("{sssssssI}", "id", id, "name", name, "branch", branch,
				      "created", (json_int_t)model_buildhook_num(e->element[3]));
		json_object_set_new(h, "lastUsed", used ? json_integer(used) : json_null());
		json_array_append_new(list, h);
	}
	freeReplyObject(reply);
	*out = list;
	return 0;
}

int model_buildhook_delete(struct redis *r, const char *slug, const char *id, struct error *err)
{
	char kh[REDIS_KEY_MAX], kz[REDIS_KEY_MAX];
	redis_key(r, kh, "buildhook:%s", id);
	redis_key(r, kz, "project:%s:buildhooks", slug);
	const char *args[] = { kh, kz, slug, id, redis_prefix(r) };
	int rc = model_script_run(r, model_lua_buildhook_delete, 2, 5, args, "build hook", "", err);
	if (rc == SKIFF_ENOTFOUND)
		error_set(err, SKIFF_ENOTFOUND, "unknown_build_hook", "project %s has no build hook %s",
			  slug, id);
	return rc;
}

int model_buildhook_lookup(struct redis *r, const char *secret, struct buildhook *out,
			   struct error *err)
{
	char kx[REDIS_KEY_MAX], hash[HASH_HEX_LEN + 1], now[24];
	memset(out, 0, sizeof(*out));
	hash_buffer(secret, strlen(secret), hash);
	redis_key(r, kx, "buildhookhash:%s", hash);
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	const char *args[] = { kx, redis_prefix(r), now };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_buildhook_lookup, 1, 3, args, &reply, err);
	if (rc < 0)
		return rc;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 6) {
		freeReplyObject(reply);
		return error_set(err, SKIFF_ENOTFOUND, "unknown_build_hook",
				 "no such build hook (revoked, or never issued)");
	}
	model_script_str(reply->element[0], out->id, sizeof(out->id));
	model_script_str(reply->element[1], out->project, sizeof(out->project));
	model_script_str(reply->element[2], out->name, sizeof(out->name));
	model_script_str(reply->element[3], out->branch, sizeof(out->branch));
	out->created = model_buildhook_num(reply->element[4]);
	out->last_used = model_buildhook_num(reply->element[5]);
	freeReplyObject(reply);
	return 0;
}
