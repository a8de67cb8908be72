/* aws_auth.c — the AWS credential chain in botocore's order: skiff's configuration, the
 * environment, a profile (roles, chained roles, web identity, SSO, keys, credential_process:
 * aws_profile.c resolves it), web identity, the ECS container endpoint, EC2 IMDSv2; the
 * source chosen once, its temporary credentials refreshed before they expire. */
#include "aws_auth.h"
#include "aws_process.h"
#include "aws_profile.h"
#include "aws_sso.h"
#include "aws_sts.h"
#include "buf.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define AWS_REFRESH_MAX_MS (5 * 60 * 1000LL)
#define AWS_IMDS_HOST "http://169.254.169.254"
#define AWS_IMDS_TIMEOUT_MS 1000L
#define AWS_FAIL_HOLD_MS 5000LL            /* a failed credential fetch is not retried sooner */
#define AWS_SKEW_MAX_MS (4 * 60 * 1000LL)  /* AWS refuses signatures 5 minutes off */

struct aws_auth {
	char cfg_access[AWS_KEY_MAX];
	char cfg_secret[AWS_KEY_MAX];
	struct aws_creds cur;
	bool have;
	long long fetched_ms;
	unsigned fetches;
	long long skew_ms;            /* the services' clock minus ours */
	long long failed_until_ms;    /* monotonic: a failed fetch is not repeated before */
	struct error failure;         /* ... and is answered with this */
	const char *logged;           /* the source last named in the log */
	bool chosen;                  /* the source is known: the fields below say which */
	bool web_identity;            /* AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN */
	struct aws_profile *prof;     /* a profile whose credentials are fetched (not keys) */
};

static void aws_copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

struct aws_auth *aws_auth_new(const char *access_key, const char *secret_key)
{
	struct aws_auth *a = calloc(1, sizeof(*a));
	if (!a)
		abort();
	aws_copy(a->cfg_access, sizeof(a->cfg_access), access_key);
	aws_copy(a->cfg_secret, sizeof(a->cfg_secret), secret_key);
	return a;
}

void aws_auth_free(struct aws_auth *a)
{
	if (!a)
		return;
	if (a->prof) {
		OPENSSL_cleanse(a->prof, sizeof(*a->prof));
		free(a->prof);
	}
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

unsigned aws_auth_fetches(const struct aws_auth *a)
{
	return a->fetches;
}

/* Temporary credentials just fetched from source become the current ones. */
static void aws_creds_set(struct aws_auth *a, const char *ak, const char *sk, const char *tok,
			  long long expires, const char *source)
{
	aws_copy(a->cur.access_key, sizeof(a->cur.access_key), ak);
	aws_copy(a->cur.secret_key, sizeof(a->cur.secret_key), sk);
	aws_copy(a->cur.token, sizeof(a->cur.token), tok);
	a->cur.expires_ms = expires;
	a->cur.source = source;
	a->have = true;
	a->fetched_ms = clock_wall_ms();
	a->fetches++;
	log_debug("aws credentials fetched source=%s expires_in_ms=%lld", source,
		  expires ? expires - a->fetched_ms : 0);
}

/* Fetches credentials as the ECS agent and IMDS serve them (JSON AccessKeyId,
 * SecretAccessKey, Token, Expiration) into a->cur, from `source`. */
static int aws_creds_fetch(struct aws_auth *a, const char *method, const char *url,
			   const char *header, int retries, long timeout_ms, const char *source,
			   const char *what, struct error *err)
{
	struct buf body = BUF_INIT(AWS_CREDS_BODY_MAX);
	json_t *doc = NULL;
	int rc = aws_http_call(method, url, header, NULL, retries, timeout_ms, &body, what, err);
	if (rc < 0)
		goto out;
	doc = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
	const char *ak = json_string_value(json_object_get(doc, "AccessKeyId"));
	const char *sk = json_string_value(json_object_get(doc, "SecretAccessKey"));
	const char *tok = json_string_value(json_object_get(doc, "Token"));
	const char *exp = json_string_value(json_object_get(doc, "Expiration"));
	if (!ak || !sk || !*ak || !*sk || strlen(ak) >= AWS_KEY_MAX || strlen(sk) >= AWS_KEY_MAX ||
	    (tok && strlen(tok) >= AWS_TOKEN_MAX)) {
		rc = error_set(err, SKIFF_EAUTH, "no_credentials", "%s answered without usable keys",
			       what);
		goto out;
	}
	long long expires = exp ? aws_time_parse(exp) : 0;
	if (expires < 0) {
		rc = error_set(err, SKIFF_EAUTH, "no_credentials", "%s: unreadable Expiration",
			       what);
		goto out;
	}
	aws_creds_set(a, ak, sk, tok, expires, source);
out:
	if (body.data)
		OPENSSL_cleanse(body.data, body.cap);
	buf_dispose(&body);
	json_decref(doc); /* jansson keeps no copy after decref; the body buffer was wiped */
	return rc;
}

/* EC2 IMDSv2: PUT a session token (TTL header), then the instance role's name and its
 * credentials with that token. One attempt with a 1 s timeout per call, as the SDKs do:
 * off EC2 the chain must fail fast. AWS_EC2_METADATA_SERVICE_ENDPOINT replaces
 * http://169.254.169.254 (tests); AWS_EC2_METADATA_DISABLED=true skips IMDS. */
static int aws_imds_fetch(struct aws_auth *a, struct error *err)
{
	const char *base = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	if (!base || !*base)
		base = AWS_IMDS_HOST;
	size_t bn = strlen(base);
	while (bn && base[bn - 1] == '/')
		bn--;
	if (bn > AWS_URL_MAX / 2)
		return error_set(err, SKIFF_EAUTH, "no_credentials",
				 "AWS_EC2_METADATA_SERVICE_ENDPOINT is too long");
	char url[AWS_URL_MAX], line[AWS_TOKEN_MAX + 64], role[256];
	struct buf body = BUF_INIT(AWS_CREDS_BODY_MAX);
	snprintf(url, sizeof(url), "%.*s/latest/api/token", (int)bn, base);
	int rc = aws_http_call("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: 21600", "", 0,
			       AWS_IMDS_TIMEOUT_MS, &body, "the EC2 instance metadata service", err);
	if (rc == 0 && (body.len == 0 || body.len >= AWS_TOKEN_MAX))
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "the EC2 instance metadata service gave no usable token");
	if (rc < 0)
		goto out;
	snprintf(line, sizeof(line), "X-aws-ec2-metadata-token: %.*s", (int)body.len, body.data);
	snprintf(url, sizeof(url), "%.*s/latest/meta-data/iam/security-credentials/", (int)bn, base);
	rc = aws_http_call("GET", url, line, NULL, 0, AWS_IMDS_TIMEOUT_MS, &body,
			   "the EC2 instance metadata service", err);
	if (rc < 0)
		goto out;
	size_t rn = 0;
	while (rn < body.len && body.data[rn] != '\n' && body.data[rn] != '\r')
		rn++;
	bool role_ok = rn > 0 && rn < sizeof(role);
	for (size_t i = 0; role_ok && i < rn; i++)
		role_ok = body.data[i] > ' ' && body.data[i] != '/' && body.data[i] != '?' &&
			  body.data[i] != '#' && (unsigned char)body.data[i] < 0x7f;
	if (!role_ok) {
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "the EC2 instance has no usable IAM role (instance profile)");
		goto out;
	}
	memcpy(role, body.data, rn);
	role[rn] = '\0';
	snprintf(url, sizeof(url), "%.*s/latest/meta-data/iam/security-credentials/%s", (int)bn,
		 base, role);
	rc = aws_creds_fetch(a, "GET", url, line, 0, AWS_IMDS_TIMEOUT_MS, "imds",
			     "the EC2 instance metadata service", err);
out:
	OPENSSL_cleanse(line, sizeof(line));
	if (body.data)
		OPENSSL_cleanse(body.data, body.cap);
	buf_dispose(&body);
	return rc;
}

/* http is allowed only to the ECS agent's addresses and loopback (as the AWS SDKs do). */
static bool aws_container_url_ok(const char *url)
{
	if (!strncmp(url, "https://", 8))
		return true;
	static const char *const ok[] = { "http://169.254.170.2/", "http://169.254.170.23/",
					  "http://[fd00:ec2::23]/", "http://[fd00:ec2::23]:",
					  "http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:",
					  "http://localhost/", "http://[::1]:", "http://[::1]/" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strncmp(url, ok[i], strlen(ok[i])))
			return true;
	return false;
}

/* The authorization token for _FULL_URI: the variable, or the file _TOKEN_FILE names. */
static int aws_container_token(char *out, size_t cap, struct error *err)
{
	out[0] = '\0';
	const char *file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	if (file && *file) {
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return error_set(err, SKIFF_EAUTH, "no_credentials",
					 "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %s",
					 strerror(errno));
		ssize_t n = read(fd, out, cap - 1);
		close(fd);
		if (n < 0)
			n = 0;
		while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
			n--;
		out[n] = '\0';
		return 0;
	}
	aws_copy(out, cap, getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
	return 0;
}

/* The last sources of the chain into a->cur: the container credentials endpoint
 * (_RELATIVE_URI, else _FULL_URI), else IMDSv2 unless AWS_EC2_METADATA_DISABLED=true. */
static int aws_container_fetch(struct aws_auth *a, struct error *err)
{
	char url[AWS_URL_MAX], token[AWS_TOKEN_MAX];
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	token[0] = '\0';
	if (rel && *rel) {
		const char *host = getenv(AWS_CONTAINER_HOST_ENV);
		if (!host || !*host)
			host = AWS_CONTAINER_HOST;
		int n = snprintf(url, sizeof(url), "%s%s%s", host, rel[0] == '/' ? "" : "/", rel);
		if (n < 0 || (size_t)n >= sizeof(url))
			return error_set(err, SKIFF_EAUTH, "no_credentials",
					 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is too long");
	} else if (full && *full) {
		if (strlen(full) >= sizeof(url) || !aws_container_url_ok(full))
			return error_set(err, SKIFF_EAUTH, "no_credentials",
					 "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a loopback "
					 "or ECS agent address");
		aws_copy(url, sizeof(url), full);
		int rc = aws_container_token(token, sizeof(token), err);
		if (rc < 0)
			return rc;
	} else {
		const char *off = getenv("AWS_EC2_METADATA_DISABLED");
		if (off && !strcasecmp(off, "true"))
			return error_set(err, SKIFF_EAUTH, "no_credentials",
					 "no AWS credentials: set s3_access_key/s3_secret_key, "
					 "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, "
					 "or run with a task or instance role");
		return aws_imds_fetch(a, err);
	}
	char line[AWS_TOKEN_MAX + 32];
	line[0] = '\0';
	if (token[0])
		snprintf(line, sizeof(line), "Authorization: %s", token);
	OPENSSL_cleanse(token, sizeof(token));
	int rc = aws_creds_fetch(a, "GET", url, line, 3, AWS_CREDS_TIMEOUT_MS, "container",
				 "the container credentials endpoint", err);
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

/* Web identity from the environment: AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN. */
static bool aws_web_identity_set(void)
{
	const char *f = getenv("AWS_WEB_IDENTITY_TOKEN_FILE"), *r = getenv("AWS_ROLE_ARN");
	return f && *f && r && *r;
}

/* The credentials of a credential_source (Environment, EcsContainer, Ec2InstanceMetadata),
 * or of the base of a source profile, into *c. */
static int aws_base_creds(const struct aws_profile *p, struct aws_creds *c, struct error *err)
{
	int rc;
	memset(c, 0, sizeof(*c));
	c->source = "profile";
	switch (p->base) {
	case AWS_BASE_KEYS:
		aws_copy(c->access_key, sizeof(c->access_key), p->access);
		aws_copy(c->secret_key, sizeof(c->secret_key), p->secret);
		aws_copy(c->token, sizeof(c->token), p->token);
		return 0;
	case AWS_BASE_PROCESS:
		rc = aws_process_creds(p->process, c, err);
		c->source = "process";
		return rc;
	case AWS_BASE_SSO:
		rc = aws_sso_fetch(&p->sso, c, err);
		c->source = "sso";
		return rc;
	case AWS_BASE_WEB_IDENTITY:
		rc = aws_sts_web_identity(p->web_token_file, p->web.arn, p->web.session_name, c,
					    err);
		c->source = "web-identity";
		return rc;
	case AWS_BASE_ENVIRONMENT: {
		const char *ek = getenv("AWS_ACCESS_KEY_ID"), *es = getenv("AWS_SECRET_ACCESS_KEY");
		if (!ek || !es || !*ek || !*es)
			return error_set(err, SKIFF_EAUTH, "no_credentials",
					 "profile %s: credential_source Environment, but "
					 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
					 p->base_profile);
		c->source = "environment";
		aws_copy(c->access_key, sizeof(c->access_key), ek);
		aws_copy(c->secret_key, sizeof(c->secret_key), es);
		aws_copy(c->token, sizeof(c->token), getenv("AWS_SESSION_TOKEN"));
		return 0;
	}
	case AWS_BASE_CONTAINER:
	case AWS_BASE_IMDS: {
		struct aws_auth *src = aws_auth_new("", "");
		rc = p->base == AWS_BASE_CONTAINER ? aws_container_fetch(src, err)
						       : aws_imds_fetch(src, err);
		if (rc == 0)
			*c = src->cur;
		aws_auth_free(src);
		return rc;
	}
	case AWS_BASE_NONE:
		break;
	}
	return error_set(err, SKIFF_EAUTH, "no_credentials", "profile %s has no credentials",
			 p->base_profile);
}

/* The credentials of a profile that are fetched: its base, then each role of its chain in
 * turn, signed with the credentials of the step before. The whole chain is walked again at
 * each refresh, so that every step's credentials are fresh. */
static int aws_profile_fetch(struct aws_auth *a, struct error *err)
{
	const struct aws_profile *p = a->prof;
	struct aws_creds c, next;
	int rc = aws_base_creds(p, &c, err);
	for (int i = 0; rc == 0 && i < p->roles_n; i++) {
		rc = aws_sts_assume_role(&p->roles[i], &c, &next, err);
		c = next;
		c.source = "assume-role";
	}
	if (rc == 0)
		aws_creds_set(a, c.access_key, c.secret_key, c.token, c.expires_ms, c.source);
	OPENSSL_cleanse(&c, sizeof(c));
	OPENSSL_cleanse(&next, sizeof(next));
	return rc;
}

/* The first source in the SDKs' order (botocore's): skiff's configuration, the environment's
 * keys (unless AWS_PROFILE names a profile: then it is meant, as with the JS SDK v3 and the
 * CLI's --profile), the profile's role (chain), web identity from the environment, then the
 * rest of the profile (its web identity, SSO, keys of the credentials file,
 * credential_process, keys of the config file), then the container endpoint or IMDS
 * (aws_container_fetch). Static keys become a->cur at once; the others are fetched by
 * aws_fetch. A bad profile is an error. */
static int aws_choose(struct aws_auth *a, struct error *err)
{
	const char *ek = getenv("AWS_ACCESS_KEY_ID"), *es = getenv("AWS_SECRET_ACCESS_KEY");
	const char *named = getenv("AWS_PROFILE");
	const char *keys[3] = { NULL, NULL, NULL }, *source = NULL;
	bool env_keys = ek && es && *ek && *es;
	if (a->cfg_access[0] && a->cfg_secret[0]) {
		keys[0] = a->cfg_access, keys[1] = a->cfg_secret, source = "config";
	} else if (env_keys && (!named || !*named)) {
		keys[0] = ek, keys[1] = es, keys[2] = getenv("AWS_SESSION_TOKEN");
		source = "environment";
	} else {
		if (env_keys) /* a profile named on purpose wins, as in the JS SDK v3 and the CLI's
			       * --profile */
			log_warn("aws credentials: AWS_PROFILE is set, AWS_ACCESS_KEY_ID is ignored");
		struct aws_profile *p = calloc(1, sizeof(*p));
		if (!p)
			abort();
		int rc = aws_profile_resolve(aws_profile_name(), p, err);
		if (rc < 0) {
			free(p);
			return rc;
		}
		if (!p->roles_n && aws_web_identity_set()) {
			a->web_identity = true;
		} else if (p->roles_n || (p->base != AWS_BASE_NONE && p->base != AWS_BASE_KEYS)) {
			a->prof = p;
			p = NULL;
		} else if (p->base == AWS_BASE_KEYS) {
			aws_copy(a->cur.access_key, sizeof(a->cur.access_key), p->access);
			aws_copy(a->cur.secret_key, sizeof(a->cur.secret_key), p->secret);
			aws_copy(a->cur.token, sizeof(a->cur.token), p->token);
			a->cur.source = "profile";
			a->have = true;
		}
		if (p) {
			OPENSSL_cleanse(p, sizeof(*p));
			free(p);
		}
	}
	if (source) {
		aws_copy(a->cur.access_key, sizeof(a->cur.access_key), keys[0]);
		aws_copy(a->cur.secret_key, sizeof(a->cur.secret_key), keys[1]);
		aws_copy(a->cur.token, sizeof(a->cur.token), keys[2]);
		a->cur.source = source;
		a->have = true;
	}
	a->chosen = true;
	return 0;
}

/* Fetches the chosen source's temporary credentials into a->cur. */
static int aws_fetch(struct aws_auth *a, struct error *err)
{
	if (a->prof)
		return aws_profile_fetch(a, err);
	if (a->web_identity) {
		struct aws_creds c;
		int rc = aws_sts_web_identity(getenv("AWS_WEB_IDENTITY_TOKEN_FILE"),
						getenv("AWS_ROLE_ARN"), getenv("AWS_ROLE_SESSION_NAME"),
						&c, err);
		if (rc == 0)
			aws_creds_set(a, c.access_key, c.secret_key, c.token, c.expires_ms,
				      "web-identity");
		OPENSSL_cleanse(&c, sizeof(c));
		return rc;
	}
	return aws_container_fetch(a, err);
}

static bool aws_needs_refresh(const struct aws_auth *a, long long now)
{
	if (!a->have)
		return true;
	if (!a->cur.expires_ms)
		return false;
	long long life = a->cur.expires_ms - a->fetched_ms;
	long long window = life / 5;
	if (window > AWS_REFRESH_MAX_MS)
		window = AWS_REFRESH_MAX_MS;
	return now >= a->cur.expires_ms - window;
}

int aws_auth_get(struct aws_auth *a, struct aws_creds *out, struct error *err)
{
	if (!a->chosen) {
		int rc = aws_choose(a, err);
		if (rc < 0)
			return rc;
	}
	long long now = clock_wall_ms();
	bool expired = !a->have || (a->cur.expires_ms && now >= a->cur.expires_ms);
	if (aws_needs_refresh(a, now)) {
		/* a fetch that failed a moment ago is not repeated (each one may take seconds):
		 * every request would stall behind it */
		if (clock_mono_ms() < a->failed_until_ms) {
			if (expired)
				return error_set(err, a->failure.code, a->failure.name, "%s",
						 a->failure.message);
		} else {
			struct error e;
			int rc = aws_fetch(a, &e);
			if (rc < 0) {
				a->failure = e;
				a->failed_until_ms = clock_mono_ms() + AWS_FAIL_HOLD_MS;
				/* keep using credentials that are still valid */
				if (expired)
					return error_set(err, rc, e.name, "%s", e.message);
				log_warn("aws credentials refresh failed, using the current ones "
					 "error=\"%s\"", e.message);
			} else {
				a->failed_until_ms = 0;
			}
		}
	}
	if (a->cur.source != a->logged) {
		log_info("aws credentials source=%s temporary=%s", a->cur.source,
			 a->cur.expires_ms || a->cur.token[0] ? "yes" : "no");
		a->logged = a->cur.source;
	}
	*out = a->cur;
	out->skew_ms = a->skew_ms;
	return 0;
}

int aws_auth_expired(struct aws_auth *a)
{
	if (!a->have || !a->cur.expires_ms) /* static keys: fetching again cannot help */
		return 0;
	a->cur.expires_ms = 1; /* anything in the past forces a fetch */
	a->failed_until_ms = 0;
	return 1;
}

/* An HTTP Date (RFC 7231) in ms since the epoch; -1 when unreadable. */
static long long aws_http_date(const char *date)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = date ? strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
	if (!end || *end)
		return -1;
	time_t t = timegm(&tm);
	return t == (time_t)-1 ? -1 : (long long)t * 1000;
}

int aws_auth_clock_off(const struct aws_auth *a, const char *date)
{
	long long t = aws_http_date(date);
	if (t < 0)
		return 0;
	long long d = t - (clock_wall_ms() + a->skew_ms);
	return d > AWS_SKEW_MAX_MS || d < -AWS_SKEW_MAX_MS;
}

int aws_auth_skew(struct aws_auth *a, const char *date)
{
	long long t = aws_http_date(date);
	if (t < 0)
		return 0;
	long long skew = t - clock_wall_ms();
	log_warn("aws clock skew corrected skew_ms=%lld", skew);
	a->skew_ms = skew;
	return 1;
}
