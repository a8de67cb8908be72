/* deploy.c — `skiff deploy`: walk a directory as a build's output is walked, announce every
 * file by its SHA-256, upload only the blobs the server lacks (a few at a time over curl
 * multi), finish, and print the URLs. */
#include "deploy.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "client.h"
#include "collect.h"
#include "detect.h"
#include "hash.h"

#define DEPLOY_PARALLEL 4            /* uploads in flight */
#define DEPLOY_TRIES 3               /* attempts of one blob on a network error or a 5xx */
#define DEPLOY_FINISH_ROUNDS 3       /* finishes again after sending blobs the store lost meanwhile */
#define DEPLOY_MAX_FILES 20000UL     /* the server's default max_files */
#define DEPLOY_MAX_FILE_BYTES (100ULL << 20) /* the server's default max_file_mb */
#define DEPLOY_MAX_TOTAL_BYTES (64ULL << 30)
#define DEPLOY_UPLOAD_URL_MAX 16384  /* bytes of an upload URL or one header line */

/* DIR/skiff.json, when there is one, as the deployment's "config": the routing settings
 * (cleanUrls, trailingSlash, spa, redirects, headers) of a directory built elsewhere apply as
 * they would to a local build; the server checks them as it checks a repository's skiff.json.
 * The file is uploaded like any other as well. *out stays NULL without the file. */
static int deploy_config(int root_fd, const char *dir, json_t **out, struct error *err)
{
	*out = NULL;
	int fd = openat(root_fd, "skiff.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : error_set(err, SKIFF_EIO, "bad_config",
							"%s/skiff.json: %s", dir, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > DETECT_FILE_MAX) {
		close(fd);
		return error_set(err, SKIFF_EINVALID, "bad_config",
				 "%s/skiff.json: not a regular file of at most %u bytes", dir,
				 DETECT_FILE_MAX);
	}
	json_error_t je;
	json_t *cfg = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
	close(fd);
	if (!json_is_object(cfg)) {
		json_decref(cfg);
		return error_set(err, SKIFF_EINVALID, "bad_config",
				 "%s/skiff.json: %s", dir, cfg ? "not a JSON object" : je.text);
	}
	*out = json_pack("{s:o}", "skiff.json", cfg);
	return 0;
}

/* One announced file: where its bytes are (a file under the root, or the rules text). */
struct deploy_entry {
	const char *path;
	const char *src;             /* NULL: mem */
	const char *mem;
	size_t mem_len;
	unsigned long long size;
	char hash[HASH_HEX_LEN + 1];
};

struct deploy_upload {
	struct deploy_entry *e;
	CURL *h;
	FILE *in;
	struct curl_slist *hdr;
	struct buf answer;
	int tries;
	bool direct;                 /* this PUT goes to a presigned URL */
};

struct deploy {
	struct cli *cli;
	int root_fd;
	struct deploy_entry *entries;
	size_t n;
	int refused;
	bool progress;
	json_t *presigned;           /* the answer's upload.presigned: {hash: {url, headers}} */
	size_t direct;               /* blobs uploaded to a presigned URL */
};

static void deploy_note(void *ctx, const char *msg)
{
	struct deploy *d = ctx;
	if (strncmp(msg, "refused ", 8) == 0)
		d->refused++;
	fprintf(stderr, "skiff: %s\n", msg);
}

static int deploy_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct deploy_entry *)a)->hash, ((const struct deploy_entry *)b)->hash);
}

/* Hashes every collected file and the rules files into d->entries. */
static int deploy_hash(struct deploy *d, struct collect_result *r, struct error *err)
{
	d->entries = calloc(r->nfiles + 2, sizeof(*d->entries));
	if (!d->entries)
		abort();
	for (size_t i = 0; i < r->nfiles; i++) {
		struct deploy_entry *e = &d->entries[d->n++];
		struct stat st;
		int fd = collect_open_file(d->root_fd, r->files[i].src, &st, err);
		if (fd < 0)
			return fd;
		int rc = hash_fd(fd, e->hash, &e->size, err);
		close(fd);
		if (rc < 0) {
			char why[ERROR_MESSAGE_MAX];
			memcpy(why, err->message, sizeof(why));
			return error_set(err, rc, "io", "%s: %s", r->files[i].src, why);
		}
		e->path = r->files[i].path;
		e->src = r->files[i].src;
	}
	if (r->redirects) {
		struct deploy_entry *e = &d->entries[d->n++];
		e->path = "/_redirects";
		e->mem = r->redirects;
		e->size = e->mem_len = r->redirects_len;
		hash_buffer(e->mem, e->mem_len, e->hash);
	}
	if (r->headers) {
		struct deploy_entry *e = &d->entries[d->n++];
		e->path = "/_headers";
		e->mem = r->headers;
		e->size = e->mem_len = r->headers_len;
		hash_buffer(e->mem, e->mem_len, e->hash);
	}
	return 0;
}

static size_t deploy_sink(char *p, size_t size, size_t n, void *ctx)
{
	struct deploy_upload *u = ctx;
	buf_append(&u->answer, p, size * n);   /* an over-long answer is cut, not an error */
	return size * n;
}

/* Prepares (or re-prepares, on a retry) the PUT of one blob. */
static int deploy_upload_start(struct deploy *d, const char *id, struct deploy_upload *u,
			       struct error *err)
{
	struct buf url = BUF_INIT(DEPLOY_UPLOAD_URL_MAX), auth = BUF_INIT(DEPLOY_UPLOAD_URL_MAX);
	int rc = 0;
	if (u->in) {
		fclose(u->in);
		u->in = NULL;
	}
	buf_reset(&u->answer);
	if (u->h)
		curl_easy_reset(u->h);
	else if (!(u->h = curl_easy_init()))
		abort();
	curl_slist_free_all(u->hdr);
	u->hdr = NULL;
	/* a presigned URL (straight to the store) gets exactly its signed headers and never the
	 * token; skiff's own blob route gets the token */
	json_t *direct = json_object_get(d->presigned, u->e->hash);
	const char *durl = json_string_value(json_object_get(direct, "url"));
	if (durl) {
		const char *name;
		json_t *v;
		buf_puts(&url, durl);
		json_object_foreach(json_object_get(direct, "headers"), name, v) {
			if (!json_is_string(v) || strpbrk(name, "\r\n:") || strpbrk(json_string_value(v), "\r\n")) {
				rc = error_set(err, SKIFF_EUPSTREAM, "bad_answer",
					       "the server's upload headers for %s are malformed", u->e->path);
				goto out;
			}
			buf_reset(&auth);
			buf_printf(&auth, "%s: %s", name, json_string_value(v));
			u->hdr = curl_slist_append(u->hdr, buf_cstr(&auth));
		}
	} else {
		if (d->cli->token[0]) {
			buf_printf(&auth, "Authorization: Bearer %s", d->cli->token);
			u->hdr = curl_slist_append(u->hdr, buf_cstr(&auth));
		}
		u->hdr = curl_slist_append(u->hdr, "Content-Type: application/octet-stream");
		buf_printf(&url, "%s/api/deployments/%s/blobs/%s", d->cli->url, id, u->e->hash);
	}
	u->hdr = curl_slist_append(u->hdr, "Expect:");
	u->direct = durl != NULL;
	if (url.err || auth.err) {
		rc = error_set(err, SKIFF_EUPSTREAM, "bad_answer", "the upload URL of %s is too long",
			       u->e->path);
		goto out;
	}
	if (u->e->src) {
		struct stat st;
		int fd = collect_open_file(d->root_fd, u->e->src, &st, err);
		if (fd < 0) {
			rc = fd;
			goto out;
		}
		if (!(u->in = fdopen(fd, "rb"))) {
			close(fd);
			rc = error_set(err, SKIFF_EIO, "io", "%s: %s", u->e->src, strerror(errno));
			goto out;
		}
		curl_easy_setopt(u->h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(u->h, CURLOPT_READDATA, u->in);
		curl_easy_setopt(u->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
	} else {
		curl_easy_setopt(u->h, CURLOPT_POSTFIELDS, u->e->mem);
		curl_easy_setopt(u->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)u->e->mem_len);
		curl_easy_setopt(u->h, CURLOPT_CUSTOMREQUEST, "PUT");
	}
	curl_easy_setopt(u->h, CURLOPT_URL, buf_cstr(&url));
	curl_easy_setopt(u->h, CURLOPT_HTTPHEADER, u->hdr);
	curl_easy_setopt(u->h, CURLOPT_WRITEFUNCTION, deploy_sink);
	curl_easy_setopt(u->h, CURLOPT_WRITEDATA, u);
	curl_easy_setopt(u->h, CURLOPT_PRIVATE, u);
	curl_easy_setopt(u->h, CURLOPT_USERAGENT, "skiff-cli/" SKIFF_VERSION);
	curl_easy_setopt(u->h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(u->h, CURLOPT_PROTOCOLS_STR, "http,https");
	u->tries++;
out:
	buf_dispose(&url);
	buf_dispose(&auth);
	return rc;
}

static void deploy_upload_dispose(struct deploy_upload *u)
{
	if (u->in)
		fclose(u->in);
	curl_easy_cleanup(u->h);
	curl_slist_free_all(u->hdr);
	buf_dispose(&u->answer);
}

/* An S3 error answer (XML: <Code>, <Message>) as "message (HTTP 400 BadDigest)". */
static void deploy_store_error(long status, struct buf *answer, struct error *err)
{
	char code[64] = "", msg[256] = "";
	const char *a = buf_cstr(answer), *p, *q;
	if ((p = strstr(a, "<Code>")) && (q = strstr(p, "</Code>")) && q - p - 6 < (long)sizeof(code))
		snprintf(code, sizeof(code), "%.*s", (int)(q - p - 6), p + 6);
	if ((p = strstr(a, "<Message>")) && (q = strstr(p, "</Message>")))
		snprintf(msg, sizeof(msg), "%.*s", (int)(q - p - 9 < 255 ? q - p - 9 : 255), p + 9);
	error_set(err, SKIFF_EUPSTREAM, code[0] ? code : "store_refused", "the store refused it: %s (HTTP %ld%s%s)",
		  msg[0] ? msg : "no message", status, code[0] ? " " : "", code);
}

/* PUTs each blob of todo[0..n), DEPLOY_PARALLEL at a time; *bytes counts what was sent. */
static int deploy_upload_all(struct deploy *d, const char *id, struct deploy_entry **todo, size_t n,
			     unsigned long long *bytes, struct error *err)
{
	struct deploy_upload slot[DEPLOY_PARALLEL];
	CURLM *m = curl_multi_init();
	size_t next = 0, done = 0;
	unsigned long long total = 0;
	int running = 0, rc = 0;
	if (!m)
		abort();
	memset(slot, 0, sizeof(slot));
	for (size_t i = 0; i < n; i++)
		total += todo[i]->size;
	for (int i = 0; i < DEPLOY_PARALLEL; i++)
		buf_init(&slot[i].answer, 4096);
	for (int i = 0; i < DEPLOY_PARALLEL && next < n; i++) {
		slot[i].e = todo[next++];
		if ((rc = deploy_upload_start(d, id, &slot[i], err)) < 0)
			goto out;
		curl_multi_add_handle(m, slot[i].h);
	}
	while (done < n) {
		CURLMcode mc = curl_multi_perform(m, &running);
		if (mc == CURLM_OK && running)
			mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK) {
			rc = error_set(err, SKIFF_EUPSTREAM, "network", "upload: %s", curl_multi_strerror(mc));
			goto out;
		}
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct deploy_upload *u;
			long status = 0;
			CURLcode cc = msg->data.result;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&u);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			curl_multi_remove_handle(m, u->h);
			if ((cc != CURLE_OK || status >= 500) && u->tries < DEPLOY_TRIES) {
				if ((rc = deploy_upload_start(d, id, u, err)) < 0)
					goto out;
				curl_multi_add_handle(m, u->h);
				continue;
			}
			if (cc != CURLE_OK) {
				rc = error_set(err, SKIFF_EUPSTREAM, "network", "uploading %s: %s", u->e->path,
					       curl_easy_strerror(cc));
				goto out;
			}
			if (status != 200 && status != 201) {
				json_t *a = json_loadb(u->answer.data ? u->answer.data : "", u->answer.len, 0, NULL);
				if (!a && u->direct)
					deploy_store_error(status, &u->answer, err);
				else
					cli_answer_error(status, a, err);
				json_decref(a);
				char msgcopy[ERROR_MESSAGE_MAX];
				memcpy(msgcopy, err->message, sizeof(msgcopy));
				rc = error_set(err, SKIFF_EUPSTREAM, err->name, "uploading %s: %s", u->e->path,
					       msgcopy);
				goto out;
			}
			done++;
			d->direct += u->direct;
			*bytes += u->e->size;
			if (d->progress)
				fprintf(stderr, "\ruploaded %zu/%zu blobs, %llu/%llu bytes", done, n, *bytes, total);
			if (next < n) {
				u->e = todo[next++];
				u->tries = 0;
				if ((rc = deploy_upload_start(d, id, u, err)) < 0)
					goto out;
				curl_multi_add_handle(m, u->h);
			}
		}
	}
out:
	if (d->progress && n)
		fputc('\n', stderr);
	for (int i = 0; i < DEPLOY_PARALLEL; i++) {
		if (slot[i].h)
			curl_multi_remove_handle(m, slot[i].h);
		deploy_upload_dispose(&slot[i]);
	}
	curl_multi_cleanup(m);
	return rc;
}

/* The blobs of a list of hashes the server asks for (the answer's "required", or the "missing"
 * of a finish), each mapped to one file with that hash; *todo is replaced. */
static int deploy_required(struct deploy *d, json_t *req, struct deploy_entry ***todo, size_t *n,
			   struct error *err)
{
	json_t *v;
	size_t i;
	if (!json_is_array(req))
		return error_set(err, SKIFF_EUPSTREAM, "bad_answer", "the server's answer has no required list");
	free(*todo);
	*todo = calloc(json_array_size(req) + 1, sizeof(**todo));
	if (!*todo)
		abort();
	*n = 0;
	json_array_foreach(req, i, v) {
		struct deploy_entry key = { 0 };
		const char *h = json_string_value(v);
		if (!h || strlen(h) != HASH_HEX_LEN)
			return error_set(err, SKIFF_EUPSTREAM, "bad_answer", "the server asked for a malformed hash");
		memcpy(key.hash, h, HASH_HEX_LEN + 1);
		struct deploy_entry *e = bsearch(&key, d->entries, d->n, sizeof(*d->entries), deploy_entry_cmp);
		if (!e)
			return error_set(err, SKIFF_EUPSTREAM, "bad_answer",
					 "the server asked for %s, which no file has", h);
		(*todo)[(*n)++] = e;
	}
	return 0;
}

/* After a failed upload or finish, ends the announced deployment in state error with the
 * reason, so that nothing is left waiting in phase upload (best effort: a failure here is
 * only reported). */
static void deploy_give_up(const struct cli *c, const char *id, const struct error *why)
{
	struct buf path = BUF_INIT(256);
	struct error err = { 0 };
	json_t *answer = NULL, *body = json_pack("{s:s}", "error", why->message);
	buf_printf(&path, "/api/deployments/%s/fail", id);
	long status = cli_call(c, "POST", buf_cstr(&path), body, &answer, &err);
	if (status != 200 && status != 409)
		fprintf(stderr, "skiff: deployment %s could not be marked failed: %s\n", id,
			status < 0 ? err.message : "the server refused");
	json_decref(answer);
	json_decref(body);
	buf_dispose(&path);
}

static void deploy_usage(FILE *f)
{
	fputs("usage: skiff deploy [DIR] --project SLUG [--preview] [--json]\n"
	      "\n"
	      "Deploys DIR (default: the current directory) to project SLUG: hashes every file,\n"
	      "uploads only the files the server does not have yet, then makes the deployment\n"
	      "live (or, with --preview, ready at its own URL only). Symlinks that leave DIR are\n"
	      "skipped; special files are refused. _redirects and _headers at the top are sent\n"
	      "as rules, and skiff.json there as the routing settings. Uses SKIFF_URL and\n"
	      "SKIFF_TOKEN, else ~/.config/skiff/config.json.\n"
	      "\n"
	      "  -p, --project SLUG  the project to deploy to (required)\n"
	      "      --preview       a preview deployment; never replaces production\n"
	      "      --json          print one JSON object instead of text\n"
	      "  -h, --help          this help\n", f);
}

int cli_deploy(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' }, { "preview", no_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 }
	};
	struct cli c = { 0 };
	struct deploy d = { &c, -1, NULL, 0, 0, false, NULL, 0 };
	struct collect_result r = { 0 };
	struct collect_limits lim = { DEPLOY_MAX_FILES, DEPLOY_MAX_FILE_BYTES, DEPLOY_MAX_TOTAL_BYTES };
	struct error err = { 0 };
	struct deploy_entry **todo = NULL;
	json_t *files = NULL, *body = NULL, *answer = NULL, *fin = NULL, *info = NULL;
	const char *slug = NULL, *dir = ".";
	bool preview = false;
	size_t ntodo = 0;
	unsigned long long sent = 0;
	int opt, rc = 0;
	char id[64] = "";
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': slug = optarg; break;
		case 'P': preview = true; break;
		case 'j': c.json = true; break;
		case 'h': deploy_usage(stdout); return 0;
		default: deploy_usage(stderr); return 2;
		}
	}
	if (optind < argc)
		dir = argv[optind++];
	if (optind < argc || !slug) {
		fprintf(stderr, "skiff deploy: %s\n", slug ? "one directory at most" : "--project SLUG is required");
		deploy_usage(stderr);
		return 2;
	}
	for (const char *p = slug; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-') || p - slug >= 63) {
			error_set(&err, SKIFF_EINVALID, "invalid_slug",
				  "'%.80s' is not a project slug (a-z, 0-9 and '-', at most 63)", slug);
			goto fail;
		}
	if ((rc = cli_config_load(&c, &err)) < 0)
		goto fail;
	d.progress = !c.json && isatty(STDERR_FILENO);
	if ((d.root_fd = collect_open_root(dir, "", &err)) < 0)
		goto fail;
	if ((rc = collect_walk(d.root_fd, &lim, NULL, deploy_note, &d, &r, &err)) < 0)
		goto fail;
	if (d.refused) {
		error_set(&err, SKIFF_EINVALID, "special_file",
			  "%d special file%s in %s (see above): remove them and deploy again", d.refused,
			  d.refused == 1 ? "" : "s", dir);
		goto fail;
	}
	if ((rc = deploy_hash(&d, &r, &err)) < 0)
		goto fail;
	if (d.n == 0) {
		error_set(&err, SKIFF_EINVALID, "empty", "%s has no files to deploy", dir);
		goto fail;
	}
	files = json_object();
	for (size_t i = 0; i < d.n; i++)
		json_object_set_new(files, d.entries[i].path, json_string(d.entries[i].hash));
	body = json_pack("{s:O}", "files", files);
	json_t *config;
	if ((rc = deploy_config(d.root_fd, dir, &config, &err)) < 0)
		goto fail;
	if (config)
		json_object_set_new(body, "config", config);
	if (preview)
		json_object_set_new(body, "preview", json_true());
	qsort(d.entries, d.n, sizeof(*d.entries), deploy_entry_cmp);

	struct buf path = BUF_INIT(256);
	buf_printf(&path, "/api/projects/%s/deployments", slug);
	long status = cli_call(&c, "POST", buf_cstr(&path), body, &answer, &err);
	buf_dispose(&path);
	if (status < 0)
		goto fail;
	if (status != 201) {
		cli_answer_error(status, answer, &err);
		goto fail;
	}
	const char *aid = json_string_value(json_object_get(answer, "deploymentId"));
	if (!aid || strlen(aid) >= sizeof(id) || strspn(aid, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(aid)) {
		error_set(&err, SKIFF_EUPSTREAM, "bad_answer", "the server's answer has no valid deploymentId");
		goto fail;
	}
	memcpy(id, aid, strlen(aid) + 1);
	if ((rc = deploy_required(&d, json_object_get(answer, "required"), &todo, &ntodo, &err)) < 0)
		goto fail;
	d.presigned = json_object_get(json_object_get(answer, "upload"), "presigned");
	if (!c.json)
		printf("deployment %s: %zu files, %zu to upload\n", id, d.n, ntodo);
	if ((rc = deploy_upload_all(&d, id, todo, ntodo, &sent, &err)) < 0)
		goto fail;

	struct buf fpath = BUF_INIT(256);
	buf_printf(&fpath, "/api/deployments/%s/finish", id);
	json_t *empty = json_object();
	for (int round = 0;; round++) {
		status = cli_call(&c, "POST", buf_cstr(&fpath), empty, &fin, &err);
		json_t *missing = json_object_get(json_object_get(fin, "error"), "missing");
		if (status != 409 || !json_array_size(missing) || round == DEPLOY_FINISH_ROUNDS)
			break;
		/* blobs the store had when the deployment began, swept since: send them too */
		size_t nmore = 0;
		unsigned long long more = 0;
		if ((rc = deploy_required(&d, missing, &todo, &nmore, &err)) < 0 ||
		    (rc = deploy_upload_all(&d, id, todo, nmore, &more, &err)) < 0)
			break;
		ntodo += nmore;
		sent += more;
		json_decref(fin);
		fin = NULL;
	}
	json_decref(empty);
	buf_dispose(&fpath);
	if (rc < 0 || status < 0)
		goto fail;
	if (status != 200) {
		cli_answer_error(status, fin, &err);
		goto fail;
	}
	struct buf ipath = BUF_INIT(256);
	buf_printf(&ipath, "/api/deployments/%s", id);
	status = cli_call(&c, "GET", buf_cstr(&ipath), NULL, &info, &err);
	buf_dispose(&ipath);
	json_t *dep = status == 200 ? json_object_get(info, "data") : NULL;
	const char *state = json_string_value(json_object_get(fin, "state"));
	const char *url = json_string_value(json_object_get(fin, "deploymentUrl"));
	const char *purl = preview ? NULL : json_string_value(json_object_get(dep, "projectUrl"));
	if (c.json) {
		json_t *o = json_pack("{s:s,s:s?,s:s?,s:s?,s:b,s:I,s:I,s:I,s:I,s:I}", "deploymentId", id,
				      "state", state, "deploymentUrl", url, "projectUrl", purl,
				      "preview", json_is_true(json_object_get(answer, "preview")),
				      "files", (json_int_t)d.n, "uploaded", (json_int_t)ntodo,
				      "uploadedDirect", (json_int_t)d.direct,
				      "uploadedBytes", (json_int_t)sent,
				      "bytes", json_integer_value(json_object_get(fin, "bytes")));
		cli_print_json(o);
		json_decref(o);
	} else {
		printf("uploaded %zu blob%s (%llu bytes)%s\n", ntodo, ntodo == 1 ? "" : "s", sent,
		       d.direct ? ", straight to the store" : "");
		printf("%s: %s\n", state ? state : "finished", url ? url : "");
		if (purl)
			printf("live: %s\n", purl);
	}
	goto out;
fail:
	rc = cli_fail(&c, &err);
	if (id[0])
		deploy_give_up(&c, id, &err);
out:
	free(todo);
	free(d.entries);
	collect_result_dispose(&r);
	if (d.root_fd >= 0)
		close(d.root_fd);
	json_decref(files);
	json_decref(body);
	json_decref(answer);
	json_decref(fin);
	json_decref(info);
	return rc ? 1 : 0;
}
