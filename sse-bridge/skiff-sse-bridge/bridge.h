/* bridge.h — skiff-sse-bridge's objects: the bridge, its event loops, their SSE clients,
 * the watched deployments, the batches of log events and the messages between threads, and
 * the two Redis links; shared by the files of this program only. Each file declares its
 * functions in its own header.
 *
 * Threads: the main thread owns the listener, both Redis links, the feeds (one per watched
 * deployment: subscription and reads) and the Redis checks of new clients. Each loop thread
 * owns its event base and its clients, whole. They talk only through mailboxes (mailbox.c);
 * a batch of formatted events is read once and shared by every loop by reference. */
#ifndef SSE_BRIDGE_H
#define SSE_BRIDGE_H

#include <pthread.h>
#include <stdatomic.h>
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
#define BRIDGE_THREADS_MAX 64        /* sse_threads */
#define LOOP_STALL_MS 5000           /* a loop whose once-a-second cron is this late is stuck */

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

struct watch;
struct loop;

/* One connection, owned by one loop thread: nothing else touches it (the main thread only
 * carries its pointer in a check). */
/* Small on purpose: 10,000 of them must fit in 80 MB with their
 * bufferevents. */
struct client {
	struct bridge *bridge;
	struct loop *loop;           /* the loop that owns it */
	struct bufferevent *bev;     /* NULL once the connection is closed */
	int fd;                      /* bev's socket */
	struct watch *watch;         /* while streaming */
	struct client *prev, *next;  /* in the watch's list, or the loop's checking list */
	struct client *aprev, *anext; /* in the loop's list of every connection */
	struct stream_id last;       /* the last event this client has been given */
	struct stream_id end;        /* checking: the log's end entry, 0-0 when none */
	int64_t soft_since_ms;       /* over the soft output limit since; 0 = not over */
	unsigned char state;         /* enum client_state */
	unsigned char blocked;       /* output over the soft limit: fed again once drained */
	unsigned char pending;       /* a check is out in the main thread */
	unsigned char queued;        /* its output may hold bytes (else it is empty, known
				      * without touching the bufferevent: the fan-out's hot path) */
	unsigned char exists;        /* checking: CLIENT_MISSING, CLIENT_EXISTS, CLIENT_UNKNOWN */
	char id[ID_LEN + 1];
};

/* One watched deployment (main thread): one subscription and one read of each entry,
 * whatever the number of its clients and loops. */
struct feed {
	struct bridge *bridge;
	struct feed *hnext;         /* hash chain */
	size_t nclients;             /* streaming clients in every loop */
	uint32_t loop_clients[BRIDGE_THREADS_MAX];   /* of them, in loop i: batches go there */
	struct stream_id cursor;     /* the next read returns entries after this */
	struct stream_id want;       /* the lowest id a client asked for during a read */
	struct stream_id read_from;  /* the in-flight read returns entries after this */
	unsigned char has_want;
	unsigned char subscribed;    /* the subscription is confirmed */
	unsigned char reading;       /* an XRANGE is in flight */
	unsigned char dirty;         /* something happened during the read: read again */
	unsigned char orphan;        /* no client left; freed when its read returns */
	char id[ID_LEN + 1];
};

/* The clients of one deployment in one loop. */
struct watch {
	struct watch *hnext;         /* hash chain */
	struct client *clients;
	size_t nclients;
	int64_t sent_ms;             /* its last fan-out or keepalive comment */
	char id[ID_LEN + 1];
};

/* The formatted events of one XRANGE reply: written once by the main thread, then only
 * read; every loop and every client output holding a part of it holds a reference. */
struct batch {
	atomic_uint refs;
	struct stream_id from;       /* the entries follow this id */
	size_t cnt;                  /* entries */
	struct stream_id *ids;       /* [cnt] */
	size_t *off;                 /* [cnt + 1]: entry i is data[off[i]..off[i+1]) */
	unsigned char *end;          /* [cnt]: entry i is the end event */
	char *data;
	char id[ID_LEN + 1];
};

/* A message between threads. */
enum msg_type {
	MAIL_ACCEPT,    /* to a loop: fd is a new connection */
	MAIL_CHECKED,   /* to a loop: the Redis check of client ended (exists, end) */
	MAIL_BATCH,     /* to a loop: events of deployment batch->id */
	MAIL_STOP,      /* to a loop: close every client and return */
	MAIL_CHECK,     /* to main: check client's deployment id; the same message comes back */
	MAIL_JOIN,      /* to main: a client of id streams from last */
	MAIL_WANT,      /* to main: a client of id needs the entries after last again */
	MAIL_LEAVE,     /* to main: a client of id left */
};

struct msg {
	struct msg *next;
	unsigned char type;          /* enum msg_type */
	unsigned char exists;        /* CHECKED: CLIENT_MISSING, CLIENT_EXISTS, CLIENT_UNKNOWN */
	unsigned char replies;       /* CHECK: Redis replies still to come */
	int fd;                      /* ACCEPT */
	struct client *client;       /* CHECK, CHECKED: only its loop dereferences it */
	struct loop *loop;           /* CHECK: where CHECKED goes */
	struct batch *batch;         /* BATCH: one reference */
	struct stream_id last;       /* JOIN, WANT */
	struct stream_id end;        /* CHECKED: the log's end entry, 0-0 when none */
	char id[ID_LEN + 1];
};

/* A queue of messages into one thread's event base, woken through an eventfd. */
struct mailbox {
	pthread_mutex_t mu;
	struct msg *head, *tail;
	int efd;
	struct event *ev;
	void (*deliver)(void *arg, struct msg *m);   /* takes the message */
	void *arg;
};

/* One event loop thread and the clients it owns. */
struct loop {
	struct bridge *bridge;
	unsigned index;
	struct event_base *base;
	pthread_t thread;
	int started;
	struct mailbox inbox;
	struct event *cron;
	struct watch *watches[FEED_BUCKETS];
	size_t nwatches;
	struct client *checking;     /* clients waiting for their Redis check */
	struct client *all;          /* every open connection of this loop */
	atomic_int_least64_t beat_ms; /* its last cron: the main thread's watchdog reads it */
	int stopping;
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
	struct event_base *base;     /* the main thread's */
	struct evconnlistener *listener;
	struct event *accept_resume;
	struct event *cron;
	struct event *watchdog;
	struct event *sigterm, *sigint;
	struct link cmd, sub;
	struct sites *sites;         /* the fast path's dropping thread (sites.c); NULL when off */
	struct feed *feeds[FEED_BUCKETS];
	size_t nfeeds;
	struct mailbox inbox;        /* from the loops */
	struct msg *waiting;         /* checks waiting for the command link */
	size_t nwaiting;
	struct loop **loops;
	unsigned nloops, next_loop;  /* accepted connections go round-robin */
	atomic_size_t nclients;      /* checking + streaming: what sse_max_clients bounds */
	atomic_size_t nconns;        /* every open connection */
	int stopping;                /* main thread only */
	/* what a client's events ask of its loop, set by main.c: client.c sits below loop.c
	 * and calls up only through these */
	void (*client_check)(struct client *c);  /* request parsed: check it */
	void (*client_leave)(struct client *c);  /* a streaming client goes */
	void (*client_wake)(struct client *c);   /* a blocked client drained */
	char unix_path[CONFIG_STR_MAX]; /* listening socket to unlink at exit, or "" */
};

#endif

