/* check_manifest.c — the manifest format: round trip, validation, O(log n) lookup, the
 * in-process cache's bounds, and the Content-Type table. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "rules_match.h"
#include "manifest_cache.h"
#include "mime.h"
#include "rules.h"

/* struct manifest holds its compiled rules as void *. */
#define H(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c

static const char *hash_a = H("a");
static const char *hash_b = H("b");

static struct manifest *parse_ok(json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT);
	struct manifest *m = NULL;
	struct error err;
	error_clear(&err);
	int rc = manifest_parse(s, strlen(s), &m, &err);
	ck_assert_msg(rc == 0, "parse failed: %s", err.message);
	free(s);
	return m;
}

static int parse_rc(const char *text)
{
	struct manifest *m = NULL;
	struct error err;
	error_clear(&err);
	int rc = manifest_parse(text, strlen(text), &m, &err);
	if (rc == 0)
		manifest_free(m);
	else
		ck_assert_ptr_null(m);
	return rc;
}

/* Replaces HASH with a valid hash and SHORT with one digit too few. */
static void fill(char *out, size_t size, const char *tmpl)
{
	size_t o = 0;
	for (const char *p = tmpl; *p && o + 65 < size;) {
		if (!strncmp(p, "HASH", 4)) {
			memcpy(out + o, hash_a, 64);
			o += 64;
			p += 4;
		} else if (!strncmp(p, "SHORT", 5)) {
			memcpy(out + o, hash_a, 63);
			o += 63;
			p += 5;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
}

START_TEST(test_manifest_round_trip)
{
	json_t *doc = json_pack("{s:i,s:s,s:I,s:{s:{s:s,s:i,s:s,s:{s:s,s:i},s:{s:s,s:i}},"
				"s:{s:s,s:i},s:{s:s,s:i,s:n}},s:{s:b,s:b,s:n}}",
				"version", 1, "deployment", "abcdefgh2345", "created",
				(json_int_t)1732270000000LL, "files",
				"/index.html", "hash", hash_a, "size", 3000, "type",
				"text/html; charset=utf-8", "gzip", "hash", hash_b, "size", 900,
				"br", "hash", hash_b, "size", 800,
				"/app.js", "hash", hash_b, "size", 10,
				"/img/logo.PNG", "hash", hash_a, "size", 0, "br",
				"config", "cleanUrls", 1, "trailingSlash", 0, "spa");
	struct manifest *m = parse_ok(doc);
	ck_assert_str_eq(m->deployment, "abcdefgh2345");
	ck_assert_int_eq(m->created, 1732270000000LL);
	ck_assert_uint_eq(m->nfiles, 3);
	ck_assert_int_eq(m->clean_urls, 1);
	ck_assert_int_eq(m->trailing_slash, 0);
	ck_assert_int_eq(m->spa, -1);
	/* sorted by path */
	ck_assert_str_eq(m->files[0].path, "/app.js");
	ck_assert_str_eq(m->files[1].path, "/img/logo.PNG");
	ck_assert_str_eq(m->files[2].path, "/index.html");
	const struct manifest_file *f = manifest_lookup(m, "/index.html");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->hash, hash_a);
	ck_assert_uint_eq(f->size, 3000);
	ck_assert_str_eq(f->type, "text/html; charset=utf-8");
	ck_assert_str_eq(f->gzip.hash, hash_b);
	ck_assert_uint_eq(f->gzip.size, 900);
	ck_assert_uint_eq(f->br.size, 800);
	f = manifest_lookup(m, "/app.js");
	ck_assert_str_eq(f->type, "text/javascript; charset=utf-8");   /* derived */
	ck_assert_str_eq(f->gzip.hash, "");
	f = manifest_lookup(m, "/img/logo.PNG");
	ck_assert_str_eq(f->type, "image/png");
	ck_assert_str_eq(f->br.hash, "");
	ck_assert_ptr_null(manifest_lookup(m, "/index.htm"));
	ck_assert_ptr_null(manifest_lookup(m, "/"));
	ck_assert_ptr_null(manifest_lookup(m, "/INDEX.html"));
	ck_assert(json_is_object(m->config));
	ck_assert_uint_gt(m->memory, 0);
	manifest_free(m);
	manifest_free(NULL);
	json_decref(doc);
}
END_TEST

START_TEST(test_manifest_config_defaults)
{
	char text[512];
	fill(text, sizeof(text), "{\"version\":1,\"files\":{\"/a\":{\"hash\":\"HASH\",\"size\":1}}}");
	struct manifest *m = NULL;
	ck_assert_int_eq(manifest_parse(text, strlen(text), &m, NULL), 0);
	ck_assert(json_is_object(m->config));
	ck_assert_int_eq(m->clean_urls, 0);
	ck_assert_int_eq(m->trailing_slash, -1);
	ck_assert_int_eq(m->spa, -1);
	ck_assert_str_eq(m->files[0].type, "application/octet-stream");
	manifest_free(m);
}
END_TEST

static const char *bad_manifests[] = {
	"",
	"[]",
	"{\"version\":2,\"files\":{}}",
	"{\"files\":{}}",
	"{\"version\":1}",
	"{\"version\":1,\"files\":[]}",
	"{\"version\":1,\"files\":{\"a\":{\"hash\":\"HASH\",\"size\":1}}}",
	"{\"version\":1,\"files\":{\"/a/\":{\"hash\":\"HASH\",\"size\":1}}}",
	"{\"version\":1,\"files\":{\"/a/../b\":{\"hash\":\"HASH\",\"size\":1}}}",
	"{\"version\":1,\"files\":{\"/a/..\":{\"hash\":\"HASH\",\"size\":1}}}",
	"{\"version\":1,\"files\":{\"//a\":{\"hash\":\"HASH\",\"size\":1}}}",
	"{\"version\":1,\"files\":{\"/a\\\\b\":{\"hash\":\"HASH\",\"size\":1}}}",
	"{\"version\":1,\"files\":{\"/a\\nb\":{\"hash\":\"HASH\",\"size\":1}}}",
	"{\"version\":1,\"files\":{\"/a\":{\"hash\":\"%.63s\",\"size\":1}}}",
	"{\"version\":1,\"files\":{\"/a\":{\"hash\":\"HASH\",\"size\":-1}}}",
	"{\"version\":1,\"files\":{\"/a\":{\"hash\":\"HASH\",\"size\":\"1\"}}}",
	"{\"version\":1,\"files\":{\"/a\":{\"hash\":\"HASH\",\"size\":1,\"gzip\":{\"hash\":\"x\",\"size\":1}}}}",
	"{\"version\":1,\"files\":{\"/a\":{\"hash\":\"HASH\",\"size\":1}},\"config\":[]}",
	"{\"version\":1,\"files\":{\"/a\":{\"hash\":\"HASH\",\"size\":1}},\"config\":{\"spa\":\"yes\"}}",
	"{\"version\":1,\"files\":{\"/a\":{\"hash\":\"HASH\",\"size\":1}},\"config\":{\"trailingSlash\":1}}",
};

START_TEST(test_manifest_invalid)
{
	char text[1024];
	fill(text, sizeof(text), bad_manifests[_i]);
	ck_assert_msg(parse_rc(text) == SKIFF_EINVALID, "accepted: %s", text);
}
END_TEST

START_TEST(test_manifest_uppercase_hash_refused)
{
	char text[512];
	fill(text, sizeof(text), "{\"version\":1,\"files\":{\"/a\":{\"hash\":\"HASH\",\"size\":1}}}");
	for (char *p = strstr(text, "aaaa"); p && *p == 'a'; p++)
		*p = 'A';
	ck_assert_int_eq(parse_rc(text), SKIFF_EINVALID);
}
END_TEST

START_TEST(test_manifest_many_files)
{
	enum { N = 10000 };
	json_t *files = json_object();
	char path[64];
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/d%d/f%05d.txt", i % 37, i);
		json_object_set_new(files, path, json_pack("{s:s,s:i}", "hash", hash_a, "size", i));
	}
	json_t *doc = json_pack("{s:i,s:o}", "version", 1, "files", files);
	struct manifest *m = parse_ok(doc);
	ck_assert_uint_eq(m->nfiles, N);
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/d%d/f%05d.txt", i % 37, i);
		const struct manifest_file *f = manifest_lookup(m, path);
		ck_assert_msg(f && f->size == (unsigned long long)i, "%s", path);
	}
	ck_assert_ptr_null(manifest_lookup(m, "/d0/f99999.txt"));
	manifest_free(m);
	json_decref(doc);
}
END_TEST

static struct manifest *small_manifest(const char *id, int nfiles)
{
	json_t *files = json_object();
	for (int i = 0; i < nfiles; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/f%d", i);
		json_object_set_new(files, p, json_pack("{s:s,s:i}", "hash", hash_a, "size", 1));
	}
	json_t *doc = json_pack("{s:i,s:s,s:o}", "version", 1, "deployment", id, "files", files);
	struct manifest *m = parse_ok(doc);
	json_decref(doc);
	return m;
}

START_TEST(test_manifest_cache_lru)
{
	struct manifest_cache *c = manifest_cache_new(1u << 30, 3);
	manifest_cache_put(c, "aaaaaaaaaaaa", small_manifest("aaaaaaaaaaaa", 1));
	manifest_cache_put(c, "bbbbbbbbbbbb", small_manifest("bbbbbbbbbbbb", 1));
	manifest_cache_put(c, "cccccccccccc", small_manifest("cccccccccccc", 1));
	ck_assert_uint_eq(manifest_cache_count(c), 3);
	/* touch a: b is now the least recently used */
	ck_assert_str_eq(manifest_cache_get(c, "aaaaaaaaaaaa")->deployment, "aaaaaaaaaaaa");
	manifest_cache_put(c, "dddddddddddd", small_manifest("dddddddddddd", 1));
	ck_assert_uint_eq(manifest_cache_count(c), 3);
	ck_assert_ptr_null(manifest_cache_get(c, "bbbbbbbbbbbb"));
	ck_assert_ptr_nonnull(manifest_cache_get(c, "aaaaaaaaaaaa"));
	ck_assert_ptr_nonnull(manifest_cache_get(c, "cccccccccccc"));
	ck_assert_ptr_nonnull(manifest_cache_get(c, "dddddddddddd"));
	ck_assert_ptr_null(manifest_cache_get(c, "eeeeeeeeeeee"));
	manifest_cache_free(c);
	manifest_cache_free(NULL);
}
END_TEST

START_TEST(test_manifest_cache_bytes)
{
	struct manifest *big = small_manifest("bigbigbigbig", 2000);
	size_t one = big->memory;
	manifest_free(big);
	struct manifest_cache *c = manifest_cache_new(one * 2 + one / 2, 1000);
	manifest_cache_put(c, "aaaaaaaaaaaa", small_manifest("aaaaaaaaaaaa", 2000));
	manifest_cache_put(c, "bbbbbbbbbbbb", small_manifest("bbbbbbbbbbbb", 2000));
	ck_assert_uint_eq(manifest_cache_count(c), 2);
	manifest_cache_put(c, "cccccccccccc", small_manifest("cccccccccccc", 2000));
	ck_assert_uint_eq(manifest_cache_count(c), 2);
	ck_assert_ptr_null(manifest_cache_get(c, "aaaaaaaaaaaa"));
	ck_assert_uint_le(manifest_cache_bytes(c), one * 2 + one / 2);
	/* one entry larger than the bound still stays (the newest) */
	manifest_cache_put(c, "dddddddddddd", small_manifest("dddddddddddd", 20000));
	ck_assert_uint_eq(manifest_cache_count(c), 1);
	ck_assert_ptr_nonnull(manifest_cache_get(c, "dddddddddddd"));
	manifest_cache_free(c);
}
END_TEST

START_TEST(test_manifest_cache_frees_rules)
{
	/* a cached manifest owns its compiled rules; eviction frees both (ASan/LSan see leaks) */
	struct manifest_cache *c = manifest_cache_new(1u << 30, 1);
	for (int i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof(id), "%012d", i);
		struct manifest *m = small_manifest(id, 2);
		json_t *cfg = json_loads("{\"redirects\":[{\"from\":\"/a\",\"to\":\"/b\",\"status\":301}]}",
					 0, NULL);
		struct rules *r;
		rules_compile(cfg, &r, NULL);
		json_decref(cfg);
		m->rules = r;
		manifest_cache_put(c, id, m);
	}
	ck_assert_uint_eq(manifest_cache_count(c), 1);
	manifest_cache_free(c);
}
END_TEST

struct mime_case {
	const char *path;
	const char *type;
	int compressible;
};

static const struct mime_case mime_cases[] = {
	{ "/index.html", "text/html; charset=utf-8", 1 },
	{ "/INDEX.HTM", "text/html; charset=utf-8", 1 },
	{ "/a/app.3f2a9c1e.js", "text/javascript; charset=utf-8", 1 },
	{ "/m.mjs", "text/javascript; charset=utf-8", 1 },
	{ "/s.css", "text/css; charset=utf-8", 1 },
	{ "/d.json", "application/json; charset=utf-8", 1 },
	{ "/m.webmanifest", "application/manifest+json; charset=utf-8", 1 },
	{ "/i.svg", "image/svg+xml; charset=utf-8", 1 },
	{ "/f.xml", "application/xml; charset=utf-8", 1 },
	{ "/r.txt", "text/plain; charset=utf-8", 1 },
	{ "/x.wasm", "application/wasm", 1 },
	{ "/p.png", "image/png", 0 },
	{ "/p.jpeg", "image/jpeg", 0 },
	{ "/p.webp", "image/webp", 0 },
	{ "/p.avif", "image/avif", 0 },
	{ "/f.woff2", "font/woff2", 0 },
	{ "/f.ttf", "font/ttf", 1 },
	{ "/v.mp4", "video/mp4", 0 },
	{ "/a.pdf", "application/pdf", 0 },
	{ "/z.zip", "application/zip", 0 },
	{ "/favicon.ico", "image/x-icon", 1 },
	{ "/noext", "application/octet-stream", 0 },
	{ "/.hidden", "application/octet-stream", 0 },
	{ "/dir.d/file", "application/octet-stream", 0 },
	{ "/trailing.", "application/octet-stream", 0 },
	{ "/weird.verylongextensionname", "application/octet-stream", 0 },
	{ "/a.map", "application/json; charset=utf-8", 1 },
};

START_TEST(test_manifest_mime)
{
	const struct mime_case *c = &mime_cases[_i];
	ck_assert_str_eq(mime_type(c->path), c->type);
	ck_assert_int_eq(mime_compressible(c->type), c->compressible);
}
END_TEST

START_TEST(test_manifest_mime_compressible_params)
{
	ck_assert(mime_compressible("TEXT/HTML"));
	ck_assert(mime_compressible("application/json;charset=utf-8"));
	ck_assert(!mime_compressible("application/jsonx"));
	ck_assert(!mime_compressible(NULL));
	ck_assert(!mime_compressible(""));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("manifest");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_manifest_round_trip);
	tcase_add_test(tc, test_manifest_config_defaults);
	tcase_add_loop_test(tc, test_manifest_invalid, 0,
			    sizeof(bad_manifests) / sizeof(bad_manifests[0]));
	tcase_add_test(tc, test_manifest_uppercase_hash_refused);
	tcase_add_test(tc, test_manifest_many_files);
	tcase_add_test(tc, test_manifest_cache_lru);
	tcase_add_test(tc, test_manifest_cache_bytes);
	tcase_add_test(tc, test_manifest_cache_frees_rules);
	tcase_add_loop_test(tc, test_manifest_mime, 0, sizeof(mime_cases) / sizeof(mime_cases[0]));
	tcase_add_test(tc, test_manifest_mime_compressible_params);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
