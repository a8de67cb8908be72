/* model_credential.c — per-project credentials shown once and kept as their SHA-256: the
 * Redis mechanism that deploy tokens and build hooks share, one kind table each. */
#include "model_credential.h"
#include "clock.h"
#include "hash.h"
#include "model_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS: project, record, index, project list; ARGV: id, created, fields json, max. The record
 * remembers the project's own creation time, so that a project deleted and created again
 * under the same slug does not inherit it. */
static const char model_lua_credential_create[] = MODEL_LUA_HSET
	"local pc = redis.call('HGET', KEYS[1], 'created') "
	"if not pc then return -2 end "
	"if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[4]) then return -3 end "
	"hset(KEYS[2], ARGV[3]) "
	"redis.call('HSET', KEYS[2], 'project_created', pc) "
	"redis.call('SET', KEYS[3], ARGV[1]) "
	"redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1]) "
	"return 1";

/* KEYS: project list; ARGV: record key prefix, field. Each as {id, name, field, created,
 * last_used}. */
static const char model_lua_credential_list[] =
	"local out = {} "
	"for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do "
	"  local t = redis.call('HMGET', ARGV[1] .. id, 'name', ARGV[2], 'created', 'last_used') "
	"  if t[1] then out[#out+1] = {id, t[1], t[2] or '', t[3] or '0', t[4] or '0'} end "
	"end "
	"return out";

/* KEYS: record, project list; ARGV: slug, id, index key prefix */
static const char model_lua_credential_delete[] =
	"local t = redis.call('HMGET', KEYS[1], 'project', 'hash') "
	"if t[1] ~= ARGV[1] then return -2 end "
	"redis.call('DEL', KEYS[1], ARGV[3] .. t[2]) "
	"redis.call('ZREM', KEYS[2], ARGV[2]) "
	"return 1";

/* KEYS: index; ARGV: record key prefix, project key prefix, now, touch interval, field */
static const char model_lua_credential_lookup[] =
	"local id = redis.call('GET', KEYS[1]) "
	"if not id then return -2 end "
	"local rk = ARGV[1] .. id "
	"local t = redis.call('HMGET', rk, 'project', 'name', ARGV[5], 'created', 'last_used', "
	"'project_created') "
	"if not t[1] then return -2 end "
	"if redis.call('HGET', ARGV[2] .. t[1], 'created') ~= t[6] then return -2 end "
	"local used = t[5] or '0' "
	"local touch = tonumber(ARGV[4]) "
	"if touch == 0 or tonumber(ARGV[3]) - tonumber(used) >= touch then "
	"  redis.call('HSET', rk, 'last_used', ARGV[3]) used = ARGV[3] "
	"end "
	"return {id, t[1], t[2] or '', t[3] or '', t[4] or '0', used}";

int model_credential_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > CREDENTIAL_NAME_MAX)
		return 0;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return 0;
	return 1;
}

int model_credential_create(struct redis *r, const struct model_credential_kind *k,
			    const struct credential *c, const char *field, const char *secret,
			    struct error *err)
{
	char kp[REDIS_KEY_MAX], kr[REDIS_KEY_MAX], kx[REDIS_KEY_MAX], kz[REDIS_KEY_MAX],
		hash[HASH_HEX_LEN + 1], created[24], max[16];
	hash_buffer(secret, strlen(secret), hash);
	redis_key(r, kp, "project:%s", c->project);
	redis_key(r, kr, "%s:%s", k->record, c->id);
	redis_key(r, kx, "%s:%s", k->index, hash);
	redis_key(r, kz, "project:%s:%s", c->project, k->list);
	snprintf(created, sizeof(created), "%lld", c->created);
	snprintf(max, sizeof(max), "%d", k->per_project_max);
	json_t *fields = json_pack("{ssssssssss}", "project", c->project, "name", c->name, k->field,
				   field, "hash", hash, "created", created);
	char *fj = model_script_json(fields);
	json_decref(fields);
	const char *args[] = { kp, kr, kx, kz, c->id, created, fj, max };
	int rc = model_script_run(r, model_lua_credential_create, 4, 8, args, "project", "too_many",
				  err);
	free(fj);
	if (rc == SKIFF_ECONFLICT)
		rc = error_set(err, SKIFF_ELIMIT, k->too_many,
			       "a project has at most %d %ss; revoke one first", k->per_project_max,
			       k->noun);
	return rc;
}

int model_credential_list(struct redis *r, const struct model_credential_kind *k,
			  const char *slug, json_t **out, struct error *err)
{
	char kz[REDIS_KEY_MAX], kr[REDIS_KEY_MAX];
	redis_key(r, kz, "project:%s:%s", slug, k->list);
	redis_key(r, kr, "%s:", k->record);
	const char *args[] = { kz, kr, k->field };
	redisReply *reply = NULL;
	*out = NULL;
	int rc = model_script_reply(r, model_lua_credential_list, 1, 3, args, &reply, err);
	if (rc < 0)
		return rc;
	json_t *list = json_array();
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		redisReply *e = reply->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 5)
			continue;
		char id[ID_LEN + 1], name[CREDENTIAL_NAME_MAX + 1], field[BRANCH_MAX + 1];
		model_script_str(e->element[0], id, sizeof(id));
		model_script_str(e->element[1], name, sizeof(name));
		model_script_str(e->element[2], field, sizeof(field));
		long long used = model_script_num(e->element[4]);
		json_t *c = json_pack("{sssssssI}", "id", id, "name", name, k->field, field, "created",
				      (json_int_t)model_script_num(e->element[3]));
		json_object_set_new(c, "lastUsed", used ? json_integer(used) : json_null());
		json_array_append_new(list, c);
	}
	freeReplyObject(reply);
	*out = list;
	return 0;
}

int model_credential_delete(struct redis *r, const struct model_credential_kind *k,
			    const char *slug, const char *id, struct error *err)
{
	char kr[REDIS_KEY_MAX], kz[REDIS_KEY_MAX], kx[REDIS_KEY_MAX];
	redis_key(r, kr, "%s:%s", k->record, id);
	redis_key(r, kz, "project:%s:%s", slug, k->list);
	redis_key(r, kx, "%s:", k->index);
	const char *args[] = { kr, kz, slug, id, kx };
	int rc = model_script_run(r, model_lua_credential_delete, 2, 5, args, k->noun, "", err);
	if (rc == SKIFF_ENOTFOUND)
		error_set(err, SKIFF_ENOTFOUND, k->unknown, "project %s has no %s %s", slug, k->noun,
			  id);
	return rc;
}

int model_credential_lookup(struct redis *r, const struct model_credential_kind *k,
			    const char *secret, struct credential *out, char *field,
			    size_t field_size, struct error *err)
{
	char kx[REDIS_KEY_MAX], kr[REDIS_KEY_MAX], kp[REDIS_KEY_MAX], hash[HASH_HEX_LEN + 1],
		now[24], touch[16];
	memset(out, 0, sizeof(*out));
	field[0] = '\0';
	hash_buffer(secret, strlen(secret), hash);
	redis_key(r, kx, "%s:%s", k->index, hash);
	redis_key(r, kr, "%s:", k->record);
	redis_key(r, kp, "project:");
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	snprintf(touch, sizeof(touch), "%d", k->touch_ms);
	const char *args[] = { kx, kr, kp, now, touch, k->field };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_credential_lookup, 1, 6, args, &reply, err);
	if (rc < 0)
		return rc;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 6) {
		freeReplyObject(reply);
		return error_set(err, SKIFF_ENOTFOUND, k->invalid, "%s", k->invalid_message);
	}
	model_script_str(reply->element[0], out->id, sizeof(out->id));
	model_script_str(reply->element[1], out->project, sizeof(out->project));
	model_script_str(reply->element[2], out->name, sizeof(out->name));
	model_script_str(reply->element[3], field, field_size);
	out->created = model_script_num(reply->element[4]);
	out->last_used = model_script_num(reply->element[5]);
	freeReplyObject(reply);
	return 0;
}
