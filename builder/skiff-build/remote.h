/* remote.h — skiff-build --remote: the deploy protocol spoken with a build token (doc/api.md)
 * instead of Redis and the store. The build's log goes out in numbered batches, a heartbeat
 * thread keeps the lease and learns of a cancel. */
#ifndef SKIFF_BUILD_REMOTE_H
#define SKIFF_BUILD_REMOTE_H

#include <jansson.h>
#include "build.h"

#define REMOTE_URL_MAX 1024           /* bytes of SKIFF_API_URL */
#define REMOTE_ANSWER_MAX (16u << 20) /* bytes of one JSON answer (a long required list) */
#define REMOTE_TRIES 5                /* attempts of a call on a network error or a 5xx */
#define REMOTE_LOG_BATCH 200          /* lines sent at once */
#define REMOTE_LOG_HOLD_MAX 20000     /* lines held while the API is unreachable */
#define REMOTE_LOG_EVERY_MS 300       /* a line waits at most this long to be sent */
#define REMOTE_HEARTBEAT_MS 1000      /* between heartbeats */

struct remote;

/* SKIFF_API_URL and SKIFF_BUILD_TOKEN from the environment (the token's bytes are wiped from
 * it, so no later child or /proc reader finds them there) into b->remote. */
int remote_open(struct build *b, struct error *err);
void remote_free(struct remote *rm);

/* POST /api/deployments/{id}/<what> with body (NULL: {}), retried on a network error or a
 * 5xx; *answer (may be NULL) receives the JSON answer of a 2xx. A 4xx is an error carrying
 * the server's code (err->name) and message. */
int remote_post(struct remote *rm, const char *what, json_t *body, json_t **answer,
		struct error *err);
/* PUT of one blob: len bytes of fd (from offset 0), or of data when fd < 0. */
int remote_put_blob(struct remote *rm, const char *hash, int fd, const char *data,
		    unsigned long long len, struct error *err);

/* Queues one log line; sends the queue when it is full or its oldest line waited long. */
void remote_log(struct remote *rm, const char *source, const char *text, size_t len);
/* Sends every queued line (each batch retried; its sequence numbers make it count once). */
int remote_log_flush(struct remote *rm, struct error *err);

/* The heartbeat thread: progress {} every REMOTE_HEARTBEAT_MS (the lease lives on), queued
 * log lines sent; a cancel, or a token the API refuses, stops the build. */
int remote_heartbeat_start(struct build *b, struct error *err);
void remote_heartbeat_stop(struct build *b);

/* The remote build's steps: start (the deployment and project into b), the phase, the commit
 * the clone found, the output uploaded and finished (promoted by the API), the failure. */
int remote_start(struct build *b, struct error *err);
int remote_phase(struct build *b, const char *phase, struct error *err);
int remote_commit(struct build *b, const char *message, const char *descends_from,
		  struct error *err);
int remote_finish(struct build *b, struct error *err);
/* The SSH host key the clone saw where none was pinned, for the API to pin (only during the
 * clone): 1 pinned now, 0 kept, negative (409 host_key_changed) when another is pinned. */
int remote_host_key(struct build *b, const char *type, const char *fingerprint,
		    struct error *err);
int remote_fail(struct build *b, const struct error *cause, struct error *err);
/* The credentials the start answer said there are (b->remote_credentials): the repository's
 * into auth (initialised for url's transport either way), the secret variables' values into
 * b->remote_secrets, by POST credentials, refused before asking when SKIFF_API_URL is plain
 * http to another host. Nothing is written to disk. */
struct gitauth;
int remote_credentials(struct build *b, const char *url, struct gitauth *auth, struct error *err);
/* The project's variables of the start answer as a list (*out, the caller's): plain values,
 * and each secret's value from b->remote_secrets (a secret without one stays sealed, with an
 * empty value). */
struct env_list;
int remote_env(struct build *b, struct env_list **out, struct error *err);

#endif
