/* validate.c — checks for slugs, git URLs, branch names and build settings. */
#include "validate.h"
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int validate_slug(const char *s, struct error *err)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > SLUG_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_slug",
				 "slug must be 1 to %d characters", SLUG_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return error_set(err, SKIFF_EINVALID, "invalid_slug",
					 "slug may contain only a-z, 0-9 and '-'");
	}
	if (s[0] == '-' || s[n - 1] == '-')
		return error_set(err, SKIFF_EINVALID, "invalid_slug",
				 "slug must not start or end with '-'");
	if (strstr(s, "--"))
		return error_set(err, SKIFF_EINVALID, "invalid_slug",
				 "slug must not contain '--' (reserved for deployment URLs)");
	return 0;
}

/* The loopback names allowed with allow_local. */
static int validate_loopback_host(const char *h, size_t n)
{
	return (n == 9 && !strncasecmp(h, "localhost", 9)) || (n == 9 && !strncmp(h, "127.0.0.1", 9)) ||
	       (n == 5 && !strncmp(h, "[::1]", 5));
}

/* A host that names this machine or a private network in any spelling: *.localhost, an IPv4
 * literal in a non-public range, a number (2130706433, 0x7f000001), any IPv6 literal. */
static int validate_internal_host(const char *h, size_t n)
{
	char host[256];
	if (n >= sizeof(host))
		return 1;
	memcpy(host, h, n);
	host[n] = '\0';
	for (size_t i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)host[i]);
	if (host[0] == '[')
		return 1;
	if (!strcmp(host, "localhost") || (n > 10 && !strcmp(host + n - 10, ".localhost")))
		return 1;
	/* a host of digits, dots and hex notation is an address, whatever its spelling */
	int alpha = 0;
	for (size_t i = 0; i < n; i++)
		if (isalpha((unsigned char)host[i]))
			alpha = 1;
	if (!alpha || !strncmp(host, "0x", 2) || strstr(host, ".0x")) {
		struct in_addr a;
		if (inet_pton(AF_INET, host, &a) != 1)
			return 1; /* 127.1, 2130706433, 0x7f000001, 017700000001: refuse */
		unsigned long ip = ntohl(a.s_addr);
		unsigned b0 = (unsigned)(ip >> 24), b1 = (unsigned)(ip >> 16) & 255;
		return b0 == 0 || b0 == 10 || b0 == 127 || (b0 == 169 && b1 == 254) ||
		       (b0 == 172 && b1 >= 16 && b1 <= 31) || (b0 == 192 && b1 == 168) ||
		       (b0 == 100 && b1 >= 64 && b1 <= 127) || b0 >= 224;
	}
	return 0;
}

/* Where a validated URL's host is, and how it is reached. */
struct validate_url {
	const char *host;          /* a name, an IPv4 literal or [IPv6] */
	size_t host_len;
	bool https, ssh;
};

/* The host part of an authority: letters, digits, '-', '.', and an optional :port (not for
 * scp-like URLs); or [IPv6]. auth_len covers host and port. */
static int validate_url_host(const char *rest, size_t auth_len, bool port_allowed,
			     struct validate_url *u, struct error *err)
{
	size_t host_len = auth_len;
	const char *colon = NULL;
	if (auth_len == 0)
		return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL has no host");
	if (rest[0] == '[') {
		const char *close = memchr(rest, ']', auth_len);
		if (!close)
			return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL host is malformed");
		host_len = (size_t)(close - rest) + 1;
		if (host_len < auth_len) {
			if (rest[host_len] != ':')
				return error_set(err, SKIFF_EINVALID, "invalid_git_url",
						 "gitURL host is malformed");
			colon = rest + host_len;
		}
	} else {
		colon = memchr(rest, ':', auth_len);
		if (colon)
			host_len = (size_t)(colon - rest);
		for (size_t i = 0; i < host_len; i++) {
			char c = rest[i];
			if (!(isalnum((unsigned char)c) || c == '-' || c == '.'))
				return error_set(err, SKIFF_EINVALID, "invalid_git_url",
						 "gitURL host contains '%c'", c);
		}
		if (host_len == 0 || rest[0] == '-' || rest[0] == '.' || rest[host_len - 1] == '.' ||
		    memmem(rest, host_len, "..", 2))
			return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL host is malformed");
	}
	if (colon && !port_allowed)
		return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL host is malformed");
	if (colon) {
		const char *p = colon + 1, *end = rest + auth_len;
		unsigned long port = 0;
		if (p == end || end - p > 5)
			return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL port is malformed");
		for (; p < end; p++) {
			if (!isdigit((unsigned char)*p))
				return error_set(err, SKIFF_EINVALID, "invalid_git_url",
						 "gitURL port is malformed");
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port < 1 || port > 65535)
			return error_set(err, SKIFF_EINVALID, "invalid_git_url",
					 "gitURL port must be 1 to 65535");
	}
	u->host = rest;
	u->host_len = host_len;
	return 0;
}

/* The user of an ssh URL (before '@'): a login name, never a password. */
static int validate_url_user(const char *user, size_t n, struct error *err)
{
	if (memchr(user, ':', n))
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must not contain credentials; use a deploy key or a token");
	if (n == 0 || n > VALIDATE_SSH_USER_MAX || user[0] == '-')
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "the user of an ssh gitURL must be 1 to %d characters, not starting "
				 "with '-'", VALIDATE_SSH_USER_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = user[i];
		if (!(isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_'))
			return error_set(err, SKIFF_EINVALID, "invalid_git_url",
					 "the user of an ssh gitURL may contain only a-z, A-Z, 0-9, "
					 "'.', '_' and '-'");
	}
	return 0;
}

/* ssh://[user@]host[:port]/path, or scp-like user@host:path (rest is after "ssh://" or the
 * whole URL). */
static int validate_url_ssh(const char *rest, bool scp, struct validate_url *u,
			    struct error *err)
{
	int rc;
	const char *at = memchr(rest, '@', strcspn(rest, "/?#"));
	if (at) {
		if ((rc = validate_url_user(rest, (size_t)(at - rest), err)) < 0)
			return rc;
		rest = at + 1;
	} else if (scp) {
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "an scp-like gitURL names its user: git@host:owner/repo.git");
	}
	size_t auth_len = strcspn(rest, scp ? "/:" : "/?#");
	if (scp && rest[0] == '[') /* git@[2001:db8::1]:repo.git */
		auth_len = strchr(rest, ']') ? (size_t)(strchr(rest, ']') - rest) + 1 : auth_len;
	if (memchr(rest, '@', auth_len))
		return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL host is malformed");
	if ((rc = validate_url_host(rest, auth_len, !scp, u, err)) < 0)
		return rc;
	const char *path = rest + auth_len;
	if (scp ? (path[0] != ':' || path[1] == '\0' || path[1] == '-' || path[1] == ':')
		: (path[0] != '/' || path[1] == '\0'))
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must name a repository path");
	if (strchr(path, '?') || strchr(path, '#'))
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must not carry a query or fragment");
	u->ssh = true;
	return 0;
}

/* https:// or http:// (rest is after the scheme). */
static int validate_url_http(const char *rest, struct validate_url *u, struct error *err)
{
	size_t auth_len = strcspn(rest, "/?#");
	if (memchr(rest, '@', auth_len))
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must not contain credentials; use a deploy key or a token");
	if (auth_len == 0)
		return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL has no host");
	if (rest[auth_len] != '/' || rest[auth_len + 1] == '\0')
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must name a repository path");
	if (strchr(rest, '?') || strchr(rest, '#'))
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must not carry a query or fragment");
	return validate_url_host(rest, auth_len, true, u, err);
}

/* Whether s is an scp-like URL (user@host:path): no scheme, and a ':' before any '/'. */
static bool validate_url_scp(const char *s)
{
	size_t n = strcspn(s, "/:");
	return s[n] == ':' && strncmp(s + n, "://", 3) != 0 && memchr(s, '@', n) != NULL;
}

static int validate_git_url_parse(const char *s, bool allow_local, struct validate_url *u,
				  struct error *err)
{
	size_t n = s ? strlen(s) : 0;
	memset(u, 0, sizeof(*u));
	if (n == 0)
		return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL is required");
	if (n > GIT_URL_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL is longer than %d bytes", GIT_URL_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f || c == '\\')
			return error_set(err, SKIFF_EINVALID, "invalid_git_url",
					 "gitURL must not contain spaces, control characters or '\\'");
	}
	if (allow_local && !strncmp(s, "file:///", 8)) {
		if (strstr(s, "/../") || (n >= 3 && !strcmp(s + n - 3, "/..")))
			return error_set(err, SKIFF_EINVALID, "invalid_git_url",
					 "file URL must not contain '..'");
		return 0;
	}
	int rc;
	if (!strncasecmp(s, "https://", 8)) {
		u->https = true;
		rc = validate_url_http(s + 8, u, err);
	} else if (!strncasecmp(s, "http://", 7)) {
		rc = validate_url_http(s + 7, u, err);
	} else if (!strncasecmp(s, "ssh://", 6)) {
		rc = validate_url_ssh(s + 6, false, u, err);
	} else if (s[0] != '-' && validate_url_scp(s)) {
		rc = validate_url_ssh(s, true, u, err);
	} else {
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 allow_local ? "gitURL must be an https://, ssh://, user@host:path, "
					       "http://localhost or file:/// URL"
					     : "gitURL must be an https://, ssh:// or user@host:path URL");
	}
	if (rc < 0)
		return rc;
	bool loopback = allow_local && validate_loopback_host(u->host, u->host_len);
	if (!loopback && validate_internal_host(u->host, u->host_len))
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must not point at this machine or a private network");
	if (!u->https && !u->ssh && !loopback)
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must be an https:// URL (http:// only to this machine with "
				 "allow_local_git)");
	return 0;
}

int validate_git_url(const char *s, bool allow_local, struct error *err)
{
	struct validate_url u;
	return validate_git_url_parse(s, allow_local, &u, err);
}

bool validate_git_url_ssh(const char *s)
{
	struct validate_url u;
	return validate_git_url_parse(s, true, &u, NULL) == 0 && u.ssh;
}

int validate_git_url_host(const char *s, char *out, size_t outlen)
{
	struct validate_url u;
	if (validate_git_url_parse(s, true, &u, NULL) < 0 || !u.host)
		return SKIFF_EINVALID;
	/* the port, when one follows the host (never in an scp-like URL) */
	size_t n = u.host_len;
	if (u.host[n] == ':' && (u.https || !strncasecmp(s, "ssh://", 6) ||
				 !strncasecmp(s, "http://", 7)))
		n += 1 + strcspn(u.host + n + 1, "/");
	if (n >= outlen)
		return SKIFF_EINVALID;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)u.host[i]);
	out[n] = '\0';
	return 0;
}

int validate_git_url_resolved(const char *s, bool allow_local,
			      const struct addr_resolver *resolver, struct error *err)
{
	struct validate_url u;
	int rc = validate_git_url_parse(s, allow_local, &u, err);
	if (rc < 0 || allow_local)
		return rc;
	char h[256];
	if (u.host_len >= sizeof(h))
		return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL host is too long");
	memcpy(h, u.host, u.host_len);
	h[u.host_len] = '\0';
	return addr_host_check(h, resolver, "invalid_git_url", err);
}

int validate_branch(const char *s, struct error *err)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > BRANCH_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_branch",
				 "branch must be 1 to %d characters", BRANCH_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c))
			return error_set(err, SKIFF_EINVALID, "invalid_branch",
					 "branch contains a character git does not allow");
	}
	if (s[0] == '-' || s[0] == '/' || s[n - 1] == '/' || s[n - 1] == '.' || strstr(s, "..") ||
	    strstr(s, "//") || strstr(s, "@{") || strstr(s, "/.") || s[0] == '.' || !strcmp(s, "@"))
		return error_set(err, SKIFF_EINVALID, "invalid_branch", "branch is not a valid git ref name");
	/* no component may end in ".lock" */
	for (const char *c = s; *c;) {
		size_t len = strcspn(c, "/");
		if (len >= 5 && !strncmp(c + len - 5, ".lock", 5))
			return error_set(err, SKIFF_EINVALID, "invalid_branch",
					 "branch is not a valid git ref name (a part ends in .lock)");
		c += len;
		if (*c == '/')
			c++;
	}
	return 0;
}

int validate_command(const char *s, const char *field, struct error *err)
{
	size_t n = strlen(s);
	if (n > COMMAND_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_command", "%s is longer than %d bytes",
				 field, COMMAND_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t')
			return error_set(err, SKIFF_EINVALID, "invalid_command",
					 "%s must be one line without control characters", field);
	}
	return 0;
}

int validate_output_dir(const char *s, struct error *err)
{
	size_t n = strlen(s);
	if (n > OUTPUT_DIR_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_output_directory",
				 "outputDirectory is longer than %d bytes", OUTPUT_DIR_MAX);
	if (s[0] == '/')
		return error_set(err, SKIFF_EINVALID, "invalid_output_directory",
				 "outputDirectory must be relative to the repository");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			return error_set(err, SKIFF_EINVALID, "invalid_output_directory",
					 "outputDirectory contains a control character or '\\'");
	}
	/* no ".." segment */
	const char *p = s;
	while (*p) {
		size_t seg = strcspn(p, "/");
		if (seg == 2 && p[0] == '.' && p[1] == '.')
			return error_set(err, SKIFF_EINVALID, "invalid_output_directory",
					 "outputDirectory must not contain '..'");
		p += seg;
		if (*p == '/')
			p++;
	}
	return 0;
}

int validate_slug_from_url(const char *url, char *out, size_t outlen)
{
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	size_t start = n;
	while (start && url[start - 1] != '/' && url[start - 1] != ':')
		start--;
	size_t end = n;
	if (end - start > 4 && !strncmp(url + end - 4, ".git", 4))
		end -= 4;
	size_t j = 0;
	bool dash = true; /* suppress leading '-' */
	for (size_t i = start; i < end && j + 1 < outlen && j < SLUG_MAX; i++) {
		char c = (char)tolower((unsigned char)url[i]);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			out[j++] = c;
			dash = false;
		} else if (!dash) {
			out[j++] = '-';
			dash = true;
		}
	}
	while (j && out[j - 1] == '-')
		j--;
	out[j] = '\0';
	return j ? 0 : SKIFF_EINVALID;
}
