/* check_serve.c — the serving rules as a table: (deployment fixture by Host, method, path,
 * request headers) → (status, key response headers, body source). Semantics per the
 * Netlify and Cloudflare Pages documentation; see lib/serve.h. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "rules_match.h"
#include "host.h"
#include "rules.h"

/* struct manifest holds its compiled rules as void *. */
#include "serve.h"
#include "serve_header.h"
#include "serve_reply.h"

#define DOMAIN "example.test"
#define CREATED_MS 1732270000000LL
#define CREATED_DATE "Fri, 22 Nov 2024 10:06:40 GMT"

/* ---- fixtures --------------------------------------------------------------------- */

struct fx_file {
	const char *path;
	unsigned size;
	const char *variants;   /* "g" gzip, "b" br */
};

struct fixture {
	const char *slug;
	const struct fx_file *files;
	const char *config;     /* JSON object text */
	const char *redirects;  /* _redirects text */
	const char *headers;    /* _headers text */
	struct manifest *m;
};

static const struct fx_file site_files[] = {
	{ "/index.html", 2000, "gb" },
	{ "/about.html", 2000, "gb" },
	{ "/docs/index.html", 2000, "" },
	{ "/docs/guide.html", 2000, "" },
	{ "/docs/404.html", 500, "" },
	{ "/404.html", 500, "" },
	{ "/app.3f2a9c1e.js", 5000, "gb" },
	{ "/index-BkT3Fq1a.js", 3000, "gb" },
	{ "/style.css", 3000, "g" },
	{ "/img/logo.png", 8000, "" },
	{ "/data.json", 100, "" },
	{ "/robots.txt", 50, "" },
	{ "/empty.txt", 0, "" },
	{ "/big.bin", 10000, "" },
	{ "/caf\xc3\xa9.html", 100, "" },
	{ "/a b.txt", 10, "" },
	{ "/blog/post/index.html", 1000, "" },
	{ "/LICENSE", 100, "" },
	{ "/favicon.ico", 300, "" },
	{ "/.well-known/apple-app-site-association", 200, "" },
	{ "/changelog", 100, "" },
	{ "/changelog.html", 100, "" },
	{ NULL, 0, NULL },
};

static const struct fx_file spa_files[] = {
	{ "/index.html", 2000, "gb" },
	{ "/assets/app.js", 4000, "gb" },
	{ "/assets/app.css", 1000, "" },
	{ "/docs/404.html", 300, "" },
	{ NULL, 0, NULL },
};

static const struct fx_file clean_files[] = {
	{ "/index.html", 2000, "" },
	{ "/about.html", 2000, "" },
	{ "/blog/index.html", 2000, "" },
	{ "/blog/first.html", 2000, "" },
	{ "/contact/index.html", 2000, "" },
	{ "/style.css", 2000, "" },
	{ "/LICENSE", 100, "" },
	{ NULL, 0, NULL },
};

static const struct fx_file rules_files[] = {
	{ "/index.html", 2000, "" },
	{ "/exists.html", 100, "" },
	{ "/forced.html", 100, "" },
	{ "/new-path.html", 100, "" },
	{ "/gone-page.html", 100, "" },
	{ "/custom-404.html", 100, "" },
	{ "/app/index.html", 100, "" },
	{ "/docs/index.html", 100, "" },
	{ "/404.html", 100, "" },
	{ "/assets/app.js", 100, "" },
	{ NULL, 0, NULL },
};

static const char rules_redirects[] =
	"# Netlify _redirects\n"
	"/old-path          /new-path\n"
	"/temp              /elsewhere          302\n"
	"/see               /other              303\n"
	"/keep              /kept               307\n"
	"/perm              /permanent          308\n"
	"/blog/:year/:slug  /posts/:year-:slug\n"
	"/news/*            /blog/:splat\n"
	"/app/*             /app/index.html     200\n"
	"/api/*             /index.html         200\n"
	"/exists.html       /elsewhere          301\n"
	"/forced.html       /elsewhere          301!\n"
	"/shop   id=:id     /product/:id        301\n"
	"/ext               https://example.com/landing 302\n"
	"/ext2/*            https://example.com/:splat  301\n"
	"/gone              /gone-page.html     410\n"
	"/missing-page      /nope.html          404\n"
	"/custom404/*       /custom-404.html    404\n"
	"/teapot            /nowhere            200\n"
	"/rewrite-dir       /docs/              200\n"
	"/private/*         404\n"
	"/legacy/*          /new/:splat         302!\n";

/* 404 rules on a site whose SPA fallback is on: the rule's status wins over the fallback. */
static const char spa_rules_redirects[] =
	"/private/*         404\n"
	"/hidden/*          /nope.html          404\n"
	"/gone/*            410\n"
	"/docs/secret/*     404\n";

static const char rules_headers[] =
	"/*\n"
	"  X-Frame-Options: DENY\n"
	"  X-Robots-Tag: noindex\n"
	"/assets/*\n"
	"  Cache-Control: public, max-age=3600\n"
	"  ! X-Robots-Tag\n"
	"/docs/*\n"
	"  Link: </a.css>; rel=preload\n"
	"  Link: </b.js>; rel=preload\n"
	"/api/*\n"
	"  Access-Control-Allow-Origin: *\n"
	"  Content-Type: application/json; charset=utf-8\n";

static struct fixture fixtures[] = {
	{ "site", site_files, "{}", NULL, NULL, NULL },
	{ "spa", spa_files, "{}", NULL, NULL, NULL },
	{ "spa-off", spa_files, "{\"spa\":false}", NULL, NULL, NULL },
	{ "spa-on", site_files, "{\"spa\":true}", NULL, NULL, NULL },
	{ "clean", clean_files, "{\"cleanUrls\":true}", NULL, NULL, NULL },
	{ "clean-ts", clean_files, "{\"cleanUrls\":true,\"trailingSlash\":true}", NULL, NULL, NULL },
	{ "ts-true", site_files, "{\"trailingSlash\":true}", NULL, NULL, NULL },
	{ "ts-false", site_files, "{\"trailingSlash\":false}", NULL, NULL, NULL },
	{ "rules", rules_files, "{}", rules_redirects, rules_headers, NULL },
	{ "spa-rules", spa_files, "{}", spa_rules_redirects, NULL, NULL },
};

/* The immutable URLs {slug}--{id}: which project a deployment belongs to, and its state. */
static const struct {
	const char *id, *slug, *state;
} deployments[] = {
	{ "abcdefgh2345", "site", "ready" },
	{ "expired23456", "site", "expired" },
};

static void fx_hash(const char *path, const char *variant, char out[HASH_HEX_LEN + 1])
{
	char key[512];
	snprintf(key, sizeof(key), "%s#%s", path, variant);
	hash_buffer(key, strlen(key), out);
}

/* Fixtures are built before the runner starts, where ck_assert cannot report. */
static void fixture_fail(const struct fixture *fx, const char *what)
{
	fprintf(stderr, "fixture %s: %s\n", fx->slug, what);
	exit(EXIT_FAILURE);
}

static void fixture_build(struct fixture *fx)
{
	json_t *files = json_object();
	char h[HASH_HEX_LEN + 1];
	for (const struct fx_file *f = fx->files; f->path; f++) {
		fx_hash(f->path, "", h);
		json_t *e = json_pack("{s:s,s:i}", "hash", h, "size", (int)f->size);
		if (strchr(f->variants, 'g')) {
			fx_hash(f->path, "gzip", h);
			json_object_set_new(e, "gzip", json_pack("{s:s,s:i}", "hash", h, "size",
								 (int)f->size / 3));
		}
		if (strchr(f->variants, 'b')) {
			fx_hash(f->path, "br", h);
			json_object_set_new(e, "br", json_pack("{s:s,s:i}", "hash", h, "size",
							       (int)f->size / 4));
		}
		json_object_set_new(files, f->path, e);
	}
	json_t *config = json_loads(fx->config, 0, NULL);
	if (!config)
		fixture_fail(fx, "config JSON");
	json_t *a;
	if (fx->redirects) {
		if (rules_redirects_parse(fx->redirects, strlen(fx->redirects), &a, NULL, NULL))
			fixture_fail(fx, "_redirects");
		json_object_set_new(config, "redirects", a);
	}
	if (fx->headers) {
		if (rules_headers_parse(fx->headers, strlen(fx->headers), &a, NULL, NULL))
			fixture_fail(fx, "_headers");
		json_object_set_new(config, "headers", a);
	}
	json_t *doc = json_pack("{s:i,s:s,s:I,s:o,s:o}", "version", 1, "deployment", "abcdefgh2345",
				"created", (json_int_t)CREATED_MS, "files", files, "config", config);
	char *text = json_dumps(doc, JSON_COMPACT);
	struct error err;
	if (manifest_parse(text, strlen(text), &fx->m, &err))
		fixture_fail(fx, err.message);
	struct rules *r = NULL;
	if (rules_compile(fx->m->config, &r, NULL))
		fixture_fail(fx, "rules_compile");
	fx->m->rules = r;
	free(text);
	json_decref(doc);
}

/* ---- cases ------------------------------------------------------------------------ */

struct serve_case {
	const char *method;
	const char *host;
	const char *path;      /* with "?query" */
	const char *headers;   /* "Name: value|Name: value"; @{path}, @gzip{path}, @br{path} are
				* the quoted ETag of that file's identity/gzip/br bytes */
	int status;
	const char *body;      /* "file:/p", "gzip:/p", "br:/p", "page", "none" */
	const char *expect;    /* "Name: value|!Name" (Content-Type and Location included) */
};

#define S "site." DOMAIN
#define SPA "spa." DOMAIN
#define R "rules." DOMAIN
#define HTML "text/html; charset=utf-8"
#define REVAL "public, max-age=0, must-revalidate"
#define IMMUT "public, max-age=31536000, immutable"

static const char long_path[] = "/"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static const struct serve_case cases[] = {
	/* ---- hosts: {slug}.{domain}, {slug}--{id}.{domain}, anything else is skiff's 404 ---- */
	{ "GET", S, "/", "", 200, "file:/index.html", "Content-Type: " HTML },
	{ "GET", "SITE.Example.TEST", "/", "", 200, "file:/index.html", "" },
	{ "GET", S ":80", "/", "", 200, "file:/index.html", "" },
	{ "GET", S ".", "/", "", 200, "file:/index.html", "" },
	{ "GET", S ":8080", "/", "", 404, "page", "Content-Type: " HTML "|Cache-Control: no-store" },
	{ "GET", S ":abc", "/", "", 400, "page", "" },
	{ "GET", S ":0", "/", "", 400, "page", "" },
	{ "GET", S ":", "/", "", 400, "page", "" },
	{ "GET", "..", "/", "", 400, "page", "" },
	{ "GET", "a..b", "/", "", 400, "page", "" },
	{ "GET", "site.." DOMAIN, "/", "", 400, "page", "" },
	{ "GET", "", "/", "", 400, "page", "" },
	{ "GET", "site_x." DOMAIN, "/", "", 400, "page", "" },
	{ "GET", "[::1]", "/", "", 400, "page", "" },
	{ "GET", "site." DOMAIN "\r\nX: y", "/", "", 400, "page", "" },
	{ "GET", DOMAIN, "/", "", 404, "page", "" },
	{ "GET", "other.org", "/", "", 404, "page", "" },
	{ "GET", "site." DOMAIN ".evil.org", "/", "", 404, "page", "" },
	{ "GET", "a.site." DOMAIN, "/", "", 404, "page", "" },
	{ "GET", "nosuch." DOMAIN, "/", "", 404, "page", "X-Content-Type-Options: nosniff" },
	{ "GET", "-site." DOMAIN, "/", "", 404, "page", "" },
	{ "GET", "site--abcdefgh2345." DOMAIN, "/about", "", 200, "file:/about.html", "" },
	{ "GET", "spa--abcdefgh2345." DOMAIN, "/", "", 404, "page", "" },
	{ "GET", "site--zzzzzzzzzzzz." DOMAIN, "/", "", 404, "page", "" },
	{ "GET", "site--abc." DOMAIN, "/", "", 404, "page", "" },
	{ "GET", "site--expired23456." DOMAIN, "/", "", 410, "page", "" },
	{ "HEAD", "nosuch." DOMAIN, "/", "", 404, "page", "" },

	/* ---- paths: decoded once, traversal resolved inside the deployment, injection 400 ---- */
	{ "GET", S, "/../", "", 200, "file:/index.html", "" },
	{ "GET", S, "/%2e%2e/", "", 200, "file:/index.html", "" },
	{ "GET", S, "/%2E%2E/about.html", "", 200, "file:/about.html", "" },
	{ "GET", S, "/%252e%252e/", "", 404, "file:/404.html", "" },
	{ "GET", S, "/../../etc/passwd", "", 404, "file:/404.html", "" },
	{ "GET", S, "/docs/../about.html", "", 200, "file:/about.html", "" },
	{ "GET", S, "/./index.html", "", 200, "file:/index.html", "" },
	{ "GET", S, "//index.html", "", 200, "file:/index.html", "" },
	{ "GET", S, "/a%2fb", "", 400, "page", "" },
	{ "GET", S, "/docs%2Fguide.html", "", 400, "page", "" },
	{ "GET", S, "/%00", "", 400, "page", "" },
	{ "GET", S, "/index.html%00.png", "", 400, "page", "" },
	{ "GET", S, "/a\\b", "", 400, "page", "" },
	{ "GET", S, "/%5c..%5cetc", "", 400, "page", "" },
	{ "GET", S, "/%c0%ae%c0%ae/", "", 400, "page", "" },
	{ "GET", S, "/%e0%80%ae", "", 400, "page", "" },
	{ "GET", S, "/%0d%0aSet-Cookie:%20a", "", 400, "page", "" },
	{ "GET", S, "/%zz", "", 400, "page", "" },
	{ "GET", S, long_path, "", 414, "page", "" },
	{ "GET", S, "/caf%C3%A9", "", 200, "file:/caf\xc3\xa9.html", "" },
	{ "GET", S, "/a%20b.txt", "", 200, "file:/a b.txt", "Content-Type: text/plain; charset=utf-8" },

	/* ---- files: exact, .html, /index.html, directory redirect, nearest 404.html ---- */
	{ "GET", S, "/index.html", "", 200, "file:/index.html", "" },
	{ "GET", S, "/about", "", 200, "file:/about.html", "" },
	{ "GET", S, "/about.html", "", 200, "file:/about.html", "" },
	{ "GET", S, "/about/", "", 200, "file:/about.html", "" },
	{ "GET", S, "/docs", "", 301, "page", "Location: /docs/" },
	{ "GET", S, "/docs?x=1&y=2", "", 301, "page", "Location: /docs/?x=1&y=2" },
	{ "GET", S, "/docs/", "", 200, "file:/docs/index.html", "" },
	{ "GET", S, "/docs/guide", "", 200, "file:/docs/guide.html", "" },
	{ "GET", S, "/docs/index.html", "", 200, "file:/docs/index.html", "" },
	{ "GET", S, "/blog/post", "", 301, "page", "Location: /blog/post/" },
	{ "GET", S, "/blog/post/", "", 200, "file:/blog/post/index.html", "" },
	{ "GET", S, "/blog", "", 404, "file:/404.html", "" },
	{ "GET", S, "/missing", "", 404, "file:/404.html", "Content-Type: " HTML "|!ETag" },
	{ "GET", S, "/docs/missing", "", 404, "file:/docs/404.html", "" },
	{ "GET", S, "/docs/deep/er/missing.html", "", 404, "file:/docs/404.html", "" },
	{ "GET", S, "/img/missing.png", "", 404, "file:/404.html", "" },
	{ "GET", S, "/INDEX.HTML", "", 404, "file:/404.html", "" },
	{ "GET", S, "/dashboard", "Accept: text/html", 404, "file:/404.html", "" },
	{ "HEAD", S, "/", "", 200, "file:/index.html", "" },
	{ "HEAD", S, "/missing", "", 404, "file:/404.html", "" },
	{ "POST", S, "/", "", 405, "page", "Allow: GET, HEAD" },
	{ "PUT", S, "/about", "", 405, "page", "Allow: GET, HEAD" },
	{ "OPTIONS", S, "/", "", 405, "page", "" },
	{ "DELETE", S, "/missing", "", 404, "file:/404.html", "" },

	/* ---- SPA fallback ---- */
	{ "GET", SPA, "/dashboard", "", 200, "file:/index.html", "Cache-Control: " REVAL },
	{ "GET", SPA, "/dashboard/settings/", "Accept: text/html", 200, "file:/index.html", "" },
	{ "GET", SPA, "/users/42", "Accept: */*", 200, "file:/index.html", "" },
	{ "GET", SPA, "/assets/app.js", "", 200, "file:/assets/app.js", "" },
	{ "GET", SPA, "/assets/missing.js", "Accept: */*", 404, "page", "" },
	{ "GET", SPA, "/assets/missing.js", "", 404, "page", "" },
	{ "GET", SPA, "/assets/missing.js", "Accept: text/html,application/xhtml+xml", 200,
	  "file:/index.html", "" },
	{ "GET", SPA, "/docs/missing.js", "", 404, "file:/docs/404.html", "" },
	{ "GET", SPA, "/docs/page", "", 200, "file:/index.html", "" },
	{ "GET", SPA, "/user.name", "Accept: image/avif,image/webp", 404, "page", "" },
	{ "HEAD", SPA, "/dashboard", "", 200, "file:/index.html", "" },
	{ "POST", SPA, "/dashboard", "", 404, "page", "" },
	{ "GET", SPA, "/dashboard", "Accept-Encoding: br", 200, "br:/index.html",
	  "Vary: Accept-Encoding" },
	{ "GET", "spa-off." DOMAIN, "/dashboard", "Accept: text/html", 404, "page", "" },
	{ "GET", "spa-off." DOMAIN, "/", "", 200, "file:/index.html", "" },
	{ "GET", "spa-on." DOMAIN, "/dashboard", "", 200, "file:/index.html", "" },
	{ "GET", "spa-on." DOMAIN, "/img/missing.png", "", 404, "file:/404.html", "" },
	{ "GET", "spa-on." DOMAIN, "/docs/x.png", "", 404, "file:/docs/404.html", "" },
	/* a 404 or 410 rule answers its status even to a navigation when the fallback is on */
	{ "GET", "spa-rules." DOMAIN, "/private/x", "Accept: text/html", 404, "page", "" },
	{ "HEAD", "spa-rules." DOMAIN, "/private/x", "", 404, "page", "" },
	{ "GET", "spa-rules." DOMAIN, "/hidden/x", "Accept: text/html", 404, "page", "" },
	{ "GET", "spa-rules." DOMAIN, "/docs/x", "", 200, "file:/index.html", "" },
	{ "GET", "spa-rules." DOMAIN, "/docs/secret/x", "", 404, "file:/docs/404.html", "" },
	{ "GET", "spa-rules." DOMAIN, "/gone/x", "Accept: text/html", 410, "page", "" },
	{ "GET", "spa-rules." DOMAIN, "/dashboard", "Accept: text/html", 200, "file:/index.html", "" },

	/* ---- cleanUrls and trailingSlash ---- */
	{ "GET", "clean." DOMAIN, "/about.html", "", 308, "page", "Location: /about" },
	{ "GET", "clean." DOMAIN, "/about.html?x=1", "", 308, "page", "Location: /about?x=1" },
	{ "GET", "clean." DOMAIN, "/about", "", 200, "file:/about.html", "" },
	{ "GET", "clean." DOMAIN, "/about/", "", 200, "file:/about.html", "" },
	{ "GET", "clean." DOMAIN, "/index.html", "", 308, "page", "Location: /" },
	{ "GET", "clean." DOMAIN, "/blog/index.html", "", 308, "page", "Location: /blog/" },
	{ "GET", "clean." DOMAIN, "/blog", "", 301, "page", "Location: /blog/" },
	{ "GET", "clean." DOMAIN, "/blog/", "", 200, "file:/blog/index.html", "" },
	{ "GET", "clean." DOMAIN, "/blog/first.html", "", 308, "page", "Location: /blog/first" },
	{ "GET", "clean." DOMAIN, "/blog/first", "", 200, "file:/blog/first.html", "" },
	{ "GET", "clean." DOMAIN, "/missing.html", "", 404, "page", "" },
	{ "GET", "clean." DOMAIN, "/style.css", "", 200, "file:/style.css", "" },
	{ "POST", "clean." DOMAIN, "/about.html", "", 308, "page", "Location: /about" },
	{ "GET", "clean-ts." DOMAIN, "/about.html", "", 308, "page", "Location: /about/" },
	{ "GET", "clean-ts." DOMAIN, "/about", "", 308, "page", "Location: /about/" },
	{ "GET", "clean-ts." DOMAIN, "/about/", "", 200, "file:/about.html", "" },
	{ "GET", "clean-ts." DOMAIN, "/blog/index.html", "", 308, "page", "Location: /blog/" },
	{ "GET", "clean-ts." DOMAIN, "/blog", "", 308, "page", "Location: /blog/" },
	{ "GET", "clean-ts." DOMAIN, "/blog/first/", "", 200, "file:/blog/first.html", "" },
	{ "GET", "clean-ts." DOMAIN, "/style.css", "", 200, "file:/style.css", "" },
	{ "GET", "ts-true." DOMAIN, "/docs", "", 308, "page", "Location: /docs/" },
	{ "GET", "ts-true." DOMAIN, "/docs/", "", 200, "file:/docs/index.html", "" },
	{ "GET", "ts-true." DOMAIN, "/docs/guide", "", 308, "page", "Location: /docs/guide/" },
	{ "GET", "ts-true." DOMAIN, "/docs/guide/", "", 200, "file:/docs/guide.html", "" },
	{ "GET", "ts-true." DOMAIN, "/style.css", "", 200, "file:/style.css", "" },
	{ "GET", "ts-true." DOMAIN, "/", "", 200, "file:/index.html", "" },
	{ "GET", "ts-true." DOMAIN, "/docs?a=b", "", 308, "page", "Location: /docs/?a=b" },
	{ "GET", "ts-true." DOMAIN, "/about", "", 308, "page", "Location: /about/" },
	{ "GET", "ts-true." DOMAIN, "/blog/post", "", 308, "page", "Location: /blog/post/" },
	/* an exact file is served as it is named; only pages get the slash */
	{ "GET", "ts-true." DOMAIN, "/LICENSE", "", 200, "file:/LICENSE",
	  "Content-Type: application/octet-stream|!Location" },
	{ "GET", "ts-true." DOMAIN, "/.well-known/apple-app-site-association", "", 200,
	  "file:/.well-known/apple-app-site-association", "!Location" },
	{ "HEAD", "ts-true." DOMAIN, "/LICENSE", "", 200, "file:/LICENSE", "" },
	{ "GET", "ts-true." DOMAIN, "/changelog", "", 200, "file:/changelog", "" },
	{ "GET", "ts-true." DOMAIN, "/changelog/", "", 200, "file:/changelog.html", "" },
	{ "GET", "ts-true." DOMAIN, "/favicon.ico", "", 200, "file:/favicon.ico", "" },
	{ "GET", "ts-true." DOMAIN, "/q?a=b", "", 404, "file:/404.html", "!Location" },
	{ "GET", "ts-true." DOMAIN, "/docs/nothing", "", 404, "file:/docs/404.html", "" },
	{ "GET", "clean-ts." DOMAIN, "/LICENSE", "", 200, "file:/LICENSE", "!Location" },
	{ "GET", "clean-ts." DOMAIN, "/contact", "", 308, "page", "Location: /contact/" },
	{ "GET", "clean." DOMAIN, "/LICENSE", "", 200, "file:/LICENSE", "" },
	{ "GET", "ts-false." DOMAIN, "/docs/", "", 308, "page", "Location: /docs" },
	{ "GET", "ts-false." DOMAIN, "/docs/?a=1", "", 308, "page", "Location: /docs?a=1" },
	{ "GET", "ts-false." DOMAIN, "/docs", "", 200, "file:/docs/index.html", "" },
	{ "GET", "ts-false." DOMAIN, "/blog/post", "", 200, "file:/blog/post/index.html", "" },
	{ "GET", "ts-false." DOMAIN, "/", "", 200, "file:/index.html", "" },
	{ "GET", "ts-false." DOMAIN, "/LICENSE", "", 200, "file:/LICENSE", "!Location" },
	{ "GET", "ts-false." DOMAIN, "/.well-known/apple-app-site-association", "", 200,
	  "file:/.well-known/apple-app-site-association", "Content-Type: application/octet-stream" },
	{ "GET", "ts-false." DOMAIN, "/LICENSE/", "", 308, "page", "Location: /LICENSE" },
	{ "GET", "ts-false." DOMAIN, "/changelog", "", 200, "file:/changelog", "" },
	{ "GET", "ts-false." DOMAIN, "/about", "", 200, "file:/about.html", "" },
	{ "GET", S, "/.well-known/apple-app-site-association", "", 200,
	  "file:/.well-known/apple-app-site-association", "Content-Type: application/octet-stream" },
	{ "GET", S, "/changelog", "", 200, "file:/changelog", "" },
	{ "GET", S, "/changelog/", "", 200, "file:/changelog.html", "" },

	/* ---- _redirects ---- */
	{ "GET", R, "/old-path", "", 301, "page", "Location: /new-path|!X-Frame-Options" },
	{ "GET", R, "/old-path/", "", 301, "page", "Location: /new-path" },
	{ "GET", R, "/old-path?utm=1&b=2", "", 301, "page", "Location: /new-path?utm=1&b=2" },
	{ "POST", R, "/old-path", "", 301, "page", "Location: /new-path" },
	{ "GET", R, "/temp", "", 302, "page", "Location: /elsewhere" },
	{ "GET", R, "/see", "", 303, "page", "Location: /other" },
	{ "GET", R, "/keep", "", 307, "page", "Location: /kept" },
	{ "GET", R, "/perm", "", 308, "page", "Location: /permanent" },
	{ "GET", R, "/blog/2024/hello", "", 301, "page", "Location: /posts/2024-hello" },
	{ "GET", R, "/blog/2024", "", 404, "file:/404.html", "" },
	{ "GET", R, "/news/a/b", "", 301, "page", "Location: /blog/a/b" },
	{ "GET", R, "/news", "", 301, "page", "Location: /blog/" },
	{ "GET", R, "/news/caf%C3%A9", "", 301, "page", "Location: /blog/caf%C3%A9" },
	{ "GET", R, "/news/a%3Fb", "", 301, "page", "Location: /blog/a%3Fb" },
	{ "GET", R, "/app/x/y", "", 200, "file:/app/index.html", "Cache-Control: " REVAL },
	{ "GET", R, "/app/", "", 200, "file:/app/index.html", "" },
	{ "POST", R, "/app/x", "", 405, "page", "" },
	{ "GET", R, "/api/users", "", 200, "file:/index.html",
	  "Access-Control-Allow-Origin: *|Content-Type: application/json; charset=utf-8" },
	{ "GET", R, "/exists.html", "", 200, "file:/exists.html", "" },
	{ "GET", R, "/forced.html", "", 301, "page", "Location: /elsewhere" },
	{ "GET", R, "/shop?id=42", "", 301, "page", "Location: /product/42" },
	{ "GET", R, "/shop?a=1&id=x%20y", "", 301, "page", "Location: /product/x%20y" },
	{ "GET", R, "/shop", "", 404, "file:/404.html", "" },
	{ "GET", R, "/ext", "", 302, "page", "Location: https://example.com/landing" },
	{ "GET", R, "/ext?a=1", "", 302, "page", "Location: https://example.com/landing?a=1" },
	{ "GET", R, "/ext2/x/y", "", 301, "page", "Location: https://example.com/x/y" },
	{ "GET", R, "/gone", "", 410, "file:/gone-page.html", "Content-Type: " HTML "|!ETag" },
	{ "GET", R, "/missing-page", "", 404, "file:/404.html", "" },
	{ "GET", R, "/custom404/x", "", 404, "file:/custom-404.html", "" },
	{ "GET", R, "/teapot", "", 404, "file:/404.html", "" },
	{ "GET", R, "/rewrite-dir", "", 200, "file:/docs/index.html", "" },
	{ "GET", R, "/private/secret", "", 404, "file:/404.html", "" },
	{ "GET", R, "/legacy/a", "", 302, "page", "Location: /new/a" },
	{ "GET", R, "/new-path", "", 200, "file:/new-path.html", "" },

	/* ---- _headers ---- */
	{ "GET", R, "/", "", 200, "file:/index.html", "X-Frame-Options: DENY|X-Robots-Tag: noindex" },
	{ "GET", R, "/assets/app.js", "", 200, "file:/assets/app.js",
	  "Cache-Control: public, max-age=3600|!X-Robots-Tag|X-Frame-Options: DENY" },
	{ "GET", R, "/docs/", "", 200, "file:/docs/index.html",
	  "Link: </a.css>; rel=preload, </b.js>; rel=preload|X-Robots-Tag: noindex" },
	{ "GET", R, "/missing", "", 404, "file:/404.html", "X-Frame-Options: DENY" },
	{ "GET", R, "/", "If-None-Match: @{/index.html}", 304, "none",
	  "X-Frame-Options: DENY|ETag: @{/index.html}|!Content-Type" },

	/* ---- Content-Type, ETag, Cache-Control, nosniff, Last-Modified ---- */
	{ "GET", S, "/style.css", "", 200, "file:/style.css",
	  "Content-Type: text/css; charset=utf-8|Cache-Control: " REVAL "|Vary: Accept-Encoding" },
	{ "GET", S, "/app.3f2a9c1e.js", "", 200, "file:/app.3f2a9c1e.js",
	  "Content-Type: text/javascript; charset=utf-8|Cache-Control: " IMMUT },
	{ "GET", S, "/index-BkT3Fq1a.js", "", 200, "file:/index-BkT3Fq1a.js",
	  "Cache-Control: " IMMUT },
	{ "GET", S, "/img/logo.png", "", 200, "file:/img/logo.png",
	  "Content-Type: image/png|Cache-Control: " REVAL "|!Vary" },
	{ "GET", S, "/data.json", "", 200, "file:/data.json",
	  "Content-Type: application/json; charset=utf-8" },
	{ "GET", S, "/LICENSE", "", 200, "file:/LICENSE", "Content-Type: application/octet-stream" },
	{ "GET", S, "/favicon.ico", "", 200, "file:/favicon.ico", "Content-Type: image/x-icon" },
	{ "GET", S, "/", "", 200, "file:/index.html",
	  "ETag: @{/index.html}|Cache-Control: " REVAL "|X-Content-Type-Options: nosniff|"
	  "Last-Modified: " CREATED_DATE "|Accept-Ranges: bytes" },
	{ "GET", S, "/missing", "", 404, "file:/404.html",
	  "X-Content-Type-Options: nosniff|Cache-Control: " REVAL },
	{ "GET", S, "/a%2fb", "", 400, "page", "X-Content-Type-Options: nosniff" },

	/* ---- conditional requests ---- */
	{ "GET", S, "/", "If-None-Match: @{/index.html}", 304, "none",
	  "ETag: @{/index.html}|!Content-Type|Cache-Control: " REVAL },
	{ "GET", S, "/", "If-None-Match: W/@{/index.html}", 304, "none", "" },
	{ "GET", S, "/", "If-None-Match: \"x\", @{/index.html}", 304, "none", "" },
	{ "GET", S, "/", "If-None-Match: *", 304, "none", "" },
	{ "GET", S, "/", "If-None-Match: \"stale\"", 200, "file:/index.html", "" },
	{ "GET", S, "/", "If-None-Match: @{/about.html}", 200, "file:/index.html", "" },
	{ "HEAD", S, "/", "If-None-Match: @{/index.html}", 304, "none", "" },
	{ "POST", S, "/", "If-None-Match: @{/index.html}", 405, "page", "" },
	{ "GET", S, "/", "If-None-Match: \"stale\"|If-Modified-Since: " CREATED_DATE, 200,
	  "file:/index.html", "" },
	{ "GET", S, "/", "If-Modified-Since: " CREATED_DATE, 304, "none", "" },
	{ "GET", S, "/", "If-Modified-Since: Sat, 23 Nov 2024 10:06:40 GMT", 200, "file:/index.html", "" },
	{ "GET", S, "/", "If-Modified-Since: yesterday", 200, "file:/index.html", "" },
	{ "GET", S, "/", "Accept-Encoding: gzip|If-None-Match: @gzip{/index.html}", 304, "none",
	  "ETag: @gzip{/index.html}|Vary: Accept-Encoding" },
	{ "GET", S, "/", "Accept-Encoding: gzip|If-None-Match: @{/index.html}", 200,
	  "gzip:/index.html", "" },
	{ "GET", S, "/missing", "If-None-Match: @{/404.html}", 404, "file:/404.html", "" },

	/* ---- Accept-Encoding: precompressed variants with Vary ---- */
	{ "GET", S, "/app.3f2a9c1e.js", "Accept-Encoding: gzip, deflate, br", 200,
	  "br:/app.3f2a9c1e.js", "Content-Encoding: br|Vary: Accept-Encoding|ETag: @br{/app.3f2a9c1e.js}" },
	{ "GET", S, "/app.3f2a9c1e.js", "Accept-Encoding: gzip", 200, "gzip:/app.3f2a9c1e.js",
	  "Content-Encoding: gzip|Vary: Accept-Encoding" },
	{ "GET", S, "/app.3f2a9c1e.js", "Accept-Encoding: br;q=0, gzip", 200, "gzip:/app.3f2a9c1e.js", "" },
	{ "GET", S, "/app.3f2a9c1e.js", "Accept-Encoding: gzip;q=0.5, br;q=0.4", 200,
	  "gzip:/app.3f2a9c1e.js", "" },
	{ "GET", S, "/app.3f2a9c1e.js", "Accept-Encoding: identity", 200, "file:/app.3f2a9c1e.js",
	  "!Content-Encoding|Vary: Accept-Encoding" },
	{ "GET", S, "/app.3f2a9c1e.js", "Accept-Encoding: *", 200, "br:/app.3f2a9c1e.js", "" },
	{ "GET", S, "/app.3f2a9c1e.js", "Accept-Encoding: *;q=0", 200, "file:/app.3f2a9c1e.js", "" },
	{ "GET", S, "/app.3f2a9c1e.js", "Accept-Encoding: x-gzip", 200, "gzip:/app.3f2a9c1e.js", "" },
	{ "GET", S, "/app.3f2a9c1e.js", "Accept-Encoding: GZIP", 200, "gzip:/app.3f2a9c1e.js", "" },
	{ "GET", S, "/app.3f2a9c1e.js", "Accept-Encoding: br;q=0", 200, "file:/app.3f2a9c1e.js", "" },
	{ "GET", S, "/app.3f2a9c1e.js", "", 200, "file:/app.3f2a9c1e.js", "Vary: Accept-Encoding" },
	{ "GET", S, "/style.css", "Accept-Encoding: br", 200, "file:/style.css", "Vary: Accept-Encoding" },
	{ "GET", S, "/style.css", "Accept-Encoding: br, gzip", 200, "gzip:/style.css", "" },
	{ "GET", S, "/img/logo.png", "Accept-Encoding: gzip, br", 200, "file:/img/logo.png",
	  "!Vary|!Content-Encoding" },
	{ "HEAD", S, "/about", "Accept-Encoding: br", 200, "br:/about.html", "Content-Encoding: br" },

	/* ---- Range ---- */
	{ "GET", S, "/big.bin", "Range: bytes=0-99", 206, "file:/big.bin",
	  "Content-Range: bytes 0-99/10000|ETag: @{/big.bin}" },
	{ "GET", S, "/big.bin", "Range: bytes=9990-", 206, "file:/big.bin",
	  "Content-Range: bytes 9990-9999/10000" },
	{ "GET", S, "/big.bin", "Range: bytes=-10", 206, "file:/big.bin",
	  "Content-Range: bytes 9990-9999/10000" },
	{ "GET", S, "/big.bin", "Range: bytes=-20000", 206, "file:/big.bin",
	  "Content-Range: bytes 0-9999/10000" },
	{ "GET", S, "/big.bin", "Range: bytes=0-", 206, "file:/big.bin",
	  "Content-Range: bytes 0-9999/10000" },
	{ "GET", S, "/big.bin", "Range: bytes=100-99999", 206, "file:/big.bin",
	  "Content-Range: bytes 100-9999/10000" },
	{ "GET", S, "/big.bin", "Range: bytes=9999-9999", 206, "file:/big.bin",
	  "Content-Range: bytes 9999-9999/10000" },
	{ "GET", S, "/big.bin", "Range: bytes=10000-", 416, "none", "Content-Range: bytes */10000" },
	{ "GET", S, "/big.bin", "Range: bytes=-0", 416, "none", "Content-Range: bytes */10000" },
	{ "GET", S, "/empty.txt", "Range: bytes=0-", 416, "none", "Content-Range: bytes */0" },
	{ "GET", S, "/big.bin", "Range: bytes=5-2", 200, "file:/big.bin", "!Content-Range" },
	{ "GET", S, "/big.bin", "Range: bytes=0-1,5-6", 200, "file:/big.bin", "!Content-Range" },
	{ "GET", S, "/big.bin", "Range: bytes=abc", 200, "file:/big.bin", "" },
	{ "GET", S, "/big.bin", "Range: items=0-1", 200, "file:/big.bin", "" },
	{ "GET", S, "/big.bin", "Range: bytes=99999999999999999999-", 200, "file:/big.bin", "" },
	{ "HEAD", S, "/big.bin", "Range: bytes=0-99", 200, "file:/big.bin", "!Content-Range" },
	{ "GET", S, "/big.bin", "Range: bytes=0-99|If-Range: @{/big.bin}", 206, "file:/big.bin", "" },
	{ "GET", S, "/big.bin", "Range: bytes=0-99|If-Range: \"stale\"", 200, "file:/big.bin", "" },
	{ "GET", S, "/big.bin", "Range: bytes=0-99|If-Range: " CREATED_DATE, 206, "file:/big.bin", "" },
	{ "GET", S, "/big.bin", "Range: bytes=0-99|If-Range: Sat, 23 Nov 2024 10:06:40 GMT", 200,
	  "file:/big.bin", "" },
	{ "GET", S, "/big.bin", "Range: bytes=0-99|If-None-Match: @{/big.bin}", 304, "none", "" },
	{ "GET", S, "/app.3f2a9c1e.js", "Range: bytes=0-9|Accept-Encoding: gzip, br", 206,
	  "file:/app.3f2a9c1e.js", "!Content-Encoding|Vary: Accept-Encoding|Content-Range: bytes 0-9/5000" },
	{ "GET", S, "/missing", "Range: bytes=0-9", 404, "file:/404.html", "!Content-Range" },
};

/* ---- harness ---------------------------------------------------------------------- */

/* Replaces @{p}, @gzip{p}, @br{p} with the quoted hash of that file's bytes. */
static const char *expand(struct arena *a, const char *s)
{
	struct buf b = BUF_INIT(4096);
	while (*s) {
		const char *at = strchr(s, '@');
		if (!at) {
			buf_puts(&b, s);
			break;
		}
		buf_append(&b, s, (size_t)(at - s));
		const char *brace = strchr(at, '{');
		const char *end = brace ? strchr(brace, '}') : NULL;
		ck_assert_ptr_nonnull(end);
		char variant[8] = "", path[256], h[HASH_HEX_LEN + 1];
		snprintf(variant, sizeof(variant), "%.*s", (int)(brace - at - 1), at + 1);
		snprintf(path, sizeof(path), "%.*s", (int)(end - brace - 1), brace + 1);
		fx_hash(path, variant, h);
		buf_printf(&b, "\"%s\"", h);
		s = end + 1;
	}
	const char *r = arena_strdup(a, buf_cstr(&b));
	buf_dispose(&b);
	return r;
}

static void request_headers(struct arena *a, const char *spec, struct serve_request *req)
{
	char *copy = arena_strdup(a, spec);
	for (char *line = copy; line && *line;) {
		char *bar = strchr(line, '|');
		if (bar)
			*bar = '\0';
		char *colon = strchr(line, ':');
		ck_assert_ptr_nonnull(colon);
		*colon = '\0';
		const char *value = expand(a, colon + 2);
		if (!strcmp(line, "Accept"))
			req->accept = value;
		else if (!strcmp(line, "Accept-Encoding"))
			req->accept_encoding = value;
		else if (!strcmp(line, "If-None-Match"))
			req->if_none_match = value;
		else if (!strcmp(line, "If-Modified-Since"))
			req->if_modified_since = value;
		else if (!strcmp(line, "Range"))
			req->range = value;
		else if (!strcmp(line, "If-Range"))
			req->if_range = value;
		else
			ck_abort_msg("unknown request header %s", line);
		line = bar ? bar + 1 : NULL;
	}
}

/* What skiff-serve's site.c decides from the Host before serve_decide: the fixture, or the
 * status of skiff's own page (400 malformed Host, 404 unknown, 410 expired). */
static int case_site(const char *host, struct fixture **out)
{
	struct host_site site;
	int rc = host_site_parse(host, DOMAIN, 0, &site);
	if (rc == SKIFF_EINVALID)
		return 400;
	if (rc < 0)
		return 404;
	if (site.deployment[0]) {
		size_t i;
		for (i = 0; i < sizeof(deployments) / sizeof(deployments[0]); i++)
			if (!strcmp(deployments[i].id, site.deployment))
				break;
		if (i == sizeof(deployments) / sizeof(deployments[0]) ||
		    strcmp(deployments[i].slug, site.slug))
			return 404;
		if (!strcmp(deployments[i].state, "expired"))
			return 410;
	}
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		if (!strcmp(fixtures[i].slug, site.slug)) {
			*out = &fixtures[i];
			return 0;
		}
	}
	return 404;
}

static void check_body(const struct serve_case *c, const struct serve_decision *d)
{
	if (!strcmp(c->body, "page")) {
		ck_assert_msg(d->body == SERVE_BODY_PAGE, "body %d, want page", d->body);
		return;
	}
	if (!strcmp(c->body, "none")) {
		ck_assert_msg(d->body == SERVE_BODY_NONE, "body %d, want none", d->body);
		return;
	}
	const char *colon = strchr(c->body, ':');
	char variant[8];
	snprintf(variant, sizeof(variant), "%.*s", (int)(colon - c->body), c->body);
	ck_assert_msg(d->body == SERVE_BODY_BLOB, "body %d, want a blob", d->body);
	char h[HASH_HEX_LEN + 1];
	fx_hash(colon + 1, strcmp(variant, "file") ? variant : "", h);
	ck_assert_msg(!strcmp(d->blob, h), "blob is not the %s bytes of %s", variant, colon + 1);
	const char *cr = serve_header_get(d, "Content-Range");
	if (d->status == 206) {
		unsigned long long a, b, size;
		ck_assert_int_eq(sscanf(cr, "bytes %llu-%llu/%llu", &a, &b, &size), 3);
		ck_assert_uint_eq(d->offset, a);
		ck_assert_uint_eq(d->length, b - a + 1);
		ck_assert_uint_eq(d->blob_size, size);
	} else {
		ck_assert_uint_eq(d->offset, 0);
		ck_assert_uint_eq(d->length, d->blob_size);
	}
}

static void check_headers(struct arena *a, const char *spec, const struct serve_decision *d)
{
	char *copy = arena_strdup(a, spec);
	for (char *line = copy; line && *line;) {
		char *bar = strchr(line, '|');
		if (bar)
			*bar = '\0';
		if (line[0] == '!') {
			const char *got = !strcmp(line + 1, "Content-Type") ? d->content_type
					  : serve_header_get(d, line + 1);
			ck_assert_msg(got == NULL, "%s present: %s", line + 1, got);
		} else {
			char *colon = strchr(line, ':');
			*colon = '\0';
			const char *want = expand(a, colon + 2);
			const char *got = !strcmp(line, "Content-Type") ? d->content_type
					  : serve_header_get(d, line);
			ck_assert_msg(got && !strcmp(got, want), "%s: '%s', want '%s'", line,
				      got ? got : "(absent)", want);
		}
		line = bar ? bar + 1 : NULL;
	}
}

START_TEST(test_serve_rules_table)
{
	const struct serve_case *c = &cases[_i];
	struct arena a;
	arena_init(&a);
	struct serve_request req;
	memset(&req, 0, sizeof(req));
	req.method = c->method;
	const char *q = strchr(c->path, '?');
	req.path = q ? arena_strndup(&a, c->path, (size_t)(q - c->path)) : c->path;
	req.query = q ? q + 1 : "";
	request_headers(&a, c->headers, &req);
	struct fixture *fx = NULL;
	struct serve_decision d;
	int page = case_site(c->host, &fx);
	if (page)
		serve_decide_page(page, &req, &d);
	else
		serve_decide(fx->m, &req, &a, &d);
	ck_assert_msg(d.status == c->status, "%s %s%s: status %d, want %d (%s)", c->method, c->host,
		      c->path, d.status, c->status, d.reason ? d.reason : "");
	check_body(c, &d);
	check_headers(&a, c->expect, &d);
	/* invariants on every response */
	ck_assert_ptr_nonnull(serve_header_get(&d, "X-Content-Type-Options"));
	if (d.status >= 300 && d.status < 400 && d.status != 304)
		ck_assert_ptr_nonnull(d.location);
	if (d.status == 200 && d.body == SERVE_BODY_BLOB)
		ck_assert_ptr_nonnull(serve_header_get(&d, "ETag"));
	for (size_t i = 0; i < d.nheaders; i++)
		ck_assert(!strpbrk(d.headers[i].value, "\r\n"));
	arena_dispose(&a);
}
END_TEST

START_TEST(test_serve_name_hashed)
{
	ck_assert(serve_reply_name_hashed("/app.3f2a9c1e.js"));
	ck_assert(serve_reply_name_hashed("/assets/index-BkT3Fq1a.js"));
	ck_assert(serve_reply_name_hashed("/chunk.0123456789abcdef0123.css"));
	ck_assert(serve_reply_name_hashed("/3f2a9c1e.js"));
	ck_assert(serve_reply_name_hashed("/main_5d41402abc4b2a76.js"));
	ck_assert(!serve_reply_name_hashed("/app.js"));
	ck_assert(!serve_reply_name_hashed("/deadbeef.js"));          /* no digit: a word */
	ck_assert(!serve_reply_name_hashed("/IMG_20240101.jpg"));      /* a date */
	ck_assert(!serve_reply_name_hashed("/MyComponent2023.js"));
	ck_assert(!serve_reply_name_hashed("/Profile1.js"));
	ck_assert(!serve_reply_name_hashed("/jquery-3.6.0.min.js"));
	ck_assert(!serve_reply_name_hashed("/3f2a9c1e"));              /* no extension */
	ck_assert(!serve_reply_name_hashed("/v1.2.3/readme.txt"));
}
END_TEST

START_TEST(test_serve_page_body)
{
	struct buf b = BUF_INIT(8192);
	serve_page(&b, 404, NULL);
	ck_assert(strstr(buf_cstr(&b), "<title>404 Not Found</title>"));
	buf_reset(&b);
	serve_page(&b, 503, NULL);
	ck_assert(strstr(buf_cstr(&b), "<h1>503 Service Unavailable</h1>"));
	buf_reset(&b);
	serve_page(&b, 301, "/a?b=\"<x>\"");
	ck_assert(strstr(buf_cstr(&b), "href=\"/a?b=&quot;&lt;x&gt;&quot;\""));
	buf_dispose(&b);
}
END_TEST

START_TEST(test_serve_http_date)
{
	ck_assert_int_eq(serve_reply_http_date(CREATED_DATE), CREATED_MS / 1000);
	ck_assert_int_eq(serve_reply_http_date("Fri, 22 Nov 2024 10:06:40 GMT junk"), -1);
	ck_assert_int_eq(serve_reply_http_date(""), -1);
	ck_assert_int_eq(serve_reply_http_date(NULL), -1);
}
END_TEST

int main(void)
{
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		fixture_build(&fixtures[i]);
	Suite *s = suite_create("serve");
	TCase *tc = tcase_create("serve");
	tcase_add_loop_test(tc, test_serve_rules_table, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_serve_name_hashed);
	tcase_add_test(tc, test_serve_page_body);
	tcase_add_test(tc, test_serve_http_date);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		manifest_free(fixtures[i].m);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
