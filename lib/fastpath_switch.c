/* fastpath_switch.c — a site's switch reaches the fast-path tree of every web node. */
#include "fastpath_switch.h"
#include "fastpath.h"
#include "log.h"
#include "model_switch.h"

#include <dirent.h>
#include <stdio.h>

void fastpath_switch_announce(struct redis *r, const struct config *cfg, const char *slug)
{
	struct error err;
	fastpath_drop(cfg->fastpath_dir, slug);
	/* always: another node (a web node, when this is a builder's) may have the fast path */
	if (model_switch_publish(r, slug, &err) < 0)
		log_warn("fastpath switch not announced site=%s message=\"%s\"", slug, err.message);
}

int fastpath_switch_drop_all(const char *dir)
{
	char sites[4096];
	int n = 0;
	if (!dir[0])
		return 0;
	if (snprintf(sites, sizeof(sites), "%s/sites", dir) >= (int)sizeof(sites))
		return 0;
	DIR *d = opendir(sites);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {   /* a link being made or dropped is a dot name */
			fastpath_drop(dir, e->d_name);
			n++;
		}
	closedir(d);
	return n;
}
