/* site.c — the manifest's "config": skiff.json's cleanUrls, trailingSlash and spa, and the
 * routing rules of `_redirects`, `_headers` and skiff.json, parsed by lib/rules. */
#include "build.h"
#include "rules.h"

#include <stdio.h>

struct site_report {
	struct build *b;
	const char *source;   /* "_redirects", "skiff.json redirects", ... */
	const char *unit;     /* "line" or "rule" */
};

static void site_on_report(void *ctx, unsigned line, const char *msg)
{
	struct site_report *r = ctx;
	build_log(r->b, "%s %s %u skipped: %s", r->source, r->unit, line, msg);
}

static json_t *site_tristate(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

/* Appends the rules of src to dst (file rules first, then skiff.json's, as Netlify orders
 * _redirects before netlify.toml). */
static void site_extend(json_t *dst, json_t *src)
{
	if (src)
		json_array_extend(dst, src);
	json_decref(src);
}

json_t *build_site_config(struct build *b, const char *redirects, size_t redirects_len,
			  const char *headers, size_t headers_len)
{
	struct detect_result *d = &b->detect;
	json_t *config = json_pack("{sbsoso}", "cleanUrls", d->clean_urls, "trailingSlash",
				   site_tristate(d->trailing_slash), "spa", site_tristate(d->spa));
	json_t *all_redirects = json_array(), *all_headers = json_array();
	json_t *rules = NULL;
	struct site_report rep = { b, "_redirects", "line" };
	if (redirects) {
		if (rules_redirects_parse(redirects, redirects_len, &rules, site_on_report, &rep) < 0)
			build_log(b, "_redirects ignored: it cannot be parsed as a whole");
		site_extend(all_redirects, rules);
		rules = NULL;
	}
	if (headers) {
		rep.source = "_headers";
		if (rules_headers_parse(headers, headers_len, &rules, site_on_report, &rep) < 0)
			build_log(b, "_headers ignored: it cannot be parsed as a whole");
		site_extend(all_headers, rules);
		rules = NULL;
	}
	rep.unit = "rule";
	if (d->redirects) {
		rep.source = "skiff.json redirects";
		if (rules_redirects_from_json(d->redirects, &rules, site_on_report, &rep) < 0)
			build_log(b, "skiff.json redirects ignored: not an array of rules");
		site_extend(all_redirects, rules);
		rules = NULL;
	}
	if (d->headers) {
		rep.source = "skiff.json headers";
		if (rules_headers_from_json(d->headers, &rules, site_on_report, &rep) < 0)
			build_log(b, "skiff.json headers ignored: not an array of rules");
		site_extend(all_headers, rules);
		rules = NULL;
	}
	if (json_array_size(all_redirects) || json_array_size(all_headers))
		build_log(b, "Routing rules: %zu redirects, %zu header rules",
			  json_array_size(all_redirects), json_array_size(all_headers));
	json_object_set_new(config, "redirects", all_redirects);
	json_object_set_new(config, "headers", all_headers);
	return config;
}
