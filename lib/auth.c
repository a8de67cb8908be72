/* auth.c — bearer tokens, web-server users, auth_disabled, and the same-origin rule. */
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool auth_bearer_is(const char *value, size_t len)
{
	return len >= 7 && strncasecmp(value, "Bearer ", 7) == 0;
}

bool auth_bearer_valid(const struct config *cfg, const char *value, size_t len)
{
	if (!auth_bearer_is(value, len) || !cfg->api_token[0])
		return false;
	/* compare digests: the time taken says nothing about the token's length or prefix */
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)value + 7, len - 7, a);
	SHA256((const unsigned char *)cfg->api_token, strlen(cfg->api_token), b);
	return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

/* 1: a valid bearer token; 0: none (or no api_token to compare with); <0: a wrong one. */
static int auth_bearer(const struct http_request *req, struct error *err)
{
	const char *auth = request_param(req, "HTTP_AUTHORIZATION");
	if (!auth || !auth_bearer_is(auth, strlen(auth)) || !req->cfg->api_token[0])
		return 0;
	if (auth_bearer_valid(req->cfg, auth, strlen(auth)))
		return 1;
	return error_set(err, SKIFF_EAUTH, "invalid_token", "the bearer token is not valid");
}

/* Ambient credentials: the web server's user, or none needed at all. */
static bool auth_ambient(const struct http_request *req)
{
	const char *user = request_param(req, "REMOTE_USER");
	return req->cfg->auth_disabled || (user && *user);
}

#define AUTH_ORIGIN_MAX 512

/* "https://Host:443/path" → "https://host" (scheme, lowercased host, port only when not the
 * scheme's default). 0 on success, -1 when s is not an http(s) origin or URL. */
static int auth_origin_normalize(const char *s, char out[AUTH_ORIGIN_MAX])
{
	const char *host;
	const char *dflt;
	if (!strncasecmp(s, "http://", 7)) {
		host = s + 7;
		dflt = "80";
	} else if (!strncasecmp(s, "https://", 8)) {
		host = s + 8;
		dflt = "443";
	} else {
		return -1;
	}
	size_t n = strcspn(host, "/?#");
	if (n == 0 || n >= AUTH_ORIGIN_MAX - 9 || memchr(host, '@', n))
		return -1;
	size_t scheme = (size_t)(host - s);
	size_t hn = n;
	const char *colon = memrchr(host, ':', n);
	if (colon && !memchr(colon, ']', (size_t)(host + n - colon)) &&
	    (size_t)(host + n - colon - 1) == strlen(dflt) && !strncmp(colon + 1, dflt, strlen(dflt)))
		hn = (size_t)(colon - host);
	for (size_t i = 0; i < scheme + hn; i++) {
		char c = s[i];
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[scheme + hn] = '\0';
	return 0;
}

/* The request comes from the dashboard's own pages (dashboard_url). */
static bool auth_same_origin(const struct http_request *req)
{
	const char *origin = request_param(req, "HTTP_ORIGIN");
	if (origin && *origin) {
		char want[AUTH_ORIGIN_MAX], got[AUTH_ORIGIN_MAX];
		/* an Origin is scheme://host[:port] and nothing more ("null" is never ours) */
		const char *sep = strstr(origin, "://");
		if (!sep || sep[3 + strcspn(sep + 3, "/?#")] != '\0')
			return false;
		return auth_origin_normalize(req->cfg->dashboard_url, want) == 0 &&
		       auth_origin_normalize(origin, got) == 0 && !strcmp(want, got);
	}
	const char *site = request_param(req, "HTTP_SEC_FETCH_SITE");
	return site && !strcmp(site, "same-origin");
}

int auth_mutation(struct http_request *req, struct error *err)
{
	int rc = auth_bearer(req, err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (!auth_ambient(req))
		return error_set(err, SKIFF_EAUTH, "unauthorized",
				 "this request needs a bearer token or an authenticated user");
	if (!auth_same_origin(req))
		return error_set(err, SKIFF_EFORBIDDEN, "cross_origin",
				 "changes without a bearer token must come from the dashboard's own "
				 "pages at %s (the request's Origin, or else Sec-Fetch-Site, says "
				 "otherwise or nothing)", req->cfg->dashboard_url);
	return 0;
}

int auth_admin_read(struct http_request *req, struct error *err)
{
	int rc = auth_bearer(req, err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (auth_ambient(req))
		return 0;
	return error_set(err, SKIFF_EAUTH, "unauthorized",
			 "reading this needs a bearer token or an authenticated user");
}

int auth_read(struct http_request *req, struct error *err)
{
	if (req->cfg->public_reads)
		return 0;
	int rc = auth_bearer(req, err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (auth_ambient(req))
		return 0;
	return error_set(err, SKIFF_EAUTH, "unauthorized",
			 "reading this needs a bearer token or an authenticated user "
			 "(public_reads is off)");
}

bool auth_admin_present(const struct http_request *req)
{
	const char *auth = request_param(req, "HTTP_AUTHORIZATION");
	if (auth && auth_bearer_is(auth, strlen(auth)))
		return auth_bearer_valid(req->cfg, auth, strlen(auth));
	return auth_ambient(req);
}
