/* gc.h — the sweep: deletes blobs no kept manifest names and no running build pinned, never a
 * young one, and drops manifests and archived logs nothing needs any more.
 *
 * Kept manifests: those of deployments that exist and are building or ready (retention has
 * expired the rest). Manifests of expired, failed, canceled or deleted deployments and the
 * archived logs of deleted deployments are removed once older than the grace period; an
 * expired deployment's manifest counts its age from the expiry (the record's `expired`), so
 * the blobs of the deployment that was current a moment ago outlive its last requests.
 *
 * Safety against builds and uploads running during the sweep:
 *  - a blob younger than the grace period is never deleted (a build uploads its blobs before
 *    its manifest);
 *  - the manifests are read after the blobs are listed, so a manifest written meanwhile is
 *    seen;
 *  - the sweep holds a fence (gc:sweep, with a TTL) while it decides and deletes. A build
 *    pins the blobs of each batch it is about to rely on (gc_pin: gc:pin:{id} and its
 *    deadline in gc:pins) before it checks which of them are stored, and the pin is made in
 *    one Redis script only while no sweep holds the fence (else it waits and tries again).
 *    Having taken the fence, the sweep reads the live pins first and keeps every pinned blob,
 *    however old and whoever names it. Redis orders the two: either the pin came first and the
 *    sweep keeps its blobs, or the sweep came first and the build checks the store after the
 *    sweep deleted what it deleted (and uploads those blobs again). So a blob a build finds
 *    already stored (and does not upload again) is never deleted under it, and builds
 *    uploading back to back never make a sweep defer: a batch that is about to pin waits for
 *    the sweep, one already pinned goes on. A build renews its pin (GC_PIN_RENEW_MS) while it
 *    runs and drops it once its manifest is written or it failed; the pins of a build that
 *    died are forgotten GC_PIN_TTL_MS after their last renewal. The sweep reads the pins
 *    before it lists the manifests, so a build that dropped its pin meanwhile has its
 *    manifest read. A remote build's pin is made by the API when the builder attaches its
 *    files (the deploy protocol's POST …/files), renewed by its heartbeat, and dropped at
 *    its finish or fail.
 *  - an upload of the deploy protocol (never queued) is recorded as finishing
 *    (gc_finish_begin) before it checks that its blobs are stored, and until it has written
 *    its manifest. The record is made in one Redis script only while no sweep holds the fence
 *    (else it waits and tries again), so "before" and "after" the fence are Redis's own order,
 *    not any node's clock. Having taken the fence, the sweep waits (finish_wait_ms at most,
 *    then defers) until every upload recorded before it is done; uploads that arrive later
 *    wait for it. So uploads finishing back to back delay a sweep by one finish at most and
 *    never keep it from running, and a finish that started before the sweep is never
 *    undercut: its manifest is written before the sweep lists anything. A blob deleted
 *    before an upload's check is reported missing, and the client uploads it again.
 *  - past those checks, builds and uploads that arrive wait for the fence, so they cannot
 *    make the sweep defer (a sweep of a large store would otherwise rarely finish while
 *    builds run); before it deletes, the sweep only makes sure the fence is still its own
 *    (renewing it) and defers if it expired meanwhile. Pins that cannot be read end the
 *    sweep before it deletes anything. */
#ifndef SKIFF_GC_H
#define SKIFF_GC_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "redis.h"
#include "store.h"

#define GC_GRACE_DEFAULT_S 3600
#define GC_FENCE_TTL_MS 600000      /* a sweep that dies leaves the fence this long at most */
#define GC_FINISH_WAIT_MS 5000      /* how long a sweep waits for uploads finishing before it */
#define GC_TICKET_MAX 48            /* an upload's record as finishing: its id and a nonce */
#define GC_PIN_TTL_MS 600000        /* a build's pin lives this long past its last renewal */
#define GC_PIN_RENEW_MS 60000       /* how often a running build renews its pin */

struct gc_settings {
	long long grace_s;          /* blobs, manifests and logs younger than this stay */
	bool dry_run;               /* count what would go, delete nothing */
	long finish_wait_ms;        /* for uploads that began finishing before the sweep */
};

struct gc_stats {
	size_t blobs;               /* blobs in the store */
	size_t blobs_named;         /* named by a kept manifest */
	size_t blobs_pinned;        /* unnamed but pinned by a running build */
	size_t blobs_young;         /* unnamed but younger than the grace period */
	size_t blobs_deleted;
	unsigned long long bytes_deleted;   /* file backend only (the s3 listing has no sizes) */
	size_t manifests_kept;
	size_t manifests_dropped;
	size_t logs_dropped;
	bool deferred;              /* another sweep, a lost fence or a long finish: nothing
				     * deleted */
};

void gc_settings_default(struct gc_settings *s);
/* One sweep. Any doubt (a kept manifest that cannot be read or parsed, Redis unreachable)
 * ends it before anything is deleted. Logs what it reclaimed. */
int gc_sweep(struct redis *r, struct store *s, const struct gc_settings *set,
	     struct gc_stats *stats, struct error *err);
/* For a build about to rely on blobs (before it checks which are stored): pins hashes for
 * deployment id (GC_PIN_TTL_MS, MODEL_GC_PIN_BATCH at a time), waiting while a sweep holds the
 * fence; SKIFF_ETIMEOUT ("gc_running") after timeout_ms, SKIFF_ELIMIT past the deployment's
 * bound. Renew with model_gc_pin_renew, drop with model_gc_unpin (model_gc.h). */
int gc_pin(struct redis *r, const char *id, const char *const *hashes, size_t n,
	   long timeout_ms, struct error *err);
/* The same for a build that pinned blobs already (its next batch): adds to its pin only while
 * that is still live; SKIFF_ECONFLICT ("pin_lost") once it lapsed, since a sweep may have
 * deleted blobs it kept, and a pin made again would hide that. */
int gc_pin_more(struct redis *r, const char *id, const char *const *hashes, size_t n,
		long timeout_ms, struct error *err);
/* For an upload of the deploy protocol about to check its blobs: records it as finishing in
 * ticket (made here) once no sweep holds the fence; SKIFF_ETIMEOUT after timeout_ms. Call
 * gc_finish_end(ticket) when done, whatever this returned. */
int gc_finish_begin(struct redis *r, const char *id, char ticket[GC_TICKET_MAX],
		    long timeout_ms, struct error *err);
void gc_finish_end(struct redis *r, const char ticket[GC_TICKET_MAX]);

#endif
