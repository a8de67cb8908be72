/* gc.c — mark and sweep over the store: read the pins of running builds, list blobs, then read
 * the kept manifests, then delete old blobs none of them names nor any build pinned, under a
 * fence that running builds and uploads respect. */
#include "gc.h"
#include "clock.h"
#include "hash.h"
#include "id.h"
#include "log.h"
#include "manifest.h"
#include "model.h"
#include "model_gc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GC_FENCE_POLL_MS 100
#define GC_FINISH_POLL_MS 20

struct gc_blob {
	char hash[HASH_HEX_LEN + 1];
	long long age_s;
};

struct gc_object {
	char id[ID_LEN + 1];
	long long age_s;
	bool drop;
};

struct gc_run {
	struct redis *r;
	struct store *s;
	const struct gc_settings *set;
	struct gc_stats *stats;
	struct gc_blob *blobs;
	size_t nblobs, capblobs;
	char (*named)[HASH_HEX_LEN + 1];
	size_t nnamed, capnamed;
	char (*pinned)[HASH_HEX_LEN + 1];
	size_t npinned, cappinned;
	struct gc_object *manifests, *logs;
	size_t nmanifests, capmanifests, nlogs, caplogs;
};

void gc_settings_default(struct gc_settings *s)
{
	s->grace_s = GC_GRACE_DEFAULT_S;
	s->dry_run = false;
	s->finish_wait_ms = GC_FINISH_WAIT_MS;
}

/* Room for one more element of size sz in *items (capacity *cap). */
static void *gc_grow(void *items, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return items;
	size_t ncap = *cap ? *cap * 2 : 256;
	void *p = realloc(items, ncap * sz);
	if (!p)
		abort();
	*cap = ncap;
	return p;
}

static int gc_on_blob(const char *hash, long long age_s, void *ctx)
{
	struct gc_run *g = ctx;
	g->blobs = gc_grow(g->blobs, g->nblobs, &g->capblobs, sizeof(*g->blobs));
	memcpy(g->blobs[g->nblobs].hash, hash, HASH_HEX_LEN + 1);
	g->blobs[g->nblobs++].age_s = age_s;
	return 0;
}

/* One more manifest or archived log in *items. */
static void gc_object_add(struct gc_object **items, size_t *n, size_t *cap, const char *id,
			  long long age_s)
{
	*items = gc_grow(*items, *n, cap, sizeof(**items));
	struct gc_object *o = &(*items)[(*n)++];
	memcpy(o->id, id, ID_LEN + 1);
	o->age_s = age_s;
	o->drop = false;
}

static int gc_on_manifest(const char *id, long long age_s, void *ctx)
{
	struct gc_run *g = ctx;
	gc_object_add(&g->manifests, &g->nmanifests, &g->capmanifests, id, age_s);
	return 0;
}

static int gc_on_log(const char *id, long long age_s, void *ctx)
{
	struct gc_run *g = ctx;
	gc_object_add(&g->logs, &g->nlogs, &g->caplogs, id, age_s);
	return 0;
}

/* The deployment's state; DEPLOYMENT_UNKNOWN with *exists 0 when the record does not exist. */
static int gc_state(struct gc_run *g, const char *id, enum deployment_state *state, int *exists,
		    struct error *err)
{
	int rc = model_deployment_status(g->r, id, state, NULL, err);
	if (rc < 0)
		return rc;
	*exists = rc;
	return 0;
}

static void gc_name(struct gc_run *g, const char *hash)
{
	if (!hash[0])
		return;
	g->named = gc_grow(g->named, g->nnamed, &g->capnamed, sizeof(*g->named));
	memcpy(g->named[g->nnamed++], hash, HASH_HEX_LEN + 1);
}

/* Adds every blob a kept manifest names (files and their gzip and br variants). */
static int gc_mark(struct gc_run *g, const char *id, struct error *err)
{
	struct buf text = BUF_INIT(MANIFEST_MAX_BYTES);
	struct manifest *m = NULL;
	int rc = store_manifest_get(g->s, id, &text, err);
	if (rc == SKIFF_ENOTFOUND) { /* removed since the listing (retention): names nothing */
		rc = 0;
		goto out;
	}
	if (rc == 0)
		rc = manifest_parse(buf_cstr(&text), text.len, &m, err);
	if (rc < 0) {
		char why[ERROR_MESSAGE_MAX];
		snprintf(why, sizeof(why), "%s", err->message);
		error_set(err, rc, "gc_aborted", "cannot read the kept manifest of %s: %s", id, why);
		goto out;
	}
	for (size_t i = 0; i < m->nfiles; i++) {
		gc_name(g, m->files[i].hash);
		gc_name(g, m->files[i].gzip.hash);
		gc_name(g, m->files[i].br.hash);
	}
	g->stats->manifests_kept++;
out:
	manifest_free(m);
	buf_dispose(&text);
	return rc;
}

/* Seconds since deployment id expired, or -1 when its record does not say. */
static int gc_expired_age(struct gc_run *g, const char *id, long long *age_s, struct error *err)
{
	struct deployment *d = malloc(sizeof(*d));   /* some KiB: not on the stack */
	if (!d)
		abort();
	*age_s = -1;
	int rc = model_deployment_get(g->r, id, d, err);
	if (rc == 0 && d->expired != MODEL_NONE && d->expired > 0)
		*age_s = (clock_wall_ms() - d->expired) / 1000;
	free(d);
	return rc == SKIFF_ENOTFOUND ? 0 : rc;
}

/* Decides each manifest's fate and marks the blobs of the kept ones. An expired deployment's
 * manifest counts its age from the expiry: the deployment may have been served until then. */
static int gc_manifests(struct gc_run *g, struct error *err)
{
	for (size_t i = 0; i < g->nmanifests; i++) {
		struct gc_object *o = &g->manifests[i];
		enum deployment_state state;
		int exists;
		int rc = gc_state(g, o->id, &state, &exists, err);
		if (rc < 0)
			return rc;
		bool dead = !exists || state == DEPLOYMENT_EXPIRED || state == DEPLOYMENT_ERROR ||
			    state == DEPLOYMENT_CANCELED;
		long long since;
		if (dead && exists && state == DEPLOYMENT_EXPIRED) {
			if ((rc = gc_expired_age(g, o->id, &since, err)) < 0)
				return rc;
			if (since >= 0 && since < o->age_s)
				o->age_s = since;
		}
		if (dead && o->age_s >= g->set->grace_s) {
			o->drop = true;
			continue;
		}
		if ((rc = gc_mark(g, o->id, err)) < 0)
			return rc;
	}
	for (size_t i = 0; i < g->nlogs; i++) {
		struct gc_object *o = &g->logs[i];
		enum deployment_state state;
		int exists;
		int rc = gc_state(g, o->id, &state, &exists, err);
		if (rc < 0)
			return rc;
		o->drop = !exists && o->age_s >= g->set->grace_s;
	}
	return 0;
}

static int gc_hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, HASH_HEX_LEN);
}

static int gc_on_pin(const char *hash, void *ctx)
{
	struct gc_run *g = ctx;
	if (strlen(hash) != HASH_HEX_LEN)
		return 0;
	g->pinned = gc_grow(g->pinned, g->npinned, &g->cappinned, sizeof(*g->pinned));
	memcpy(g->pinned[g->npinned++], hash, HASH_HEX_LEN + 1);
	return 0;
}

/* The blobs builds pinned before the fence was taken (none can pin while it is held). */
static int gc_pins(struct gc_run *g, struct error *err)
{
	int rc = model_gc_pins(g->r, gc_on_pin, g, err);
	if (rc < 0) {
		char why[ERROR_MESSAGE_MAX];
		snprintf(why, sizeof(why), "%s", err->message);
		return error_set(err, rc, "gc_aborted", "cannot read the blobs builds pinned: %s", why);
	}
	if (g->npinned)
		qsort(g->pinned, g->npinned, sizeof(*g->pinned), gc_hash_cmp);
	return 0;
}

/* Waits up to set->finish_wait_ms for the uploads of the deploy protocol that began finishing
 * before the fence was taken (none can begin while it is held): 0 once none is left, 1 when
 * one still is. */
static int gc_finishes_wait(struct gc_run *g, struct error *err)
{
	long long deadline = clock_mono_ms() + g->set->finish_wait_ms;
	for (;;) {
		int rc = model_gc_finishing(g->r, GC_FENCE_TTL_MS, err);
		if (rc <= 0)
			return rc;
		if (clock_mono_ms() >= deadline) {
			log_info("gc deferred: an upload is still finishing after %ld ms",
				 g->set->finish_wait_ms);
			return 1;
		}
		usleep(GC_FINISH_POLL_MS * 1000);
	}
}

static unsigned long long gc_blob_size(struct gc_run *g, const char *hash)
{
	char path[STORE_PATH_MAX];
	struct stat st;
	if (strcmp(redis_config(g->r)->store, "file") ||
	    store_blob_path(g->s, hash, path, NULL) < 0 || stat(path, &st) < 0)
		return 0;
	return (unsigned long long)st.st_size;
}

static void gc_delete(struct gc_run *g)
{
	struct gc_stats *st = g->stats;
	struct error e;
	if (g->nnamed)
		qsort(g->named, g->nnamed, sizeof(*g->named), gc_hash_cmp);
	for (size_t i = 0; i < g->nblobs; i++) {
		struct gc_blob *b = &g->blobs[i];
		if (g->nnamed &&
		    bsearch(b->hash, g->named, g->nnamed, sizeof(*g->named), gc_hash_cmp)) {
			st->blobs_named++;
			continue;
		}
		if (g->npinned &&
		    bsearch(b->hash, g->pinned, g->npinned, sizeof(*g->pinned), gc_hash_cmp)) {
			st->blobs_pinned++;
			continue;
		}
		if (b->age_s < g->set->grace_s) {
			st->blobs_young++;
			continue;
		}
		unsigned long long size = gc_blob_size(g, b->hash);
		if (!g->set->dry_run && store_blob_delete(g->s, b->hash, &e) < 0) {
			if (e.code != SKIFF_ENOTFOUND)
				log_warn("gc cannot delete blob=%s error=\"%s\"", b->hash, e.message);
			continue;
		}
		log_debug("gc deleted blob=%s bytes=%llu", b->hash, size);
		st->blobs_deleted++;
		st->bytes_deleted += size;
	}
	for (size_t i = 0; i < g->nmanifests; i++) {
		if (!g->manifests[i].drop)
			continue;
		if (g->set->dry_run || store_manifest_delete(g->s, g->manifests[i].id, &e) == 0) {
			log_debug("gc dropped manifest deployment=%s", g->manifests[i].id);
			st->manifests_dropped++;
		}
	}
	for (size_t i = 0; i < g->nlogs; i++) {
		if (!g->logs[i].drop)
			continue;
		if (g->set->dry_run || store_log_delete(g->s, g->logs[i].id, &e) == 0)
			st->logs_dropped++;
	}
}

/* For callers waiting out a sweep: sleeps one poll interval and returns 0, or SKIFF_ETIMEOUT
 * ("gc_running") once deadline (clock_mono_ms) has passed. */
static int gc_wait_sweep(long long deadline, long timeout_ms, struct error *err)
{
	if (clock_mono_ms() >= deadline)
		return error_set(err, SKIFF_ETIMEOUT, "gc_running",
				 "a store sweep is still running after %ld ms", timeout_ms);
	usleep(GC_FENCE_POLL_MS * 1000);
	return 0;
}

static int gc_fence_take(struct redis *r, char token[48], struct error *err)
{
	id_hex(token, 16);
	return model_gc_fence_take(r, token, GC_FENCE_TTL_MS, err);
}

int gc_sweep(struct redis *r, struct store *s, const struct gc_settings *set,
	     struct gc_stats *stats, struct error *err)
{
	struct gc_run g;
	memset(&g, 0, sizeof(g));
	memset(stats, 0, sizeof(*stats));
	g.r = r;
	g.s = s;
	g.set = set;
	g.stats = stats;
	char token[48];
	int rc = gc_fence_take(r, token, err);
	if (rc <= 0) {
		if (rc == 0) {
			log_info("gc deferred: another sweep is running");
			stats->deferred = true;
		}
		return rc;
	}
	/* an upload that began finishing before the fence is waited for */
	rc = gc_finishes_wait(&g, err);
	if (rc != 0) {
		if (rc > 0)
			stats->deferred = true;
		rc = rc < 0 ? rc : 0;
		goto out;
	}
	/* the pins before the manifests: a build unpins only after its manifest is written, so
	 * the sweep sees one or the other; blobs before manifests: a manifest written meanwhile
	 * names blobs listed here */
	if ((rc = gc_pins(&g, err)) < 0 ||
	    (rc = store_blob_list(s, gc_on_blob, &g, err)) < 0 ||
	    (rc = store_manifest_list(s, gc_on_manifest, &g, err)) < 0 ||
	    (rc = store_log_list(s, gc_on_log, &g, err)) < 0 ||
	    (rc = gc_manifests(&g, err)) < 0)
		goto out;
	stats->blobs = g.nblobs;
	/* while the fence stays ours, no build or upload got past it since the checks above */
	rc = model_gc_fence_renew(r, token, GC_FENCE_TTL_MS, err);
	if (rc == 0) {
		log_warn("gc deferred: the sweep ran longer than its fence (%d ms)", GC_FENCE_TTL_MS);
		stats->deferred = true;
	}
	if (rc <= 0)
		goto out;
	rc = 0;
	gc_delete(&g);
	log_info("gc swept blobs=%zu named=%zu pinned=%zu young=%zu deleted=%zu bytes=%llu "
		 "manifests_kept=%zu manifests_dropped=%zu logs_dropped=%zu%s",
		 stats->blobs, stats->blobs_named, stats->blobs_pinned, stats->blobs_young,
		 stats->blobs_deleted,
		 stats->bytes_deleted, stats->manifests_kept, stats->manifests_dropped,
		 stats->logs_dropped, set->dry_run ? " dry_run=1" : "");
out:
	if (rc < 0)
		log_error("gc aborted, nothing deleted error=\"%s\"", err->message);
	model_gc_fence_release(r, token);
	free(g.blobs);
	free(g.named);
	free(g.pinned);
	free(g.manifests);
	free(g.logs);
	return rc;
}

/* Polls until ticket is recorded as finishing (which happens only while no sweep holds the
 * fence): 0, or SKIFF_ETIMEOUT after timeout_ms. */
int gc_finish_begin(struct redis *r, const char *id, char ticket[GC_TICKET_MAX],
		    long timeout_ms, struct error *err)
{
	char nonce[17];
	id_hex(nonce, 8);
	snprintf(ticket, GC_TICKET_MAX, "%s.%s", id, nonce);
	long long deadline = clock_mono_ms() + timeout_ms;
	for (;;) {
		int rc = model_gc_finish_begin(r, ticket, err);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		if ((rc = gc_wait_sweep(deadline, timeout_ms, err)) < 0)
			return rc;
	}
}

void gc_finish_end(struct redis *r, const char ticket[GC_TICKET_MAX])
{
	if (ticket[0])
		model_gc_finish_end(r, ticket);
}

/* The calls of gc_pin and gc_pin_more: after the first call, only a live pin is added to. */
static int gc_pin_calls(struct redis *r, const char *id, const char *const *hashes, size_t n,
			bool more, long timeout_ms, struct error *err)
{
	long long deadline = clock_mono_ms() + timeout_ms;
	size_t done = 0;
	while (done < n) {
		size_t k = n - done < MODEL_GC_PIN_BATCH ? n - done : MODEL_GC_PIN_BATCH;
		int rc = more || done ? model_gc_pin_more(r, id, hashes + done, k, GC_PIN_TTL_MS, err)
				      : model_gc_pin(r, id, hashes + done, k, GC_PIN_TTL_MS, err);
		if (rc == 1)
			done += k;
		else if (rc < 0 || (rc = gc_wait_sweep(deadline, timeout_ms, err)) < 0)
			return rc;
	}
	return 0;
}

int gc_pin(struct redis *r, const char *id, const char *const *hashes, size_t n,
	   long timeout_ms, struct error *err)
{
	return gc_pin_calls(r, id, hashes, n, false, timeout_ms, err);
}

int gc_pin_more(struct redis *r, const char *id, const char *const *hashes, size_t n,
		long timeout_ms, struct error *err)
{
	return gc_pin_calls(r, id, hashes, n, true, timeout_ms, err);
}
