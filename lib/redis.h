/* redis.h — synchronous Redis access for FastCGI programs and the builder: lazy connect with
 * timeouts, one reconnect on a broken connection, keys under the configured prefix. */
#ifndef SKIFF_REDIS_H
#define SKIFF_REDIS_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stddef.h>
#include "config.h"
#include "error.h"

#define REDIS_KEY_MAX 320

struct redis;

/* Never fails; connects on first use. */
struct redis *redis_new(const struct config *cfg);
void redis_free(struct redis *r);
/* A command in hiredis format. Returns the reply (caller frees with freeReplyObject) or NULL
 * with err set: SKIFF_EREDIS when unreachable, or when Redis answered an error reply (the
 * message carries its text; the error name is "redis_error"). A broken connection is
 * reconnected once and the command retried. */
redisReply *redis_cmd(struct redis *r, struct error *err, const char *fmt, ...);
redisReply *redis_cmdv(struct redis *r, struct error *err, int argc, const char **argv,
		       const size_t *argvlen);
/* Runs a Lua script (EVALSHA, falling back to EVAL) with nkeys keys then args. */
redisReply *redis_eval(struct redis *r, struct error *err, const char *script, int nkeys,
		       int nargs, const char **args);
/* Writes prefix + formatted suffix into out[REDIS_KEY_MAX]. */
void redis_key(const struct redis *r, char out[REDIS_KEY_MAX], const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *redis_prefix(const struct redis *r);
const struct config *redis_config(const struct redis *r);

/* The AUTH command for cfg's redis_username/redis_password in argv (3 slots), its length in
 * *argc; NULL when no password is configured. Shared by the async link of the SSE bridge. */
const char **redis_auth_argv(const struct config *cfg, const char *argv[3], int *argc);
/* Closes the connection (next command reconnects). For children after fork. */
void redis_disconnect(struct redis *r);
/* The string elements of an array reply as a new JSON array (empty for other replies). */
json_t *redis_reply_strings(const redisReply *reply);
/* PING; 0 when reachable. */
int redis_ping(struct redis *r, struct error *err);

#endif
