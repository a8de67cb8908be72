/* notify.h — outgoing deploy notifications: the events, the receiver URL check (SSRF), the
 * JSON a receiver gets and its Skiff-Signature, and the delivery loop skiff-dispatch runs
 * (curl multi: never blocks its caller on the network). What it keeps in Redis is
 * model_notify.h's. */
#ifndef SKIFF_NOTIFY_H
#define SKIFF_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "error.h"
#include "model.h"
#include "redis.h"

#define NOTIFY_EVENT_MAX 16              /* "deploy.canceled" */
#define NOTIFY_SIGNATURE_MAX 96          /* "t=<seconds>,v1=<64 hex>" */
#define NOTIFY_ANSWER_MAX 65536          /* bytes of a receiver's answer read; more fails */
#define NOTIFY_RETRY_WINDOW_MS 3600000LL /* retries stop an hour after the event */
#define NOTIFY_RETRY_MAX_MS 900000LL     /* the longest wait between two attempts */
#define NOTIFY_CONCURRENCY 8             /* deliveries in flight per dispatcher */
#define NOTIFY_AAD_MAX 96                /* "{slug}/notify/{hook id}" */

/* The four events, NULL-terminated. */
extern const char *const notify_events[];
/* 1 when event is one of them. */
int notify_event_valid(const char *event);

/* A receiver URL skiff may post to: http(s) (plain http only with allow_local), at most
 * NOTIFY_URL_MAX bytes, a host, no user name or password; unless allow_local, its name must
 * resolve, and to no internal address (addr.h). Delivery checks the address again when it
 * connects. SKIFF_EINVALID "invalid_notification_url". */
int notify_url_check(const char *url, bool allow_local, struct error *err);

/* The name a hook's signing secret is sealed under (lib/secret.h): it cannot be moved to
 * another project or hook. */
void notify_secret_aad(const char *slug, const char *hook, char out[NOTIFY_AAD_MAX]);

/* "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>" into out. */
void notify_signature(const char *secret, long long t, const char *body, size_t len,
		      char out[NOTIFY_SIGNATURE_MAX]);

/* The JSON a receiver gets for event of deployment d (new reference). */
json_t *notify_payload(const struct config *cfg, const char *event, const char *event_id,
		       long long at_ms, const struct deployment *d, const char *context);

/* The wait before the next attempt after `failed` failed attempts: notify_retry_base_ms,
 * four times longer each time, at most NOTIFY_RETRY_MAX_MS. */
long long notify_backoff_ms(const struct config *cfg, long failed);

/* Why an attempt failed, in the fixed words its project's owner sees, from the CURLcode, the
 * HTTP status (curl_code 0: a non-2xx answer) and whether a connection was refused for an
 * internal address; never curl's own text. */
void notify_failure_text(int curl_code, long status, bool refused, char *out, size_t len);

struct notify;

/* The delivery loop of one process; cfg is borrowed. */
struct notify *notify_new(const struct config *cfg);
void notify_free(struct notify *n);
/* One round, for the dispatcher's loop: turns outbox events into deliveries, records the
 * attempts that finished (2xx: delivered; else retried with backoff for an hour), starts due
 * deliveries, and moves the transfers on without waiting. */
int notify_tick(struct notify *n, struct redis *r, long long now_ms, struct error *err);
/* Deliveries in flight in this process. */
size_t notify_running(const struct notify *n);

#endif
