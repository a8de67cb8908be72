/* host.c — strict Host header parsing for skiff-serve. */
#include "host.h"
#include "error.h"

#include <string.h>

int host_site_parse(const char *host, const char *domain, long port, struct host_site *site)
{
	char h[HOST_MAX + 1];
	size_t n = host ? strlen(host) : 0;
	site->slug[0] = site->deployment[0] = site->preview[0] = '\0';
	if (n == 0 || n > HOST_MAX)
		return SKIFF_EINVALID;
	/* split off ":port" */
	const char *colon = memchr(host, ':', n);
	size_t hlen = colon ? (size_t)(colon - host) : n;
	if (colon) {
		const char *p = colon + 1;
		size_t plen = n - hlen - 1;
		if (plen == 0 || plen > 5)
			return SKIFF_EINVALID;
		long v = 0;
		for (size_t i = 0; i < plen; i++) {
			if (p[i] < '0' || p[i] > '9')
				return SKIFF_EINVALID;
			v = v * 10 + (p[i] - '0');
		}
		if (v < 1 || v > 65535)
			return SKIFF_EINVALID;
		long want = (port == 0) ? 80 : port;
		if (v != want)
			return SKIFF_ENOTFOUND;
	}
	for (size_t i = 0; i < hlen; i++) {
		char c = host[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return SKIFF_EINVALID;
		h[i] = c;
	}
	h[hlen] = '\0';
	if (hlen && h[hlen - 1] == '.')     /* absolute form "site.example.com." */
		h[--hlen] = '\0';
	if (hlen == 0 || h[0] == '.' || strstr(h, ".."))
		return SKIFF_EINVALID;
	size_t dlen = strlen(domain);
	if (dlen == 0 || hlen <= dlen + 1 || h[hlen - dlen - 1] != '.' ||
	    strcmp(h + hlen - dlen, domain) != 0)
		return SKIFF_ENOTFOUND;
	size_t llen = hlen - dlen - 1;      /* the first label */
	h[llen] = '\0';
	if (memchr(h, '.', llen))
		return SKIFF_ENOTFOUND;         /* nested: a.b.{domain} */
	char *dash = strstr(h, "--");
	if (dash) {
		*dash = '\0';
		const char *id = dash + 2;
		/* an id is base32 without '-'; a preview key always has one */
		if (preview_key_valid(id))
			memcpy(site->preview, id, strlen(id) + 1);
		else if (id_valid(id))
			memcpy(site->deployment, id, ID_LEN + 1);
		else
			return SKIFF_ENOTFOUND;
	}
	if (validate_slug(h, NULL))
		return SKIFF_ENOTFOUND;
	memcpy(site->slug, h, strlen(h) + 1);
	return 0;
}
