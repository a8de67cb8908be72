/* host.c — strict Host header parsing for skiff-serve. */
#include "host.h"
#include "error.h"

#include <stdbool.h>
#include <string.h>

int host_name_parse(const char *host, long port, char out[HOST_MAX + 1])
{
	size_t n = host ? strlen(host) : 0;
	out[0] = '\0';
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
		out[i] = c;
	}
	out[hlen] = '\0';
	if (hlen && out[hlen - 1] == '.')     /* absolute form "site.example.com." */
		out[--hlen] = '\0';
	if (hlen == 0 || out[0] == '.' || strstr(out, ".."))
		return SKIFF_EINVALID;
	return 0;
}

int host_site_parse(const char *host, const char *domain, long port, struct host_site *site)
{
	char h[HOST_MAX + 1];
	site->slug[0] = site->deployment[0] = site->preview[0] = '\0';
	int rc = host_name_parse(host, port, h);
	if (rc < 0)
		return rc;
	size_t hlen = strlen(h);
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

/* 1 when the name is under the platform's domain (or is it): sites there are {slug}.{domain}. */
static int host_under(const char *name, size_t n, const char *domain)
{
	size_t dlen = strlen(domain);
	if (dlen == 0)
		return 0;
	if (n == dlen)
		return strcmp(name, domain) == 0;
	return n > dlen && name[n - dlen - 1] == '.' && strcmp(name + n - dlen, domain) == 0;
}

int host_domain_check(const char *name, const char *domain, struct error *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > HOST_DOMAIN_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_domain",
				 "a domain is 1 to %d characters", HOST_DOMAIN_MAX);
	size_t start = 0, labels = 0;
	bool numeric = true;                /* the last label so far is all digits */
	for (size_t i = 0; i <= n; i++) {
		char c = name[i];
		if (c == '.' || c == '\0') {
			size_t len = i - start;
			const char *l = name + start;
			if (len == 0 || len > HOST_LABEL_MAX)
				return error_set(err, SKIFF_EINVALID, "invalid_domain",
						 "each label of a domain is 1 to %d characters",
						 HOST_LABEL_MAX);
			if (l[0] == '-' || l[len - 1] == '-')
				return error_set(err, SKIFF_EINVALID, "invalid_domain",
						 "a label of a domain cannot begin or end with '-'");
			/* "ab--" is reserved for encodings; of those only IDNA's "xn--" */
			if (len >= 4 && l[2] == '-' && l[3] == '-' && strncmp(l, "xn", 2) != 0)
				return error_set(err, SKIFF_EINVALID, "invalid_domain",
						 "labels with '--' in third and fourth position are "
						 "reserved (an IDN is written in its xn-- form)");
			labels++;
			start = i + 1;
			if (c == '\0')
				break;
			numeric = true;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			return error_set(err, SKIFF_EINVALID, "invalid_domain",
					 "write the domain in lower case");
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return error_set(err, SKIFF_EINVALID, "invalid_domain",
					 "a domain has only a-z, 0-9, '-' and '.' (an IDN is written "
					 "in its xn-- form)");
		if (c < '0' || c > '9')
			numeric = false;
	}
	if (numeric)
		return error_set(err, SKIFF_EINVALID, "invalid_domain",
				 "an IP address or a numeric top-level label is not a domain");
	if (labels < 2)
		return error_set(err, SKIFF_EINVALID, "invalid_domain",
				 "a domain has at least two labels (example.org)");
	if (host_under(name, n, domain))
		return error_set(err, SKIFF_EINVALID, "domain_reserved",
				 "names under %s are the platform's own", domain);
	return 0;
}

/* Appends s with every byte outside '!'..'~' percent-encoded. */
static void host_location_part(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c > ' ' && c < 0x7f)
			buf_putc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

int host_location(struct buf *b, bool https, const char *name, long port, const char *path,
		  const char *query)
{
	buf_printf(b, "%s://%s", https ? "https" : "http", name);
	if (port && port != (https ? 443 : 80))
		buf_printf(b, ":%ld", port);
	host_location_part(b, path && path[0] == '/' ? path : "/");
	if (query && *query) {
		buf_putc(b, '?');
		host_location_part(b, query);
	}
	return b->err;
}
