/* redis.c — hiredis sync connection with timeouts, lazy connect and a single reconnect. */
#include "redis.h"
#include "log.h"
#include "hex.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct redis {
	const struct config *cfg;
	redisContext *ctx;
};

struct redis *redis_new(const struct config *cfg)
{
	struct redis *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	r->cfg = cfg;
	return r;
}

void redis_disconnect(struct redis *r)
{
	if (r && r->ctx) {
		redisFree(r->ctx);
		r->ctx = NULL;
	}
}

void redis_free(struct redis *r)
{
	if (!r)
		return;
	redis_disconnect(r);
	free(r);
}

const char **redis_auth_argv(const struct config *cfg, const char *argv[3], int *argc)
{
	if (!cfg->redis_password[0])
		return NULL;
	*argc = 0;
	argv[(*argc)++] = "AUTH";
	if (cfg->redis_username[0])
		argv[(*argc)++] = cfg->redis_username;
	argv[(*argc)++] = cfg->redis_password;
	return argv;
}

/* AUTH on a new connection when a password is configured. The password never reaches a log
 * line or an error message: Redis's own reply (WRONGPASS ...) does not contain it. */
static int redis_auth(const struct config *cfg, redisContext *c, struct error *err)
{
	const char *argv[3];
	int argc;
	if (!redis_auth_argv(cfg, argv, &argc))
		return 0;
	redisReply *reply = redisCommandArgv(c, argc, argv, NULL);
	if (!reply)
		return error_set(err, SKIFF_EREDIS, "redis_unavailable", "Redis AUTH failed: %s",
				 c->errstr);
	int rc = 0;
	if (reply->type == REDIS_REPLY_ERROR) {
		rc = error_set(err, SKIFF_EREDIS, "redis_unavailable",
			       "Redis refused the credentials of user '%s': %.*s",
			       cfg->redis_username[0] ? cfg->redis_username : "default",
			       (int)reply->len, reply->str);
		log_error("redis auth failed user=\"%s\" error=\"%.*s\"",
			  cfg->redis_username[0] ? cfg->redis_username : "default", (int)reply->len,
			  reply->str);
	}
	freeReplyObject(reply);
	return rc;
}

static int redis_connect(struct redis *r, struct error *err)
{
	if (r->ctx)
		return 0;
	long ms = r->cfg->redis_timeout_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	redisContext *c;
	if (r->cfg->redis_socket[0])
		c = redisConnectUnixWithTimeout(r->cfg->redis_socket, tv);
	else
		c = redisConnectWithTimeout(r->cfg->redis_host, (int)r->cfg->redis_port, tv);
	if (!c)
		abort();
	if (c->err) {
		int rc = error_set(err, SKIFF_EREDIS, "redis_unavailable", "cannot reach Redis at %s: %s",
				   r->cfg->redis_socket[0] ? r->cfg->redis_socket : r->cfg->redis_host,
				   c->errstr);
		redisFree(c);
		return rc;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		redisFree(c);
		return error_set(err, SKIFF_EREDIS, "redis_unavailable", "cannot set Redis timeout");
	}
	if (redis_auth(r->cfg, c, err) < 0) {
		redisFree(c);
		return err ? err->code : SKIFF_EREDIS;
	}
	r->ctx = c;
	return 0;
}

static redisReply *redis_check(struct redis *r, redisReply *reply, struct error *err)
{
	if (reply && reply->type == REDIS_REPLY_ERROR) {
		error_set(err, SKIFF_EREDIS, "redis_error", "Redis error: %.*s", (int)reply->len,
			  reply->str);
		if (strncmp(reply->str, "NOSCRIPT", 8) != 0)
			log_error("redis command failed error=\"%.*s\"", (int)reply->len, reply->str);
		freeReplyObject(reply);
		return NULL;
	}
	(void)r;
	return reply;
}

/* After a command got no reply: records the error, drops the connection, and says whether
 * sending the command again is safe. It is when the connection was found closed (Redis
 * restarted, or closed an idle client): the command never ran. It is not after a timeout
 * or an error in the middle of a reply, when Redis may have run it already (a log line
 * appended twice, a create answered 409 for the project it just made). */
static int redis_failed(struct redis *r, struct error *err, int attempt)
{
	int e = errno;
	int retry = r->ctx->err == REDIS_ERR_EOF ||
		    (r->ctx->err == REDIS_ERR_IO && (e == EPIPE || e == ECONNRESET));
	error_set(err, SKIFF_EREDIS, "redis_unavailable", "Redis connection failed: %s",
		  r->ctx->errstr);
	log_warn("redis connection broken error=\"%s\" attempt=%d%s", r->ctx->errstr, attempt + 1,
		 retry ? "" : " retry=no");
	redis_disconnect(r);
	return retry;
}

redisReply *redis_cmdv(struct redis *r, struct error *err, int argc, const char **argv,
		       const size_t *argvlen)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (redis_connect(r, err) < 0)
			return NULL;
		redisReply *reply = redisCommandArgv(r->ctx, argc, argv, argvlen);
		if (reply)
			return redis_check(r, reply, err);
		if (!redis_failed(r, err, attempt))
			break;
	}
	return NULL;
}

redisReply *redis_cmd(struct redis *r, struct error *err, const char *fmt, ...)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (redis_connect(r, err) < 0)
			return NULL;
		va_list ap;
		va_start(ap, fmt);
		redisReply *reply = redisvCommand(r->ctx, fmt, ap);
		va_end(ap);
		if (reply)
			return redis_check(r, reply, err);
		if (!redis_failed(r, err, attempt))
			break;
	}
	return NULL;
}

redisReply *redis_eval(struct redis *r, struct error *err, const char *script, int nkeys,
		       int nargs, const char **args)
{
	unsigned char md[SHA_DIGEST_LENGTH];
	char sha[2 * SHA_DIGEST_LENGTH + 1], nk[16];
	SHA1((const unsigned char *)script, strlen(script), md);
	hex_encode(md, sizeof(md), sha);
	snprintf(nk, sizeof(nk), "%d", nkeys);

	enum { EVAL_MAX_ARGS = 128 };
	const char *argv[EVAL_MAX_ARGS + 3];
	if (nargs > EVAL_MAX_ARGS)
		abort();
	argv[0] = "EVALSHA";
	argv[1] = sha;
	argv[2] = nk;
	for (int i = 0; i < nargs; i++)
		argv[3 + i] = args[i];
	struct error e;
	error_clear(&e);
	redisReply *reply = redis_cmdv(r, &e, nargs + 3, argv, NULL);
	if (reply)
		return reply;
	if (e.code == SKIFF_EREDIS && strstr(e.message, "NOSCRIPT")) {
		argv[0] = "EVAL";
		argv[1] = script;
		return redis_cmdv(r, err, nargs + 3, argv, NULL);
	}
	if (err)
		*err = e;
	return NULL;
}

void redis_key(const struct redis *r, char out[REDIS_KEY_MAX], const char *fmt, ...)
{
	size_t n = strlen(r->cfg->redis_prefix);
	if (n >= REDIS_KEY_MAX)
		abort();
	memcpy(out, r->cfg->redis_prefix, n + 1);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(out + n, REDIS_KEY_MAX - n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= REDIS_KEY_MAX - n)
		abort(); /* keys are built from validated ids: too long is a programming error */
}

const char *redis_prefix(const struct redis *r)
{
	return r->cfg->redis_prefix;
}

json_t *redis_reply_strings(const redisReply *reply)
{
	json_t *arr = json_array();
	if (reply->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i < reply->elements; i++)
			if (reply->element[i]->type == REDIS_REPLY_STRING)
				json_array_append_new(arr, json_stringn(reply->element[i]->str,
									reply->element[i]->len));
	return arr;
}

const struct config *redis_config(const struct redis *r)
{
	return r->cfg;
}

int redis_ping(struct redis *r, struct error *err)
{
	redisReply *reply = redis_cmd(r, err, "PING");
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	freeReplyObject(reply);
	return 0;
}
