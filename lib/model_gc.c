/* model_gc.c — the store sweep's fence in Redis, and the blobs builds pin against it. */
#include "model_gc.h"
#include "model_script.h"
#include "id.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* How many blobs one deployment may pin: each file of it and its gzip and br variants. */
static long long model_gc_pin_max(struct redis *r)
{
	return (long long)redis_config(r)->max_files * 3;
}

/* KEYS: gc:sweep, gc:pin:{id}, gc:pins; ARGV: id, ttl_ms, max, more, hashes... (a hash may
 * come twice: it counts once). Pins only while no sweep holds the fence: 1 pinned, 0 fence
 * held (nothing pinned), -1 over max, -2 when more is 1 and id has no live pin (a lapsed pin is
 * not made again: the sweep may have deleted what it kept). The set lives a second past the
 * deadline, so a pin the sweep finds live always has its set. */
static const char model_gc_pin_lua[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end "
	"local t = redis.call('TIME') "
	"local now = t[1] * 1000 + math.floor(t[2] / 1000) "
	"if ARGV[4] == '1' then "
	"  local s = redis.call('ZSCORE', KEYS[3], ARGV[1]) "
	"  if not s or tonumber(s) < now then return -2 end "
	"end "
	"local new, seen = 0, {} "
	"for i = 5, #ARGV do "
	"  local h = ARGV[i] "
	"  if not seen[h] then "
	"    seen[h] = true "
	"    if redis.call('SISMEMBER', KEYS[2], h) == 0 then new = new + 1 end "
	"  end "
	"end "
	"if redis.call('SCARD', KEYS[2]) + new > tonumber(ARGV[3]) then return -1 end "
	"if #ARGV >= 5 then redis.call('SADD', KEYS[2], unpack(ARGV, 5)) end "
	"local ttl = tonumber(ARGV[2]) "
	"redis.call('PEXPIRE', KEYS[2], ttl + 1000) "
	"redis.call('ZADD', KEYS[3], string.format('%.0f', now + ttl), ARGV[1]) "
	"return 1";

static int model_gc_pin_call(struct redis *r, const char *id, const char *const *hashes, size_t n,
			     long ttl_ms, bool more, struct error *err)
{
	assert(n <= MODEL_GC_PIN_BATCH);
	char fence[REDIS_KEY_MAX], set[REDIS_KEY_MAX], pins[REDIS_KEY_MAX], ttl[24], max[24];
	const char **args = malloc((n + 7) * sizeof(*args));
	if (!args)
		abort();
	redis_key(r, fence, "gc:sweep");
	redis_key(r, set, "gc:pin:%s", id);
	redis_key(r, pins, "gc:pins");
	snprintf(ttl, sizeof(ttl), "%ld", ttl_ms);
	snprintf(max, sizeof(max), "%lld", model_gc_pin_max(r));
	args[0] = fence;
	args[1] = set;
	args[2] = pins;
	args[3] = id;
	args[4] = ttl;
	args[5] = max;
	args[6] = more ? "1" : "0";
	for (size_t i = 0; i < n; i++)
		args[7 + i] = hashes[i];
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_gc_pin_lua, 3, (int)n + 7, args, &reply, err);
	free(args);
	if (rc < 0)
		return rc;
	long long v = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -3;
	freeReplyObject(reply);
	if (v == -1)
		return error_set(err, SKIFF_ELIMIT, "too_many_pins",
				 "deployment %s would rely on more than %lld stored blobs (3 for each of "
				 "max_files)", id, model_gc_pin_max(r));
	if (v == -2)
		return error_set(err, SKIFF_ECONFLICT, "pin_lost",
				 "the pin of deployment %s lapsed: what it kept may have been swept", id);
	if (v < 0)
		return error_set(err, SKIFF_EINTERNAL, NULL, "the pin script answered oddly");
	return (int)v;
}

int model_gc_pin(struct redis *r, const char *id, const char *const *hashes, size_t n,
		 long ttl_ms, struct error *err)
{
	return model_gc_pin_call(r, id, hashes, n, ttl_ms, false, err);
}

int model_gc_pin_more(struct redis *r, const char *id, const char *const *hashes, size_t n,
		      long ttl_ms, struct error *err)
{
	return model_gc_pin_call(r, id, hashes, n, ttl_ms, true, err);
}

/* KEYS: gc:pin:{id}, gc:pins; ARGV: id, ttl_ms. Only a pin still live is extended. */
static const char model_gc_pin_renew_lua[] =
	"local t = redis.call('TIME') "
	"local now = t[1] * 1000 + math.floor(t[2] / 1000) "
	"local s = redis.call('ZSCORE', KEYS[2], ARGV[1]) "
	"if not s or tonumber(s) < now then return 0 end "
	"local ttl = tonumber(ARGV[2]) "
	"redis.call('PEXPIRE', KEYS[1], ttl + 1000) "
	"redis.call('ZADD', KEYS[2], string.format('%.0f', now + ttl), ARGV[1]) "
	"return 1";

int model_gc_pin_renew(struct redis *r, const char *id, long ttl_ms, struct error *err)
{
	char set[REDIS_KEY_MAX], pins[REDIS_KEY_MAX], ttl[24];
	redis_key(r, set, "gc:pin:%s", id);
	redis_key(r, pins, "gc:pins");
	snprintf(ttl, sizeof(ttl), "%ld", ttl_ms);
	const char *args[] = { set, pins, id, ttl };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_gc_pin_renew_lua, 2, 4, args, &reply, err);
	if (rc < 0)
		return rc;
	int live = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return live;
}

int model_gc_unpin(struct redis *r, const char *id, struct error *err)
{
	char set[REDIS_KEY_MAX], pins[REDIS_KEY_MAX];
	redis_key(r, set, "gc:pin:%s", id);
	redis_key(r, pins, "gc:pins");
	redisReply *reply = redis_cmd(r, err, "DEL %s", set);
	if (reply) {
		freeReplyObject(reply);
		reply = redis_cmd(r, err, "ZREM %s %s", pins, id);
	}
	if (!reply)
		return model_script_failed(err);
	freeReplyObject(reply);
	return 0;
}

/* KEYS: gc:pins; ARGV: the prefix of the sets (…gc:pin:). Drops the pins whose deadline passed
 * (by Redis's clock) with their sets, and returns the ids of the live ones. */
static const char model_gc_pins_lua[] =
	"local t = redis.call('TIME') "
	"local now = t[1] * 1000 + math.floor(t[2] / 1000) "
	"local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now)) "
	"for _, id in ipairs(dead) do redis.call('DEL', ARGV[1] .. id) end "
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now)) "
	"return redis.call('ZRANGE', KEYS[1], 0, -1)";

/* Every member of one pin's set, a batch at a time. */
static int model_gc_pin_members(struct redis *r, const char *set,
				int (*fn)(const char *hash, void *ctx), void *ctx, struct error *err)
{
	char cursor[32] = "0";
	do {
		redisReply *reply = redis_cmd(r, err, "SSCAN %s %s COUNT 1000", set, cursor);
		if (!reply)
			return model_script_failed(err);
		int rc = 0;
		if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
		    reply->element[1]->type != REDIS_REPLY_ARRAY)
			rc = error_set(err, SKIFF_EREDIS, NULL, "SSCAN of %s answered oddly", set);
		if (rc == 0) {
			model_script_str(reply->element[0], cursor, sizeof(cursor));
			redisReply *m = reply->element[1];
			for (size_t i = 0; rc == 0 && i < m->elements; i++)
				if (m->element[i]->type == REDIS_REPLY_STRING)
					rc = fn(m->element[i]->str, ctx);
		}
		freeReplyObject(reply);
		if (rc < 0)
			return rc;
	} while (strcmp(cursor, "0"));
	return 0;
}

int model_gc_pins(struct redis *r, int (*fn)(const char *hash, void *ctx), void *ctx,
		  struct error *err)
{
	char pins[REDIS_KEY_MAX], prefix[REDIS_KEY_MAX];
	redis_key(r, pins, "gc:pins");
	redis_key(r, prefix, "gc:pin:");
	const char *args[] = { pins, prefix };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_gc_pins_lua, 1, 2, args, &reply, err);
	if (rc < 0)
		return rc;
	if (reply->type != REDIS_REPLY_ARRAY)
		rc = error_set(err, SKIFF_EREDIS, NULL, "the pins answered oddly");
	for (size_t i = 0; rc == 0 && i < reply->elements; i++) {
		char id[ID_LEN + 2], set[REDIS_KEY_MAX];
		model_script_str(reply->element[i], id, sizeof(id));
		if (!id_valid(id))
			continue;
		redis_key(r, set, "gc:pin:%s", id);
		rc = model_gc_pin_members(r, set, fn, ctx, err);
	}
	freeReplyObject(reply);
	return rc;
}
