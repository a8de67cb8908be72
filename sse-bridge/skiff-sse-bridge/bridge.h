/* bridge.h — skiff-sse-bridge's objects: the bridge, its SSE clients, the watched
 * deployments and the two Redis links; shared by the files of this program only. Each file
 * declares its functions in its own header. */
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

/* The parsed request: what request_parse found in the request line and headers. */
struct request {
	char id[ID_LEN + 1];        /* the deployment id, validated */
	struct stream_id last;      /* Last-Event-ID or ?lastEventId=, 0-0 when absent */
	const char *authorization;  /* the Authorization header's value (in the parsed block), */
	size_t authorization_len;   /* NULL when absent */
};

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
	/* what a client's events ask of the feeds, set by main.c: client.c sits below feed.c
	 * and calls up only through these */
	void (*feed_check)(struct bridge *b, struct client *c); /* request parsed: check it */
	void (*feed_leave)(struct client *c);                    /* a streaming client goes */
	void (*feed_wake)(struct feed *f);                       /* a blocked client drained */
	char unix_path[CONFIG_STR_MAX]; /* listening socket to unlink at exit, or "" */
};

#endif

