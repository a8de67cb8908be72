/* site_config.c — the manifest's "config": skiff.json's cleanUrls, trailingSlash and spa, and
 * the routing rules of `_redirects`, `_headers` and skiff.json, parsed by lib/rules. */
#include "site_config.h"
#include "rules.h"

#include <stdio.h>

struct site_report {
	site_config_note_fn note;
	void *ctx;
	const char *source;   /* "_redirects", "skiff.json redirects", ... */
	const char *unit;     /* "line" or "rule" */
};

static void site_config_on_report(void *ctx, unsigned line, const char *msg)
{
	struct site_report *r = ctx;
	char text[1024];
	snprintf(text, sizeof(text), "%s %s %u skipped: %s", r->source, r->unit, line, msg);
	r->note(r->ctx, text);
}

static void site_config_whole(struct site_report *r, const char *what)
{
	char text[256];
	snprintf(text, sizeof(text), "%s ignored: %s", r->source, what);
	r->note(r->ctx, text);
}

static json_t *site_config_tristate(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

/* Appends the rules of src to dst and drops src. */
static void site_config_extend(json_t *dst, json_t *src)
{
	if (src)
		json_array_extend(dst, src);
	json_decref(src);
}

json_t *site_config_build(const struct detect_result *d, const char *redirects,
			  size_t redirects_len, const char *headers, size_t headers_len,
			  site_config_note_fn note, void *ctx)
{
	json_t *config = json_pack("{sbsoso}", "cleanUrls", d->clean_urls, "trailingSlash",
				   site_config_tristate(d->trailing_slash), "spa",
				   site_config_tristate(d->spa));
	json_t *all_redirects = json_array(), *all_headers = json_array();
	json_t *rules = NULL;
	struct site_report rep = { note, ctx, "_redirects", "line" };
	if (redirects) {
		if (rules_redirects_parse(redirects, redirects_len, &rules, site_config_on_report, &rep) < 0)
			site_config_whole(&rep, "it cannot be parsed as a whole");
		site_config_extend(all_redirects, rules);
		rules = NULL;
	}
	if (headers) {
		rep.source = "_headers";
		if (rules_headers_parse(headers, headers_len, &rules, site_config_on_report, &rep) < 0)
			site_config_whole(&rep, "it cannot be parsed as a whole");
		site_config_extend(all_headers, rules);
		rules = NULL;
	}
	rep.unit = "rule";
	if (d->redirects) {
		rep.source = "skiff.json redirects";
		if (rules_redirects_from_json(d->redirects, &rules, site_config_on_report, &rep) < 0)
			site_config_whole(&rep, "not an array of rules");
		site_config_extend(all_redirects, rules);
		rules = NULL;
	}
	if (d->headers) {
		rep.source = "skiff.json headers";
		if (rules_headers_from_json(d->headers, &rules, site_config_on_report, &rep) < 0)
			site_config_whole(&rep, "not an array of rules");
		site_config_extend(all_headers, rules);
		rules = NULL;
	}
	if (json_array_size(all_redirects) || json_array_size(all_headers)) {
		char text[128];
		snprintf(text, sizeof(text), "Routing rules: %zu redirects, %zu header rules",
			 json_array_size(all_redirects), json_array_size(all_headers));
		note(ctx, text);
	}
	json_object_set_new(config, "redirects", all_redirects);
	json_object_set_new(config, "headers", all_headers);
	return config;
}
