/* finish.c — the end of an upload: under the sweep's fence (lib/gc.h), every blob verified
 * present, the manifest built from the stored blobs (content types, gzip and br variants of
 * text; skiff.json, `_redirects` and `_headers` made into the site's config by
 * lib/site_config as a local build's are), stored, then promoted in one step. */
#include "finish.h"
#include "deploy.h"
#include "tokens.h"
#include "api.h"
#include "app.h"
#include "fastpath_switch.h"
#include "gc.h"
#include "collect.h"
#include "compress.h"
#include "detect.h"
#include "hash.h"
#include "log.h"
#include "manifest.h"
#include "mime.h"
#include "model_gc.h"
#include "model_log.h"
#include "model_upload.h"
#include "site_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct finish {
	struct app *app;
	struct store *store;
	const char *id;
	json_t *entries;                 /* hash → a manifest entry already made for it */
	unsigned long long max_file;     /* max_file_mb in bytes */
	unsigned long long files, bytes;
	unsigned long long variant_bytes; /* of the compressed variants stored here */
};

/* Opens a stored blob for reading; *size is its length. */
static int finish_open(struct finish *f, const char *hash, unsigned long long *size,
		       struct error *err)
{
	char path[STORE_PATH_MAX];
	if (store_blob_path(f->store, hash, path, err) < 0)
		return err->code;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return error_set(err, SKIFF_ESTORE, NULL, "cannot read blob %s: %s", hash,
				 strerror(errno));
	}
	*size = (unsigned long long)st.st_size;
	/* a blob the client PUT to a presigned URL never passed the blob route's limit */
	if (*size > f->max_file) {
		close(fd);
		return error_set(err, SKIFF_ELIMIT, "blob_too_large",
				 "blob %s is %llu bytes, over max_file_mb (%llu MiB)", hash, *size,
				 f->max_file >> 20);
	}
	return fd;
}

/* A compressed variant of fd stored as its own blob when smaller; adds {"hash", "size"} under
 * its name to entry. */
static int finish_variant(struct finish *f, enum compress_kind kind, int fd,
			  unsigned long long size, const char *type, json_t *entry,
			  struct error *err)
{
	int out = memfd_create(compress_name(kind), MFD_CLOEXEC);
	if (out < 0)
		return error_set(err, SKIFF_ESYS, NULL, "memfd_create: %s", strerror(errno));
	char src[32], hash[HASH_HEX_LEN + 1];
	unsigned long long csize = 0, hsize = 0;
	snprintf(src, sizeof(src), "/proc/self/fd/%d", out);
	int rc = compress_fd(kind, fd, out, &csize, err);
	if (rc == 0 && csize < size)
		rc = hash_fd(out, hash, &hsize, err);
	if (rc == 0 && csize < size) {
		struct store_upload u = { .hash = hash, .path = src, .content_type = type,
					  .content_encoding = compress_name(kind) };
		rc = store_blobs_put(f->store, &u, 1, err);
		if (rc == 0 && u.uploaded)
			f->variant_bytes += u.bytes;
		if (rc == 0)
			json_object_set_new(entry, compress_name(kind),
					    json_pack("{sssI}", "hash", hash, "size", (json_int_t)hsize));
	}
	close(out);
	return rc;
}

/* The manifest entry of one served file. */
static int finish_file(struct finish *f, const char *path, const char *hash, json_t *files,
		       struct error *err)
{
	const char *type = mime_type(path);
	json_t *known = json_object_get(f->entries, hash);
	if (known && !strcmp(json_string_value(json_object_get(known, "type")), type)) {
		json_object_set_new(files, path, json_deep_copy(known));
		f->files++;
		f->bytes += (unsigned long long)json_integer_value(json_object_get(known, "size"));
		return 0;
	}
	unsigned long long size = 0;
	int fd = finish_open(f, hash, &size, err), rc = 0;
	if (fd < 0)
		return fd;
	json_t *entry = json_pack("{sssIss}", "hash", hash, "size", (json_int_t)size, "type", type);
	if (size > COMPRESS_MIN_BYTES && mime_compressible(type)) {
		rc = finish_variant(f, COMPRESS_GZIP, fd, size, type, entry, err);
		if (rc == 0)
			rc = finish_variant(f, COMPRESS_BR, fd, size, type, entry, err);
	}
	close(fd);
	if (rc < 0) {
		json_decref(entry);
		return rc;
	}
	json_object_set(f->entries, hash, entry);
	json_object_set_new(files, path, entry);
	f->files++;
	f->bytes += size;
	return 0;
}

/* The text of `_redirects` or `_headers` (at most COLLECT_RULES_MAX bytes) into *out. */
static int finish_rules_text(struct finish *f, const char *name, const char *hash, char **out,
			     size_t *len, struct error *err)
{
	unsigned long long size = 0;
	int fd = finish_open(f, hash, &size, err), rc = 0;
	if (fd < 0)
		return fd;
	if (size > COLLECT_RULES_MAX) {
		close(fd);
		return error_set(err, SKIFF_ELIMIT, "rules_too_large", "%s is larger than %u bytes",
				 name, COLLECT_RULES_MAX);
	}
	char *text = malloc(size + 1);
	if (!text)
		abort();
	size_t got = 0;
	while (got < size) {
		ssize_t n = pread(fd, text + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = error_set(err, SKIFF_ESTORE, NULL, "cannot read %s", name);
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	text[got] = '\0';
	free(*out); /* (one of each: the list is an object) */
	*out = text;
	*len = got;
	return rc;
}

/* A note of the site configuration goes to the deployment's log, as a local build's does. */
static void finish_note(void *ctx, const char *msg)
{
	struct finish *f = ctx;
	model_log_append(f->app->redis, f->id, LOG_SRC_SYSTEM, msg, strlen(msg), NULL);
}

/* The manifest's config: skiff.json as uploaded, `_redirects` and `_headers` (lib/site_config). */
static int finish_config(struct finish *f, const char *skiff_json, const char *redirects,
			 size_t redirects_len, const char *headers, size_t headers_len,
			 json_t **out, struct error *err)
{
	struct detect_result d;
	json_error_t jerr;
	json_t *skiff = skiff_json[0] ? json_loads(skiff_json, 0, &jerr) : json_object();
	int rc = skiff ? detect_skiff_config(skiff, &d, err)
		       : error_set(err, SKIFF_EINTERNAL, NULL, "the stored skiff.json is not JSON");
	json_decref(skiff);
	if (rc < 0)
		return rc;
	*out = site_config_build(&d, redirects, redirects_len, headers, headers_len, finish_note, f);
	detect_result_dispose(&d);
	return 0;
}

/* The manifest of the uploaded files (as skiff-build writes it for a local build). */
static int finish_manifest(struct finish *f, const struct deployment *d, json_t *list,
			   const char *skiff_json, char **out, struct error *err)
{
	json_t *files = json_object(), *config = NULL;
	char *redirects = NULL, *headers = NULL;
	size_t redirects_len = 0, headers_len = 0;
	const char *path;
	json_t *v;
	int rc = 0;
	json_object_foreach(list, path, v) {
		const char *hash = json_string_value(v);
		if (!strcmp(path, "/_redirects"))
			rc = finish_rules_text(f, path + 1, hash, &redirects, &redirects_len, err);
		else if (!strcmp(path, "/_headers"))
			rc = finish_rules_text(f, path + 1, hash, &headers, &headers_len, err);
		else
			rc = finish_file(f, path, hash, files, err);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = finish_config(f, skiff_json, redirects, redirects_len, headers, headers_len,
				   &config, err);
	free(redirects);
	free(headers);
	*out = NULL;
	if (rc < 0) {
		json_decref(files);
		return rc;
	}
	json_t *manifest = json_pack("{sisssIsoso}", "version", 1, "deployment", d->id, "created",
				     (json_int_t)d->created, "files", files, "config", config);
	*out = json_dumps(manifest, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(manifest);
	if (!*out)
		abort();
	if (strlen(*out) > MANIFEST_MAX_BYTES) {
		free(*out);
		*out = NULL;
		return error_set(err, SKIFF_ELIMIT, "output_too_large",
				 "the manifest would be larger than %u MB", MANIFEST_MAX_BYTES >> 20);
	}
	return 0;
}

/* The answer of a finished upload: the same however often finish is sent. */
static int finish_answer(struct http_request *req, struct http_response *resp,
			 const struct deployment *d)
{
	char durl[1024];
	api_site_url(req->cfg, d->project, d->id, durl, sizeof(durl));
	return response_json(resp, 200, json_pack("{sssssssIsI}", "deploymentId", d->id, "state", "ready",
					      "deploymentUrl", durl, "files",
					      (json_int_t)(d->files == MODEL_NONE ? 0 : d->files),
					      "bytes",
					      (json_int_t)(d->bytes == MODEL_NONE ? 0 : d->bytes)));
}

/* 409 missing_blobs with the list, so the client can upload them and finish again. */
static int finish_missing(struct http_response *resp, const struct deployment *d,
			  json_t *missing)
{
	char msg[128];
	/* a blob present when the upload began (so not sent) may have been swept since */
	log_info("upload finish: blobs missing from the store deployment=%s project=%s "
		 "missing=%zu first=%s", d->id, d->project, json_array_size(missing),
		 json_string_value(json_array_get(missing, 0)));
	snprintf(msg, sizeof(msg), "%zu blobs are not uploaded yet", json_array_size(missing));
	return response_json(resp, 409, json_pack("{s{sssssO}}", "error", "code", "missing_blobs",
					      "message", msg, "missing", missing));
}

/* A build's blobs missing at its finish while its pin (lib/gc.h) lapsed: no heartbeat renewed
 * it for GC_PIN_TTL_MS, and a sweep deleted blobs the pin no longer kept. Nothing is written:
 * 409 pin_lost says why and which. 0 when the pin is live (missing for another reason). */
static int finish_pin_lost(struct app *app, struct http_response *resp,
			   const struct deployment *d, json_t *missing, int *status)
{
	struct error e;
	if (model_gc_pin_renew(app->redis, d->id, GC_PIN_TTL_MS, &e) != 0)
		return 0;
	log_warn("upload finish refused: the build's pin lapsed and a sweep deleted blobs it "
		 "relied on deployment=%s project=%s missing=%zu first=%s", d->id, d->project,
		 json_array_size(missing), json_string_value(json_array_get(missing, 0)));
	char msg[256];
	snprintf(msg, sizeof(msg), "the blobs this build relies on were not kept pinned (no "
		 "heartbeat for %d minutes): a store sweep deleted %zu of them; deploy again",
		 GC_PIN_TTL_MS / 60000, json_array_size(missing));
	*status = response_json(resp, 409, json_pack("{s{sssssO}}", "error", "code", "pin_lost",
						     "message", msg, "missing", missing));
	return 1;
}

/* A remote build's pin (lib/gc.h) is dropped once its manifest is written. */
static void finish_unpin(struct app *app, const char *id)
{
	struct error e;
	if (model_gc_unpin(app->redis, id, &e) < 0)
		log_warn("cannot unpin deployment=%s error=\"%s\"", id, e.message);
}

int create_deploy_finish(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	json_t *body = NULL, *list = NULL, *missing = NULL;
	struct buf files = BUF_INIT(64u << 20), config = BUF_INIT(1 << 20);
	struct deployment d;
	struct finish f = { .app = app, .entries = json_object(),
			    .max_file = (unsigned long long)req->cfg->max_file_mb << 20 };
	char *manifest = NULL;
	bool preview = false;
	char ticket[GC_TICKET_MAX] = "";
	int status;
	struct create_who who;
	if (create_deploy_begin(req, &body, &d, &who, true, &err) < 0 ||
	    model_upload_get(app->redis, d.id, &files, &config, &preview, &err) < 0)
		goto fail;
	if (d.state == DEPLOYMENT_READY) { /* a replay: nothing is promoted twice */
		finish_unpin(app, d.id);
		status = finish_answer(req, resp, &d);
		goto out;
	}
	json_error_t jerr;
	if (create_deploy_uploading(&d, &err) < 0 || app_store(app, &f.store, &err) < 0)
		goto fail;
	/* from the check of the blobs to the manifest, no sweep deletes (lib/gc.h) */
	if (gc_finish_begin(app->redis, d.id, ticket, GC_FENCE_TTL_MS, &err) < 0)
		goto fail;
	list = json_loadb(buf_cstr(&files), files.len, 0, &jerr);
	if (!list) {
		error_set(&err, SKIFF_EINTERNAL, NULL, "the stored file list is not JSON");
		goto fail;
	}
	if (create_deploy_missing(f.store, list, &missing, &err) < 0)
		goto fail;
	if (json_array_size(missing)) {
		if (!who.build || !finish_pin_lost(app, resp, &d, missing, &status))
			status = finish_missing(resp, &d, missing);
		goto out;
	}
	f.id = d.id;
	if (finish_manifest(&f, &d, list, buf_cstr(&config), &manifest, &err) < 0 ||
	    store_manifest_put(f.store, d.id, manifest, strlen(manifest), &err) < 0)
		goto fail;
	struct deployment change;
	model_deployment_init(&change);
	change.files = (long long)f.files;
	change.bytes = (long long)f.bytes;
	unsigned set = MODEL_SET(FILES) | MODEL_SET(BYTES);
	/* a remote build's record says what it uploaded, as a local build's does: the blobs it
	 * sent (it counts them) and the variants stored here */
	json_t *sent = json_object_get(body, "bytesUploaded");
	if (who.build && json_is_integer(sent) && json_integer_value(sent) >= 0) {
		change.bytes_uploaded = (long long)json_integer_value(sent) + (long long)f.variant_bytes;
		set |= MODEL_SET(BYTES_UPLOADED);
	}
	int rc = preview ? model_deployment_state(app->redis, d.id, DEPLOYMENT_READY, NULL, &change,
						  set, &err)
			 : model_deployment_promote(app->redis, d.id, &change, set, &err);
	if (rc == SKIFF_ECONFLICT && model_deployment_get(app->redis, d.id, &d, &err) == 0 &&
	    d.state == DEPLOYMENT_READY) {
		status = finish_answer(req, resp, &d); /* a finish sent twice at once */
		goto out;
	}
	if (rc < 0)
		goto fail;
	if (!preview)
		fastpath_switch_announce(app->redis, req->cfg, d.project);  /* after the write */
	finish_unpin(app, d.id);
	log_info("upload finished deployment=%s project=%s files=%llu bytes=%llu preview=%d", d.id,
		 d.project, f.files, f.bytes, preview);
	d.files = change.files;
	d.bytes = change.bytes;
	status = finish_answer(req, resp, &d);
	goto out;
fail:
	status = response_error(req, resp, &err);
out:
	gc_finish_end(app->redis, ticket);
	free(manifest);
	json_decref(f.entries);
	json_decref(missing);
	json_decref(list);
	json_decref(body);
	buf_dispose(&files);
	buf_dispose(&config);
	return status;
}
