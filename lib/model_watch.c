/* model_watch.c — the Redis side of commit polling: the schedule, the poll fields of a
 * project, repository locks and the per-minute budget, with every multi-key change one Lua
 * script. */
#include "model_watch.h"
#include "model_script.h"

#include <stdio.h>
#include <string.h>

/* ARGV: prefix, slug, head, now, next */
static const char model_watch_lua_head[] =
	"local p = ARGV[1] .. 'project:' .. ARGV[2] "
	"local z = ARGV[1] .. 'watch' "
	"if redis.call('EXISTS', p) == 0 then redis.call('ZREM', z, ARGV[2]) return 'gone' end "
	"if redis.call('HGET', p, 'watch') ~= '1' then redis.call('ZREM', z, ARGV[2]) "
	"  return 'unwatched' end "
	"redis.call('HSET', p, 'poll_failures', '0', 'poll_error', '', 'poll_next_ms', ARGV[5], "
	"  'last_polled_at', ARGV[4]) "
	"redis.call('ZADD', z, ARGV[5], ARGV[2]) "
	"local last = redis.call('HGET', p, 'last_polled_commit') "
	"if last == ARGV[3] then return 'same' end "
	"local latest = redis.call('HGET', p, 'latest') "
	"if latest then "
	"  local d = ARGV[1] .. 'deployment:' .. latest "
	"  local v = redis.call('HMGET', d, 'commit', 'ref', 'state') "
	"  local busy = v[3] == 'queued' or v[3] == 'building' "
	"  if v[1] == ARGV[3] or v[2] == ARGV[3] or ((not last or last == '') and busy) then "
	"    redis.call('HSET', p, 'last_polled_commit', ARGV[3]) return 'same' end "
	"end "
	"return 'new'";

/* ARGV: prefix, slug, head */
static const char model_watch_lua_seen[] =
	"local p = ARGV[1] .. 'project:' .. ARGV[2] "
	"if redis.call('EXISTS', p) == 1 then redis.call('HSET', p, 'last_polled_commit', ARGV[3]) end "
	"return 0";

/* ARGV: prefix, slug, now, interval, max, jitter (per mille), error */
static const char model_watch_lua_failure[] =
	"local p = ARGV[1] .. 'project:' .. ARGV[2] "
	"local z = ARGV[1] .. 'watch' "
	"if redis.call('EXISTS', p) == 0 then redis.call('ZREM', z, ARGV[2]) return -1 end "
	"local f = redis.call('HINCRBY', p, 'poll_failures', 1) "
	"local delay = tonumber(ARGV[4]) * 2 ^ math.min(f, 40) "
	"if delay > tonumber(ARGV[5]) then delay = tonumber(ARGV[5]) end "
	"local nxt = tonumber(ARGV[3]) + math.floor(delay * tonumber(ARGV[6]) / 1000) "
	"redis.call('HSET', p, 'poll_error', ARGV[7], 'poll_next_ms', string.format('%d', nxt), "
	"  'last_polled_at', ARGV[3]) "
	"redis.call('ZADD', z, nxt, ARGV[2]) "
	"return f";

/* ARGV: prefix, slug, now, watch (1 or 0) */
static const char model_watch_lua_set[] =
	"local p = ARGV[1] .. 'project:' .. ARGV[2] "
	"if redis.call('EXISTS', p) == 0 then return -2 end "
	"redis.call('HSET', p, 'watch', ARGV[4]) "
	"if ARGV[4] == '1' then redis.call('ZADD', ARGV[1] .. 'watch', ARGV[3], ARGV[2]) "
	"else redis.call('ZREM', ARGV[1] .. 'watch', ARGV[2]) end "
	"return 0";

int model_watch_set(struct redis *r, const char *slug, bool watch, long long now_ms,
		    struct error *err)
{
	char now[24];
	snprintf(now, sizeof(now), "%lld", now_ms);
	const char *args[] = { redis_prefix(r), slug, now, watch ? "1" : "0" };
	int rc = model_script_run(r, model_watch_lua_set, 0, 4, args, "project", "conflict", err);
	if (rc == SKIFF_ENOTFOUND)
		error_set(err, SKIFF_ENOTFOUND, NULL, "project '%s' not found", slug);
	return rc;
}

int model_watch_due(struct redis *r, long long now_ms, size_t limit, json_t **slugs,
		    struct error *err)
{
	char zkey[REDIS_KEY_MAX];
	redis_key(r, zkey, "watch");
	redisReply *due = redis_cmd(r, err, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %ld", zkey, now_ms,
				    (long)limit);
	if (!due)
		return model_script_failed(err);
	*slugs = redis_reply_strings(due);
	freeReplyObject(due);
	return 0;
}

int model_watch_project(struct redis *r, const char *slug, char *git_url, size_t urllen,
			char *branch, size_t branchlen, struct error *err)
{
	char key[REDIS_KEY_MAX], flag[8];
	redis_key(r, key, "project:%s", slug);
	redisReply *reply = redis_cmd(r, err, "HMGET %s git_url branch watch", key);
	if (!reply)
		return model_script_failed(err);
	bool exists = reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
		      reply->element[0]->type == REDIS_REPLY_STRING;
	if (exists) {
		model_script_str(reply->element[0], git_url, urllen);
		model_script_str(reply->element[1], branch, branchlen);
		model_script_str(reply->element[2], flag, sizeof(flag));
	}
	freeReplyObject(reply);
	if (exists && !strcmp(flag, "1"))
		return 1;
	char zkey[REDIS_KEY_MAX];
	redis_key(r, zkey, "watch");
	if ((reply = redis_cmd(r, err, "ZREM %s %s", zkey, slug)))
		freeReplyObject(reply);
	return 0;
}

void model_watch_defer(struct redis *r, const char *slug, long long due_ms)
{
	char zkey[REDIS_KEY_MAX];
	redis_key(r, zkey, "watch");
	redisReply *reply = redis_cmd(r, NULL, "ZADD %s XX %lld %s", zkey, due_ms, slug);
	if (reply)
		freeReplyObject(reply);
}

int model_watch_head(struct redis *r, const char *slug, const char *head, long long now_ms,
		     long long next_ms, char result[16], struct error *err)
{
	char now[24], next[24];
	snprintf(now, sizeof(now), "%lld", now_ms);
	snprintf(next, sizeof(next), "%lld", next_ms);
	const char *args[] = { redis_prefix(r), slug, head, now, next };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_watch_lua_head, 0, 5, args, &reply, err);
	if (rc < 0)
		return rc;
	model_script_str(reply, result, 16);
	if (!result[0])
		snprintf(result, 16, "?");
	freeReplyObject(reply);
	return !strcmp(result, "new");
}

int model_watch_seen(struct redis *r, const char *slug, const char *head, struct error *err)
{
	const char *args[] = { redis_prefix(r), slug, head };
	return model_script_run(r, model_watch_lua_seen, 0, 3, args, "project", "conflict", err);
}

int model_watch_failure(struct redis *r, const char *slug, const char *msg, long long now_ms,
			long interval_ms, long max_ms, long jitter, long long *failures,
			struct error *err)
{
	char now[24], interval[24], max[24], sjitter[24];
	snprintf(now, sizeof(now), "%lld", now_ms);
	snprintf(interval, sizeof(interval), "%ld", interval_ms);
	snprintf(max, sizeof(max), "%ld", max_ms);
	snprintf(sjitter, sizeof(sjitter), "%ld", jitter);
	const char *args[] = { redis_prefix(r), slug, now, interval, max, sjitter, msg };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_watch_lua_failure, 0, 7, args, &reply, err);
	if (rc < 0)
		return rc;
	*failures = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
	freeReplyObject(reply);
	return 0;
}

int model_watch_lock(struct redis *r, const char *repo, const char *token, long ttl_ms,
		     struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "poll:lock:%s", repo);
	return model_script_lock(r, key, token, ttl_ms, err);
}

void model_watch_unlock(struct redis *r, const char *repo, const char *token)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "poll:lock:%s", repo);
	model_script_unlock(r, key, token);
}

int model_watch_budget(struct redis *r, long long minute, long long *used, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "poll:minute:%lld", minute);
	redisReply *reply = redis_cmd(r, err, "INCR %s", key);
	if (!reply)
		return model_script_failed(err);
	*used = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
	freeReplyObject(reply);
	if (*used == 1 && (reply = redis_cmd(r, NULL, "EXPIRE %s 120", key)))
		freeReplyObject(reply);
	return 0;
}
