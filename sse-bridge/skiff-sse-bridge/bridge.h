/* bridge.h — skiff-sse-bridge's objects: the bridge, its SSE clients, the watched
 * deployments and the two Redis links; shared by the files of this program only. */
#ifndef SSE_BRIDGE_H
#define SSE_BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <event2/event.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <hiredis/async.h>

#include "config.h"
#include "id.h"

#define BRIDGE_RETRY_MS "86400000"   /* retry: sent after the end event */
#define REQUEST_HEADER_MAX 8192      /* bytes of request line and headers */
#define REQUEST_HEADER_LINES 100
#define REQUEST_TIMEOUT_S 10         /* to send the headers; to wait for Redis before 503 */
#define FEED_READ_COUNT 1000        /* XRANGE COUNT of one batch */
#define FEED_BUCKETS 1024
#define BATCH_BYTES_MAX (16u << 20)  /* formatted events of one batch */
#define LINK_BACKOFF_MIN_MS 100
#define LINK_BACKOFF_MAX_MS 5000
#define STREAM_ID_MAX 42             /* "18446744073709551615-18446744073709551615" */

/* A Redis stream id: milliseconds and sequence. */
struct stream_id {
	uint64_t ms, seq;
};

/* Parses exactly \d+-\d+ (each part fits in 64 bits); 0 or -1. */
int stream_id_parse(const char *s, size_t n, struct stream_id *out);
int stream_id_cmp(struct stream_id a, struct stream_id b);
/* Text form into out[STREAM_ID_MAX + 1]. */
void stream_id_format(struct stream_id id, char *out);

/* The parsed request: what request_parse found in the request line and headers. */
struct request {
	char id[ID_LEN + 1];        /* the deployment id, validated */
	struct stream_id last;      /* Last-Event-ID or ?lastEventId=, 0-0 when absent */
	const char *authorization;  /* the Authorization header's value (in the parsed block), */
	size_t authorization_len;   /* NULL when absent */
};

/* Length of the header block (through the empty line) when p[0..n) holds all of it,
 * 0 when more bytes are needed. */
size_t request_complete(const char *p, size_t n);
/* Parses a complete header block. Returns 0, or the HTTP status of the error response
 * with its machine name in *code (400, 404, 405, 431, 505). */
int request_parse(const char *p, size_t n, struct request *req, const char **code);

enum client_state {
	CLIENT_HEADERS,     /* reading the request */
	CLIENT_CHECKING,    /* waiting for Redis: does the deployment exist, has it ended */
	CLIENT_STREAMING,   /* in its feed's list, receiving events */
	CLIENT_CLOSING,     /* the last bytes are queued; closed when they are written */
};

/* What the Redis check found out about the deployment record. */
enum { CLIENT_MISSING, CLIENT_EXISTS, CLIENT_UNKNOWN };

struct feed;

/* One connection. Small on purpose: 10,000 of them must fit in 80 MB with their
 * bufferevents. */
struct client {
	struct bridge *bridge;
	struct bufferevent *bev;     /* NULL once the connection is closed */
	int fd;                      /* bev's socket */
	struct feed *feed;          /* while streaming */
	struct client *prev, *next;  /* in the feed's list, or the bridge's checking list */
	struct client *aprev, *anext; /* in the bridge's list of every connection */
	struct stream_id last;       /* the last event this client has been given */
	struct stream_id end;        /* checking: the log's end entry, 0-0 when none */
	int64_t soft_since_ms;       /* over the soft output limit since; 0 = not over */
	unsigned char state;         /* enum client_state */
	unsigned char blocked;       /* output over the soft limit: fed again once drained */
	unsigned char pending;       /* Redis replies still to come for this client */
	unsigned char exists;        /* checking: CLIENT_MISSING, CLIENT_EXISTS, CLIENT_UNKNOWN */
	char id[ID_LEN + 1];
};

/* One watched deployment: one subscription, whatever the number of its clients. */
struct feed {
	struct bridge *bridge;
	struct feed *hnext;         /* hash chain */
	struct client *clients;      /* streaming clients */
	size_t nclients;
	struct stream_id read_from;  /* the in-flight read returns entries after this */
	unsigned char subscribed;    /* the subscription is confirmed */
	unsigned char reading;       /* an XRANGE is in flight */
	unsigned char dirty;         /* something happened during the read: read again */
	unsigned char orphan;        /* no client left; freed when its read returns */
	char id[ID_LEN + 1];
};

/* One async Redis connection that reconnects with backoff. */
struct link {
	struct bridge *bridge;
	const char *role;            /* "commands" or "subscriber" */
	redisAsyncContext *ac;       /* NULL while disconnected */
	int up;                      /* connected and usable */
	long backoff_ms;
	struct event *retry;
	unsigned outstanding;        /* command replies to come */
	int64_t progress_ms;         /* last reply, or the first command after none pending */
	void (*on_up)(struct bridge *b);
};

struct bridge {
	const struct config *cfg;
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *accept_resume;
	struct event *cron;
	struct event *watchdog;
	struct event *sigterm, *sigint;
	struct link cmd, sub;
	struct feed *feeds[FEED_BUCKETS];
	size_t nfeeds;
	struct client *checking;     /* clients waiting for their Redis check */
	struct client *all;          /* every open connection */
	size_t nclients;             /* checking + streaming: what sse_max_clients bounds */
	size_t nconns;               /* every open connection */
	int64_t keepalive_ms;        /* last keepalive round */
	int stopping;
	char unix_path[CONFIG_STR_MAX]; /* listening socket to unlink at exit, or "" */
};

/* listener.c */
/* Checks the sse_listen syntax ("host:port" or "unix:/path"). */
int listener_check(const char *spec, struct error *err);
int listener_open(struct bridge *b, struct error *err);
void listener_close(struct bridge *b);

/* client.c */
void client_accept(struct bridge *b, int fd);
/* Appends bytes that live as long as the program (no copy). 0, or -1 when the client
 * was closed for its output limits. */
int client_send_static(struct client *c, const char *s, size_t n);
/* Sends n bytes at p that stay valid until release(p, n, arg) is called; queued is what
 * the client's output holds now. Returns what it holds afterwards, or -1 when the client
 * was closed for its output limits. */
ssize_t client_send_ref(struct client *c, size_t queued, const char *p, size_t n,
			void (*release)(const void *p, size_t n, void *arg), void *arg);
/* The Redis check of a client ended (pending dropped to 0). */
void client_checked(struct client *c);
/* Queues the last bytes: the client is closed once they are written. */
void client_finish(struct client *c);
void client_close(struct client *c, const char *reason);
/* Releases a client struct once it has no connection and no Redis reply to come. */
void client_release(struct client *c);
/* Checks output limits; -1 when the client was closed. */
int client_limits(struct client *c, int64_t now);
/* Once a second: keepalive comments, output limits. */
void client_cron(struct bridge *b, int64_t now);
/* Closes every connection (shutdown). */
void client_close_all(struct bridge *b);

/* feed.c */
struct feed *feed_find(struct bridge *b, const char *id);
/* Adds a streaming client to its deployment's feed (subscribing when it is the first). */
void feed_join(struct bridge *b, struct client *c);
void feed_leave(struct client *c);
/* Something may be new for this feed's clients: read the stream. */
void feed_wake(struct feed *w);
/* The subscriber link is (re)connected: subscribe every feed. */
void feed_resubscribe(struct bridge *b);
/* The command link is (re)connected: catch up every feed, run waiting checks. */
void feed_catch_up(struct bridge *b);
/* A client's Redis check: EXISTS and the log's last entry. */
void feed_check(struct bridge *b, struct client *c);
void feed_free_all(struct bridge *b);

/* frame.c */
struct buf;
/* Appends one SSE event: id, event name, and data split into data: lines at newlines. */
void frame_event(struct buf *out, const char *id, const char *event, const char *data,
		 size_t len);
/* Appends s as a JSON string, escaped, invalid UTF-8 replaced by U+FFFD. */
void frame_json_string(struct buf *out, const char *s, size_t n);
/* Largest number of bytes frame_entry can add for a text of n bytes. */
size_t frame_entry_bound(size_t n);
/* Appends the event of one log entry (kind, source, text of the stream entry). */
void frame_entry(struct buf *out, const char *id, struct stream_id sid, const char *kind,
		 const char *src, size_t srclen, const char *text, size_t textlen);

/* link.c */
void link_init(struct link *l, struct bridge *b, const char *role, void (*on_up)(struct bridge *));
void link_connect(struct link *l);
void link_close(struct link *l);
/* Sends a command on the link; -1 when it is down (the callback is not called). */
int link_command(struct link *l, redisCallbackFn *fn, void *privdata, int argc,
		 const char **argv, const size_t *argvlen);
/* Called by reply callbacks of link_command, first thing. */
void link_replied(struct link *l);
/* Once a second: drop a command link whose replies stopped coming. */
void link_cron(struct link *l, int64_t now);

#endif
