/* model_queue.c — the reliable build queue (queue, queue:claim:{owner}, queue:active), the
 * claims and leases of running builds, and the dispatchers' heartbeats. */
#include "model_queue.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "model_script.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void model_owner_new(char owner[MODEL_OWNER_LEN + 1])
{
	id_hex(owner, MODEL_OWNER_LEN / 2);
}

int model_claim_valid(const char *token)
{
	size_t n = strlen(token), i = 0;
	if (n < MODEL_OWNER_LEN + 2 || n >= MODEL_CLAIM_MAX)
		return 0;
	for (; i < MODEL_OWNER_LEN; i++)
		if (!strchr("0123456789abcdef", token[i]) || !token[i])
			return 0;
	if (token[i++] != '.')
		return 0;
	for (; i < n; i++)
		if (token[i] < '0' || token[i] > '9')
			return 0;
	return 1;
}

/* KEYS: claim list, active, lease prefix, deployment prefix, queue
 * ARGV: owner, ttl, id length, concurrency_project, concurrency_total (0: no cap). Claims the
 * oldest id of owner's claim list: {id, token}, or {id, ''} when it was dropped, or nil when
 * the list is empty. An id over one of the operator's caps (builds of its project at once,
 * builds at once in all, counted in the active list) goes back to the head of the queue and
 * the oldest queued id that fits is claimed instead: {'', 'held'} when none does. */
static const char model_lua_claim[] =
	"local id = redis.call('RPOP', KEYS[1]) "
	"if not id then return nil end "
	"local dk = KEYS[4] .. id "
	"if #id ~= tonumber(ARGV[3]) or redis.call('EXISTS', dk) == 0 then return {id, ''} end "
	"local per, total = tonumber(ARGV[4]), tonumber(ARGV[5]) "
	"if per > 0 or total > 0 then "
	"  local running, byproj = 0, {} "
	"  for _, a in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do "
	"    running = running + 1 "
	"    local p = redis.call('HGET', KEYS[4] .. a, 'project') "
	"    if p then byproj[p] = (byproj[p] or 0) + 1 end "
	"  end "
	"  local function fits(x) "
	"    if total > 0 and running >= total then return false end "
	"    local p = per > 0 and redis.call('HGET', KEYS[4] .. x, 'project') "
	"    return not (p and (byproj[p] or 0) >= per) "
	"  end "
	"  if not fits(id) then "
	"    redis.call('RPUSH', KEYS[5], id) "
	"    local q = redis.call('LRANGE', KEYS[5], -100, -1) "
	"    id = nil "
	"    for i = #q - 1, 1, -1 do "
	"      if #q[i] == tonumber(ARGV[3]) and redis.call('EXISTS', KEYS[4] .. q[i]) == 1 "
	"         and fits(q[i]) then "
	"        redis.call('LREM', KEYS[5], -1, q[i]) "
	"        id = q[i] "
	"        break "
	"      end "
	"    end "
	"    if not id then return {'', 'held'} end "
	"    dk = KEYS[4] .. id "
	"  end "
	"end "
	"local n = redis.call('HINCRBY', dk, 'attempts', 1) "
	"local token = ARGV[1] .. '.' .. n "
	"redis.call('HSET', dk, 'claim', token) "
	"redis.call('SET', KEYS[3] .. id, token, 'EX', ARGV[2]) "
	"redis.call('LPUSH', KEYS[2], id) "
	"return {id, token}";

/* How long a pop waits when every queued build is held back by a cap (instead of taking the
 * same ones again at once). */
#define MODEL_QUEUE_HELD_MS 250

static int model_queue_claim(struct redis *r, const char *owner, long ttl_s, char id[ID_LEN + 1],
			     char token[MODEL_CLAIM_MAX], bool *held, struct error *err)
{
	const struct config *cfg = redis_config(r);
	char kc[REDIS_KEY_MAX], ka[REDIS_KEY_MAX], kl[REDIS_KEY_MAX], kd[REDIS_KEY_MAX];
	char kq[REDIS_KEY_MAX], ttl[24], idlen[8], per[24], total[24];
	redis_key(r, kc, "queue:claim:%s", owner);
	redis_key(r, ka, "queue:active");
	redis_key(r, kl, "lease:");
	redis_key(r, kd, "deployment:");
	redis_key(r, kq, "queue");
	snprintf(ttl, sizeof(ttl), "%ld", ttl_s);
	snprintf(idlen, sizeof(idlen), "%d", ID_LEN);
	snprintf(per, sizeof(per), "%ld", cfg->concurrency_project);
	snprintf(total, sizeof(total), "%ld", cfg->concurrency_total);
	const char *args[] = { kc, ka, kl, kd, kq, owner, ttl, idlen, per, total };
	redisReply *reply = NULL;
	*held = false;
	int rc = model_script_reply(r, model_lua_claim, 5, 10, args, &reply, err);
	if (rc < 0)
		return rc;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
		const redisReply *ri = reply->element[0], *rt = reply->element[1];
		if (ri->len == ID_LEN && rt->len > 0) {
			memcpy(id, ri->str, ID_LEN + 1);
			model_script_str(rt, token, MODEL_CLAIM_MAX);
		} else if (ri->len == 0) {
			*held = true;   /* over a cap: nothing claimed */
		} else {
			/* not an id skiff wrote, or a deployment deleted while queued */
			log_warn("queue entry dropped: no such deployment entry=\"%.*s\"",
				 (int)(ri->len > 64 ? 64 : ri->len), ri->str);
			snprintf(id, ID_LEN + 1, "%.*s", (int)ri->len, ri->str);
		}
	}
	freeReplyObject(reply);
	return 0;
}

int model_queue_pop(struct redis *r, const char *owner, double timeout_s, long ttl_s,
		    char id[ID_LEN + 1], char token[MODEL_CLAIM_MAX], struct error *err)
{
	char kq[REDIS_KEY_MAX], kc[REDIS_KEY_MAX], t[32];
	bool held = false;
	id[0] = '\0';
	token[0] = '\0';
	/* an earlier claim that failed (Redis went away between the move and the claim) */
	int rc = model_queue_claim(r, owner, ttl_s, id, token, &held, err);
	if (rc < 0 || id[0])
		return rc;
	redis_key(r, kq, "queue");
	redis_key(r, kc, "queue:claim:%s", owner);
	/* the block must end before the connection's read timeout does */
	double limit = (double)(redis_config(r)->redis_timeout_ms - 100) / 1000.0;
	if (timeout_s > limit)
		timeout_s = limit > 0.01 ? limit : 0.01;
	snprintf(t, sizeof(t), "%.3f", timeout_s);
	redisReply *reply = redis_cmd(r, err, "BLMOVE %s %s RIGHT LEFT %s", kq, kc, t);
	if (!reply)
		return model_script_failed(err);
	int moved = reply->type == REDIS_REPLY_STRING;
	freeReplyObject(reply);
	if (!moved)
		return 0;
	rc = model_queue_claim(r, owner, ttl_s, id, token, &held, err);
	if (rc == 0 && held) {
		long ms = (long)(timeout_s * 1000);
		usleep((useconds_t)(ms < MODEL_QUEUE_HELD_MS ? ms : MODEL_QUEUE_HELD_MS) * 1000);
	}
	return rc;
}

/* KEYS: active, deployment; ARGV: id, token */
static const char model_lua_done[] =
	"local claim = redis.call('HGET', KEYS[2], 'claim') "
	"if ARGV[2] ~= '' and claim and claim ~= ARGV[2] then return 0 end "
	"redis.call('LREM', KEYS[1], 0, ARGV[1]) "
	"return 1";

int model_queue_done(struct redis *r, const char *id, const char *token, struct error *err)
{
	char ka[REDIS_KEY_MAX], kd[REDIS_KEY_MAX];
	redis_key(r, ka, "queue:active");
	redis_key(r, kd, "deployment:%s", id);
	const char *args[] = { ka, kd, id, token ? token : "" };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_done, 2, 4, args, &reply, err);
	if (rc < 0)
		return rc;
	rc = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return rc;
}

int model_queue_active(struct redis *r, json_t **ids, struct error *err)
{
	char ka[REDIS_KEY_MAX];
	redis_key(r, ka, "queue:active");
	redisReply *reply = redis_cmd(r, err, "LRANGE %s 0 -1", ka);
	if (!reply)
		return model_script_failed(err);
	json_t *arr = redis_reply_strings(reply);
	freeReplyObject(reply);
	*ids = arr;
	return 0;
}

/* KEYS: active, queue, lease, deployment, log, events
 * ARGV: id, attempts, now, maxlen. 0 alive, 1 dropped, 2 requeued, 3 failed. */
static const char model_lua_recover[] = MODEL_LUA_FINAL MODEL_LUA_NOTIFY
	"if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end "
	"local st = redis.call('HGET', KEYS[4], 'state') "
	"if not st or final[st] then redis.call('LREM', KEYS[1], 0, ARGV[1]) return 1 end "
	/* another scan requeued it already (or a claim is under way): not ours to touch */
	"if redis.call('LREM', KEYS[1], 0, ARGV[1]) == 0 then return 0 end "
	"local n = tonumber(redis.call('HGET', KEYS[4], 'attempts')) or 1 "
	"redis.call('HSET', KEYS[4], 'claim', '') "
	"local eid "
	"if n >= tonumber(ARGV[2]) then "
	"  local msg = 'build lost: its lease expired ' .. n .. ' times (the host running it "
	"stopped answering)' "
	"  redis.call('HSET', KEYS[4], 'state', 'error', 'phase', '', 'error', msg, "
	"  'finished', ARGV[3]) "
	"  notify(KEYS[4], 'error', ARGV[3]) "
	"  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[4], '*', 'k', 'state', 's', 'system', "
	"  'm', 'error') "
	"  eid = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[4], '*', 'k', 'end', "
	"  's', 'system', 'm', 'error') "
	"  redis.call('PUBLISH', KEYS[6], eid) "
	"  return 3 "
	"end "
	"redis.call('HSET', KEYS[4], 'state', 'queued', 'phase', '') "
	"redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[4], '*', 'k', 'line', 's', 'system', "
	"'m', 'Build lost: the host running it stopped answering (lease expired); queued again, "
	"attempt ' .. (n + 1) .. ' of ' .. ARGV[2]) "
	"eid = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[4], '*', 'k', 'state', "
	"'s', 'system', 'm', 'queued') "
	"redis.call('RPUSH', KEYS[2], ARGV[1]) "
	"redis.call('PUBLISH', KEYS[6], eid) "
	"return 2";

int model_queue_recover(struct redis *r, const char *id, enum model_recover *out,
			struct error *err)
{
	char ka[REDIS_KEY_MAX], kq[REDIS_KEY_MAX], kl[REDIS_KEY_MAX], kd[REDIS_KEY_MAX];
	char klog[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], attempts[8], now[24], maxlen[24];
	redis_key(r, ka, "queue:active");
	redis_key(r, kq, "queue");
	redis_key(r, kl, "lease:%s", id);
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, klog, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	snprintf(attempts, sizeof(attempts), "%d", MODEL_QUEUE_ATTEMPTS);
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	const char *args[] = { ka, kq, kl, kd, klog, ke, id, attempts, now,
			       model_script_maxlen(r, maxlen) };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_recover, 6, 10, args, &reply, err);
	if (rc < 0)
		return rc;
	long long v = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
	freeReplyObject(reply);
	*out = v == 1 ? MODEL_RECOVER_DROPPED : v == 2 ? MODEL_RECOVER_REQUEUED :
	       v == 3 ? MODEL_RECOVER_FAILED : MODEL_RECOVER_ALIVE;
	return 0;
}

/* KEYS: lease, deployment; ARGV: token, ttl */
static const char model_lua_renew[] =
	"if ARGV[1] ~= '' and redis.call('HGET', KEYS[2], 'claim') ~= ARGV[1] then return 0 end "
	"redis.call('SET', KEYS[1], ARGV[1] ~= '' and ARGV[1] or 'manual', 'EX', ARGV[2]) "
	"return 1";

int model_lease_renew(struct redis *r, const char *id, const char *token, long ttl_s,
		      struct error *err)
{
	char kl[REDIS_KEY_MAX], kd[REDIS_KEY_MAX], ttl[24];
	redis_key(r, kl, "lease:%s", id);
	redis_key(r, kd, "deployment:%s", id);
	snprintf(ttl, sizeof(ttl), "%ld", ttl_s);
	const char *args[] = { kl, kd, token ? token : "", ttl };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_renew, 2, 4, args, &reply, err);
	if (rc < 0)
		return rc;
	rc = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return rc;
}

int model_lease_extend(struct redis *r, const char *id, long ttl_s, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "lease:%s", id);
	redisReply *reply = redis_cmd(r, err, "EXPIRE %s %ld", key, ttl_s);
	if (!reply)
		return model_script_failed(err);
	int alive = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return alive;
}

int model_lease_alive(struct redis *r, const char *id, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "lease:%s", id);
	redisReply *reply = redis_cmd(r, err, "EXISTS %s", key);
	if (!reply)
		return model_script_failed(err);
	int alive = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return alive;
}

/* KEYS: lease; ARGV: token */
static const char model_lua_lease_drop[] =
	"if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
	"return redis.call('DEL', KEYS[1])";

int model_lease_drop(struct redis *r, const char *id, const char *token, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "lease:%s", id);
	const char *args[] = { key, token ? token : "" };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_lease_drop, 1, 2, args, &reply, err);
	if (rc < 0)
		return rc;
	freeReplyObject(reply);
	return 0;
}

int model_lease_claim(struct redis *r, const char *id, char token[MODEL_CLAIM_MAX],
		      struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "deployment:%s", id);
	redisReply *reply = redis_cmd(r, err, "HMGET %s claim attempts", key);
	if (!reply)
		return model_script_failed(err);
	int ever = 0;
	token[0] = '\0';
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
		model_script_str(reply->element[0], token, MODEL_CLAIM_MAX);
		ever = reply->element[1]->type == REDIS_REPLY_STRING;
	}
	freeReplyObject(reply);
	return ever;
}

/* KEYS: dispatchers; ARGV: owner, ttl (0: leaving), heartbeat prefix, claim prefix, queue.
 * Returns how many ids went back to the queue. */
static const char model_lua_beat[] =
	"local moved = 0 "
	"local function release(m) "
	"  while redis.call('LMOVE', ARGV[4] .. m, ARGV[5], 'RIGHT', 'RIGHT') do "
	"    moved = moved + 1 "
	"  end "
	"  redis.call('SREM', KEYS[1], m) "
	"end "
	"if ARGV[2] == '0' then "
	"  redis.call('DEL', ARGV[3] .. ARGV[1]) release(ARGV[1]) return moved "
	"end "
	"redis.call('SET', ARGV[3] .. ARGV[1], '1', 'EX', ARGV[2]) "
	"redis.call('SADD', KEYS[1], ARGV[1]) "
	"for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do "
	"  if m ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. m) == 0 then release(m) end "
	"end "
	"return moved";

static int model_dispatcher_run(struct redis *r, const char *owner, long ttl_s,
				struct error *err)
{
	char ks[REDIS_KEY_MAX], kb[REDIS_KEY_MAX], kc[REDIS_KEY_MAX], kq[REDIS_KEY_MAX], ttl[24];
	redis_key(r, ks, "dispatchers");
	redis_key(r, kb, "dispatcher:");
	redis_key(r, kc, "queue:claim:");
	redis_key(r, kq, "queue");
	snprintf(ttl, sizeof(ttl), "%ld", ttl_s);
	const char *args[] = { ks, owner, ttl, kb, kc, kq };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_beat, 1, 6, args, &reply, err);
	if (rc < 0)
		return rc;
	rc = reply->type == REDIS_REPLY_INTEGER ? (int)reply->integer : 0;
	freeReplyObject(reply);
	return rc;
}

int model_dispatcher_beat(struct redis *r, const char *owner, long ttl_s, struct error *err)
{
	return model_dispatcher_run(r, owner, ttl_s > 0 ? ttl_s : 1, err);
}

int model_dispatcher_leave(struct redis *r, const char *owner, struct error *err)
{
	return model_dispatcher_run(r, owner, 0, err);
}
