/* aws_sts.c — the two STS calls of the credential chain: AssumeRole (signed with the
 * source's credentials) and AssumeRoleWithWebIdentity (unsigned), their XML answers read. */
#include "aws_sts.h"
#include "buf.h"
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AWS_WEB_TOKEN_MAX 16384

/* The text of <tag>...</tag> in xml (no entities: keys, tokens and dates have none) into
 * out; false when absent or too long. */
static bool aws_xml_text(const char *xml, const char *tag, char *out, size_t cap)
{
	char open_tag[64], close_tag[64];
	snprintf(open_tag, sizeof(open_tag), "<%s>", tag);
	snprintf(close_tag, sizeof(close_tag), "</%s>", tag);
	const char *p = strstr(xml, open_tag);
	const char *e = p ? strstr(p, close_tag) : NULL;
	if (!e)
		return false;
	p += strlen(open_tag);
	size_t n = (size_t)(e - p);
	if (n == 0 || n >= cap || memchr(p, '&', n))
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* STS's endpoint: AWS_ENDPOINT_URL_STS, else the regional one of AWS_REGION /
 * AWS_DEFAULT_REGION, else https://sts.amazonaws.com. Returns the signing region. */
static const char *aws_sts_url(char *url, size_t cap)
{
	const char *ep = getenv("AWS_ENDPOINT_URL_STS");
	const char *region = getenv("AWS_REGION");
	if (!region || !*region)
		region = getenv("AWS_DEFAULT_REGION");
	if (!region || !*region || strlen(region) >= 64)
		region = NULL;
	if (ep && *ep)
		snprintf(url, cap, "%s", ep);
	else if (region)
		snprintf(url, cap, "https://sts.%s.%s/", region, aws_dns_suffix(region));
	else
		snprintf(url, cap, "https://sts.amazonaws.com/");
	return region ? region : "us-east-1";
}

/* The credentials in an STS answer (AssumeRole, AssumeRoleWithWebIdentity) into *c. */
static int aws_sts_answer(struct buf *body, const char *what, struct aws_creds *c,
			  struct error *err)
{
	char exp[64];
	bool ok = buf_append(body, "", 1) == 0; /* a C string for strstr */
	const char *xml = ok ? body->data : "";
	memset(c, 0, sizeof(*c));
	if (!ok || !aws_xml_text(xml, "AccessKeyId", c->access_key, sizeof(c->access_key)) ||
	    !aws_xml_text(xml, "SecretAccessKey", c->secret_key, sizeof(c->secret_key)) ||
	    !aws_xml_text(xml, "SessionToken", c->token, sizeof(c->token)) ||
	    !aws_xml_text(xml, "Expiration", exp, sizeof(exp)) || aws_time_parse(exp) <= 0) {
		OPENSSL_cleanse(c, sizeof(*c));
		return error_set(err, SKIFF_EAUTH, "no_credentials", "%s answered without usable keys",
				 what);
	}
	c->expires_ms = aws_time_parse(exp);
	return 0;
}

int aws_sts_web_identity(const char *file, const char *role, const char *session,
			 struct aws_creds *c, struct error *err)
{
	if (!session || !*session)
		session = "skiff";
	char jwt[AWS_WEB_TOKEN_MAX], url[AWS_URL_MAX];
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, SKIFF_EAUTH, "no_credentials",
				 "cannot read the web identity token file %s: %s", file,
				 strerror(errno));
	ssize_t n = read(fd, jwt, sizeof(jwt));
	close(fd);
	while (n > 0 && (jwt[n - 1] == '\n' || jwt[n - 1] == '\r' || jwt[n - 1] == ' '))
		n--;
	if (n <= 0 || (size_t)n >= sizeof(jwt)) {
		OPENSSL_cleanse(jwt, sizeof(jwt));
		return error_set(err, SKIFF_EAUTH, "no_credentials",
				 "the web identity token file %s is empty or longer than %d bytes",
				 file, AWS_WEB_TOKEN_MAX - 1);
	}
	jwt[n] = '\0';
	aws_sts_url(url, sizeof(url));
	CURL *h = curl_easy_init();
	if (!h)
		abort();
	char *ejwt = curl_easy_escape(h, jwt, (int)n);
	char *erole = curl_easy_escape(h, role, 0);
	char *esession = curl_easy_escape(h, session, 0);
	curl_easy_cleanup(h);
	OPENSSL_cleanse(jwt, sizeof(jwt));
	if (!ejwt || !erole || !esession)
		abort();
	size_t dn = strlen(ejwt) + strlen(erole) + strlen(esession) + 160;
	char *data = malloc(dn);
	if (!data)
		abort();
	snprintf(data, dn,
		 "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s"
		 "&RoleSessionName=%s&WebIdentityToken=%s", erole, esession, ejwt);
	OPENSSL_cleanse(ejwt, strlen(ejwt));
	curl_free(ejwt);
	curl_free(erole);
	curl_free(esession);
	struct buf body = BUF_INIT(AWS_CREDS_BODY_MAX);
	int rc = aws_http_call("POST", url, "Content-Type: application/x-www-form-urlencoded", data,
			       3, AWS_CREDS_TIMEOUT_MS, &body, "STS AssumeRoleWithWebIdentity", err);
	OPENSSL_cleanse(data, dn);
	free(data);
	if (rc == 0)
		rc = aws_sts_answer(&body, "STS AssumeRoleWithWebIdentity", c, err);
	if (body.data)
		OPENSSL_cleanse(body.data, body.cap);
	buf_dispose(&body);
	return rc;
}

int aws_sts_assume_role(const struct aws_role *r, const struct aws_creds *src,
			struct aws_creds *out, struct error *err)
{
	char url[AWS_URL_MAX], what[AWS_PROFILE_NAME_MAX + 64];
	const char *region = aws_sts_url(url, sizeof(url));
	snprintf(what, sizeof(what), "STS AssumeRole (profile %s)", r->profile);
	CURL *h = curl_easy_init();
	if (!h)
		abort();
	char *erole = curl_easy_escape(h, r->arn, 0);
	char *esession = curl_easy_escape(h, r->session_name[0] ? r->session_name : "skiff", 0);
	char *eext = curl_easy_escape(h, r->external_id, 0);
	char *edur = curl_easy_escape(h, r->duration, 0);
	if (!erole || !esession || !eext || !edur)
		abort();
	struct buf form = BUF_INIT(16 * AWS_ROLE_MAX);
	if (buf_printf(&form, "Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=%s",
		       erole, esession) < 0 ||
	    (eext[0] && buf_printf(&form, "&ExternalId=%s", eext) < 0) ||
	    (edur[0] && buf_printf(&form, "&DurationSeconds=%s", edur) < 0) ||
	    buf_append(&form, "", 1) < 0)
		abort(); /* bounded by the profile's field sizes */
	curl_free(erole);
	curl_free(esession);
	curl_free(eext);
	curl_free(edur);
	char hash[HASH_HEX_LEN + 1];
	hash_buffer(form.data, form.len - 1, hash);
	struct curl_slist *hdrs =
		curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	struct buf body = BUF_INIT(AWS_CREDS_BODY_MAX);
	int rc = aws_sign(h, &hdrs, src, region, "sts", "POST", url, hash, err);
	if (rc == 0)
		rc = aws_http_perform(h, "POST", url, hdrs, form.data, 3, AWS_CREDS_TIMEOUT_MS, &body,
				      what, err);
	if (rc == 0)
		rc = aws_sts_answer(&body, what, out, err);
	for (struct curl_slist *l = hdrs; l; l = l->next)
		OPENSSL_cleanse(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	buf_dispose(&form);
	if (body.data)
		OPENSSL_cleanse(body.data, body.cap);
	buf_dispose(&body);
	return rc;
}
