/* model_script.h — what the model's files share to run their Lua scripts: the answer codes
 * the scripts return, the mapping of those to skiff errors, and the stream cap. */
#ifndef SKIFF_MODEL_SCRIPT_H
#define SKIFF_MODEL_SCRIPT_H

#include <jansson.h>
#include "error.h"
#include "redis.h"

/* Lua helpers shared by the scripts: hset from a JSON object of strings; the final states. */
#define MODEL_LUA_HSET                                                                    \
	"local function hset(key, j) local t = cjson.decode(j) local a = {} "             \
	"for k, v in pairs(t) do a[#a+1] = k a[#a+1] = tostring(v) end "                 \
	"if #a > 0 then redis.call('HSET', key, unpack(a)) end end "
#define MODEL_LUA_FINAL "local final = {ready=1, error=1, canceled=1, expired=1} "
/* notify(deployment key, new state, now): when the deployment's project has notification
 * hooks or a commit status token, the event of the state (building: deploy.started, ready, error: deploy.failed,
 * canceled) goes on the outbox that skiff-dispatch delivers from (model_notify.h). */
#define MODEL_LUA_NOTIFY                                                                  \
	"local function notify(dkey, state, now) "                                        \
	"  local prefix, id = string.match(dkey, '^(.*)deployment:([a-z2-7]+)$') "        \
	"  local ev = ({building='deploy.started', ready='deploy.ready', "                \
	"    error='deploy.failed', canceled='deploy.canceled'})[state] "                 \
	"  if not id or not ev then return end "                                          \
	"  local slug = redis.call('HGET', dkey, 'project') "                             \
	"  if not slug then return end "                                                  \
	"  local p = prefix .. 'project:' .. slug "                                       \
	"  if redis.call('EXISTS', p .. ':notify', p .. ':status') == 0 then return end " \
	"  local o = prefix .. 'notify:outbox' "                                          \
	"  redis.call('LPUSH', o, id .. ' ' .. ev .. ' ' .. now) "                        \
	"  redis.call('LTRIM', o, 0, 9999) "                                              \
	"end "

/* Maps a script's integer answer to a skiff error as model_script_run does. */
int model_script_result(redisReply *reply, const char *what, const char *name,
			struct error *err);
/* Runs script; an integer answer -2 is SKIFF_ENOTFOUND ("<what> not found"), -3
 * SKIFF_ECONFLICT (named conflict), -16 SKIFF_ECANCELED, any other negative integer
 * SKIFF_EINTERNAL; any other answer is success. */
int model_script_run(struct redis *r, const char *script, int nkeys, int nargs,
		     const char **args, const char *what, const char *conflict, struct error *err);
/* Runs script and hands its reply over (*out is the caller's, freed with freeReplyObject). */
int model_script_reply(struct redis *r, const char *script, int nkeys, int nargs,
		       const char **args, redisReply **out, struct error *err);
/* The configured cap of a log stream (XADD MAXLEN ~) as text in buf. */
const char *model_script_maxlen(struct redis *r, char buf[24]);
/* obj (NULL: an empty object) as compact JSON; free() it. */
char *model_script_json(json_t *obj);
/* A string reply (or element) into out, cut to outlen; "" for any other reply. */
void model_script_str(const redisReply *reply, char *out, size_t outlen);
/* A string reply (or element) holding a decimal number, as that number; 0 for anything else. */
long long model_script_num(const redisReply *reply);
/* The error of a failed command: err's code, or SKIFF_EREDIS without an err. */
int model_script_failed(const struct error *err);
/* A lock at key (a whole key name) held by token for ttl_ms: 1 taken, 0 held by another. */
int model_script_lock(struct redis *r, const char *key, const char *token, long ttl_ms,
		      struct error *err);
/* Releases the lock at key if token still holds it. */
void model_script_unlock(struct redis *r, const char *key, const char *token);

#endif
