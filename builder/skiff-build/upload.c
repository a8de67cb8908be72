/* upload.c — the output directory into the store: every file hashed from a descriptor opened
 * without following symlinks, text variants compressed, each batch's blobs pinned against the
 * store sweep, missing blobs stored, then the manifest, then the pin dropped. */
#include "upload.h"
#include "build_log.h"
#include "build_state.h"
#include "site.h"
#include "clock.h"
#include "collect.h"
#include "compress.h"
#include "gc.h"
#include "hash.h"
#include "log.h"
#include "manifest.h"
#include "mime.h"
#include "model.h"
#include "model_gc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void upload_note(void *ctx, const char *msg)
{
	build_log(ctx, "%s", msg);
}

/* Files are hashed and compressed a batch at a time, then the batch's missing blobs are stored
 * with one store_blobs_put (in parallel with the s3 backend). The batch keeps each file's
 * descriptor open: the store reads /proc/self/fd/N, the very file that was hashed. */
#define UPLOAD_BATCH 64                    /* files */
#define UPLOAD_BLOBS (UPLOAD_BATCH * 3)   /* each file, its gzip and its br variant */
#define UPLOAD_BATCH_MEM (64ULL << 20)     /* bytes of variants held in memfds */

struct upload_batch {
	struct store_upload u[UPLOAD_BLOBS];
	char hashes[UPLOAD_BLOBS][HASH_HEX_LEN + 1];
	char paths[UPLOAD_BLOBS][32];     /* /proc/self/fd/N */
	size_t n;
	int fds[UPLOAD_BLOBS];            /* the files and the variants' memfds */
	size_t nfds;
	size_t files;
	unsigned long long mem_bytes;
};

/* Adds a blob to the batch unless the batch has that hash already. */
static void upload_add(struct upload_batch *q, const char *hash, const char *path,
		       const char *type, const char *encoding)
{
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->hashes[i], hash))
			return;
	size_t i = q->n++;
	memcpy(q->hashes[i], hash, HASH_HEX_LEN + 1);
	snprintf(q->paths[i], sizeof(q->paths[i]), "%s", path);
	q->u[i] = (struct store_upload){ .hash = q->hashes[i], .path = q->paths[i],
					 .content_type = type, .content_encoding = encoding };
}

/* Closes the batch's files and variants. */
static void upload_reset(struct upload_batch *q)
{
	for (size_t i = 0; i < q->nfds; i++)
		close(q->fds[i]);
	q->n = q->nfds = q->files = 0;
	q->mem_bytes = 0;
}

/* The build's error once its pin lapsed (a renewal or a later batch's pin found it gone). */
static int upload_pin_lost(struct build *b, struct error *err)
{
	atomic_store(&b->pin_lost, 1);
	return error_set(err, SKIFF_EBUILD, "pin_lost",
			 "the blobs this build relies on were not kept pinned (no renewal for %d "
			 "minutes): a store sweep may have deleted some; deploy again",
			 GC_PIN_TTL_MS / 60000);
}

/* Pins the batch's blobs for the sweep (waiting while one runs: lib/gc.h), then stores what the
 * store lacks; counts the bytes actually uploaded. A later batch adds to the pin only while it
 * is live: one made again after a lapse would hide that a sweep deleted what it kept. */
static int upload_flush(struct build *b, struct upload_batch *q, struct error *err)
{
	const char *hashes[UPLOAD_BLOBS];
	for (size_t i = 0; i < q->n; i++)
		hashes[i] = q->hashes[i];
	int rc = 0;
	if (q->n && atomic_load(&b->pinned))
		rc = gc_pin_more(b->redis, b->id, hashes, q->n, GC_FENCE_TTL_MS, err);
	else if (q->n)
		rc = gc_pin(b->redis, b->id, hashes, q->n, GC_FENCE_TTL_MS, err);
	if (rc < 0 && !strcmp(err->name, "pin_lost"))
		rc = upload_pin_lost(b, err);
	if (rc == 0 && q->n) {
		atomic_store(&b->pinned, 1);
		rc = store_blobs_put(b->store, q->u, q->n, err);
	}
	for (size_t i = 0; rc == 0 && i < q->n; i++)
		if (q->u[i].uploaded)
			b->bytes_uploaded += q->u[i].bytes;
	upload_reset(q);
	return rc;
}

/* A compressed variant of fd, queued when it is smaller than the original. It lives in a
 * memfd (no file to create and delete per variant) until the batch is flushed. Adds
 * {"hash", "size"} under its name to entry. */
static int upload_variant(struct upload_batch *q, enum compress_kind kind, int fd,
			  unsigned long long size, const char *type, json_t *entry,
			  struct error *err)
{
	char hash[HASH_HEX_LEN + 1], src[32];
	int out = memfd_create(compress_name(kind), MFD_CLOEXEC);
	if (out < 0)
		return error_set(err, SKIFF_ESYS, NULL, "memfd_create: %s", strerror(errno));
	unsigned long long csize = 0, hsize = 0;
	int rc = compress_fd(kind, fd, out, &csize, err);
	if (rc == 0 && csize < size)
		rc = hash_fd(out, hash, &hsize, err);
	if (rc < 0 || csize >= size) {
		close(out);
		return rc;
	}
	q->fds[q->nfds++] = out;
	q->mem_bytes += csize;
	snprintf(src, sizeof(src), "/proc/self/fd/%d", out);
	upload_add(q, hash, src, type, compress_name(kind));
	json_object_set_new(entry, compress_name(kind),
			    json_pack("{sssI}", "hash", hash, "size", (json_int_t)hsize));
	return 0;
}

/* One collected file: hash, variants, blobs queued; its manifest entry into files. */
static int upload_file(struct build *b, struct upload_batch *q, int root_fd,
		       const struct collect_file *f, json_t *files, struct error *err)
{
	struct stat st;
	struct error e;
	int fd = collect_open_file(root_fd, f->src, &st, &e);
	if (fd < 0)
		return error_set(err, SKIFF_EBUILD, "collect_failed", "%s disappeared or changed type "
				 "while it was collected", f->path + 1);
	q->fds[q->nfds++] = fd; /* closed when the batch is flushed */
	q->files++;
	char hash[HASH_HEX_LEN + 1], src[32];
	unsigned long long size = 0;
	int rc = hash_fd(fd, hash, &size, err);
	if (rc == 0 && size != f->size)
		rc = error_set(err, SKIFF_EBUILD, "collect_failed",
			       "%s changed while it was collected", f->path + 1);
	if (rc < 0)
		return rc;
	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	const char *type = mime_type(f->path);
	upload_add(q, hash, src, type, NULL);
	json_t *entry = json_pack("{sssIss}", "hash", hash, "size", (json_int_t)size, "type", type);
	json_object_set_new(files, f->path, entry);
	if (size > COMPRESS_MIN_BYTES && mime_compressible(type)) {
		rc = upload_variant(q, COMPRESS_GZIP, fd, size, type, entry, err);
		if (rc == 0)
			rc = upload_variant(q, COMPRESS_BR, fd, size, type, entry, err);
	}
	b->files++;
	b->bytes += size;
	return rc;
}

int build_collect(struct build *b, struct collect_result *cr, struct error *err)
{
	const struct config *cfg = b->cfg;
	struct collect_limits lim = {
		(unsigned long)cfg->max_files,
		(unsigned long long)cfg->max_file_mb << 20,
		(unsigned long long)cfg->max_output_mb << 20,
	};
	/* skiff.json configures the site; it is not part of it when the output is the root */
	static const char *const root_exclude[] = { "skiff.json", NULL };
	const char *const *exclude = b->detect.output_dir[0] ? NULL : root_exclude;
	memset(cr, 0, sizeof(*cr));
	int root_fd = collect_open_root(b->repo, b->detect.output_dir, err), rc = 0;
	if (root_fd < 0)
		return root_fd;
	rc = collect_walk(root_fd, &lim, exclude, upload_note, b, cr, err);
	if (rc == 0 && cr->nfiles == 0)
		rc = error_set(err, SKIFF_EBUILD, "empty_output", "the output directory %s/ has no files",
			       b->detect.output_dir[0] ? b->detect.output_dir : ".");
	if (rc < 0) {
		close(root_fd);
		collect_result_dispose(cr);
		return rc;
	}
	build_log(b, "Collected %zu files (%llu bytes)%s", cr->nfiles, cr->total,
		  cr->skipped ? "; some entries were skipped, see above" : "");
	return root_fd;
}

int build_upload(struct build *b, struct error *err)
{
	struct collect_result cr;
	json_t *manifest = NULL, *files = json_object();
	struct upload_batch *batch = NULL;
	char *text = NULL;
	int root_fd = build_collect(b, &cr, err), rc = 0;
	if (root_fd < 0) {
		memset(&cr, 0, sizeof(cr));
		rc = root_fd;
		goto out;
	}
	batch = calloc(1, sizeof(*batch));
	if (!batch)
		abort();
	for (size_t i = 0; i < cr.nfiles && rc == 0; i++) {
		if (build_stopped(b))
			rc = error_set(err, SKIFF_ECANCELED, "canceled", "the build was stopped");
		else
			rc = upload_file(b, batch, root_fd, &cr.files[i], files, err);
		if (rc == 0 && (batch->files == UPLOAD_BATCH || batch->mem_bytes >= UPLOAD_BATCH_MEM ||
				i + 1 == cr.nfiles))
			rc = upload_flush(b, batch, err);
	}
	/* the pin must still be live now, not only at the lease's last look: a lapse the lease
	 * has not seen yet (its renewals failing) would let a manifest name deleted blobs */
	if (rc == 0 && atomic_load(&b->pinned) && !atomic_load(&b->pin_lost)) {
		int live = model_gc_pin_renew(b->redis, b->id, GC_PIN_TTL_MS, err);
		if (live < 0)
			rc = live;
		else if (live == 0)
			atomic_store(&b->pin_lost, 1);
	}
	if (rc == 0 && atomic_load(&b->pin_lost))
		rc = upload_pin_lost(b, err);
	if (rc < 0)
		goto out;
	manifest = json_pack("{sisssIsOso}", "version", 1, "deployment", b->id, "created",
			     (json_int_t)clock_wall_ms(), "files", files, "config",
			     build_site_config(b, cr.redirects, cr.redirects_len, cr.headers,
					       cr.headers_len));
	text = json_dumps(manifest, JSON_COMPACT);
	if (!text)
		abort();
	if (strlen(text) > MANIFEST_MAX_BYTES) {
		rc = error_set(err, SKIFF_ELIMIT, "output_too_large",
			       "the manifest would be larger than %u MB; deploy fewer files",
			       MANIFEST_MAX_BYTES >> 20);
		goto out;
	}
	rc = store_manifest_put(b->store, b->id, text, strlen(text), err);
out:
	/* after the manifest (the sweep reads pins before manifests) or after a failure */
	if (atomic_exchange(&b->pinned, 0)) {
		struct error e;
		if (model_gc_unpin(b->redis, b->id, &e) < 0)
			log_warn("cannot unpin the build's blobs (they stay pinned %d minutes) "
				 "deployment=%s error=\"%s\"", GC_PIN_TTL_MS / 60000, b->id, e.message);
	}
	if (batch)
		upload_reset(batch);
	free(batch);
	free(text);
	json_decref(manifest);
	json_decref(files);
	collect_result_dispose(&cr);
	if (root_fd >= 0)
		close(root_fd);
	return rc;
}
