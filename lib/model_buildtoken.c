/* model_buildtoken.c — build tokens in Redis: buildtoken:{sha256} (the deployment id, with a
 * TTL), the token's hash in upload:{id} (build_token) so that one launch's token replaces the
 * one before, and the lease:{id} the token lives with. */
#include "model_buildtoken.h"
#include "hash.h"
#include "model_script.h"
#include "model_upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS: deployment, upload, buildtoken; ARGV: prefix, hash, id, ttl, upload ttl */
static const char model_lua_buildtoken_mint[] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"local old = redis.call('HGET', KEYS[2], 'build_token') "
	"if old then redis.call('DEL', ARGV[1] .. 'buildtoken:' .. old) end "
	"redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4]) "
	"redis.call('HSETNX', KEYS[2], 'seq', '-1') "
	"redis.call('HSET', KEYS[2], 'build_token', ARGV[2]) "
	"redis.call('EXPIRE', KEYS[2], ARGV[5]) "
	"return 1";

/* KEYS: buildtoken; ARGV: prefix, hash, lease ttl */
static const char model_lua_buildtoken_lookup[] = MODEL_LUA_FINAL
	"local id = redis.call('GET', KEYS[1]) "
	"if not id then return -2 end "
	"local t = redis.call('HMGET', ARGV[1] .. 'deployment:' .. id, 'project', 'state', "
	"'cancel_requested') "
	"if not t[1] then return -2 end "
	"if redis.call('HGET', ARGV[1] .. 'upload:' .. id, 'build_token') ~= ARGV[2] then "
	"  return -2 end "
	"local lease = ARGV[1] .. 'lease:' .. id "
	"local alive = redis.call('EXISTS', lease) "
	"if alive == 1 and not final[t[2]] then redis.call('EXPIRE', lease, ARGV[3]) end "
	"return {id, t[1], t[2] or '', tostring(alive), t[3] and '1' or '0'}";

void model_buildtoken_secret_new(char out[BUILD_TOKEN_LEN + 1])
{
	id_secret_new(BUILD_TOKEN_PREFIX, out, BUILD_TOKEN_LEN);
}

int model_buildtoken_secret_valid(const char *s)
{
	return id_secret_valid(BUILD_TOKEN_PREFIX, BUILD_TOKEN_LEN, s);
}

int model_buildtoken_mint(struct redis *r, const char *id, const char *secret, long ttl_s,
			  struct error *err)
{
	char kd[REDIS_KEY_MAX], ku[REDIS_KEY_MAX], kt[REDIS_KEY_MAX], hash[HASH_HEX_LEN + 1],
		ttl[24], uttl[24];
	hash_buffer(secret, strlen(secret), hash);
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, ku, "upload:%s", id);
	redis_key(r, kt, "buildtoken:%s", hash);
	snprintf(ttl, sizeof(ttl), "%ld", ttl_s);
	snprintf(uttl, sizeof(uttl), "%d", MODEL_UPLOAD_TTL_S);
	const char *args[] = { kd, ku, kt, redis_prefix(r), hash, id, ttl, uttl };
	return model_script_run(r, model_lua_buildtoken_mint, 3, 8, args, "deployment", "", err);
}

int model_buildtoken_lookup(struct redis *r, const char *secret, long lease_ttl_s,
			    struct build_token *out, struct error *err)
{
	char kt[REDIS_KEY_MAX], hash[HASH_HEX_LEN + 1], ttl[24], state[16], flag[4];
	memset(out, 0, sizeof(*out));
	hash_buffer(secret, strlen(secret), hash);
	redis_key(r, kt, "buildtoken:%s", hash);
	snprintf(ttl, sizeof(ttl), "%ld", lease_ttl_s);
	const char *args[] = { kt, redis_prefix(r), hash, ttl };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_buildtoken_lookup, 1, 4, args, &reply, err);
	if (rc < 0)
		return rc;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 5) {
		freeReplyObject(reply);
		return error_set(err, SKIFF_ENOTFOUND, "invalid_token", "the build token is not valid");
	}
	model_script_str(reply->element[0], out->deployment, sizeof(out->deployment));
	model_script_str(reply->element[1], out->project, sizeof(out->project));
	model_script_str(reply->element[2], state, sizeof(state));
	out->state = model_state_parse(state, strlen(state));
	model_script_str(reply->element[3], flag, sizeof(flag));
	out->lease_alive = !strcmp(flag, "1");
	model_script_str(reply->element[4], flag, sizeof(flag));
	out->cancel_requested = !strcmp(flag, "1");
	freeReplyObject(reply);
	return 0;
}
