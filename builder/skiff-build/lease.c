/* lease.c — the build's heartbeat: a thread with its own Redis connection renews the lease
 * four times a second (lease_ttl/3 when shorter) while the build still holds its claim, renews
 * the pin of the blobs the build relies on every minute, and notices when the deployment was
 * canceled, deleted, or taken over by another run. */
#include "lease.h"
#include "clock.h"
#include "gc.h"
#include "log.h"
#include "model.h"
#include "model_gc.h"
#include "model_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LEASE_CHECK_MS 250   /* between checks for a cancel */
#include <time.h>

struct build_lease {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool quit;
	struct build *b;
	struct redis *redis;
};

/* 1 when the deployment was canceled, asked to stop (cancel_requested), or deleted with its
 * project (its record is gone); 0 otherwise, and when Redis does not answer (an outage is not
 * a cancel). */
static int lease_canceled(struct build_lease *l)
{
	enum deployment_state state;
	int exists = model_deployment_status(l->redis, l->b->id, &state, NULL, NULL);
	if (exists == 1 && model_deployment_cancel_requested(l->redis, l->b->id, NULL) == 1) {
		atomic_store(&l->b->cancel_requested, 1);
		return 1;
	}
	return exists == 0 || (exists == 1 && state == DEPLOYMENT_CANCELED);
}

/* Renews the pin of the blobs the build relies on (lib/gc.h); a pin found gone is recorded:
 * the build then fails before it writes its manifest. */
static void lease_pin_renew(struct build_lease *l)
{
	struct error e;
	if (!atomic_load(&l->b->pinned))
		return;
	int live = model_gc_pin_renew(l->redis, l->b->id, GC_PIN_TTL_MS, &e);
	if (live < 0)
		log_warn("cannot renew the pin deployment=%s error=\"%s\"", l->b->id, e.message);
	if (live == 0 && atomic_load(&l->b->pinned)) {
		log_warn("the pin of the build's blobs is gone deployment=%s", l->b->id);
		atomic_store(&l->b->pin_lost, 1);
	}
}

static void *lease_main(void *arg)
{
	struct build_lease *l = arg;
	/* four times a second at most: a cancel stops the build, and is recorded, within a
	 * second */
	long ttl = l->b->cfg->lease_ttl, period_ms = ttl * 1000 / 3;
	if (period_ms > LEASE_CHECK_MS)
		period_ms = LEASE_CHECK_MS;
	long long next_pin = clock_mono_ms() + GC_PIN_RENEW_MS;
	pthread_mutex_lock(&l->lock);
	while (!l->quit) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += period_ms / 1000;
		until.tv_nsec += (period_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!l->quit && pthread_cond_timedwait(&l->wake, &l->lock, &until) != ETIMEDOUT)
			;
		if (l->quit)
			break;
		pthread_mutex_unlock(&l->lock);
		struct error e;
		int held = model_lease_renew(l->redis, l->b->id, l->b->claim, ttl, &e);
		if (held < 0)
			log_warn("cannot renew the lease deployment=%s error=\"%s\"", l->b->id, e.message);
		if (clock_mono_ms() >= next_pin) {
			lease_pin_renew(l);
			next_pin = clock_mono_ms() + GC_PIN_RENEW_MS;
		}
		if (lease_canceled(l)) {
			log_info("deployment canceled or deleted; stopping the build deployment=%s",
				 l->b->id);
			atomic_store(&l->b->stop, 1);
		} else if (held == 0) {
			log_warn("lease lost: the build was queued again and belongs to another run; "
				 "stopping without recording anything deployment=%s claim=%s",
				 l->b->id, l->b->claim);
			atomic_store(&l->b->claim_lost, 1);
			atomic_store(&l->b->stop, 1);
		}
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

int build_lease_start(struct build *b, struct error *err)
{
	struct build_lease *l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	l->b = b;
	l->redis = redis_new(b->cfg);
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->wake, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&l->thread, NULL, lease_main, l);
	if (rc != 0) {
		redis_free(l->redis);
		free(l);
		return error_set(err, SKIFF_ESYS, NULL, "cannot start the lease thread: %s",
				 strerror(rc));
	}
	b->lease = l;
	return 0;
}

void build_lease_stop(struct build *b)
{
	struct build_lease *l = b->lease;
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->quit = true;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thread, NULL);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->wake);
	redis_free(l->redis);
	free(l);
	b->lease = NULL;
}
