/* fuzz_rules.c — libFuzzer target for the _redirects and _headers parsers and the compiled
 * matcher: input = 1 selector byte, the file text, then "\0" and a request path. Whatever
 * the parsers emit must compile, and matching must never crash or emit a CR/LF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "rules_match.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ctx, unsigned line, const char *msg)
{
	(void)ctx;
	(void)line;
	if (!msg || !*msg)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int which = data[0] & 1;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	const char *nul = memchr(text, '\0', len);
	size_t tlen = nul ? (size_t)(nul - text) : len;
	json_t *rules = NULL;
	if (which)
		rules_headers_parse(text, tlen, &rules, quiet, NULL);
	else
		rules_redirects_parse(text, tlen, &rules, quiet, NULL);
	if (!rules)
		return 0;
	json_t *config = json_object();
	json_object_set_new(config, which ? "headers" : "redirects", rules);
	struct rules *r = NULL;
	if (rules_compile(config, &r, NULL) != 0)
		abort();
	char path[PATH_URL_MAX + 2] = "/";
	if (nul) {
		const char *p = nul + 1;
		size_t plen = len - tlen - 1;
		const char *q = memchr(p, '?', plen);
		size_t pathlen = q ? (size_t)(q - p) : plen;
		if (path_normalize(p, pathlen, path, sizeof(path)) != 0)
			memcpy(path, "/", 2);
	}
	struct arena a;
	arena_init(&a);
	struct rules_redirect rr;
	size_t pos = 0;
	while (rules_redirect_match(r, path, "a=1&id=x%20y", &pos, &a, &rr)) {
		if (rr.target && strpbrk(rr.target, "\r\n"))
			abort();
	}
	struct rules_header *h;
	size_t n = rules_headers_match(r, path, &a, &h);
	for (size_t i = 0; i < n; i++)
		if (strpbrk(h[i].value, "\r\n") || !rules_header_allowed(h[i].name, NULL))
			abort();
	arena_dispose(&a);
	rules_free(r);
	json_decref(config);
	return 0;
}
