/* model_gc.c — the store sweep's fence in Redis. */
#include "model_gc.h"
#include "model_script.h"

#include <stdio.h>

int model_gc_fence_take(struct redis *r, const char *token, long ttl_ms, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "gc:sweep");
	return model_script_lock(r, key, token, ttl_ms, err);
}

void model_gc_fence_release(struct redis *r, const char *token)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "gc:sweep");
	model_script_unlock(r, key, token);
}

/* KEYS: gc:sweep; ARGV: token, ttl_ms. 1 and held ttl_ms more when token holds it, else 0. */
static const char model_gc_fence_renew_lua[] =
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
	"redis.call('PEXPIRE', KEYS[1], ARGV[2]) "
	"return 1";

int model_gc_fence_renew(struct redis *r, const char *token, long ttl_ms, struct error *err)
{
	char key[REDIS_KEY_MAX], ttl[24];
	redis_key(r, key, "gc:sweep");
	snprintf(ttl, sizeof(ttl), "%ld", ttl_ms);
	const char *args[] = { key, token, ttl };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_gc_fence_renew_lua, 1, 3, args, &reply, err);
	if (rc < 0)
		return rc;
	int held = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return held;
}

int model_gc_fence_held(struct redis *r, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "gc:sweep");
	redisReply *reply = redis_cmd(r, err, "EXISTS %s", key);
	if (!reply)
		return model_script_failed(err);
	int held = reply->type == REDIS_REPLY_INTEGER && reply->integer > 0;
	freeReplyObject(reply);
	return held;
}

/* KEYS: gc:sweep, gc:finishing; ARGV: the ticket. Recorded only while no sweep holds the
 * fence, at Redis's time: a sweep that takes the fence afterwards waits for exactly these. */
static const char model_gc_finish_begin_lua[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end "
	"local t = redis.call('TIME') "
	"redis.call('ZADD', KEYS[2], t[1] * 1000 + math.floor(t[2] / 1000), ARGV[1]) "
	"return 1";

int model_gc_finish_begin(struct redis *r, const char *ticket, struct error *err)
{
	char fence[REDIS_KEY_MAX], key[REDIS_KEY_MAX];
	redis_key(r, fence, "gc:sweep");
	redis_key(r, key, "gc:finishing");
	const char *args[] = { fence, key, ticket };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_gc_finish_begin_lua, 2, 3, args, &reply, err);
	if (rc < 0)
		return rc;
	int recorded = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return recorded;
}

void model_gc_finish_end(struct redis *r, const char *ticket)
{
	char key[REDIS_KEY_MAX];
	struct error err;
	redis_key(r, key, "gc:finishing");
	redisReply *reply = redis_cmd(r, &err, "ZREM %s %s", key, ticket);
	if (reply)
		freeReplyObject(reply);
}

/* KEYS: gc:finishing; ARGV: the age in ms past which an entry is forgotten. Returns how many
 * are left. */
static const char model_gc_finishing_lua[] =
	"local t = redis.call('TIME') "
	"local oldest = t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(ARGV[1]) "
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. oldest) "
	"return redis.call('ZCARD', KEYS[1])";

int model_gc_finishing(struct redis *r, long max_age_ms, struct error *err)
{
	char key[REDIS_KEY_MAX], age[24];
	redis_key(r, key, "gc:finishing");
	snprintf(age, sizeof(age), "%ld", max_age_ms);
	const char *args[] = { key, age };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_gc_finishing_lua, 1, 2, args, &reply, err);
	if (rc < 0)
		return rc;
	int n = reply->type == REDIS_REPLY_INTEGER && reply->integer > 0;
	freeReplyObject(reply);
	return n;
}

int model_gc_turn(struct redis *r, const char *owner, long interval_ms, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "gc:turn");
	return model_script_lock(r, key, owner, interval_ms, err);
}
