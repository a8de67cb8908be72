/* site.c — the manifest's "config" of a local build (lib/site_config), its notes in the log. */
#include "site.h"
#include "build_log.h"
#include "site_config.h"

static void site_note(void *ctx, const char *msg)
{
	build_log(ctx, "%s", msg);
}

json_t *build_site_config(struct build *b, const char *redirects, size_t redirects_len,
			  const char *headers, size_t headers_len)
{
	return site_config_build(&b->detect, redirects, redirects_len, headers, headers_len,
				 site_note, b);
}
