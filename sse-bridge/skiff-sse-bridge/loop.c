/* loop.c — one event loop thread: the clients it accepted, grouped by deployment (a watch
 * each), and the fan-out of each batch the main thread read to them. Only this thread
 * touches its clients and watches; the rest of the bridge reaches them through its inbox. */
#include "loop.h"
#include "batch.h"
#include "client.h"
#include "frame.h"
#include "mailbox.h"
#include "clock.h"
#include "fnv.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <event2/buffer.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned loop_hash(const char *id)
{
	return fnv1a(id) & (FEED_BUCKETS - 1);
}

static struct watch *loop_watch_find(struct loop *l, const char *id)
{
	for (struct watch *w = l->watches[loop_hash(id)]; w; w = w->hnext)
		if (!strcmp(w->id, id))
			return w;
	return NULL;
}

/* Tells the main thread about deployment id's clients (JOIN, WANT, LEAVE). */
static void loop_tell(struct loop *l, enum msg_type type, const char *id, struct stream_id last)
{
	struct msg *m = msg_new(type);
	m->loop = l;
	m->last = last;
	memcpy(m->id, id, sizeof(m->id));
	mailbox_post(&l->bridge->inbox, m);
}

/* ---- membership -------------------------------------------------------------------- */

void loop_client_check(struct client *c)
{
	struct msg *m = msg_new(MAIL_CHECK);
	m->client = c;
	m->loop = c->loop;
	memcpy(m->id, c->id, sizeof(m->id));
	c->pending++;   /* the struct outlives its connection until the answer is back */
	mailbox_post(&c->bridge->inbox, m);
}

/* A checked client starts streaming: into its deployment's watch, and the main thread
 * reads from its last id. */
static void loop_join(struct loop *l, struct client *c)
{
	struct watch *w = loop_watch_find(l, c->id);
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			abort();
		memcpy(w->id, c->id, sizeof(w->id));
		w->sent_ms = clock_mono_ms();   /* its first client is sent the stream's head */
		unsigned h = loop_hash(w->id);
		w->hnext = l->watches[h];
		l->watches[h] = w;
		l->nwatches++;
	}
	c->watch = w;
	c->prev = NULL;
	c->next = w->clients;
	if (w->clients)
		w->clients->prev = c;
	w->clients = c;
	w->nclients++;
	loop_tell(l, MAIL_JOIN, c->id, c->last);
}

void loop_client_leave(struct client *c)
{
	struct loop *l = c->loop;
	struct watch *w = c->watch;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->watch = NULL;
	loop_tell(l, MAIL_LEAVE, c->id, c->last);
	if (--w->nclients > 0)
		return;
	struct watch **p = &l->watches[loop_hash(w->id)];
	while (*p != w)
		p = &(*p)->hnext;
	*p = w->hnext;
	l->nwatches--;
	free(w);
}

void loop_client_wake(struct client *c)
{
	loop_tell(c->loop, MAIL_WANT, c->id, c->last);
}

/* ---- fan-out ----------------------------------------------------------------------- */

/* Index of the first of ids[0..n) after last. */
static size_t loop_after(const struct stream_id *ids, size_t n, struct stream_id last)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (stream_id_cmp(ids[mid], last) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The references of one loop's clients to a batch: counted here without atomics (only
 * this loop's thread drains its clients' outputs), one atomic reference to the batch. */
struct loop_share {
	struct batch *batch;
	unsigned refs;
};

static void loop_share_release(const void *data, size_t len, void *arg)
{
	struct loop_share *share = arg;
	if (--share->refs > 0)
		return;
	batch_release(NULL, 0, share->batch);
	free(share);
}

/* Gives each client of the batch's deployment the part after its last id, at most up to
 * its soft output limit. A client whose last id is before the batch (it joined or drained
 * meanwhile) asks the main thread to read again from there. */
static void loop_fanout(struct loop *l, struct batch *batch)
{
	struct watch *w = loop_watch_find(l, batch->id);
	if (!w)
		return;
	w->sent_ms = clock_mono_ms();
	size_t soft = (size_t)l->bridge->cfg->sse_soft_limit;
	const struct stream_id *ids = batch->ids;
	const size_t *off = batch->off;
	size_t cnt = batch->cnt;
	int behind = 0;
	struct stream_id lowest = { 0, 0 };
	struct loop_share *share = malloc(sizeof(*share));
	if (!share)
		abort();
	batch_hold(batch);
	share->batch = batch;
	share->refs = 1;   /* this function's own, dropped at the end */
	struct client *c = w->clients, *next;
	/* w is freed when its last client leaves: only next is used from here on */
	for (; c; c = next) {
		next = c->next;
		if (c->blocked)
			continue;   /* asks again once it has drained */
		if (stream_id_cmp(c->last, batch->from) < 0) {
			if (!behind || stream_id_cmp(c->last, lowest) < 0)
				lowest = c->last;
			behind = 1;
			continue;
		}
		size_t j = loop_after(ids, cnt, c->last);
		int ended = 0, closed = 0;
		/* whole events in runs that fit the room left under the soft limit (at least one
		 * event); what the socket does not take at once is queued. Once the queue passes
		 * the soft limit the client waits: the rest is read again when it has drained
		 * half, and a client that never drains stays over the limit until it is cut off. */
		size_t queued = client_queued(c);
		while (j < cnt && !ended) {
			if (queued > soft) {
				c->blocked = 1;
				break;
			}
			size_t k = j;
			while (k < cnt && (k == j || off[k + 1] - off[j] <= soft - queued))
				if (batch->end[k++]) {
					ended = 1;
					break;
				}
			c->last = ids[k - 1];
			if (off[k] > off[j]) {
				share->refs++;
				ssize_t now = client_send_ref(c, queued, batch->data + off[j],
							      off[k] - off[j], loop_share_release,
							      share);
				if (now < 0) {
					closed = 1;
					break;
				}
				queued = (size_t)now;
			}
			j = k;
		}
		if (ended && !closed) {
			log_debug("client ended deployment=%s", c->id);
			client_finish(c);
		}
	}
	loop_share_release(NULL, 0, share);
	if (behind)
		loop_tell(l, MAIL_WANT, batch->id, lowest);
}

/* ---- the thread -------------------------------------------------------------------- */

static void loop_deliver(void *arg, struct msg *m)
{
	struct loop *l = arg;
	struct client *c = m->client;
	switch (m->type) {
	case MAIL_ACCEPT:
		if (l->stopping)
			close(m->fd);
		else
			client_accept(l, m->fd);
		break;
	case MAIL_CHECKED:
		c->pending--;
		if (!c->bev) {
			client_release(c);
			break;
		}
		c->exists = m->exists;
		c->end = m->end;
		if (client_checked(c))
			loop_join(l, c);
		break;
	case MAIL_BATCH:
		if (!l->stopping)
			loop_fanout(l, m->batch);
		batch_release(NULL, 0, m->batch);
		break;
	case MAIL_STOP:
		l->stopping = 1;
		client_close_all(l);
		event_base_loopbreak(l->base);
		break;
	default:
		assert(!"message for the main thread");
	}
	free(m);
}

static void loop_on_cron(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	int64_t now = clock_mono_ms();
	atomic_store(&l->beat_ms, now);
	client_cron(l, now);
}

int loop_alive(struct loop *l, int64_t now)
{
	return now - atomic_load(&l->beat_ms) < LOOP_STALL_MS;
}

struct loop *loop_new(struct bridge *b, unsigned index)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	l->bridge = b;
	l->index = index;
	l->base = event_base_new();
	if (!l->base)
		abort();
	atomic_init(&l->beat_ms, clock_mono_ms());
	mailbox_init(&l->inbox, l->base, loop_deliver, l);
	l->cron = event_new(l->base, -1, EV_PERSIST, loop_on_cron, l);
	struct timeval tv = { 1, 0 };
	if (!l->cron || event_add(l->cron, &tv) < 0)
		abort();
	return l;
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	event_base_dispatch(l->base);
	return NULL;
}

int loop_start(struct loop *l)
{
	/* signals go to the main thread's event base, never to a loop */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&l->thread, NULL, loop_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	l->started = 1;
	return 0;
}

void loop_accept(struct loop *l, int fd)
{
	struct msg *m = msg_new(MAIL_ACCEPT);
	m->fd = fd;
	mailbox_post(&l->inbox, m);
}

void loop_stop(struct loop *l)
{
	if (!l->started)
		return;
	mailbox_post(&l->inbox, msg_new(MAIL_STOP));
	pthread_join(l->thread, NULL);
	l->started = 0;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	assert(!l->started);
	/* what came after the stop: answers to checks let their clients go, batches their
	 * references, connections are closed */
	l->stopping = 1;
	mailbox_drain(&l->inbox);
	assert(l->all == NULL && l->nwatches == 0);
	mailbox_dispose(&l->inbox);
	event_free(l->cron);
	event_base_free(l->base);   /* runs the finalizers of freed bufferevents */
	free(l);
}
