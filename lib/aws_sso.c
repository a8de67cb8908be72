/* aws_sso.c — the cached IAM Identity Center token and the portal's GetRoleCredentials
 * request and answer, as botocore reads and makes them. */
#include "aws_sso.h"
#include "buf.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int aws_sso_cache_path(const struct aws_sso *s, char *path, size_t cap)
{
	const char *key = s->session[0] ? s->session : s->start_url;
	const char *home = getenv("HOME");
	unsigned char md[SHA_DIGEST_LENGTH];
	char hex[2 * SHA_DIGEST_LENGTH + 1];
	if (!home || !*home)
		return -1;
	SHA1((const unsigned char *)key, strlen(key), md);
	for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	int n = snprintf(path, cap, "%s/.aws/sso/cache/%s.json", home, hex);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The cached "accessToken" into token (cap bytes) and "expiresAt" as written into
 * expires_at (ecap bytes); 0, or SKIFF_EAUTH telling to run `aws sso login`. */
static int aws_sso_token(const struct aws_sso *s, char *token, size_t cap, char *expires_at,
			 size_t ecap, struct error *err)
{
	const char *who = s->session[0] ? s->session : s->start_url;
	char path[4096];
	if (aws_sso_cache_path(s, path, sizeof(path)) < 0)
		return error_set(err, SKIFF_EAUTH, "no_credentials",
				 "SSO %s: no home directory for ~/.aws/sso/cache", who);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, SKIFF_EAUTH, "no_credentials",
				 "SSO %s: no cached token (%s: %s); run `aws sso login%s%s` as "
				 "skiff's user", who, path, strerror(errno),
				 s->session[0] ? " --sso-session " : "", s->session);
	struct buf b = BUF_INIT(AWS_SSO_CACHE_MAX);
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&b, chunk, (size_t)n) < 0)
			break;
	close(fd);
	OPENSSL_cleanse(chunk, sizeof(chunk));
	json_t *doc = n == 0 ? json_loadb(b.data ? b.data : "", b.len, 0, NULL) : NULL;
	const char *tok = json_string_value(json_object_get(doc, "accessToken"));
	const char *exp = json_string_value(json_object_get(doc, "expiresAt"));
	int rc = 0;
	if (!tok || !*tok || strlen(tok) >= cap || !exp || !*exp || strlen(exp) >= ecap)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "SSO %s: %s has no usable accessToken and expiresAt; run `aws sso "
			       "login` again", who, path);
	else {
		snprintf(token, cap, "%s", tok);
		snprintf(expires_at, ecap, "%s", exp);
	}
	json_decref(doc);
	if (b.data)
		OPENSSL_cleanse(b.data, b.cap);
	buf_dispose(&b);
	return rc;
}

/* The "roleCredentials" of a GetRoleCredentials answer into *c (expiration in ms). */
static int aws_sso_answer(const char *body, size_t len, struct aws_creds *c,
			  struct error *err)
{
	json_t *doc = json_loadb(body ? body : "", len, 0, NULL);
	json_t *rc_ = json_object_get(doc, "roleCredentials");
	const char *ak = json_string_value(json_object_get(rc_, "accessKeyId"));
	const char *sk = json_string_value(json_object_get(rc_, "secretAccessKey"));
	const char *tok = json_string_value(json_object_get(rc_, "sessionToken"));
	json_t *exp = json_object_get(rc_, "expiration");
	int rc = 0;
	memset(c, 0, sizeof(*c));
	if (!ak || !sk || !tok || !*ak || !*sk || strlen(ak) >= AWS_KEY_MAX ||
	    strlen(sk) >= AWS_KEY_MAX || strlen(tok) >= AWS_TOKEN_MAX || !json_is_integer(exp) ||
	    json_integer_value(exp) <= 0)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "SSO GetRoleCredentials answered without usable roleCredentials");
	else {
		snprintf(c->access_key, sizeof(c->access_key), "%s", ak);
		snprintf(c->secret_key, sizeof(c->secret_key), "%s", sk);
		snprintf(c->token, sizeof(c->token), "%s", tok);
		c->expires_ms = (long long)json_integer_value(exp);
	}
	json_decref(doc);
	return rc;
}

/* GetRoleCredentials' URL: AWS_ENDPOINT_URL_SSO, else https://portal.sso.{region}.{suffix},
 * then /federation/credentials?account_id=..&role_name=.. (encoded). 0 or -1 (too long). */
static int aws_sso_url(const struct aws_sso *s, char *url, size_t cap)
{
	const char *ep = getenv("AWS_ENDPOINT_URL_SSO");
	size_t used = 0;
	int n = ep && *ep ? snprintf(url, cap, "%s", ep)
			  : snprintf(url, cap, "https://portal.sso.%s.%s", s->region,
				     aws_dns_suffix(s->region));
	if (n < 0 || (size_t)n >= cap)
		return -1;
	used = (size_t)n;
	while (used && url[used - 1] == '/')
		used--;
	n = snprintf(url + used, cap - used, "/federation/credentials?account_id=");
	if (n < 0 || (size_t)n >= cap - used)
		return -1;
	used += (size_t)n;
	if (aws_uri_encode(url, cap, &used, s->account_id, strlen(s->account_id), false) < 0)
		return -1;
	n = snprintf(url + used, cap - used, "&role_name=");
	if (n < 0 || (size_t)n >= cap - used)
		return -1;
	used += (size_t)n;
	return aws_uri_encode(url, cap, &used, s->role_name, strlen(s->role_name), false);
}

int aws_sso_fetch(const struct aws_sso *s, struct aws_creds *c, struct error *err)
{
	char token[AWS_SSO_TOKEN_MAX], url[AWS_URL_MAX], line[AWS_SSO_TOKEN_MAX + 64], exp[64];
	const char *who = s->session[0] ? s->session : s->start_url;
	int rc = aws_sso_token(s, token, sizeof(token), exp, sizeof(exp), err);
	if (rc < 0)
		return rc;
	long long expires = aws_time_parse(exp);
	if (expires <= clock_wall_ms()) {
		OPENSSL_cleanse(token, sizeof(token));
		return error_set(err, SKIFF_EAUTH, "no_credentials",
				 expires < 0 ? "SSO %s: the cached token's expiresAt %s is unreadable; "
					       "run `aws sso login%s%s` as skiff's user"
					     : "SSO %s: the cached token expired at %s; run `aws sso "
					       "login%s%s` as skiff's user",
				 who, exp, s->session[0] ? " --sso-session " : "", s->session);
	}
	snprintf(line, sizeof(line), "x-amz-sso_bearer_token: %s", token);
	OPENSSL_cleanse(token, sizeof(token));
	struct buf body = BUF_INIT(AWS_CREDS_BODY_MAX);
	if (aws_sso_url(s, url, sizeof(url)) < 0)
		rc = error_set(err, SKIFF_EAUTH, "invalid_config",
			       "SSO: the portal's URL for account %s and role %s is too long",
			       s->account_id, s->role_name);
	else
		rc = aws_http_call("GET", url, line, NULL, 3, AWS_CREDS_TIMEOUT_MS, &body,
				   "the SSO portal (GetRoleCredentials)", err);
	OPENSSL_cleanse(line, sizeof(line));
	if (rc < 0 && strstr(err->message, "answered HTTP 401"))
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "SSO %s: the portal refused the cached token (expired or signed "
			       "out); run `aws sso login%s%s` as skiff's user",
			       who, s->session[0] ? " --sso-session " : "", s->session);
	if (rc == 0)
		rc = aws_sso_answer(body.data, body.len, c, err);
	if (body.data)
		OPENSSL_cleanse(body.data, body.cap);
	buf_dispose(&body);
	return rc;
}
