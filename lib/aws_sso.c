/* aws_sso.c — the cached IAM Identity Center token and the portal's GetRoleCredentials
 * request and answer, as botocore reads and makes them. */
#include "aws_sso.h"
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void aws_sso_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

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

int aws_sso_token(const struct aws_sso *s, char *token, size_t cap, char *expires_at,
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
	aws_sso_wipe(chunk, sizeof(chunk));
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
		aws_sso_wipe(b.data, b.cap);
	buf_dispose(&b);
	return rc;
}

int aws_sso_answer(const char *body, size_t len, struct aws_creds *c, struct error *err)
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
