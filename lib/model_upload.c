/* model_upload.c — deployments of the deploy protocol in Redis: the deployment record and its
 * upload:{id} hash (files, config, preview, seq: the highest log line appended). */
#include "model_upload.h"
#include "model_record.h"
#include "model_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS: project, deployment, project deployments, log, events, upload
 * ARGV: id, created, maxlen, fields json, files, config, preview, ttl */
static const char model_lua_upload_create[] = MODEL_LUA_HSET MODEL_LUA_NOTIFY
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"hset(KEYS[2], ARGV[4]) "
	"redis.call('HSET', KEYS[2], 'state', 'building', 'phase', 'upload', 'started', ARGV[2]) "
	"notify(KEYS[2], 'building', ARGV[2]) "
	"redis.call('HSET', KEYS[1], 'latest', ARGV[1]) "
	"redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1]) "
	"redis.call('HSET', KEYS[6], 'files', ARGV[5], 'config', ARGV[6], 'preview', ARGV[7], "
	"'seq', '-1') "
	"redis.call('EXPIRE', KEYS[6], ARGV[8]) "
	"local eid = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', 'k', 'state', "
	"'s', 'system', 'm', 'building upload') "
	"redis.call('PUBLISH', KEYS[5], eid) "
	"return eid";

/* KEYS: deployment, upload, log, events
 * ARGV: maxlen, then seq, stream, text for each line (seq increasing) */
static const char model_lua_upload_log[] = MODEL_LUA_FINAL
	"local cur = redis.call('HGET', KEYS[1], 'state') "
	"if not cur then return -2 end "
	"if final[cur] then return -3 end "
	"local seq = redis.call('HGET', KEYS[2], 'seq') "
	"if not seq then return -2 end "
	"local high = tonumber(seq) local n = 0 local eid "
	"for i = 2, #ARGV, 3 do "
	"  local s = tonumber(ARGV[i]) "
	"  if s > high then "
	"    eid = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[1], '*', 'k', 'line', "
	"    's', ARGV[i+1], 'm', ARGV[i+2]) "
	"    high = s n = n + 1 "
	"  end "
	"end "
	"if n > 0 then "
	"  redis.call('HSET', KEYS[2], 'seq', tostring(high)) "
	"  redis.call('PUBLISH', KEYS[4], eid) "
	"end "
	"return n";

/* KEYS: deployment, upload; ARGV: files, config, ttl. A deployment whose context is "preview"
 * stays a preview. */
static const char model_lua_upload_attach[] =
	"local t = redis.call('HMGET', KEYS[1], 'state', 'phase', 'context') "
	"if not t[1] then return -2 end "
	"if t[1] ~= 'building' or t[2] ~= 'upload' then return -3 end "
	"if redis.call('EXISTS', KEYS[2]) == 0 then return -2 end "
	"redis.call('HSET', KEYS[2], 'files', ARGV[1], 'config', ARGV[2], 'preview', "
	"t[3] == 'preview' and '1' or '0') "
	"redis.call('EXPIRE', KEYS[2], ARGV[3]) "
	"return 1";

int model_upload_create(struct redis *r, const struct deployment *d, const char *files,
			const char *config, bool preview, struct error *err)
{
	if (!d->id[0] || !d->project[0])
		return error_set(err, SKIFF_EINTERNAL, NULL, "upload create without id or project");
	char kp[REDIS_KEY_MAX], kd[REDIS_KEY_MAX], kpd[REDIS_KEY_MAX], kl[REDIS_KEY_MAX],
		ke[REDIS_KEY_MAX], ku[REDIS_KEY_MAX], created[24], maxlen[24], ttl[16];
	redis_key(r, kp, "project:%s", d->project);
	redis_key(r, kd, "deployment:%s", d->id);
	redis_key(r, kpd, "project:%s:deployments", d->project);
	redis_key(r, kl, "log:%s", d->id);
	redis_key(r, ke, "events:%s", d->id);
	redis_key(r, ku, "upload:%s", d->id);
	snprintf(created, sizeof(created), "%lld", d->created);
	snprintf(ttl, sizeof(ttl), "%d", MODEL_UPLOAD_TTL_S);
	json_t *fields = model_record_deployment_fields(d);
	if (preview)   /* never goes live: its record says so to whoever checks the context */
		json_object_set_new(fields, "context", json_string("preview"));
	char *fj = model_script_json(fields);
	json_decref(fields);
	const char *args[] = { kp, kd, kpd, kl, ke, ku, d->id, created,
			       model_script_maxlen(r, maxlen), fj, files, config,
			       preview ? "1" : "0", ttl };
	int rc = model_script_run(r, model_lua_upload_create, 6, 14, args, "project", "conflict", err);
	free(fj);
	return rc;
}

/* A string reply into a bounded buffer. */
static int model_upload_field(const redisReply *e, struct buf *out, const char *what,
			      struct error *err)
{
	buf_reset(out);
	if (e->type == REDIS_REPLY_STRING)
		buf_append(out, e->str, e->len);
	if (out->err)
		return error_set(err, SKIFF_ELIMIT, NULL, "the %s of the upload is too large", what);
	return 0;
}

int model_upload_get(struct redis *r, const char *id, struct buf *files, struct buf *config,
		     bool *preview, struct error *err)
{
	char ku[REDIS_KEY_MAX];
	redis_key(r, ku, "upload:%s", id);
	redisReply *reply = redis_cmd(r, err, "HMGET %s files config preview", ku);
	if (!reply)
		return model_script_failed(err);
	int rc = 0;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		rc = error_set(err, SKIFF_ENOTFOUND, "not_uploaded",
			       "deployment %s was not created by an upload", id);
	if (rc == 0)
		rc = model_upload_field(reply->element[0], files, "file list", err);
	if (rc == 0)
		rc = model_upload_field(reply->element[1], config, "configuration", err);
	if (rc == 0)
		*preview = reply->element[2]->type == REDIS_REPLY_STRING &&
			   !strcmp(reply->element[2]->str, "1");
	freeReplyObject(reply);
	return rc;
}

int model_upload_log(struct redis *r, const char *id, const struct model_upload_line *lines,
		     size_t n, size_t *appended, struct error *err)
{
	char kd[REDIS_KEY_MAX], ku[REDIS_KEY_MAX], kl[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], maxlen[24];
	*appended = 0;
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, ku, "upload:%s", id);
	redis_key(r, kl, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	size_t nargs = 4 + 1 + 3 * n;
	const char **args = calloc(nargs, sizeof(*args));
	char (*seqs)[24] = calloc(n ? n : 1, sizeof(*seqs));
	if (!args || !seqs)
		abort();
	args[0] = kd;
	args[1] = ku;
	args[2] = kl;
	args[3] = ke;
	args[4] = model_script_maxlen(r, maxlen);
	for (size_t i = 0; i < n; i++) {
		snprintf(seqs[i], sizeof(seqs[i]), "%lld", lines[i].seq);
		args[5 + 3 * i] = seqs[i];
		args[6 + 3 * i] = lines[i].stream;
		args[7 + 3 * i] = lines[i].text;
	}
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_upload_log, 4, (int)nargs, args, &reply, err);
	if (rc == 0) {
		if (reply->type == REDIS_REPLY_INTEGER && reply->integer == -2)
			rc = error_set(err, SKIFF_ENOTFOUND, "not_uploaded",
				       "deployment %s was not created by an upload", id);
		else if (reply->type == REDIS_REPLY_INTEGER && reply->integer == -3)
			rc = error_set(err, SKIFF_ECONFLICT, "not_building",
				       "deployment %s has already finished", id);
		else if (reply->type == REDIS_REPLY_INTEGER)
			*appended = (size_t)reply->integer;
		freeReplyObject(reply);
	}
	free(seqs);
	free(args);
	return rc;
}

int model_upload_attach(struct redis *r, const char *id, const char *files, const char *config,
			struct error *err)
{
	char kd[REDIS_KEY_MAX], ku[REDIS_KEY_MAX], ttl[16];
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, ku, "upload:%s", id);
	snprintf(ttl, sizeof(ttl), "%d", MODEL_UPLOAD_TTL_S);
	const char *args[] = { kd, ku, files, config, ttl };
	int rc = model_script_run(r, model_lua_upload_attach, 2, 5, args, "deployment", "conflict",
				  err);
	if (rc == SKIFF_ECONFLICT)
		rc = error_set(err, SKIFF_ECONFLICT, "not_uploading",
			       "deployment %s is not building in its upload phase", id);
	return rc;
}
