/* upload_remote.c — skiff-build --remote's upload: the output's files hashed from descriptors
 * opened without following symlinks, the list sent with the site configuration (skiff.json's
 * routing settings, `_redirects` and `_headers` as files), only the blobs the API asks for
 * uploaded, then finish: the API verifies them, writes the manifest and promotes. */
#include "upload_remote.h"
#include "upload.h"
#include "build_log.h"
#include "build_state.h"
#include "remote.h"
#include "hash.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* skiff.json's routing settings as the API reads skiff.json (the commands ran here). */
static json_t *upload_remote_config(const struct detect_result *d)
{
	json_t *skiff = json_object();
	if (d->clean_urls)
		json_object_set_new(skiff, "cleanUrls", json_true());
	if (d->trailing_slash >= 0)
		json_object_set_new(skiff, "trailingSlash", json_boolean(d->trailing_slash));
	if (d->spa >= 0)
		json_object_set_new(skiff, "spa", json_boolean(d->spa));
	if (d->redirects)
		json_object_set(skiff, "redirects", d->redirects);
	if (d->headers)
		json_object_set(skiff, "headers", d->headers);
	return json_pack("{so}", "skiff.json", skiff);
}

/* A rules file (`_redirects`, `_headers`) into the list; where maps its hash to its text. */
static void upload_remote_rules(const char *name, const char *text, size_t len, json_t *files,
				json_t *where)
{
	char hash[HASH_HEX_LEN + 1];
	if (!text)
		return;
	hash_buffer(text, len, hash);
	json_object_set_new(files, name, json_string(hash));
	json_object_set_new(where, hash, json_string(name));
}

/* PUTs each hash of required: a file of the list reopened, or a rules file's text. */
static int upload_remote_blobs(struct build *b, int root_fd, const struct collect_result *cr,
			       json_t *required, json_t *where, struct error *err)
{
	size_t i;
	json_t *v;
	json_array_foreach(required, i, v) {
		const char *hash = json_string_value(v);
		json_t *w = json_object_get(where, hash ? hash : "");
		int rc = 0;
		if (build_stopped(b))
			return error_set(err, SKIFF_ECANCELED, "canceled", "the build was stopped");
		if (!w)
			return error_set(err, SKIFF_EUPSTREAM, "bad_answer",
					 "the API asks for a blob no file has");
		if (json_is_string(w)) {
			const char *name = json_string_value(w);
			bool redirects = !strcmp(name, "/_redirects");
			rc = remote_put_blob(b->remote, hash, -1, redirects ? cr->redirects : cr->headers,
					     redirects ? cr->redirects_len : cr->headers_len, err);
		} else {
			const struct collect_file *f = &cr->files[json_integer_value(w)];
			struct stat st;
			int fd = collect_open_file(root_fd, f->src, &st, err);
			if (fd < 0)
				return fd;
			rc = remote_put_blob(b->remote, hash, fd, NULL, (unsigned long long)st.st_size,
					     err);
			close(fd);
			if (rc == 0)
				b->bytes_uploaded += (unsigned long long)st.st_size;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int build_upload_remote(struct build *b, struct error *err)
{
	struct collect_result cr;
	json_t *files = json_object(), *where = json_object(), *body = NULL, *answer = NULL;
	int root_fd = build_collect(b, &cr, err), rc = 0;
	if (root_fd < 0) {
		json_decref(files);
		json_decref(where);
		return root_fd;
	}
	for (size_t i = 0; i < cr.nfiles && rc == 0; i++) {
		struct stat st;
		char hash[HASH_HEX_LEN + 1];
		unsigned long long size = 0;
		int fd = collect_open_file(root_fd, cr.files[i].src, &st, err);
		if (fd < 0) {
			rc = fd;
			break;
		}
		rc = hash_fd(fd, hash, &size, err);
		close(fd);
		if (rc == 0 && size != cr.files[i].size)
			rc = error_set(err, SKIFF_EBUILD, "collect_failed",
				       "%s changed while it was collected", cr.files[i].path + 1);
		if (rc < 0)
			break;
		json_object_set_new(files, cr.files[i].path, json_string(hash));
		if (!json_object_get(where, hash))
			json_object_set_new(where, hash, json_integer((json_int_t)i));
		b->files++;
		b->bytes += size;
	}
	upload_remote_rules("/_redirects", cr.redirects, cr.redirects_len, files, where);
	upload_remote_rules("/_headers", cr.headers, cr.headers_len, files, where);
	if (rc == 0) {
		body = json_pack("{sOso}", "files", files, "config", upload_remote_config(&b->detect));
		rc = remote_post(b->remote, "files", body, &answer, err);
	}
	json_t *required = json_object_get(answer, "required");
	if (rc == 0) {
		build_log(b, "Uploading %zu of %zu blobs the store lacks", json_array_size(required),
			  json_object_size(where));
		rc = upload_remote_blobs(b, root_fd, &cr, required, where, err);
	}
	json_decref(answer);
	json_decref(body);
	json_decref(files);
	json_decref(where);
	close(root_fd);
	collect_result_dispose(&cr);
	return rc;
}
