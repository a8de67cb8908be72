/* manifest.c — parses a deployment's manifest JSON into a sorted file table with O(log n)
 * lookups; the routing config stays as JSON for the rules compiler. */
#include "manifest.h"
#include "rules.h"
#include "rules_match.h"
#include "mime.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

static int manifest_file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct manifest_file *)a)->path,
		      ((const struct manifest_file *)b)->path);
}

static int manifest_hash(json_t *v, char out[HASH_HEX_LEN + 1])
{
	const char *h = json_string_value(v);
	if (!h || !store_hash_valid(h))
		return -1;
	memcpy(out, h, HASH_HEX_LEN + 1);
	return 0;
}

static int manifest_size(json_t *v, unsigned long long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (unsigned long long)json_integer_value(v);
	return 0;
}

static int manifest_variant(json_t *v, struct manifest_variant *out)
{
	out->hash[0] = '\0';
	out->size = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v) || manifest_hash(json_object_get(v, "hash"), out->hash) ||
	    manifest_size(json_object_get(v, "size"), &out->size))
		return -1;
	return 0;
}

/* -1 unset (absent or null), 0 false, 1 true; -2 when not a boolean. */
static int manifest_tristate(json_t *config, const char *key)
{
	json_t *v = json_object_get(config, key);
	if (!v || json_is_null(v))
		return -1;
	if (!json_is_boolean(v))
		return -2;
	return json_is_true(v);
}

static int manifest_path_ok(const char *p)
{
	size_t n = strlen(p);
	if (n < 2 || p[0] != '/' || p[n - 1] == '/' || strstr(p, "//") || strstr(p, "/./") ||
	    strstr(p, "/../"))
		return 0;
	if ((n >= 2 && !strcmp(p + n - 2, "/.")) || (n >= 3 && !strcmp(p + n - 3, "/..")))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
			return 0;
	return 1;
}

int manifest_parse(const char *data, size_t len, struct manifest **out, struct error *err)
{
	struct manifest *m = NULL;
	json_error_t jerr;
	int rc = 0;
	*out = NULL;
	if (len > MANIFEST_MAX_BYTES)
		return error_set(err, SKIFF_ELIMIT, "manifest_too_large",
				 "manifest is larger than %u bytes", MANIFEST_MAX_BYTES);
	json_t *root = json_loadb(data, len, 0, &jerr);
	if (!root)
		return error_set(err, SKIFF_EINVALID, "invalid_manifest",
				 "manifest is not JSON: line %d: %s", jerr.line, jerr.text);
	m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	m->root = root;
	json_t *files = json_object_get(root, "files");
	json_t *version = json_object_get(root, "version");
	if (!json_is_object(root) || !json_is_integer(version) || json_integer_value(version) != 1 ||
	    !json_is_object(files)) {
		rc = error_set(err, SKIFF_EINVALID, "invalid_manifest",
			       "manifest needs \"version\": 1 and a \"files\" object");
		goto out;
	}
	const char *dep = json_string_value(json_object_get(root, "deployment"));
	if (dep)
		snprintf(m->deployment, sizeof(m->deployment), "%s", dep);
	json_t *created = json_object_get(root, "created");
	m->created = json_is_integer(created) ? (long long)json_integer_value(created) : 0;

	m->config = json_object_get(root, "config");
	if (!m->config || json_is_null(m->config)) {
		m->config = json_object();
		json_object_set_new(root, "config", m->config);
	}
	if (!json_is_object(m->config)) {
		rc = error_set(err, SKIFF_EINVALID, "invalid_manifest", "\"config\" must be an object");
		goto out;
	}
	m->clean_urls = json_is_true(json_object_get(m->config, "cleanUrls"));
	m->trailing_slash = manifest_tristate(m->config, "trailingSlash");
	m->spa = manifest_tristate(m->config, "spa");
	if (m->trailing_slash == -2 || m->spa == -2) {
		rc = error_set(err, SKIFF_EINVALID, "invalid_manifest",
			       "\"trailingSlash\" and \"spa\" must be true, false or null");
		goto out;
	}

	m->nfiles = json_object_size(files);
	m->files = calloc(m->nfiles + 1, sizeof(*m->files));
	if (!m->files)
		abort();
	size_t i = 0;
	const char *path;
	json_t *f;
	json_object_foreach(files, path, f) {
		struct manifest_file *mf = &m->files[i];
		mf->path = path;
		if (!manifest_path_ok(path) || !json_is_object(f) ||
		    manifest_hash(json_object_get(f, "hash"), mf->hash) ||
		    manifest_size(json_object_get(f, "size"), &mf->size) ||
		    manifest_variant(json_object_get(f, "gzip"), &mf->gzip) ||
		    manifest_variant(json_object_get(f, "br"), &mf->br)) {
			rc = error_set(err, SKIFF_EINVALID, "invalid_manifest",
				       "bad file entry \"%.200s\"", path);
			goto out;
		}
		mf->type = json_string_value(json_object_get(f, "type"));
		if (!mf->type || !*mf->type)
			mf->type = mime_type(path);
		i++;
	}
	qsort(m->files, m->nfiles, sizeof(*m->files), manifest_file_cmp);
	m->memory = sizeof(*m) + m->nfiles * sizeof(*m->files) + len * 4;
out:
	if (rc < 0) {
		manifest_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	rules_free(m->rules);
	free(m->files);
	json_decref(m->root);
	free(m);
}

const struct manifest_file *manifest_lookup(const struct manifest *m, const char *path)
{
	struct manifest_file key;
	key.path = path;
	return bsearch(&key, m->files, m->nfiles, sizeof(*m->files), manifest_file_cmp);
}
