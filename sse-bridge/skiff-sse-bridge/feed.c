/* feed.c — the live feed of each watched deployment: one subscription, reads of its log
 * stream from the lowest last id of its clients, and the fan-out of each batch to them. */
#include "feed.h"
#include "client.h"
#include "frame.h"
#include "link.h"
#include "fnv.h"
#include "buf.h"
#include "log.h"
#include "model_log.h"

#include <assert.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The formatted events of one batch, shared by reference by every client's output. */
struct feed_batch {
	unsigned refs;
	char *data;
};

static unsigned feed_hash(const char *id)
{
	return fnv1a(id) & (FEED_BUCKETS - 1);
}

struct feed *feed_find(struct bridge *b, const char *id)
{
	for (struct feed *f = b->feeds[feed_hash(id)]; f; f = f->hnext)
		if (!strcmp(f->id, id))
			return f;
	return NULL;
}

/* ---- subscription ------------------------------------------------------------------ */

static void feed_on_message(redisAsyncContext *ac, void *r, void *privdata)
{
	struct link *l = ac->data;
	struct bridge *b = l->bridge;
	redisReply *reply = r;
	if (!reply || b->stopping || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_STRING)
		return;
	const char *type = reply->element[0]->str;
	const char *id = model_log_channel_id(b->cfg, reply->element[1]->str,
					      reply->element[1]->len);
	if (!id)
		return;
	struct feed *f = feed_find(b, id);
	if (!f)
		return;   /* unsubscribed meanwhile */
	if (!strcmp(type, "subscribe")) {
		/* from now on every PUBLISH reaches us: read what was written before */
		f->subscribed = 1;
		log_debug("subscribed deployment=%s", f->id);
		feed_wake(f);
	} else if (!strcmp(type, "message")) {
		feed_wake(f);
	}
}

static void feed_subscribe(struct feed *f, const char *command)
{
	struct bridge *b = f->bridge;
	if (!b->sub.up || !b->sub.ac)
		return;
	char channel[MODEL_LOG_KEY_MAX];
	model_log_channel_key(b->cfg, f->id, channel);
	const char *argv[2] = { command, channel };
	size_t len[2] = { strlen(command), strlen(channel) };
	/* the callback finds the feed by channel name, so it never holds a pointer to it */
	if (redisAsyncCommandArgv(b->sub.ac, feed_on_message, NULL, 2, argv, len) != REDIS_OK)
		log_debug("%s skipped deployment=%s", command, f->id);
}

void feed_resubscribe(struct bridge *b)
{
	for (size_t i = 0; i < FEED_BUCKETS; i++)
		for (struct feed *f = b->feeds[i]; f; f = f->hnext) {
			f->subscribed = 0;
			feed_subscribe(f, "SUBSCRIBE");
		}
}

/* ---- membership -------------------------------------------------------------------- */

void feed_join(struct bridge *b, struct client *c)
{
	struct feed *f = feed_find(b, c->id);
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f)
			abort();
		f->bridge = b;
		memcpy(f->id, c->id, sizeof(f->id));
		unsigned h = feed_hash(f->id);
		f->hnext = b->feeds[h];
		b->feeds[h] = f;
		b->nfeeds++;
		feed_subscribe(f, "SUBSCRIBE");
		log_debug("feed started deployment=%s feeds=%zu", f->id, b->nfeeds);
	}
	c->feed = f;
	c->prev = NULL;
	c->next = f->clients;
	if (f->clients)
		f->clients->prev = c;
	f->clients = c;
	f->nclients++;
	feed_wake(f);
}

static void feed_unhash(struct feed *f)
{
	struct bridge *b = f->bridge;
	struct feed **p = &b->feeds[feed_hash(f->id)];
	while (*p != f)
		p = &(*p)->hnext;
	*p = f->hnext;
	b->nfeeds--;
}

void feed_leave(struct client *c)
{
	struct feed *f = c->feed;
	if (c->prev)
		c->prev->next = c->next;
	else
		f->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->feed = NULL;
	if (--f->nclients > 0)
		return;
	/* the last client left: one UNSUBSCRIBE, and the feed goes (after its read, if any) */
	feed_subscribe(f, "UNSUBSCRIBE");
	feed_unhash(f);
	log_debug("feed stopped deployment=%s feeds=%zu", f->id, f->bridge->nfeeds);
	if (f->reading)
		f->orphan = 1;
	else
		free(f);
}

void feed_free_all(struct bridge *b)
{
	for (size_t i = 0; i < FEED_BUCKETS; i++)
		while (b->feeds[i]) {
			struct feed *f = b->feeds[i];
			b->feeds[i] = f->hnext;
			assert(!f->clients);
			free(f);
		}
	b->nfeeds = 0;
}

/* ---- reading and fan-out ----------------------------------------------------------- */

static void feed_batch_release(const void *data, size_t len, void *arg)
{
	struct feed_batch *batch = arg;
	if (--batch->refs == 0) {
		free(batch->data);
		free(batch);
	}
}

/* A string field of a stream entry's field/value array; NULL when absent. */
static const char *feed_field(const redisReply *fields, const char *name, size_t *len)
{
	for (size_t i = 0; i + 1 < fields->elements; i += 2) {
		const redisReply *k = fields->element[i], *v = fields->element[i + 1];
		if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
		    !strcmp(k->str, name)) {
			*len = v->len;
			return v->str;
		}
	}
	return NULL;
}

static int feed_kind_known(const char *k)
{
	return !strcmp(k, "line") || !strcmp(k, "state") || !strcmp(k, "end");
}

/* Index of the first of ids[0..n) after last. */
static size_t feed_after(const struct stream_id *ids, size_t n, struct stream_id last)
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

/* Formats the entries of an XRANGE reply once and gives each client the part after its
 * last id, at most up to its soft output limit. Returns 1 when the batch was cut short
 * by BATCH_BYTES_MAX (read again). */
static int feed_fanout(struct feed *f, const redisReply *reply)
{
	struct bridge *b = f->bridge;
	size_t n = reply->elements, cnt = 0;
	int cut = 0;
	struct stream_id *ids = calloc(n, sizeof(*ids));
	size_t *off = calloc(n + 1, sizeof(*off));
	unsigned char *end = calloc(n, 1);
	struct buf data = BUF_INIT(BATCH_BYTES_MAX);
	if (!ids || !off || !end)
		abort();
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = reply->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    stream_id_parse(e->element[0]->str, e->element[0]->len, &ids[cnt]) < 0)
			continue;
		const redisReply *fields = e->element[1];
		size_t klen = 0, slen = 0, mlen = 0;
		const char *k = NULL, *s = NULL, *m = NULL;
		if (fields->type == REDIS_REPLY_ARRAY) {
			k = feed_field(fields, "k", &klen);
			s = feed_field(fields, "s", &slen);
			m = feed_field(fields, "m", &mlen);
		}
		if (frame_entry_bound(mlen) > BATCH_BYTES_MAX - data.len) {
			cut = 1;
			break;
		}
		off[cnt] = data.len;
		if (k && feed_kind_known(k)) {
			frame_entry(&data, e->element[0]->str, ids[cnt], k, s ? s : "", slen,
				    m ? m : "", mlen);
			end[cnt] = !strcmp(k, "end");
		}
		cnt++;
	}
	off[cnt] = data.len;
	assert(data.err == 0);

	struct feed_batch *batch = calloc(1, sizeof(*batch));
	if (!batch)
		abort();
	batch->refs = 1;
	batch->data = buf_detach(&data);
	size_t soft = (size_t)b->cfg->sse_soft_limit;
	struct client *c = f->clients, *next;
	for (; c; c = next) {
		next = c->next;
		if (c->blocked || stream_id_cmp(c->last, f->read_from) < 0)
			continue;   /* a later read serves it */
		size_t j = feed_after(ids, cnt, c->last);
		int ended = 0, closed = 0;
		struct evbuffer *out = bufferevent_get_output(c->bev);
		/* whole events in runs that fit the room left under the soft limit (at least one
		 * event); what the socket does not take at once is queued. Once the queue passes
		 * the soft limit the client waits: the rest is read again when it has drained
		 * half, and a client that never drains stays over the limit until it is cut off. */
		size_t queued = evbuffer_get_length(out);
		while (j < cnt && !ended) {
			if (queued > soft) {
				c->blocked = 1;
				break;
			}
			size_t k = j;
			while (k < cnt && (k == j || off[k + 1] - off[j] <= soft - queued))
				if (end[k++]) {
					ended = 1;
					break;
				}
			c->last = ids[k - 1];
			if (off[k] > off[j]) {
				batch->refs++;
				ssize_t now = client_send_ref(c, queued, batch->data + off[j],
							      off[k] - off[j], feed_batch_release, batch);
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
	feed_batch_release(NULL, 0, batch);
	free(ids);
	free(off);
	free(end);
	return cut;
}

static void feed_read(struct feed *f);

static void feed_on_range(redisAsyncContext *ac, void *r, void *privdata)
{
	struct link *l = ac->data;
	struct feed *f = privdata;
	redisReply *reply = r;
	link_replied(l);
	int again = 0;
	if (!f->orphan && !f->bridge->stopping) {
		if (!reply) {
			f->dirty = 1;   /* the link is down: read again once it is back */
		} else if (reply->type == REDIS_REPLY_ARRAY) {
			if (reply->elements)
				again = feed_fanout(f, reply);
			again |= reply->elements >= FEED_READ_COUNT;
		} else if (reply->type == REDIS_REPLY_ERROR) {
			log_error("redis read failed deployment=%s error=\"%s\"", f->id, reply->str);
		}
	}
	f->reading = 0;
	if (f->orphan) {
		free(f);
		return;
	}
	if (reply && (again || f->dirty))
		feed_read(f);
}

static void feed_read(struct feed *f)
{
	struct bridge *b = f->bridge;
	int any = 0;
	struct stream_id from = { 0, 0 };
	for (struct client *c = f->clients; c; c = c->next) {
		if (c->blocked)
			continue;
		if (!any || stream_id_cmp(c->last, from) < 0)
			from = c->last;
		any = 1;
	}
	if (!any)
		return;
	/* XRANGE's start is inclusive: begin just after the lowest last id */
	struct stream_id start = from;
	if (++start.seq == 0)
		start.ms++;
	char key[MODEL_LOG_KEY_MAX], startbuf[STREAM_ID_MAX + 1];
	model_log_stream_key(b->cfg, f->id, key);
	stream_id_format(start, startbuf);
	const char *argv[6] = { "XRANGE", key, startbuf, "+", "COUNT", "1000" };
	size_t len[6];
	for (int i = 0; i < 6; i++)
		len[i] = strlen(argv[i]);
	f->dirty = 0;
	if (link_command(&b->cmd, feed_on_range, f, 6, argv, len) < 0) {
		f->dirty = 1;
		return;
	}
	f->read_from = from;
	f->reading = 1;
}

void feed_wake(struct feed *f)
{
	if (!f || f->orphan || f->bridge->stopping)
		return;
	if (f->reading) {
		f->dirty = 1;
		return;
	}
	feed_read(f);
}

/* ---- the check of a new client ----------------------------------------------------- */

static void feed_on_exists(redisAsyncContext *ac, void *r, void *privdata)
{
	struct client *c = privdata;
	redisReply *reply = r;
	link_replied(ac->data);
	c->pending--;
	if (!c->bev) {
		client_release(c);
		return;
	}
	if (reply && reply->type == REDIS_REPLY_INTEGER)
		c->exists = reply->integer > 0 ? CLIENT_EXISTS : CLIENT_MISSING;
	else if (reply)
		c->exists = CLIENT_UNKNOWN;   /* an error reply: 503, not a false 404 */
}

static void feed_on_last(redisAsyncContext *ac, void *r, void *privdata)
{
	struct client *c = privdata;
	redisReply *reply = r;
	link_replied(ac->data);
	c->pending--;
	if (!c->bev) {
		client_release(c);
		return;
	}
	if (!reply)
		return;   /* the link went down: checked again when it is back */
	c->end.ms = c->end.seq = 0;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1) {
		const redisReply *e = reply->element[0];
		size_t klen;
		const char *k;
		if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
		    e->element[0]->type == REDIS_REPLY_STRING &&
		    e->element[1]->type == REDIS_REPLY_ARRAY &&
		    (k = feed_field(e->element[1], "k", &klen)) && !strcmp(k, "end"))
			stream_id_parse(e->element[0]->str, e->element[0]->len, &c->end);
	}
	if (client_checked(c))
		feed_join(c->bridge, c);
}

void feed_check(struct bridge *b, struct client *c)
{
	if (!b->cmd.up)
		return;   /* waits in the checking list until the link is back */
	char hkey[MODEL_LOG_KEY_MAX], lkey[MODEL_LOG_KEY_MAX];
	model_log_record_key(b->cfg, c->id, hkey);
	model_log_stream_key(b->cfg, c->id, lkey);
	const char *a1[2] = { "EXISTS", hkey };
	size_t l1[2] = { 6, strlen(hkey) };
	const char *a2[6] = { "XREVRANGE", lkey, "+", "-", "COUNT", "1" };
	size_t l2[6] = { 9, strlen(lkey), 1, 1, 5, 1 };
	c->exists = CLIENT_UNKNOWN;
	if (link_command(&b->cmd, feed_on_exists, c, 2, a1, l1) < 0)
		return;
	c->pending++;
	if (link_command(&b->cmd, feed_on_last, c, 6, a2, l2) < 0)
		return;
	c->pending++;
}

void feed_catch_up(struct bridge *b)
{
	struct client *c = b->checking, *next;
	for (; c; c = next) {
		next = c->next;
		if (c->pending == 0)
			feed_check(b, c);
	}
	for (size_t i = 0; i < FEED_BUCKETS; i++)
		for (struct feed *f = b->feeds[i]; f; f = f->hnext)
			feed_wake(f);
}
