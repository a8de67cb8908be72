/* deploy.c — the deploy protocol: a deployment announced by its file digests, the
 * blobs the store lacks uploaded one by one, log lines from a remote builder, then finish
 * (manifest, promote) or fail. */
#include "deploy.h"
#include "tokens.h"
#include "body.h"
#include "fields.h"
#include "clock.h"
#include "api.h"
#include "app.h"
#include "collect.h"
#include "detect.h"
#include "gc.h"
#include "hash.h"
#include "id.h"
#include "log.h"
#include "model_gc.h"
#include "model_log.h"
#include "model_upload.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEPLOY_FILES_JSON_MAX (64u << 20)  /* the stored file list (as MANIFEST_MAX_BYTES) */
#define DEPLOY_LOG_BATCH_MAX 1000          /* lines in one log request */
/* bytes of presigned URLs in one create answer: with the required list it stays under the
 * CLI's 16 MiB answer limit; blobs past it get no URL and go through the blob route */
#define DEPLOY_PRESIGN_ANSWER_MAX (12u << 20)

/* A served path as the protocol takes it: absolute, normalised, printable. */
static int deploy_path_valid(const char *p)
{
	size_t n = strlen(p);
	if (n < 2 || n > COLLECT_PATH_MAX || p[0] != '/' || p[n - 1] == '/')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f || (c == '/' && p[i + 1] == '/'))
			return 0;
		if (c == '/' && p[i + 1] == '.' &&
		    (p[i + 2] == '/' || p[i + 2] == '\0' ||
		     (p[i + 2] == '.' && (p[i + 3] == '/' || p[i + 3] == '\0'))))
			return 0;
	}
	return 1;
}

/* Checks the "files" object: count, paths, hashes. */
static int deploy_files_check(const struct config *cfg, json_t *files, struct error *err)
{
	if (!json_is_object(files))
		return error_set(err, SKIFF_EINVALID, "invalid_files",
				 "files must be an object of \"/path\": \"<sha256 hex>\"");
	if (json_object_size(files) == 0)
		return error_set(err, SKIFF_EINVALID, "invalid_files", "files must name at least one file");
	if (json_object_size(files) > (size_t)cfg->max_files)
		return error_set(err, SKIFF_ELIMIT, "too_many_files",
				 "a deployment has at most %ld files", cfg->max_files);
	const char *path;
	json_t *v;
	json_object_foreach(files, path, v) {
		if (strlen(path) > COLLECT_PATH_MAX)
			return error_set(err, SKIFF_EINVALID, "invalid_path",
					 "a path is longer than %d bytes", COLLECT_PATH_MAX);
		if (!deploy_path_valid(path))
			return error_set(err, SKIFF_EINVALID, "invalid_path",
					 "'%.200s' is not a normalised absolute path (no '..', '.', "
					 "'//', trailing '/' or control characters)", path);
		if (!json_is_string(v) || !store_hash_valid(json_string_value(v)))
			return error_set(err, SKIFF_EINVALID, "invalid_hash",
					 "the hash of '%.200s' must be 64 lowercase hex digits", path);
	}
	return 0;
}

/* "config": {"skiff.json": {...}}, checked as a local build checks skiff.json; *out (the
 * caller's, NULL when none) is its compact JSON text. */
static int deploy_config_check(json_t *config, char **out, struct error *err)
{
	*out = NULL;
	if (!config || json_is_null(config))
		return 0;
	json_t *skiff = json_object_get(config, "skiff.json");
	if (!json_is_object(config) || json_object_size(config) != (skiff ? 1u : 0u) || !skiff)
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "config must be {\"skiff.json\": {...}}");
	struct detect_result d;
	if (detect_skiff_config(skiff, &d, err) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_config", "%s", err->message);
	detect_result_dispose(&d);
	*out = json_dumps(skiff, JSON_COMPACT);
	if (!*out)
		abort();
	if (strlen(*out) > DETECT_FILE_MAX) {
		free(*out);
		*out = NULL;
		return error_set(err, SKIFF_ELIMIT, "config_too_large", "skiff.json is larger than %u bytes",
				 DETECT_FILE_MAX);
	}
	return 0;
}

/* The hashes of files the store lacks, each once. */
int create_deploy_missing(struct store *s, json_t *files, json_t **out, struct error *err)
{
	json_t *seen = json_object(), *missing = json_array();
	const char *path;
	json_t *v;
	int rc = 0;
	json_object_foreach(files, path, v) {
		const char *h = json_string_value(v);
		if (json_object_get(seen, h))
			continue;
		json_object_set_new(seen, h, json_true());
		rc = store_blob_exists(s, h, err);
		if (rc < 0)
			break;
		if (rc == 0)
			json_array_append_new(missing, json_string(h));
		rc = 0;
	}
	json_decref(seen);
	if (rc < 0)
		json_decref(missing);
	else
		*out = missing;
	return rc;
}

/* With a store that has them (s3) and s3_presign_expires set, a presigned PUT for each
 * required blob (up to DEPLOY_PRESIGN_ANSWER_MAX bytes of them), {hash: {url, headers}}, so
 * that the bytes go straight to the bucket; NULL when blobs go through skiff. */
static int create_deploy_presign(const struct config *cfg, struct store *store, json_t *required,
				 json_t **out, struct error *err)
{
	struct store_upload_url u;
	json_t *urls = NULL, *v;
	size_t i, bytes = 0;
	*out = NULL;
	if (cfg->s3_presign_expires <= 0)
		return 0;
	json_array_foreach(required, i, v) {
		if (bytes > DEPLOY_PRESIGN_ANSWER_MAX)
			break;
		int rc = store_blob_upload_url(store, json_string_value(v), cfg->s3_presign_expires,
					       &u, err);
		if (rc <= 0) {
			json_decref(urls);
			return rc;
		}
		json_t *headers = json_object();
		bytes += strlen(u.url) + 256; /* the URL, its hash twice, the headers */
		for (size_t k = 0; k < u.nheaders; k++)
			json_object_set_new(headers, u.headers[k].name, json_string(u.headers[k].value));
		if (!urls)
			urls = json_object();
		json_object_set_new(urls, json_string_value(v),
				    json_pack("{s:s,s:o}", "url", u.url, "headers", headers));
	}
	*out = urls;
	return 0;
}

int create_deploy_files(struct http_request *req, struct http_response *resp, json_t *body,
			const struct create_who *who, struct error *err)
{
	struct app *app = req->app;
	const struct config *cfg = req->cfg;
	const char *slug = req->params[0];
	static const char *const known[] = { "files", "preview", "config", NULL };
	char *config = NULL;
	if (create_fields_known(body, known, err) < 0 ||
	    deploy_config_check(json_object_get(body, "config"), &config, err) < 0)
		return err->code;
	json_t *files = json_object_get(body, "files"), *pv = json_object_get(body, "preview");
	if (pv && !json_is_boolean(pv))
		return error_set(err, SKIFF_EINVALID, "invalid_field", "preview must be true or false");
	bool preview = who->preview || json_is_true(pv);
	struct store *store = NULL;
	json_t *required = NULL, *presigned = NULL;
	struct project project;
	if (deploy_files_check(cfg, files, err) < 0 || app_store(app, &store, err) < 0 ||
	    model_project_get(app->redis, slug, &project, err) < 0) {
		free(config);
		return err->code;
	}
	char *fj = json_dumps(files, JSON_COMPACT | JSON_SORT_KEYS);
	if (!fj)
		abort();
	struct deployment d;
	model_deployment_init(&d);
	id_new(d.id);
	snprintf(d.project, sizeof(d.project), "%s", slug);
	snprintf(d.trigger, sizeof(d.trigger), "upload");
	d.created = clock_wall_ms();
	int rc = strlen(fj) > DEPLOY_FILES_JSON_MAX
			 ? error_set(err, SKIFF_ELIMIT, "too_many_files", "the file list is too large")
			 : create_deploy_missing(store, files, &required, err);
	if (rc == 0)
		rc = create_deploy_presign(cfg, store, required, &presigned, err);
	if (rc == 0)
		rc = model_upload_create(app->redis, &d, fj, config ? config : "", preview, err);
	free(fj);
	free(config);
	if (rc < 0) {
		json_decref(required);
		json_decref(presigned);
		return rc;
	}
	log_info("upload started project=%s deployment=%s files=%zu required=%zu preview=%d "
		 "presigned=%d", slug, d.id, json_object_size(files), json_array_size(required),
		 preview, presigned != NULL);
	char durl[1024], surl[1024], eurl[1024], burl[1024];
	api_site_url(cfg, slug, d.id, durl, sizeof(durl));
	api_dashboard_url(cfg, surl, sizeof(surl), "/api/deployments/%s", d.id);
	api_dashboard_url(cfg, eurl, sizeof(eurl), "/events/%s", d.id);
	api_dashboard_url(cfg, burl, sizeof(burl), "/api/deployments/%s/blobs/{sha256}", d.id);
	response_header(resp, "Location", "/api/deployments/%s", d.id);
	json_t *answer = json_pack(
		"{sssos{ssss}sssssssb}", "deploymentId", d.id, "required", required, "upload",
		"method", "PUT", "url", burl,
		"deploymentUrl", durl, "statusUrl", surl, "eventsUrl", eurl, "preview", preview);
	if (presigned) {
		json_t *up = json_object_get(answer, "upload");
		json_object_set_new(up, "presigned", presigned);
		json_object_set_new(up, "expires", json_integer(cfg->s3_presign_expires));
	}
	/* presigned URLs are credentials for a while: no cache keeps them */
	response_header(resp, "Cache-Control", "no-store");
	return response_json(resp, 201, answer);
}

/* The deployment of the route's {id}, which who may change (a build token: its own, while
 * its build goes on; with replay, also once it is ready). */
static int deploy_load(struct http_request *req, struct create_who *who, struct deployment *d,
		       bool replay, struct error *err)
{
	struct app *app = req->app;
	const char *id = req->params[0];
	if (create_who_get(req, who, err) < 0)
		return err->code;
	if (!id_valid(id))
		return error_set(err, SKIFF_EINVALID, "invalid_deployment_id",
				 "the deployment must be a deployment id (12 characters of a-z and 2-7)");
	if (who->build && create_who_build(who, id, replay, err) < 0)
		return err->code;
	if (model_deployment_get(app->redis, id, d, err) < 0 ||
	    (!who->build && create_who_may(who, d->project, err) < 0))
		return err->code;
	return 0;
}

int create_deploy_load(struct http_request *req, struct create_who *who, struct deployment *d,
		       struct error *err)
{
	return deploy_load(req, who, d, false, err);
}

int create_deploy_uploading(const struct deployment *d, struct error *err)
{
	if (d->state == DEPLOYMENT_BUILDING && !strcmp(d->phase, "upload"))
		return 0;
	return error_set(err, SKIFF_ECONFLICT, "not_uploading",
			 "deployment %s is %s, not waiting for an upload", d->id,
			 model_state_name(d->state));
}

/* 1 when hash names a file of the deployment's list. */
static int deploy_listed(struct http_request *req, const char *id, const char *hash,
			 struct error *err)
{
	struct app *app = req->app;
	struct buf files = BUF_INIT(DEPLOY_FILES_JSON_MAX), config = BUF_INIT(1 << 20);
	bool preview;
	int rc = model_upload_get(app->redis, id, &files, &config, &preview, err);
	if (rc == 0) {
		/* the list is compact JSON of "path":"hash" pairs; a quote inside a path is
		 * escaped (\"), so :"<hash>" can only be a value */
		char needle[STORE_HASH_LEN + 4];
		snprintf(needle, sizeof(needle), ":\"%s\"", hash);
		rc = strstr(buf_cstr(&files), needle) != NULL;
	}
	buf_dispose(&files);
	buf_dispose(&config);
	return rc;
}

/* Streams the body into an unnamed file in work_dir, hashing it; *fd_out is the file. */
static int deploy_receive(struct http_request *req, const char *hash, int *fd_out,
			  struct error *err)
{
	int fd = open(req->cfg->work_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_set(err, SKIFF_ESYS, NULL, "cannot create a temporary file in %s: %s",
				 req->cfg->work_dir, strerror(errno));
	struct hash_stream *md = hash_stream_new();
	char chunk[65536];
	unsigned long long total = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = request_body_read(req, chunk, sizeof(chunk));
		if (n < 0) {
			rc = error_set(err, SKIFF_EIO, "body_read_failed", "cannot read the request body");
			break;
		}
		if (n == 0)
			break;
		hash_stream_update(md, chunk, (size_t)n);
		total += (unsigned long long)n;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, chunk + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = error_set(err, SKIFF_EIO, NULL, "cannot write the blob: %s",
					       strerror(errno));
				goto out;
			}
			off += w;
		}
	}
	if (rc == 0 && total != req->content_length)
		rc = error_set(err, SKIFF_EINVALID, "body_truncated",
			       "request body shorter than Content-Length");
	if (rc == 0) {
		char hex[STORE_HASH_LEN + 1];
		hash_stream_final(md, hex);
		if (strcmp(hex, hash))
			rc = error_set(err, SKIFF_EINVALID, "digest_mismatch",
				       "the body's SHA-256 is %s, not %s", hex, hash);
	}
out:
	hash_stream_free(md);
	if (rc < 0)
		close(fd);
	else
		*fd_out = fd;
	return rc;
}

int create_deploy_blob(struct http_request *req, struct http_response *resp)
{
	struct app *app = req->app;
	struct error err;
	error_clear(&err);
	struct create_who who;
	struct deployment d;
	struct store *store = NULL;
	const char *hash = req->params[1];
	int fd = -1, rc;
	unsigned long long limit = (unsigned long long)req->cfg->max_file_mb << 20;
	if (create_deploy_load(req, &who, &d, &err) < 0 || create_deploy_uploading(&d, &err) < 0)
		goto fail;
	if (!store_hash_valid(hash)) {
		error_set(&err, SKIFF_EINVALID, "invalid_hash", "a blob is named by 64 lowercase hex digits");
		goto fail;
	}
	if ((rc = deploy_listed(req, d.id, hash, &err)) <= 0) {
		if (rc == 0)
			error_set(&err, SKIFF_ENOTFOUND, "unknown_blob",
				  "no file of deployment %s has the hash %s", d.id, hash);
		goto fail;
	}
	if (req->content_length > limit) {
		error_set(&err, SKIFF_ELIMIT, "blob_too_large", "a file is at most %ld MB",
			  req->cfg->max_file_mb);
		goto fail;
	}
	if (app_store(app, &store, &err) < 0 || (rc = store_blob_exists(store, hash, &err)) < 0)
		goto fail;
	if (rc == 1) /* stored already: the PUT is idempotent */
		return response_json(resp, 200, json_pack("{sssb}", "hash", hash, "stored", 0));
	char src[32];
	if (deploy_receive(req, hash, &fd, &err) < 0)
		goto fail;
	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	rc = store_blob_put(store, hash, src, "application/octet-stream", &err);
	close(fd);
	if (rc < 0)
		goto fail;
	log_debug("blob stored deployment=%s hash=%s bytes=%llu", d.id, hash, req->content_length);
	return response_json(resp, 201, json_pack("{sssb}", "hash", hash, "stored", 1));
fail:
	return response_error(req, resp, &err);
}

/* A JSON body and the deployment: what finish, fail and log start with. */
int create_deploy_begin(struct http_request *req, json_t **body, struct deployment *d,
			struct create_who *who, bool replay, struct error *err)
{
	if (create_body_json(req, body, "the deploy protocol speaks JSON", err) < 0)
		return err->code;
	return deploy_load(req, who, d, replay, err);
}

int create_deploy_route(struct http_request *req, struct http_response *resp, deploy_act act)
{
	struct error err;
	error_clear(&err);
	json_t *body = NULL;
	struct deployment d;
	struct create_who who;
	int status;
	if (create_deploy_begin(req, &body, &d, &who, false, &err) < 0 ||
	    (status = act(req, resp, body, &d, &who, &err)) < 0)
		status = response_error(req, resp, &err);
	json_decref(body);
	return status;
}

/* A build token may fail its build in any phase; an upload fails while it uploads. A build a
 * user asked to stop ends canceled, as a local one does. */
static int deploy_fail_act(struct http_request *req, struct http_response *resp, json_t *body,
			   const struct deployment *d, const struct create_who *who,
			   struct error *err)
{
	struct app *app = req->app;
	if (!who->build && create_deploy_uploading(d, err) < 0)
		return err->code;
	json_t *e = json_object_get(body, "error"), *code = json_object_get(body, "exitCode");
	const char *msg = e ? json_string_value(e) : "the uploader gave up";
	if (!msg || strlen(msg) > MODEL_MESSAGE_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_field",
				 "error must be a string of at most %d bytes", MODEL_MESSAGE_MAX);
	if (code && (!json_is_integer(code) || json_integer_value(code) < 0 ||
		     json_integer_value(code) > 255))
		return error_set(err, SKIFF_EINVALID, "invalid_field",
				 "exitCode must be a number from 0 to 255");
	struct deployment change;
	model_deployment_init(&change);
	snprintf(change.error, sizeof(change.error), "%s", msg);
	change.exit_code = code ? (long long)json_integer_value(code) : MODEL_NONE;
	enum deployment_state state =
		who->build && who->bt.cancel_requested ? DEPLOYMENT_CANCELED : DEPLOYMENT_ERROR;
	if (model_deployment_state(app->redis, d->id, state, "", &change,
				   MODEL_SET(ERROR) | MODEL_SET(EXIT_CODE), err) < 0)
		return err->code;
	struct error ue;
	if (model_gc_unpin(app->redis, d->id, &ue) < 0)  /* a remote build's (lib/gc.h) */
		log_warn("cannot unpin deployment=%s error=\"%s\"", d->id, ue.message);
	log_info("upload failed deployment=%s state=%s", d->id, model_state_name(state));
	return response_json(resp, 200, json_pack("{ssss}", "deploymentId", d->id, "state",
						  model_state_name(state)));
}

int create_deploy_fail(struct http_request *req, struct http_response *resp)
{
	return create_deploy_route(req, resp, deploy_fail_act);
}

/* One line of a log batch, checked; text made safe to show (control characters become '?').
 * A build token also sends its builder's own lines (system), as a local build writes them. */
static int deploy_log_line(struct http_request *req, json_t *line, long long prev, bool build,
			   struct model_upload_line *out, struct error *err)
{
	json_t *seq = json_object_get(line, "seq"), *stream = json_object_get(line, "stream"),
	       *text = json_object_get(line, "text");
	const char *s = json_string_value(stream);
	if (!json_is_integer(seq) || json_integer_value(seq) < 0 || json_integer_value(seq) <= prev)
		return error_set(err, SKIFF_EINVALID, "invalid_seq",
				 "each line needs a seq, a number >= 0 above the one before it");
	if (!s || (strcmp(s, LOG_SRC_STDOUT) && strcmp(s, LOG_SRC_STDERR) &&
		   (!build || strcmp(s, LOG_SRC_SYSTEM))))
		return error_set(err, SKIFF_EINVALID, "invalid_stream", "stream must be \"stdout\" or "
				 "\"stderr\"%s", build ? " or \"system\"" : "");
	if (!json_is_string(text))
		return error_set(err, SKIFF_EINVALID, "invalid_text", "text must be a string");
	if (json_string_length(text) > LOG_LINE_MAX)
		return error_set(err, SKIFF_ELIMIT, "line_too_long", "a line is at most %d bytes",
				 LOG_LINE_MAX);
	char *t = arena_strndup(req->arena, json_string_value(text), json_string_length(text));
	for (char *c = t; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = *c == '\t' ? ' ' : '?';
	out->seq = json_integer_value(seq);
	out->stream = s;
	out->text = t;
	return 0;
}

static int deploy_log_act(struct http_request *req, struct http_response *resp, json_t *body,
			  const struct deployment *d, const struct create_who *who,
			  struct error *err)
{
	struct app *app = req->app;
	json_t *lines = json_object_get(body, "lines");
	size_t n = json_array_size(lines), appended = 0;
	if (!json_is_array(lines))
		return error_set(err, SKIFF_EINVALID, "invalid_lines", "lines must be an array");
	if (n > DEPLOY_LOG_BATCH_MAX)
		return error_set(err, SKIFF_ELIMIT, "too_many_lines", "a batch has at most %d lines",
				 DEPLOY_LOG_BATCH_MAX);
	struct model_upload_line *l = arena_alloc(req->arena, (n ? n : 1) * sizeof(*l));
	for (size_t i = 0; i < n; i++)
		if (deploy_log_line(req, json_array_get(lines, i), i ? l[i - 1].seq : -1, who->build,
				    &l[i], err) < 0)
			return err->code;
	if (n && model_upload_log(app->redis, d->id, l, n, &appended, err) < 0)
		return err->code;
	return response_json(resp, 200, json_pack("{sIsI}", "received", (json_int_t)n, "appended",
						  (json_int_t)appended));
}

int create_deploy_log(struct http_request *req, struct http_response *resp)
{
	return create_deploy_route(req, resp, deploy_log_act);
}

/* Pins the hashes of files for the build of id before they are checked (lib/gc.h): the blobs
 * it finds stored and does not upload stay until it finishes or fails. Waits while a sweep
 * runs, 504 gc_running after GC_FENCE_TTL_MS. (A hash of several files counts once.) */
static int deploy_pin(struct redis *r, const char *id, json_t *files, struct error *err)
{
	const char **hashes = malloc((json_object_size(files) + 1) * sizeof(*hashes));
	size_t n = 0;
	const char *path;
	json_t *v;
	if (!hashes)
		abort();
	json_object_foreach(files, path, v)
		hashes[n++] = json_string_value(v);
	int rc = gc_pin(r, id, hashes, n, GC_FENCE_TTL_MS, err);
	free(hashes);
	return rc;
}

/* The file list of a build: the deployment exists (the dispatcher queued it, the build token
 * names it) and is building in phase upload; from here on it is uploaded as any other. */
static int deploy_attach_act(struct http_request *req, struct http_response *resp, json_t *body,
			     const struct deployment *d, const struct create_who *who,
			     struct error *err)
{
	struct app *app = req->app;
	const struct config *cfg = req->cfg;
	static const char *const known[] = { "files", "config", NULL };
	json_t *required = NULL;
	struct store *store = NULL;
	if (!who->build)
		return error_set(err, SKIFF_EFORBIDDEN, "token_scope",
				 "only the build token of deployment %s attaches its files", d->id);
	char *config = NULL;
	json_t *files = json_object_get(body, "files");
	if (create_fields_known(body, known, err) < 0 || create_deploy_uploading(d, err) < 0 ||
	    deploy_config_check(json_object_get(body, "config"), &config, err) < 0)
		return err->code;
	if (deploy_files_check(cfg, files, err) < 0 || app_store(app, &store, err) < 0) {
		free(config);
		return err->code;
	}
	char *fj = json_dumps(files, JSON_COMPACT | JSON_SORT_KEYS);
	if (!fj)
		abort();
	int rc = strlen(fj) > DEPLOY_FILES_JSON_MAX
			 ? error_set(err, SKIFF_ELIMIT, "too_many_files", "the file list is too large")
			 : deploy_pin(app->redis, d->id, files, err);
	if (rc == 0)
		rc = create_deploy_missing(store, files, &required, err);
	if (rc == 0)
		rc = model_upload_attach(app->redis, d->id, fj, config ? config : "", err);
	free(fj);
	free(config);
	if (rc < 0) {
		json_decref(required);
		return rc;
	}
	log_info("build upload started deployment=%s files=%zu required=%zu", d->id,
		 json_object_size(files), json_array_size(required));
	char burl[1024];
	api_dashboard_url(cfg, burl, sizeof(burl), "/api/deployments/%s/blobs/{sha256}", d->id);
	return response_json(resp, 200, json_pack("{sssos{ssss}}", "deploymentId", d->id, "required",
						  required, "upload", "method", "PUT", "url", burl));
}

int create_deploy_attach(struct http_request *req, struct http_response *resp)
{
	return create_deploy_route(req, resp, deploy_attach_act);
}
