/* validate.c — checks for slugs, git URLs, branch names and build settings. */
#include "validate.h"

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

static int validate_loopback_host(const char *h, size_t n)
{
	return (n == 9 && !strncasecmp(h, "localhost", 9)) || (n == 9 && !strncmp(h, "127.0.0.1", 9)) ||
	       (n == 5 && !strncmp(h, "[::1]", 5));
}

int validate_git_url(const char *s, bool allow_local, struct error *err)
{
	size_t n = s ? strlen(s) : 0;
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
	const char *rest;
	bool https = false;
	if (!strncasecmp(s, "https://", 8)) {
		rest = s + 8;
		https = true;
	} else if (!strncasecmp(s, "http://", 7)) {
		rest = s + 7;
	} else {
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 allow_local ? "gitURL must be an https://, http://localhost or file:/// URL"
					     : "gitURL must be an https:// URL");
	}
	size_t auth_len = strcspn(rest, "/?#");
	if (memchr(rest, '@', auth_len))
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must not contain credentials; use a deploy key or a public URL");
	if (auth_len == 0)
		return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL has no host");
	if (rest[auth_len] != '/' || rest[auth_len + 1] == '\0')
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must name a repository path");
	if (strchr(rest, '?') || strchr(rest, '#'))
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must not carry a query or fragment");
	/* host part: letters, digits, '-', '.', and an optional :port; or [::1] */
	size_t host_len = auth_len;
	const char *colon = NULL;
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
		if (host_len == 0 || rest[0] == '-' || rest[0] == '.')
			return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL host is malformed");
	}
	if (colon) {
		const char *p = colon + 1, *end = rest + auth_len;
		if (p == end || end - p > 5)
			return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL port is malformed");
		for (; p < end; p++)
			if (!isdigit((unsigned char)*p))
				return error_set(err, SKIFF_EINVALID, "invalid_git_url",
						 "gitURL port is malformed");
	}
	bool loopback = validate_loopback_host(rest, host_len);
	if (loopback && !allow_local)
		return error_set(err, SKIFF_EINVALID, "invalid_git_url",
				 "gitURL must not point at this machine");
	if (!https && !loopback)
		return error_set(err, SKIFF_EINVALID, "invalid_git_url", "gitURL must be an https:// URL");
	return 0;
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
	    strstr(s, "//") || strstr(s, "@{") || strstr(s, "/.") || s[0] == '.' ||
	    (n >= 5 && !strcmp(s + n - 5, ".lock")) || !strcmp(s, "@"))
		return error_set(err, SKIFF_EINVALID, "invalid_branch", "branch is not a valid git ref name");
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
