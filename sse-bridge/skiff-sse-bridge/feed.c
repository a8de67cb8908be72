/* feed.c — the live feed of each watched deployment, in the main thread: one subscription,
 * reads of its log stream from the lowest id its clients need, each batch formatted once and
 * handed to every loop by reference; and the Redis check of each new client. */
#include "feed.h"
#include "batch.h"
#include "frame.h"
#include "mailbox.h"
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

static void feed_read(struct feed *f);

/* A client needs the entries after last: the next read starts there at the latest. */
static void feed_want(struct feed *f, struct stream_id last)
{
	if (f->reading) {
		/* the reply moves the cursor to its end: this id is applied after it */
		if (!f->has_want || stream_id_cmp(last, f->want) < 0)
			f->want = last;
		f->has_want = 1;
		f->dirty = 1;
		return;
	}
	if (stream_id_cmp(last, f->cursor) < 0)
		f->cursor = last;
	feed_read(f);
}

static void feed_join(struct bridge *b, const struct loop *l, const char *id,
		      struct stream_id last)
{
	struct feed *f = feed_find(b, id);
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f)
			abort();
		f->bridge = b;
		memcpy(f->id, id, sizeof(f->id));
		f->cursor = last;
		unsigned h = feed_hash(f->id);
		f->hnext = b->feeds[h];
		b->feeds[h] = f;
		b->nfeeds++;
		feed_subscribe(f, "SUBSCRIBE");
		log_debug("feed started deployment=%s feeds=%zu", f->id, b->nfeeds);
	}
	f->nclients++;
	f->loop_clients[l->index]++;
	feed_want(f, last);
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

static void feed_leave(struct bridge *b, const struct loop *l, const char *id)
{
	struct feed *f = feed_find(b, id);
	assert(f && f->nclients > 0 && f->loop_clients[l->index] > 0);
	f->loop_clients[l->index]--;
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
			free(f);
		}
	b->nfeeds = 0;
}

/* ---- reading and fan-out ----------------------------------------------------------- */

/* A string field of a stream entry's field/value array; NULL when absent. The name is
 * compared over the field's whole length: "k\0x" is not "k". */
static const char *feed_field(const redisReply *fields, const char *name, size_t *len)
{
	size_t n = strlen(name);
	for (size_t i = 0; i + 1 < fields->elements; i += 2) {
		const redisReply *k = fields->element[i], *v = fields->element[i + 1];
		if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
		    k->len == n && !memcmp(k->str, name, n)) {
			*len = v->len;
			return v->str;
		}
	}
	return NULL;
}

/* An entry's kind: the constant "line", "state" or "end" its k field is, over its whole
 * length ("end\0x" is none of them); NULL when absent or another. */
static const char *feed_kind(const redisReply *fields)
{
	static const char *const kinds[] = { "line", "state", "end" };
	size_t len = 0;
	const char *k = fields->type == REDIS_REPLY_ARRAY ? feed_field(fields, "k", &len) : NULL;
	for (size_t i = 0; k && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (len == strlen(kinds[i]) && !memcmp(k, kinds[i], len))
			return kinds[i];
	return NULL;
}

/* Formats the entries of an XRANGE reply once into a batch; *cut is set when
 * BATCH_BYTES_MAX cut it short (read again). */
static struct batch *feed_batch(struct feed *f, const redisReply *reply, int *cut)
{
	size_t n = reply->elements, cnt = 0;
	struct batch *batch = calloc(1, sizeof(*batch));
	struct buf data = BUF_INIT(BATCH_BYTES_MAX);
	if (!batch)
		abort();
	batch->ids = calloc(n, sizeof(*batch->ids));
	batch->off = calloc(n + 1, sizeof(*batch->off));
	batch->end = calloc(n, 1);
	if (!batch->ids || !batch->off || !batch->end)
		abort();
	atomic_init(&batch->refs, 1);
	batch->from = f->read_from;
	memcpy(batch->id, f->id, sizeof(batch->id));
	*cut = 0;
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = reply->element[i];
		struct stream_id *sid = &batch->ids[cnt];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    stream_id_parse(e->element[0]->str, e->element[0]->len, sid) < 0)
			continue;
		const redisReply *fields = e->element[1];
		size_t slen = 0, mlen = 0;
		const char *k = feed_kind(fields), *s = NULL, *m = NULL;
		if (fields->type == REDIS_REPLY_ARRAY) {
			s = feed_field(fields, "s", &slen);
			m = feed_field(fields, "m", &mlen);
		}
		if (frame_entry_bound(mlen) > BATCH_BYTES_MAX - data.len) {
			*cut = 1;
			break;
		}
		batch->off[cnt] = data.len;
		if (k) {
			frame_entry(&data, e->element[0]->str, *sid, k, s ? s : "", slen,
				    m ? m : "", mlen);
			batch->end[cnt] = !strcmp(k, "end");
		}
		cnt++;
	}
	batch->off[cnt] = data.len;
	batch->cnt = cnt;
	assert(data.err == 0);
	batch->data = buf_detach(&data);
	return batch;
}

/* Hands the batch to every loop with clients of the deployment: each gives them their part.
 * A loop whose client joined after this count gets what it missed by the read its join
 * asks for (feed_want), as a loop whose clients are behind does. */
static void feed_post(struct feed *f, struct batch *batch)
{
	struct bridge *b = f->bridge;
	for (unsigned i = 0; i < b->nloops; i++) {
		if (f->loop_clients[i] == 0)
			continue;
		struct msg *m = msg_new(MAIL_BATCH);
		batch_hold(batch);
		m->batch = batch;
		mailbox_post(&b->loops[i]->inbox, m);
	}
}

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
			if (reply->elements) {
				struct batch *batch = feed_batch(f, reply, &again);
				if (batch->cnt) {
					/* every client up to date has these now; one that is not
					 * asks again (MAIL_WANT) */
					f->cursor = batch->ids[batch->cnt - 1];
					feed_post(f, batch);
				}
				batch_release(NULL, 0, batch);
			}
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
	if (f->has_want) {
		if (stream_id_cmp(f->want, f->cursor) < 0)
			f->cursor = f->want;
		f->has_want = 0;
	}
	if (reply && (again || f->dirty))
		feed_read(f);
}

/* FEED_READ_COUNT as XRANGE's argument: the count asked for is the count a full reply is
 * recognised by (feed_on_range reads again after one) */
#define FEED_STR_(x) #x
#define FEED_STR(x) FEED_STR_(x)

static void feed_read(struct feed *f)
{
	struct bridge *b = f->bridge;
	if (f->nclients == 0 || b->stopping)
		return;
	/* XRANGE's start is inclusive: begin just after the cursor */
	struct stream_id start = f->cursor;
	if (++start.seq == 0)
		start.ms++;
	char key[MODEL_LOG_KEY_MAX], startbuf[STREAM_ID_MAX + 1];
	model_log_stream_key(b->cfg, f->id, key);
	stream_id_format(start, startbuf);
	const char *argv[6] = { "XRANGE", key, startbuf, "+", "COUNT", FEED_STR(FEED_READ_COUNT) };
	size_t len[6];
	for (int i = 0; i < 6; i++)
		len[i] = strlen(argv[i]);
	f->dirty = 0;
	if (link_command(&b->cmd, feed_on_range, f, 6, argv, len) < 0) {
		f->dirty = 1;
		return;
	}
	f->read_from = f->cursor;
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

/* The answer goes back to the client's loop, which owns the message from now on. */
static void feed_checked(struct msg *m)
{
	m->type = MAIL_CHECKED;
	mailbox_post(&m->loop->inbox, m);
}

/* The command link is down: the check waits for it (the client gives up after
 * REQUEST_TIMEOUT_S with a 503). At most sse_max_clients wait; beyond, the answer is
 * "unknown" (503) at once. */
static void feed_check_later(struct bridge *b, struct msg *m)
{
	if (b->stopping || b->nwaiting >= (size_t)b->cfg->sse_max_clients) {
		m->exists = CLIENT_UNKNOWN;
		feed_checked(m);
		return;
	}
	m->next = b->waiting;
	b->waiting = m;
	b->nwaiting++;
}

static void feed_on_exists(redisAsyncContext *ac, void *r, void *privdata)
{
	struct msg *m = privdata;
	redisReply *reply = r;
	link_replied(ac->data);
	m->replies--;
	if (reply && reply->type == REDIS_REPLY_INTEGER)
		m->exists = reply->integer > 0 ? CLIENT_EXISTS : CLIENT_MISSING;
	else if (reply)
		m->exists = CLIENT_UNKNOWN;   /* an error reply: 503, not a false 404 */
	if (m->replies == 0)   /* the second command was never sent */
		feed_check_later(((struct link *)ac->data)->bridge, m);
}

static void feed_on_last(redisAsyncContext *ac, void *r, void *privdata)
{
	struct msg *m = privdata;
	struct link *l = ac->data;
	redisReply *reply = r;
	link_replied(l);
	m->replies--;
	if (!reply) {
		feed_check_later(l->bridge, m);   /* the link went down: again once it is back */
		return;
	}
	m->end.ms = m->end.seq = 0;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1) {
		const redisReply *e = reply->element[0];
		const char *k;
		if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
		    e->element[0]->type == REDIS_REPLY_STRING &&
		    (k = feed_kind(e->element[1])) && !strcmp(k, "end"))
			stream_id_parse(e->element[0]->str, e->element[0]->len, &m->end);
	}
	feed_checked(m);
}

/* A client's Redis check: EXISTS and the log's last entry, answered to its loop. */
static void feed_check(struct bridge *b, struct msg *m)
{
	if (!b->cmd.up) {
		feed_check_later(b, m);
		return;
	}
	char hkey[MODEL_LOG_KEY_MAX], lkey[MODEL_LOG_KEY_MAX];
	model_log_record_key(b->cfg, m->id, hkey);
	model_log_stream_key(b->cfg, m->id, lkey);
	const char *a1[2] = { "EXISTS", hkey };
	size_t l1[2] = { 6, strlen(hkey) };
	const char *a2[6] = { "XREVRANGE", lkey, "+", "-", "COUNT", "1" };
	size_t l2[6] = { 9, strlen(lkey), 1, 1, 5, 1 };
	m->exists = CLIENT_UNKNOWN;
	m->replies = 0;
	if (link_command(&b->cmd, feed_on_exists, m, 2, a1, l1) < 0) {
		feed_check_later(b, m);
		return;
	}
	m->replies++;
	/* replies come in order: when this one is in, so is the first */
	if (link_command(&b->cmd, feed_on_last, m, 6, a2, l2) < 0)
		return;   /* the link is going down: on_exists puts it back */
	m->replies++;
}

void feed_deliver(void *arg, struct msg *m)
{
	struct bridge *b = arg;
	switch (m->type) {
	case MAIL_CHECK:
		feed_check(b, m);
		return;   /* the message goes back as MAIL_CHECKED */
	case MAIL_JOIN:
		feed_join(b, m->loop, m->id, m->last);
		break;
	case MAIL_WANT: {
		struct feed *f = feed_find(b, m->id);
		if (f && !f->orphan)
			feed_want(f, m->last);
		break;
	}
	case MAIL_LEAVE:
		feed_leave(b, m->loop, m->id);
		break;
	default:
		assert(!"message for a loop");
	}
	free(m);
}

void feed_catch_up(struct bridge *b)
{
	struct msg *m = b->waiting;
	b->waiting = NULL;
	b->nwaiting = 0;
	while (m) {
		struct msg *next = m->next;
		m->next = NULL;
		feed_check(b, m);
		m = next;
	}
	for (size_t i = 0; i < FEED_BUCKETS; i++)
		for (struct feed *f = b->feeds[i]; f; f = f->hnext)
			feed_wake(f);
}

void feed_answer_waiting(struct bridge *b)
{
	while (b->waiting) {
		struct msg *m = b->waiting;
		b->waiting = m->next;
		b->nwaiting--;
		m->exists = CLIENT_UNKNOWN;
		feed_checked(m);
	}
}
