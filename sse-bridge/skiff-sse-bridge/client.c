/* client.c — one SSE connection: its request, its responses, its output limits. */
#include "client.h"
#include "frame.h"
#include "request.h"
#include "auth.h"
#include "clock.h"
#include "log.h"

#include <assert.h>
#include <event2/buffer.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENT_FLUSH_TIMEOUT_S 30   /* to write the last bytes before closing anyway */

static const char client_stream_head[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: text/event-stream\r\n"
	"Cache-Control: no-cache\r\n"
	"X-Accel-Buffering: no\r\n"
	"Connection: close\r\n"
	"\r\n"
	": ok\n\n";
static const char client_keepalive[] = ":\n\n";

/* Error responses by machine name: status, reason phrase, message. */
static const struct {
	const char *code;
	int status;
	const char *reason;
	const char *message;
} client_errors[] = {
	{ "bad_request", 400, "Bad Request", "malformed request" },
	{ "invalid_id", 400, "Bad Request", "not a deployment id" },
	{ "invalid_last_event_id", 400, "Bad Request",
	  "Last-Event-ID must be a stream id like 1732270000000-0" },
	{ "unauthorized", 401, "Unauthorized",
	  "reading this log needs a bearer token (public_reads is off)" },
	{ "not_found", 404, "Not Found", "no such resource" },
	{ "deployment_not_found", 404, "Not Found", "no such deployment" },
	{ "method_not_allowed", 405, "Method Not Allowed", "only GET is allowed here" },
	{ "header_too_large", 431, "Request Header Fields Too Large", "request headers too large" },
	{ "too_many_clients", 503, "Service Unavailable", "too many clients, retry later" },
	{ "redis_unavailable", 503, "Service Unavailable", "the log store is unavailable, retry later" },
	{ "http_version_not_supported", 505, "HTTP Version Not Supported", "HTTP/1.0 or HTTP/1.1 only" },
};

static void client_unlink_checking(struct client *c)
{
	struct loop *l = c->loop;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->checking = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* Leaves whatever list the client is in; it no longer counts against sse_max_clients. */
static void client_detach(struct client *c)
{
	if (c->state == CLIENT_STREAMING) {
		c->bridge->client_leave(c);
		atomic_fetch_sub(&c->bridge->nclients, 1);
	} else if (c->state == CLIENT_CHECKING) {
		client_unlink_checking(c);
		atomic_fetch_sub(&c->bridge->nclients, 1);
	}
}

/* The client's output, to append to: from now on it may hold bytes. */
static struct evbuffer *client_output(struct client *c)
{
	c->queued = 1;
	return bufferevent_get_output(c->bev);
}

size_t client_queued(struct client *c)
{
	if (!c->queued)
		return 0;
	size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (n == 0)
		c->queued = 0;
	return n;
}

void client_release(struct client *c)
{
	if (!c->bev && c->pending == 0)
		free(c);
}

void client_close(struct client *c, const char *reason)
{
	if (!c->bev)
		return;
	struct loop *l = c->loop;
	client_detach(c);
	c->state = CLIENT_CLOSING;
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->aprev)
		c->aprev->anext = c->anext;
	else
		l->all = c->anext;
	if (c->anext)
		c->anext->aprev = c->aprev;
	atomic_fetch_sub(&c->bridge->nconns, 1);
	if (reason)
		log_debug("client closed deployment=%s reason=%s clients=%zu",
			  c->id[0] ? c->id : "-", reason, atomic_load(&c->bridge->nclients));
	client_release(c);
}

void client_finish(struct client *c)
{
	if (!c->bev)
		return;
	client_detach(c);
	c->state = CLIENT_CLOSING;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) == 0) {
		client_close(c, "done");
		return;
	}
	/* the write callback fires once everything is written */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_disable(c->bev, EV_READ);
	struct timeval tv = { CLIENT_FLUSH_TIMEOUT_S, 0 };
	bufferevent_set_timeouts(c->bev, NULL, &tv);
}

/* The log streams are reads: open with public_reads or auth_disabled, else a bearer token
 * (the web server in front puts its own users' requests in with the token, see
 * apache/README.md). */
static bool client_may_read(const struct config *cfg, const struct request *req)
{
	return cfg->public_reads || cfg->auth_disabled ||
	       (req->authorization &&
		auth_bearer_valid(cfg, req->authorization, req->authorization_len));
}

/* A JSON error by machine name (as request_parse gives it), then close. */
static void client_respond(struct client *c, const char *code)
{
	size_t i = 0, n = sizeof(client_errors) / sizeof(client_errors[0]);
	while (i < n - 1 && strcmp(client_errors[i].code, code))
		i++;
	assert(!strcmp(client_errors[i].code, code));
	int status = client_errors[i].status;
	const char *name = !strcmp(code, "deployment_not_found") ? "not_found" : code;
	char body[256];
	int len = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
			   name, client_errors[i].message);
	assert(len > 0 && (size_t)len < sizeof(body));
	evbuffer_add_printf(client_output(c),
			    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			    "Content-Length: %d\r\nCache-Control: no-store\r\n%s%s"
			    "Connection: close\r\n\r\n%s",
			    status, client_errors[i].reason, len,
			    status == 405 ? "Allow: GET\r\n"
			    : status == 401 ? "WWW-Authenticate: Bearer realm=\"skiff\"\r\n" : "",
			    status == 503 ? "Retry-After: 5\r\n" : "", body);
	log_debug("client refused status=%d code=%s deployment=%s", status, name,
		  c->id[0] ? c->id : "-");
	client_finish(c);
}

int client_limits(struct client *c, int64_t now)
{
	const struct config *cfg = c->bridge->cfg;
	size_t queued = client_queued(c);
	if (queued > (size_t)cfg->sse_hard_limit) {
		log_info("client closed deployment=%s reason=hard_limit queued=%zu", c->id, queued);
		client_close(c, NULL);
		return -1;
	}
	if (queued <= (size_t)cfg->sse_soft_limit) {
		c->soft_since_ms = 0;
		return 0;
	}
	if (!c->soft_since_ms) {
		c->soft_since_ms = now;
	} else if (now - c->soft_since_ms >= cfg->sse_soft_seconds * 1000) {
		log_info("client closed deployment=%s reason=soft_limit queued=%zu seconds=%lld",
			 c->id, queued, (long long)((now - c->soft_since_ms) / 1000));
		client_close(c, NULL);
		return -1;
	}
	return 0;
}

/* Writes at once when nothing is queued: one send() per event and client instead of a
 * queue, a write event and a second trip through the loop (10,000 clients, one line).
 * Returns the bytes written; the rest goes to the bufferevent, which reports errors. */
static size_t client_write_now(struct client *c, size_t queued, const char *p, size_t n)
{
	if (queued != 0)
		return 0;   /* behind what is queued, in order */
	ssize_t w = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	return w > 0 ? (size_t)w : 0;
}

int client_send_static(struct client *c, const char *s, size_t n)
{
	size_t w = client_write_now(c, client_queued(c), s, n);
	if (w == n)
		return 0;
	if (evbuffer_add_reference(client_output(c), s + w, n - w, NULL, NULL) < 0)
		abort();
	return client_limits(c, clock_mono_ms());
}

ssize_t client_send_ref(struct client *c, size_t queued, const char *p, size_t n,
			void (*release)(const void *p, size_t n, void *arg), void *arg)
{
	size_t w = client_write_now(c, queued, p, n);
	if (w == n) {
		release(p, n, arg);
		return (ssize_t)queued;
	}
	if (evbuffer_add_reference(client_output(c), p + w, n - w, release, arg) < 0)
		abort();
	if (client_limits(c, clock_mono_ms()) < 0)
		return -1;
	return (ssize_t)(queued + n - w);
}

int client_checked(struct client *c)
{
	if (!c->bev || c->state != CLIENT_CHECKING)
		return 0;
	if (c->exists != CLIENT_EXISTS) {
		client_respond(c, c->exists == CLIENT_MISSING ? "deployment_not_found"
							     : "redis_unavailable");
		return 0;
	}
	if ((c->end.ms || c->end.seq) && stream_id_cmp(c->last, c->end) >= 0) {
		/* the client has seen the end already: 204 tells EventSource to stop */
		evbuffer_add_printf(client_output(c),
				    "HTTP/1.1 204 No Content\r\nCache-Control: no-cache\r\n"
				    "Connection: close\r\n\r\n");
		client_finish(c);
		return 0;
	}
	client_unlink_checking(c);
	c->state = CLIENT_STREAMING;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	long soft = c->bridge->cfg->sse_soft_limit;
	bufferevent_setwatermark(c->bev, EV_WRITE, (size_t)soft / 2, 0);
	if (client_send_static(c, client_stream_head, sizeof(client_stream_head) - 1) < 0)
		return 0;
	log_debug("client connected deployment=%s loop=%u clients=%zu", c->id, c->loop->index,
		  atomic_load(&c->bridge->nclients));
	return 1;
}

static void client_on_headers(struct client *c, struct evbuffer *in)
{
	struct bridge *b = c->bridge;
	size_t n = evbuffer_get_length(in);
	const char *p = (const char *)evbuffer_pullup(in, (ssize_t)n);
	size_t hlen = request_complete(p, n);
	if (!hlen) {
		if (n >= REQUEST_HEADER_MAX)
			client_respond(c, "header_too_large");
		return;
	}
	struct request req;
	const char *code = NULL;
	int status = request_parse(p, hlen, &req, &code);
	if (status == 0 && !client_may_read(b->cfg, &req)) {
		status = 401;
		code = "unauthorized";
	}
	evbuffer_drain(in, n);
	if (status) {
		client_respond(c, code);
		return;
	}
	memcpy(c->id, req.id, sizeof(c->id));
	c->last = req.last;
	/* the count is shared by every loop: take a place, give it back when over */
	size_t before = atomic_fetch_add(&b->nclients, 1);
	if (before >= (size_t)b->cfg->sse_max_clients) {
		atomic_fetch_sub(&b->nclients, 1);
		log_warn("client refused deployment=%s reason=max_clients clients=%zu", c->id,
			 before);
		client_respond(c, "too_many_clients");
		return;
	}
	struct loop *l = c->loop;
	c->state = CLIENT_CHECKING;
	c->next = l->checking;
	if (l->checking)
		l->checking->prev = c;
	l->checking = c;
	b->client_check(c);
}

static void client_on_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	if (c->state == CLIENT_HEADERS) {
		client_on_headers(c, in);
		return;
	}
	evbuffer_drain(in, evbuffer_get_length(in));   /* an SSE client has nothing more to say */
}

static void client_on_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	size_t queued = evbuffer_get_length(bufferevent_get_output(bev));
	if (c->state == CLIENT_CLOSING) {
		if (queued == 0)
			client_close(c, "done");
		return;
	}
	if (queued <= (size_t)c->bridge->cfg->sse_soft_limit)
		c->soft_since_ms = 0;
	if (c->blocked && c->state == CLIENT_STREAMING) {
		c->blocked = 0;
		c->bridge->client_wake(c);
	}
}

static void client_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;
	if (what & BEV_EVENT_TIMEOUT) {
		if (c->state == CLIENT_CHECKING) {
			log_warn("client refused deployment=%s reason=redis_unavailable", c->id);
			client_respond(c, "redis_unavailable");
		} else {
			client_close(c, "timeout");
		}
		return;
	}
	client_close(c, what & BEV_EVENT_EOF ? "eof" : "error");
}

void client_accept(struct loop *l, int fd)
{
	struct client *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->bridge = l->bridge;
	c->loop = l;
	c->state = CLIENT_HEADERS;
	c->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev)
		abort();
	c->fd = fd;
	int one = 1;
	/* events are small and must not wait for delayed ACKs (fails harmlessly on unix sockets) */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	atomic_fetch_add(&l->bridge->nconns, 1);
	c->anext = l->all;
	if (l->all)
		l->all->aprev = c;
	l->all = c;
	bufferevent_setcb(c->bev, client_on_read, client_on_write, client_on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, REQUEST_HEADER_MAX);
	struct timeval tv = { REQUEST_TIMEOUT_S, 0 };
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

void client_cron(struct loop *l, int64_t now)
{
	int64_t quiet_ms = (int64_t)l->bridge->cfg->sse_keepalive * 1000;
	for (size_t i = 0; i < FEED_BUCKETS; i++) {
		struct watch *w = l->watches[i], *wnext;
		for (; w; w = wnext) {
			wnext = w->hnext;
			/* a comment only on a stream quiet for sse_keepalive: one on a stream that
			 * carries events costs a send per client, as much as a line, and delays
			 * the next line for all of them */
			int idle = now - w->sent_ms >= quiet_ms;
			if (idle)
				w->sent_ms = now;   /* w is freed when its last client goes */
			struct client *c = w->clients, *next;
			for (; c; c = next) {
				next = c->next;
				if (idle)
					client_send_static(c, client_keepalive,
							   sizeof(client_keepalive) - 1);
				else
					client_limits(c, now);
			}
		}
	}
}

void client_close_all(struct loop *l)
{
	while (l->all)
		client_close(l->all, "shutdown");
}
