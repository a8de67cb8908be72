/* link.c — one async Redis connection (hiredis on libevent) that reconnects with backoff. */
#include "link.h"
#include "clock.h"
#include "log.h"
#include "redis.h"

#include <hiredis/adapters/libevent.h>
#include <stdlib.h>
#include <string.h>

static void link_schedule(struct link *l)
{
	if (l->bridge->stopping)
		return;
	struct timeval tv = { l->backoff_ms / 1000, (l->backoff_ms % 1000) * 1000 };
	log_debug("redis reconnect role=%s in_ms=%ld", l->role, l->backoff_ms);
	evtimer_add(l->retry, &tv);
	l->backoff_ms *= 2;
	if (l->backoff_ms > LINK_BACKOFF_MAX_MS)
		l->backoff_ms = LINK_BACKOFF_MAX_MS;
}

/* A failed attempt: a warning for the first of a run, the rest at debug level. */
static void link_failed(struct link *l, const char *error)
{
	if (l->backoff_ms == LINK_BACKOFF_MIN_MS)
		log_warn("redis connect failed role=%s error=\"%s\" retrying=yes", l->role, error);
	else
		log_debug("redis connect failed role=%s error=\"%s\"", l->role, error);
}

static void link_ready(struct link *l)
{
	log_info("redis connected role=%s", l->role);
	l->up = 1;
	l->backoff_ms = LINK_BACKOFF_MIN_MS;
	l->outstanding = 0;
	l->progress_ms = clock_mono_ms();
	l->on_up(l->bridge);
}

/* The reply to AUTH (redis_username/redis_password). Refused credentials close the
 * connection, which retries with backoff: an operator fixing the ACL needs no restart.
 * The error names the user, never the password. */
static void link_on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
	(void)privdata;
	struct link *l = ac->data;
	redisReply *r = reply;
	if (!r) /* the connection went away: on_disconnect retries */
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		const struct config *cfg = l->bridge->cfg;
		log_error("redis auth failed role=%s user=\"%s\" error=\"%.*s\"", l->role,
			  cfg->redis_username[0] ? cfg->redis_username : "default", (int)r->len,
			  r->str);
		redisAsyncDisconnect(ac);
		return;
	}
	link_ready(l);
}

static void link_on_connect(const redisAsyncContext *ac, int status)
{
	struct link *l = ac->data;
	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback */
		link_failed(l, ac->errstr);
		l->ac = NULL;
		l->up = 0;
		link_schedule(l);
		return;
	}
	const char *argv[3];
	int argc;
	if (redis_auth_argv(l->bridge->cfg, argv, &argc)) {
		/* nothing else is sent before AUTH has answered; on_up comes from link_on_auth */
		if (redisAsyncCommandArgv(l->ac, link_on_auth, NULL, argc, argv, NULL) != REDIS_OK)
			redisAsyncDisconnect(l->ac);
		return;
	}
	link_ready(l);
}

static void link_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct link *l = ac->data;
	/* hiredis frees the context after this callback; pending callbacks already got NULL */
	if (!l->bridge->stopping)
		log_warn("redis disconnected role=%s error=\"%s\"", l->role,
			 status == REDIS_OK ? "closed" : ac->errstr);
	l->ac = NULL;
	l->up = 0;
	l->outstanding = 0;
	link_schedule(l);
}

void link_connect(struct link *l)
{
	const struct config *cfg = l->bridge->cfg;
	redisAsyncContext *ac = cfg->redis_socket[0] ? redisAsyncConnectUnix(cfg->redis_socket)
						     : redisAsyncConnect(cfg->redis_host,
									 (int)cfg->redis_port);
	if (!ac)
		abort();
	if (ac->err) {
		link_failed(l, ac->errstr);
		redisAsyncFree(ac);
		link_schedule(l);
		return;
	}
	ac->data = l;
	if (redisLibeventAttach(ac, l->bridge->base) != REDIS_OK) {
		redisAsyncFree(ac);
		link_schedule(l);
		return;
	}
	redisAsyncSetConnectCallback(ac, link_on_connect);
	redisAsyncSetDisconnectCallback(ac, link_on_disconnect);
	l->ac = ac;
}

static void link_on_retry(evutil_socket_t fd, short what, void *arg)
{
	link_connect(arg);
}

void link_init(struct link *l, struct bridge *b, const char *role, void (*on_up)(struct bridge *))
{
	memset(l, 0, sizeof(*l));
	l->bridge = b;
	l->role = role;
	l->on_up = on_up;
	l->backoff_ms = LINK_BACKOFF_MIN_MS;
	l->retry = evtimer_new(b->base, link_on_retry, l);
	if (!l->retry)
		abort();
}

void link_close(struct link *l)
{
	if (l->ac) {
		redisAsyncContext *ac = l->ac;
		l->ac = NULL;
		l->up = 0;
		redisAsyncFree(ac);   /* runs pending callbacks with NULL, then on_disconnect */
	}
	if (l->retry) {
		event_free(l->retry);
		l->retry = NULL;
	}
}

int link_command(struct link *l, redisCallbackFn *fn, void *privdata, int argc,
		 const char **argv, const size_t *argvlen)
{
	if (!l->up || !l->ac)
		return -1;
	if (redisAsyncCommandArgv(l->ac, fn, privdata, argc, argv, argvlen) != REDIS_OK)
		return -1;
	if (l->outstanding++ == 0)
		l->progress_ms = clock_mono_ms();
	return 0;
}

void link_replied(struct link *l)
{
	if (l->outstanding)
		l->outstanding--;
	l->progress_ms = clock_mono_ms();
}

void link_cron(struct link *l, int64_t now)
{
	long limit = l->bridge->cfg->redis_timeout_ms;
	if (!l->ac || !l->up || !l->outstanding || now - l->progress_ms < limit)
		return;
	log_warn("redis timeout role=%s waited_ms=%lld", l->role, (long long)(now - l->progress_ms));
	/* freeing runs the pending callbacks with NULL and then on_disconnect, which retries */
	redisAsyncContext *ac = l->ac;
	redisAsyncFree(ac);
}
