/* sites.c — drops this node's fast-path link of each site another node switched, in a
 * thread of its own, in the order announced. */
#include "sites.h"
#include "fastpath.h"
#include "fastpath_switch.h"
#include "log.h"
#include "model_switch.h"
#include "percent.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define SITES_EXCERPT_MAX 64   /* bytes of an ignored message quoted in its warning */

struct sites {
	const char *dir;                           /* fastpath_dir */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char queue[SITES_QUEUE_MAX][SLUG_MAX + 1]; /* a ring: first, n */
	size_t first, n;
	int all;                                   /* drop every link before the queue */
	int stop;
};

static void *sites_main(void *arg)
{
	struct sites *s = arg;
	char slug[SLUG_MAX + 1];
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->all && !s->n && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->all) {
			s->all = 0;
			s->n = 0;   /* every link goes: the queued ones with them */
			pthread_mutex_unlock(&s->mu);
			int n = fastpath_switch_drop_all(s->dir);
			log_info("fastpath links dropped count=%d", n);
			pthread_mutex_lock(&s->mu);
		} else if (s->n) {
			memcpy(slug, s->queue[s->first], sizeof(slug));
			s->first = (s->first + 1) % SITES_QUEUE_MAX;
			s->n--;
			pthread_mutex_unlock(&s->mu);
			fastpath_drop(s->dir, slug);
			log_debug("fastpath switch site=%s", slug);
			pthread_mutex_lock(&s->mu);
		} else {
			break;   /* stop, with nothing left to drop */
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Hands slug (NULL: every site) to the thread. */
static void sites_post(struct sites *s, const char *slug)
{
	pthread_mutex_lock(&s->mu);
	if (!slug || s->n == SITES_QUEUE_MAX) {
		s->all = 1;
	} else {
		memcpy(s->queue[(s->first + s->n) % SITES_QUEUE_MAX], slug, SLUG_MAX + 1);
		s->n++;
	}
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* One warning for a message that is not a slug: why, its length, and its first
 * SITES_EXCERPT_MAX bytes percent-encoded (a message can neither cut nor forge the line). */
static void sites_ignored(const char *msg, size_t len, const struct error *err)
{
	if (!log_enabled(LOG_WARN))
		return;
	struct buf excerpt = BUF_INIT(3 * SITES_EXCERPT_MAX);
	percent_encode(&excerpt, msg, len < SITES_EXCERPT_MAX ? len : SITES_EXCERPT_MAX, "");
	log_msg(LOG_WARN, "fastpath switch ignored reason=%s length=%zu message=%s", err->name, len,
		buf_cstr(&excerpt));
	buf_dispose(&excerpt);
}

static void sites_on_message(redisAsyncContext *ac, void *r, void *privdata)
{
	(void)privdata;
	struct link *l = ac->data;
	struct bridge *b = l->bridge;
	redisReply *reply = r;
	if (!reply || b->stopping || !b->sites || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 3 || reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_STRING ||
	    !model_switch_channel_is(b->cfg, reply->element[1]->str, reply->element[1]->len))
		return;
	const char *type = reply->element[0]->str;
	if (!strcmp(type, "subscribe")) {
		/* from now on every switch reaches us: forget what may have been missed before */
		log_info("fastpath switches subscribed");
		sites_post(b->sites, NULL);
	} else if (!strcmp(type, "message") && reply->element[2]->type == REDIS_REPLY_STRING) {
		char slug[SLUG_MAX + 1] = "";   /* all of it is queued */
		struct error err;
		const redisReply *m = reply->element[2];
		if (model_switch_slug(m->str, m->len, slug, &err) < 0) {
			sites_ignored(m->str, m->len, &err);
			return;
		}
		sites_post(b->sites, slug);
	}
}

int sites_start(struct bridge *b)
{
	if (!b->cfg->fastpath_dir[0])
		return 0;
	struct sites *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->dir = b->cfg->fastpath_dir;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	/* signals go to the main thread's event base, never to this thread */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&s->thread, NULL, sites_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		errno = rc;
		return -1;
	}
	b->sites = s;
	return 0;
}

void sites_subscribe(struct bridge *b)
{
	if (!b->sites || !b->sub.up || !b->sub.ac)
		return;
	char channel[MODEL_SWITCH_KEY_MAX];
	model_switch_channel_key(b->cfg, channel);
	const char *argv[2] = { "SUBSCRIBE", channel };
	size_t len[2] = { strlen(argv[0]), strlen(channel) };
	if (redisAsyncCommandArgv(b->sub.ac, sites_on_message, NULL, 2, argv, len) != REDIS_OK)
		log_warn("fastpath switches not subscribed");
}

void sites_stop(struct bridge *b)
{
	struct sites *s = b->sites;
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
	b->sites = NULL;
}
