/* model_domain.c — custom domains in Redis: domain:{name} (a hash: project, state, token,
 * reason, created, checked, attempts, lost), project:{slug}:domains (a zset of names by
 * creation time), domains:check (a zset of the names to check, by when: pending ones until
 * they pass, live ones again and again) and domains:live (a set of the names that serve: what
 * the ACME configuration lists). */
#include "model_domain.h"
#include "model_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS: project, domain, project domains, check; ARGV: name, slug, created, token, max. */
static const char model_lua_domain_add[] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"if redis.call('EXISTS', KEYS[2]) == 1 then return -3 end "
	"if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then return -4 end "
	"redis.call('HSET', KEYS[2], 'project', ARGV[2], 'state', 'pending', 'token', ARGV[4], "
	"'created', ARGV[3], 'checked', '0', 'attempts', '0', 'reason', '') "
	"redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1]) "
	"redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1]) "
	"return 1";

/* KEYS: domain, project domains, check, live, project; ARGV: slug, name. The project's
 * primary domain, when it is this one, is cleared in the same step. */
static const char model_lua_domain_remove[] =
	"if redis.call('HGET', KEYS[1], 'project') ~= ARGV[1] then return -2 end "
	"if redis.call('HGET', KEYS[5], 'primary_domain') == ARGV[2] then "
	"  redis.call('HSET', KEYS[5], 'primary_domain', '') end "
	"redis.call('DEL', KEYS[1]) "
	"redis.call('ZREM', KEYS[2], ARGV[2]) "
	"redis.call('ZREM', KEYS[3], ARGV[2]) "
	"redis.call('SREM', KEYS[4], ARGV[2]) "
	"return 1";

/* KEYS: project domains, check; ARGV: prefix. */
static const char model_lua_domain_list[] =
	"local out = {} "
	"for _, n in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do "
	"  local d = redis.call('HMGET', ARGV[1] .. 'domain:' .. n, 'state', 'token', 'reason', "
	"  'created', 'checked', 'attempts', 'lost') "
	"  if d[1] then out[#out+1] = {n, d[1], d[2] or '', d[3] or '', d[4] or '0', "
	"  d[5] or '0', d[6] or '0', d[7] or '0', redis.call('ZSCORE', KEYS[2], n) or '0'} end "
	"end "
	"return out";

/* site(prefix, slug): what serving a name of project slug needs of the project: {current,
 * hsts, primary domain, its state, redirect_project}; the primary only while it is a
 * verified or active domain of this project ("" and "" otherwise). */
#define MODEL_DOMAIN_LUA_SITE                                                              \
	"local function site(prefix, slug) "                                               \
	"  local p = redis.call('HMGET', prefix .. 'project:' .. slug, 'current', 'hsts', " \
	"  'primary_domain', 'redirect_project') "                                         \
	"  local pd, ps = '', '' "                                                         \
	"  if p[3] and p[3] ~= '' then "                                                   \
	"    local d = redis.call('HMGET', prefix .. 'domain:' .. p[3], 'project', 'state') " \
	"    if d[1] == slug and (d[2] == 'verified' or d[2] == 'active') then "           \
	"      pd, ps = p[3], d[2] end "                                                   \
	"  end "                                                                           \
	"  return {p[1] or '', p[2] or '0', pd, ps, p[4] or '0'} "                         \
	"end "

/* KEYS: domain; ARGV: prefix. */
static const char model_lua_domain_site[] = MODEL_DOMAIN_LUA_SITE
	"local d = redis.call('HMGET', KEYS[1], 'project', 'state', 'token') "
	"if not d[1] then return -2 end "
	"local p = site(ARGV[1], d[1]) "
	"return {d[1], d[2] or '', d[3] or '', p[1], p[2], p[3], p[4], p[5]}";

/* ARGV: prefix, slug. */
static const char model_lua_domain_project_site[] = MODEL_DOMAIN_LUA_SITE
	"local p = site(ARGV[1], ARGV[2]) "
	"return {ARGV[2], '', '', p[1], p[2], p[3], p[4], p[5]}";

/* KEYS: check; ARGV: prefix, now, max, claim ms. A name taken is put off by the claim time,
 * so that another dispatcher does not check it at the same time; the check's result
 * reschedules it. */
static const char model_lua_domain_due[] =
	"local out = {} "
	"for _, n in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, "
	"ARGV[3])) do "
	"  local d = redis.call('HMGET', ARGV[1] .. 'domain:' .. n, 'project', 'token', "
	"  'attempts') "
	"  if d[1] then out[#out+1] = {n, d[1], d[2] or '', d[3] or '0'} "
	"    redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[4]), n) "
	"  else redis.call('ZREM', KEYS[1], n) end "
	"end "
	"return out";

/* KEYS: domain, check, live; ARGV: name, token, ok, reason, now, fail after, retry min,
 * retry max, recheck ms. A live domain that fails keeps its state (it goes on serving, as
 * on the hosted platforms) with the reason and, in lost, when it first failed. */
static const char model_lua_domain_checked[] =
	"local d = redis.call('HMGET', KEYS[1], 'token', 'state', 'attempts', 'lost') "
	"if d[1] ~= ARGV[2] then return -2 end "
	"if ARGV[3] == '1' then "
	"  if d[2] ~= 'active' then redis.call('HSET', KEYS[1], 'state', 'verified') end "
	"  redis.call('HSET', KEYS[1], 'reason', '', 'checked', ARGV[5], 'attempts', '0', "
	"  'lost', '0') "
	"  redis.call('ZADD', KEYS[2], tonumber(ARGV[5]) + tonumber(ARGV[9]), ARGV[1]) "
	"  redis.call('SADD', KEYS[3], ARGV[1]) "
	"  return 1 "
	"end "
	"local a = tonumber(d[3] or '0') + 1 "
	"if d[2] == 'verified' or d[2] == 'active' then "
	"  redis.call('HSET', KEYS[1], 'reason', ARGV[4], 'checked', ARGV[5], 'attempts', a) "
	"  if (d[4] or '0') == '0' then redis.call('HSET', KEYS[1], 'lost', ARGV[5]) end "
	"else "
	"  local st = 'pending' "
	"  if a >= tonumber(ARGV[6]) then st = 'failed' end "
	"  redis.call('HSET', KEYS[1], 'state', st, 'reason', ARGV[4], 'checked', ARGV[5], "
	"  'attempts', a) "
	"end "
	"local wait = tonumber(ARGV[7]) * 2 ^ (a - 1) "
	"if wait > tonumber(ARGV[8]) then wait = tonumber(ARGV[8]) end "
	"redis.call('ZADD', KEYS[2], tonumber(ARGV[5]) + wait, ARGV[1]) "
	"return 1";

/* KEYS: live, check; ARGV: prefix, recheck at. A live name without a check to come (verified
 * before live names were checked again) gets one. */
static const char model_lua_domain_live[] =
	"local out = {} "
	"for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do "
	"  local st = redis.call('HGET', ARGV[1] .. 'domain:' .. n, 'state') "
	"  if st == 'verified' or st == 'active' then out[#out+1] = n "
	"    redis.call('ZADD', KEYS[2], 'NX', ARGV[2], n) "
	"  else redis.call('SREM', KEYS[1], n) end "
	"end "
	"table.sort(out) "
	"return out";

/* ARGV: prefix, names... */
static const char model_lua_domain_activate[] =
	"for i = 2, #ARGV do "
	"  local k = ARGV[1] .. 'domain:' .. ARGV[i] "
	"  if redis.call('HGET', k, 'state') == 'verified' then "
	"    redis.call('HSET', k, 'state', 'active') end "
	"end "
	"return 1";

void model_domain_token_new(char out[DOMAIN_TOKEN_LEN + 1])
{
	id_secret_new("", out, DOMAIN_TOKEN_LEN);
}

bool model_domain_serves(const char *state)
{
	return !strcmp(state, "verified") || !strcmp(state, "active");
}

int model_domain_add(struct redis *r, const struct domain *d, struct error *err)
{
	char kp[REDIS_KEY_MAX], kd[REDIS_KEY_MAX], kz[REDIS_KEY_MAX], kc[REDIS_KEY_MAX],
		created[24], max[16];
	redis_key(r, kp, "project:%s", d->project);
	redis_key(r, kd, "domain:%s", d->name);
	redis_key(r, kz, "project:%s:domains", d->project);
	redis_key(r, kc, "domains:check");
	snprintf(created, sizeof(created), "%lld", d->created);
	snprintf(max, sizeof(max), "%d", DOMAIN_PER_PROJECT_MAX);
	const char *args[] = { kp, kd, kz, kc, d->name, d->project, created, d->token, max };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_domain_add, 4, 9, args, &reply, err);
	if (rc < 0)
		return rc;
	long long v = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
	freeReplyObject(reply);
	if (v == -2)
		return error_set(err, SKIFF_ENOTFOUND, "not_found", "no project %s", d->project);
	if (v == -3)
		return error_set(err, SKIFF_ECONFLICT, "domain_taken",
				 "%s already belongs to a project; remove it there first", d->name);
	if (v == -4)
		return error_set(err, SKIFF_ELIMIT, "too_many_domains",
				 "a project has at most %d domains; remove one first",
				 DOMAIN_PER_PROJECT_MAX);
	if (v != 1)
		return error_set(err, SKIFF_EINTERNAL, NULL, "unexpected answer adding a domain");
	return 0;
}

int model_domain_remove(struct redis *r, const char *slug, const char *name, struct error *err)
{
	char kd[REDIS_KEY_MAX], kz[REDIS_KEY_MAX], kc[REDIS_KEY_MAX], kl[REDIS_KEY_MAX],
		kp[REDIS_KEY_MAX];
	redis_key(r, kd, "domain:%s", name);
	redis_key(r, kz, "project:%s:domains", slug);
	redis_key(r, kc, "domains:check");
	redis_key(r, kl, "domains:live");
	redis_key(r, kp, "project:%s", slug);
	const char *args[] = { kd, kz, kc, kl, kp, slug, name };
	int rc = model_script_run(r, model_lua_domain_remove, 5, 7, args, "domain", "", err);
	if (rc == SKIFF_ENOTFOUND)
		error_set(err, SKIFF_ENOTFOUND, "unknown_domain", "project %s has no domain %s", slug,
			  name);
	return rc;
}

int model_domain_get(struct redis *r, const char *name, struct domain *out, struct error *err)
{
	char kd[REDIS_KEY_MAX];
	memset(out, 0, sizeof(*out));
	redis_key(r, kd, "domain:%s", name);
	redisReply *reply = redis_cmd(r, err, "HMGET %s project state token reason created checked "
				      "attempts lost", kd);
	if (!reply)
		return model_script_failed(err);
	int rc = 0;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 8 ||
	    reply->element[0]->type != REDIS_REPLY_STRING) {
		rc = error_set(err, SKIFF_ENOTFOUND, "unknown_domain", "no domain %s", name);
	} else {
		snprintf(out->name, sizeof(out->name), "%s", name);
		model_script_str(reply->element[0], out->project, sizeof(out->project));
		model_script_str(reply->element[1], out->state, sizeof(out->state));
		model_script_str(reply->element[2], out->token, sizeof(out->token));
		model_script_str(reply->element[3], out->reason, sizeof(out->reason));
		out->created = model_script_num(reply->element[4]);
		out->checked = model_script_num(reply->element[5]);
		out->attempts = (long)model_script_num(reply->element[6]);
		out->lost = model_script_num(reply->element[7]);
	}
	freeReplyObject(reply);
	return rc;
}

/* o[key] = ms, or null for 0 (never, none). */
static void model_domain_list_time(json_t *o, const char *key, long long ms)
{
	json_object_set_new(o, key, ms ? json_integer(ms) : json_null());
}

int model_domain_list(struct redis *r, const char *slug, json_t **out, struct error *err)
{
	char kz[REDIS_KEY_MAX], kc[REDIS_KEY_MAX];
	redis_key(r, kz, "project:%s:domains", slug);
	redis_key(r, kc, "domains:check");
	const char *args[] = { kz, kc, redis_prefix(r) };
	redisReply *reply = NULL;
	*out = NULL;
	int rc = model_script_reply(r, model_lua_domain_list, 2, 3, args, &reply, err);
	if (rc < 0)
		return rc;
	json_t *list = json_array();
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		redisReply *e = reply->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 9)
			continue;
		struct domain d;
		model_script_str(e->element[0], d.name, sizeof(d.name));
		model_script_str(e->element[1], d.state, sizeof(d.state));
		model_script_str(e->element[2], d.token, sizeof(d.token));
		model_script_str(e->element[3], d.reason, sizeof(d.reason));
		char path[sizeof(DOMAIN_WELL_KNOWN) + DOMAIN_TOKEN_LEN];
		snprintf(path, sizeof(path), "%s%s", DOMAIN_WELL_KNOWN, d.token);
		json_t *o = json_pack("{sssssssIsI}", "name", d.name, "state", d.state,
				      "verificationPath", path, "created",
				      (json_int_t)model_script_num(e->element[4]), "attempts",
				      (json_int_t)model_script_num(e->element[6]));
		json_object_set_new(o, "reason", d.reason[0] ? json_string(d.reason) : json_null());
		model_domain_list_time(o, "checked", model_script_num(e->element[5]));
		model_domain_list_time(o, "lostSince", model_script_num(e->element[7]));
		model_domain_list_time(o, "nextCheck", model_script_num(e->element[8]));
		char txt[sizeof(DOMAIN_TXT_PREFIX) + HOST_DOMAIN_MAX];
		snprintf(txt, sizeof(txt), "%s%s", DOMAIN_TXT_PREFIX, d.name);
		json_object_set_new(o, "verificationTxt", json_pack("{ssss}", "name", txt, "value",
								    d.token));
		json_array_append_new(list, o);
	}
	freeReplyObject(reply);
	*out = list;
	return 0;
}

/* Fills out from the answer of model_lua_domain_site or model_lua_domain_project_site. */
static int model_domain_site_reply(redisReply *reply, struct domain_site *out,
				   struct error *err)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 8) {
		freeReplyObject(reply);
		return error_set(err, SKIFF_ENOTFOUND, NULL, "no site at this host");
	}
	char flag[4], state[DOMAIN_STATE_MAX + 1];
	model_script_str(reply->element[0], out->project, sizeof(out->project));
	model_script_str(reply->element[1], out->state, sizeof(out->state));
	model_script_str(reply->element[2], out->token, sizeof(out->token));
	model_script_str(reply->element[3], out->current, sizeof(out->current));
	model_script_str(reply->element[4], flag, sizeof(flag));
	out->hsts = !strcmp(flag, "1");
	model_script_str(reply->element[5], out->primary, sizeof(out->primary));
	model_script_str(reply->element[6], state, sizeof(state));
	out->primary_active = !strcmp(state, "active");
	model_script_str(reply->element[7], flag, sizeof(flag));
	out->redirect_project = !strcmp(flag, "1");
	freeReplyObject(reply);
	return 0;
}

int model_domain_site(struct redis *r, const char *name, struct domain_site *out,
		      struct error *err)
{
	char kd[REDIS_KEY_MAX];
	memset(out, 0, sizeof(*out));
	redis_key(r, kd, "domain:%s", name);
	const char *args[] = { kd, redis_prefix(r) };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_domain_site, 1, 2, args, &reply, err);
	return rc < 0 ? rc : model_domain_site_reply(reply, out, err);
}

int model_domain_project_site(struct redis *r, const char *slug, struct domain_site *out,
			      struct error *err)
{
	memset(out, 0, sizeof(*out));
	const char *args[] = { redis_prefix(r), slug };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_domain_project_site, 0, 2, args, &reply, err);
	return rc < 0 ? rc : model_domain_site_reply(reply, out, err);
}

int model_domain_due(struct redis *r, long long now, struct domain *out, size_t max, size_t *n,
		     struct error *err)
{
	char kc[REDIS_KEY_MAX], snow[24], smax[16], claim[16];
	*n = 0;
	redis_key(r, kc, "domains:check");
	snprintf(snow, sizeof(snow), "%lld", now);
	snprintf(smax, sizeof(smax), "%zu", max);
	snprintf(claim, sizeof(claim), "%d", DOMAIN_CLAIM_MS);
	const char *args[] = { kc, redis_prefix(r), snow, smax, claim };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_domain_due, 1, 5, args, &reply, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements && *n < max;
	     i++) {
		redisReply *e = reply->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 4)
			continue;
		struct domain *d = &out[(*n)++];
		memset(d, 0, sizeof(*d));
		model_script_str(e->element[0], d->name, sizeof(d->name));
		model_script_str(e->element[1], d->project, sizeof(d->project));
		model_script_str(e->element[2], d->token, sizeof(d->token));
		d->attempts = (long)model_script_num(e->element[3]);
	}
	freeReplyObject(reply);
	return 0;
}

int model_domain_checked(struct redis *r, const char *name, const char *token, bool ok,
			 const char *reason, long long now, long long recheck_ms, struct error *err)
{
	char kd[REDIS_KEY_MAX], kc[REDIS_KEY_MAX], kl[REDIS_KEY_MAX], snow[24], fail[8], rmin[16],
		rmax[16], recheck[24];
	redis_key(r, kd, "domain:%s", name);
	redis_key(r, kc, "domains:check");
	redis_key(r, kl, "domains:live");
	snprintf(snow, sizeof(snow), "%lld", now);
	snprintf(fail, sizeof(fail), "%d", DOMAIN_FAIL_AFTER);
	snprintf(rmin, sizeof(rmin), "%d", DOMAIN_RETRY_MIN_MS);
	snprintf(rmax, sizeof(rmax), "%d", DOMAIN_RETRY_MAX_MS);
	snprintf(recheck, sizeof(recheck), "%lld", recheck_ms);
	const char *args[] = { kd, kc, kl, name, token, ok ? "1" : "0", reason ? reason : "",
			       snow, fail, rmin, rmax, recheck };
	int rc = model_script_run(r, model_lua_domain_checked, 3, 12, args, "domain", "", err);
	return rc == SKIFF_ENOTFOUND ? 0 : rc;   /* removed meanwhile: nothing to record */
}

int model_domain_live(struct redis *r, long long recheck_at, json_t **out, struct error *err)
{
	char kl[REDIS_KEY_MAX], kc[REDIS_KEY_MAX], at[24];
	redis_key(r, kl, "domains:live");
	redis_key(r, kc, "domains:check");
	snprintf(at, sizeof(at), "%lld", recheck_at);
	const char *args[] = { kl, kc, redis_prefix(r), at };
	redisReply *reply = NULL;
	*out = NULL;
	int rc = model_script_reply(r, model_lua_domain_live, 2, 4, args, &reply, err);
	if (rc < 0)
		return rc;
	json_t *list = json_array();
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		char name[HOST_DOMAIN_MAX + 1];
		model_script_str(reply->element[i], name, sizeof(name));
		if (name[0])
			json_array_append_new(list, json_string(name));
	}
	freeReplyObject(reply);
	*out = list;
	return 0;
}

int model_domain_activate(struct redis *r, json_t *names, struct error *err)
{
	size_t n = json_array_size(names);
	if (n == 0)
		return 0;
	const char **args = calloc(n + 1, sizeof(*args));
	if (!args)
		abort();
	args[0] = redis_prefix(r);
	for (size_t i = 0; i < n; i++)
		args[i + 1] = json_string_value(json_array_get(names, i));
	int rc = model_script_run(r, model_lua_domain_activate, 0, (int)n + 1, args, "domain", "",
				  err);
	free(args);
	return rc;
}
