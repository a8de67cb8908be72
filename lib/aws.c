/* aws.c — AWS credentials (configuration, environment, web identity, a profile's roles,
 * SSO, keys or process, ECS container endpoint, EC2 IMDSv2), requests signed with skiff's
 * own SigV4 (sigv4.c), clock skew, and the retry policy shared by the S3 and ECS clients. */
#include "aws.h"
#include "aws_profile.h"
#include "aws_sso.h"
#include "clock.h"
#include "buf.h"
#include "log.h"
#include "hash.h"
#include "percent.h"
#include "proc.h"
#include "sigv4.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define AWS_REFRESH_MAX_MS (5 * 60 * 1000LL)
#define AWS_CREDS_TIMEOUT_MS 5000L
#define AWS_URL_MAX 2048
#define AWS_IMDS_HOST "http://169.254.169.254"
#define AWS_IMDS_TIMEOUT_MS 1000L
#define AWS_WEB_TOKEN_MAX 16384
#define AWS_FAIL_HOLD_MS 5000LL            /* a failed credential fetch is not retried sooner */
#define AWS_SKEW_MAX_MS (4 * 60 * 1000LL)  /* AWS refuses signatures 5 minutes off */
#define AWS_PROCESS_TIMEOUT_S 30L          /* a credential_process that hangs is killed */
#define AWS_PROCESS_TIMEOUT_ENV "SKIFF_AWS_CREDENTIAL_PROCESS_TIMEOUT" /* shorter, for tests */
#define AWS_PROCESS_OUTPUT_MAX 65536       /* ... and one that says more is refused */
#define AWS_PROCESS_ARGS_MAX 64

extern char **environ;

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

void aws_sleep_ms(long long ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void aws_copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static void aws_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
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
		aws_wipe(a->prof, sizeof(*a->prof));
		free(a->prof);
	}
	aws_wipe(a, sizeof(*a));
	free(a);
}

unsigned aws_auth_fetches(const struct aws_auth *a)
{
	return a->fetches;
}

const char *aws_dns_suffix(const char *region)
{
	static const struct { const char *prefix, *suffix; } parts[] = {
		{ "cn-", "amazonaws.com.cn" },       { "us-isob-", "sc2s.sgov.gov" },
		{ "us-isof-", "csp.hci.ic.gov" },    { "us-iso-", "c2s.ic.gov" },
		{ "eu-isoe-", "cloud.adc-e.uk" },
	};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (!strncmp(region, parts[i].prefix, strlen(parts[i].prefix)))
			return parts[i].suffix;
	return "amazonaws.com";
}

long long aws_time_parse(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!end)
		return -1;
	long long ms = 0;
	if (*end == '.') {
		int digits = 0;
		for (end++; *end >= '0' && *end <= '9'; end++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*end - '0');
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (*end == 'Z')
		end++;
	else if (!strcmp(end, "+00:00"))
		end += 6;
	if (*end)
		return -1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return (long long)t * 1000 + ms;
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

static int aws_creds_fetch(struct aws_auth *a, const char *method, const char *url,
			   const char *header, int retries, long timeout_ms, const char *source,
			   const char *what, struct error *err);
static int aws_imds_fetch(struct aws_auth *a, struct error *err);
static void aws_creds_set(struct aws_auth *a, const char *ak, const char *sk, const char *tok,
			  long long expires, const char *source);

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

/* GET the container credentials endpoint and parse its JSON into a->cur. */
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
	aws_wipe(token, sizeof(token));
	int rc = aws_creds_fetch(a, "GET", url, line, 3, AWS_CREDS_TIMEOUT_MS, "container",
				 "the container credentials endpoint", err);
	aws_wipe(line, sizeof(line));
	return rc;
}

/* One HTTP call for credentials: method url with one extra header line (or "") and a body
 * (or NULL), retried
 * `retries` times on 5xx and transport errors, the body into *body. 0, or an error naming
 * `what` (never the body). */
static int aws_http_perform(CURL *h, const char *method, const char *url,
			    struct curl_slist *hdrs, const char *data, int retries, long timeout_ms,
			    struct buf *body, const char *what, struct error *err)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (data) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(data));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	if (hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	long status = 0;
	int attempt = 0;
	CURLcode cc;
	for (;;) {
		buf_reset(body);
		cc = curl_easy_perform(h);
		status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (!aws_retryable(cc, status) || attempt >= retries)
			break;
		aws_sleep_ms(aws_backoff_ms(attempt++, 50, 1000));
	}
	int rc = 0;
	if (cc != CURLE_OK)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials", "%s is unreachable: %s", what,
			       curl_easy_strerror(cc));
	else if (status != 200)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials", "%s answered HTTP %ld", what,
			       status);
	return rc;
}

static int aws_http_call(const char *method, const char *url, const char *header,
			 const char *data, int retries, long timeout_ms, struct buf *body,
			 const char *what, struct error *err)
{
	struct curl_slist *hdrs = NULL;
	CURL *h = curl_easy_init();
	if (!h)
		abort();
	if (header[0] && !(hdrs = curl_slist_append(hdrs, header)))
		abort();
	int rc = aws_http_perform(h, method, url, hdrs, data, retries, timeout_ms, body, what, err);
	curl_slist_free_all(hdrs); /* libcurl keeps no copy of the header after cleanup */
	curl_easy_cleanup(h);
	return rc;
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
		aws_wipe(body.data, body.cap);
	buf_dispose(&body);
	json_decref(doc); /* jansson keeps no copy after decref; the body buffer was wiped */
	return rc;
}

static bool aws_web_identity_set(void)
{
	const char *f = getenv("AWS_WEB_IDENTITY_TOKEN_FILE"), *r = getenv("AWS_ROLE_ARN");
	return f && *f && r && *r;
}

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
		aws_copy(url, cap, ep);
	else if (region)
		snprintf(url, cap, "https://sts.%s.%s/", region, aws_dns_suffix(region));
	else
		aws_copy(url, cap, "https://sts.amazonaws.com/");
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
		aws_wipe(c, sizeof(*c));
		return error_set(err, SKIFF_EAUTH, "no_credentials", "%s answered without usable keys",
				 what);
	}
	c->expires_ms = aws_time_parse(exp);
	return 0;
}

/* Web identity (EKS IRSA and other OIDC providers): the token in `file`, read again at each
 * refresh (the kubelet rotates it), exchanged for `role`'s credentials (session name
 * `session`, else "skiff") by STS AssumeRoleWithWebIdentity (unsigned) into *c. The
 * endpoint is AWS_ENDPOINT_URL_STS, else the regional one of AWS_REGION /
 * AWS_DEFAULT_REGION, else https://sts.amazonaws.com. */
static int aws_web_identity_fetch(const char *file, const char *role, const char *session,
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
		aws_wipe(jwt, sizeof(jwt));
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
	aws_wipe(jwt, sizeof(jwt));
	if (!ejwt || !erole || !esession)
		abort();
	size_t dn = strlen(ejwt) + strlen(erole) + strlen(esession) + 160;
	char *data = malloc(dn);
	if (!data)
		abort();
	snprintf(data, dn,
		 "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s"
		 "&RoleSessionName=%s&WebIdentityToken=%s", erole, esession, ejwt);
	aws_wipe(ejwt, strlen(ejwt));
	curl_free(ejwt);
	curl_free(erole);
	curl_free(esession);
	struct buf body = BUF_INIT(AWS_CREDS_BODY_MAX);
	int rc = aws_http_call("POST", url, "Content-Type: application/x-www-form-urlencoded", data,
			       3, AWS_CREDS_TIMEOUT_MS, &body, "STS AssumeRoleWithWebIdentity", err);
	aws_wipe(data, dn);
	free(data);
	if (rc == 0)
		rc = aws_sts_answer(&body, "STS AssumeRoleWithWebIdentity", c, err);
	if (body.data)
		aws_wipe(body.data, body.cap);
	buf_dispose(&body);
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
	aws_wipe(line, sizeof(line));
	if (body.data)
		aws_wipe(body.data, body.cap);
	buf_dispose(&body);
	return rc;
}

int aws_split_command(const char *cmd, char *store, size_t cap, char **argv, int max)
{
	size_t o = 0;
	int argc = 0;
	const char *s = cmd;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (!*s)
			break;
		if (argc >= max - 1)
			return -1;
		argv[argc++] = store + o;
		while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
			char c = *s++;
			if (c == '\'' || c == '"') { /* '...' is literal; in "...", \" and \\ are
						       * escapes and other \ stay */
				while (*s && *s != c) {
					if (c == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
						s++;
					if (o + 1 >= cap)
						return -1;
					store[o++] = *s++;
				}
				if (!*s++)
					return -1;
				continue;
			}
			if (c == '\\') {          /* the next character as it is */
				if (!*s)
					return -1;
				c = *s++;
			}
			if (o + 1 >= cap)
				return -1;
			store[o++] = c;
		}
		if (o >= cap)
			return -1;
		store[o++] = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

/* argv[0] as execve needs it: a path with a slash as it is, else the first executable of
 * that name in PATH (as the AWS CLI's subprocess does). */
static bool aws_which(const char *name, char *out, size_t cap)
{
	if (strchr(name, '/'))
		return snprintf(out, cap, "%s", name) < (int)cap && access(out, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		int w = snprintf(out, cap, "%.*s/%s", (int)n, path, name);
		if (n && w > 0 && w < (int)cap && access(out, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

struct aws_process_out {
	struct buf out;
	bool too_long;
};

static void aws_process_line(void *ctx, int stream, const char *line, size_t len, bool cut)
{
	struct aws_process_out *o = ctx;
	if (stream != PROC_STDOUT) /* its messages may hold secrets: never logged */
		return;
	if (cut || buf_append(&o->out, line, len) < 0 || buf_append(&o->out, "\n", 1) < 0)
		o->too_long = true;
}

/* How long a credential_process may run: AWS_PROCESS_TIMEOUT_S, or less when
 * AWS_PROCESS_TIMEOUT_ENV says so (tests). */
static long aws_process_timeout(void)
{
	const char *v = getenv(AWS_PROCESS_TIMEOUT_ENV);
	char *end;
	unsigned long long n = v && *v ? strtoull(v, &end, 10) : 0;
	if (!n || *end || n > AWS_PROCESS_TIMEOUT_S)
		return AWS_PROCESS_TIMEOUT_S;
	return (long)n;
}

/* credential_process: the profile's command, split as the AWS CLI does (no shell), run with
 * skiff's environment, AWS_PROCESS_TIMEOUT_S at most; its stdout is JSON "Version": 1 with
 * AccessKeyId, SecretAccessKey, optional SessionToken and Expiration. The credentials go to
 * *c; 0 or an error that never quotes the output. */
static int aws_process_creds(const char *cmd, struct aws_creds *c, struct error *err)
{
	char store[AWS_PROFILE_LINE_MAX + 1], exe[AWS_URL_MAX];
	char *argv[AWS_PROCESS_ARGS_MAX];
	int argc = aws_split_command(cmd, store, sizeof(store), argv, AWS_PROCESS_ARGS_MAX);
	if (argc <= 0)
		return error_set(err, SKIFF_EAUTH, "no_credentials",
				 "credential_process: cannot split the command (unbalanced quotes, "
				 "or more than %d words)", AWS_PROCESS_ARGS_MAX - 1);
	if (!aws_which(argv[0], exe, sizeof(exe)))
		return error_set(err, SKIFF_EAUTH, "no_credentials",
				 "credential_process: %s is not an executable program", argv[0]);
	argv[0] = exe;
	struct aws_process_out o = { BUF_INIT(AWS_PROCESS_OUTPUT_MAX), false };
	struct proc_spec spec = { .argv = (const char *const *)argv,
				  .envp = (const char *const *)environ,
				  .timeout_s = aws_process_timeout() };
	struct proc_result res;
	json_t *doc = NULL;
	int rc = proc_run(&spec, aws_process_line, NULL, &o, &res, err);
	if (rc < 0)
		goto out;
	if (res.timed_out)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s timed out after %ld s", argv[0],
			       (long)spec.timeout_s);
	else if (!res.exited || res.exit_code != 0)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s failed (%s %d)", argv[0],
			       res.exited ? "exit code" : "signal",
			       res.exited ? res.exit_code : res.signal);
	else if (o.too_long)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s wrote more than %d bytes (or a line over %d)",
			       argv[0], AWS_PROCESS_OUTPUT_MAX, PROC_LINE_MAX);
	if (rc < 0)
		goto out;
	doc = json_loadb(o.out.data ? o.out.data : "", o.out.len, 0, NULL);
	json_t *ver = json_object_get(doc, "Version");
	const char *ak = json_string_value(json_object_get(doc, "AccessKeyId"));
	const char *sk = json_string_value(json_object_get(doc, "SecretAccessKey"));
	const char *tok = json_string_value(json_object_get(doc, "SessionToken"));
	const char *exp = json_string_value(json_object_get(doc, "Expiration"));
	long long expires = exp ? aws_time_parse(exp) : 0;
	if (!json_is_integer(ver) || json_integer_value(ver) != 1)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s: the output is not JSON with \"Version\": 1",
			       argv[0]);
	else if (!ak || !sk || !*ak || !*sk || strlen(ak) >= AWS_KEY_MAX ||
		 strlen(sk) >= AWS_KEY_MAX || (tok && strlen(tok) >= AWS_TOKEN_MAX))
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s: no usable AccessKeyId and SecretAccessKey",
			       argv[0]);
	else if (expires < 0 || (exp && expires <= clock_wall_ms()))
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s: Expiration is unreadable or past", argv[0]);
	if (rc < 0)
		goto out;
	memset(c, 0, sizeof(*c));
	aws_copy(c->access_key, sizeof(c->access_key), ak);
	aws_copy(c->secret_key, sizeof(c->secret_key), sk);
	aws_copy(c->token, sizeof(c->token), tok);
	c->expires_ms = expires;
out:
	if (o.out.data)
		aws_wipe(o.out.data, o.out.cap);
	buf_dispose(&o.out);
	json_decref(doc); /* the output buffer was wiped; jansson's copy goes with it */
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

/* SSO: the token `aws sso login` cached, then the portal's GetRoleCredentials (unsigned;
 * the token in x-amz-sso_bearer_token) into *c. The portal answers 401 to a token it no
 * longer takes: that is the operator's `aws sso login` again, said so. */
static int aws_sso_fetch(const struct aws_sso *s, struct aws_creds *c, struct error *err)
{
	char token[AWS_SSO_TOKEN_MAX], url[AWS_URL_MAX], line[AWS_SSO_TOKEN_MAX + 64], exp[64];
	const char *who = s->session[0] ? s->session : s->start_url;
	int rc = aws_sso_token(s, token, sizeof(token), exp, sizeof(exp), err);
	if (rc < 0)
		return rc;
	long long expires = aws_time_parse(exp);
	if (expires <= clock_wall_ms()) {
		aws_wipe(token, sizeof(token));
		return error_set(err, SKIFF_EAUTH, "no_credentials",
				 expires < 0 ? "SSO %s: the cached token's expiresAt %s is unreadable; "
					       "run `aws sso login%s%s` as skiff's user"
					     : "SSO %s: the cached token expired at %s; run `aws sso "
					       "login%s%s` as skiff's user",
				 who, exp, s->session[0] ? " --sso-session " : "", s->session);
	}
	snprintf(line, sizeof(line), "x-amz-sso_bearer_token: %s", token);
	aws_wipe(token, sizeof(token));
	struct buf body = BUF_INIT(AWS_CREDS_BODY_MAX);
	if (aws_sso_url(s, url, sizeof(url)) < 0)
		rc = error_set(err, SKIFF_EAUTH, "invalid_config",
			       "SSO: the portal's URL for account %s and role %s is too long",
			       s->account_id, s->role_name);
	else
		rc = aws_http_call("GET", url, line, NULL, 3, AWS_CREDS_TIMEOUT_MS, &body,
				   "the SSO portal (GetRoleCredentials)", err);
	aws_wipe(line, sizeof(line));
	if (rc < 0 && strstr(err->message, "answered HTTP 401"))
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "SSO %s: the portal refused the cached token (expired or signed "
			       "out); run `aws sso login%s%s` as skiff's user",
			       who, s->session[0] ? " --sso-session " : "", s->session);
	if (rc == 0)
		rc = aws_sso_answer(body.data, body.len, c, err);
	if (body.data)
		aws_wipe(body.data, body.cap);
	buf_dispose(&body);
	return rc;
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
		rc = aws_web_identity_fetch(p->web_token_file, p->web.arn, p->web.session_name, c,
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

/* role r: STS AssumeRole signed with *src, the role's credentials into *out. */
static int aws_assume_role(const struct aws_role *r, const struct aws_creds *src,
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
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	struct buf body = BUF_INIT(AWS_CREDS_BODY_MAX);
	int rc = aws_sign(h, &hdrs, src, region, "sts", "POST", url, hash, err);
	if (rc == 0)
		rc = aws_http_perform(h, "POST", url, hdrs, form.data, 3, AWS_CREDS_TIMEOUT_MS, &body,
				      what, err);
	if (rc == 0)
		rc = aws_sts_answer(&body, what, out, err);
	for (struct curl_slist *l = hdrs; l; l = l->next)
		aws_wipe(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	buf_dispose(&form);
	if (body.data)
		aws_wipe(body.data, body.cap);
	buf_dispose(&body);
	return rc;
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
		rc = aws_assume_role(&p->roles[i], &c, &next, err);
		c = next;
		c.source = "assume-role";
	}
	if (rc == 0)
		aws_creds_set(a, c.access_key, c.secret_key, c.token, c.expires_ms, c.source);
	aws_wipe(&c, sizeof(c));
	aws_wipe(&next, sizeof(next));
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
			aws_wipe(p, sizeof(*p));
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
		int rc = aws_web_identity_fetch(getenv("AWS_WEB_IDENTITY_TOKEN_FILE"),
						getenv("AWS_ROLE_ARN"), getenv("AWS_ROLE_SESSION_NAME"),
						&c, err);
		if (rc == 0)
			aws_creds_set(a, c.access_key, c.secret_key, c.token, c.expires_ms,
				      "web-identity");
		aws_wipe(&c, sizeof(c));
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

/* The authority ("host[:port]"), path and query of an absolute URL, pointing into url. */
static int aws_url_split(const char *url, const char **host, size_t *host_len,
			 const char **path, size_t *path_len, const char **query)
{
	const char *p = strstr(url, "://");
	if (!p)
		return -1;
	*host = p + 3;
	*host_len = strcspn(*host, "/?#");
	*path = *host + *host_len;
	*path_len = strcspn(*path, "?#");
	*query = (*path)[*path_len] == '?' ? *path + *path_len + 1 : "";
	return *host_len ? 0 : -1;
}

int aws_sign(CURL *h, struct curl_slist **headers, const struct aws_creds *creds,
	     const char *region, const char *service, const char *method, const char *url,
	     const char *payload_hash, struct error *err)
{
	struct sigv4_pair hv[SIGV4_HEADERS_MAX];
	char names[SIGV4_HEADERS_MAX][64], host[512], path[AWS_URL_MAX * 2], date[SIGV4_DATE_LEN + 1];
	char line[AWS_TOKEN_MAX + 32], auth[SIGV4_AUTH_MAX];
	const char *hp, *pp, *query;
	size_t hl, pl, n = 0;
	if (aws_url_split(url, &hp, &hl, &pp, &pl, &query) < 0 || hl >= sizeof(host) ||
	    pl >= sizeof(path) || strcspn(query, "#") != strlen(query))
		return error_set(err, SKIFF_EINVALID, "invalid_config", "cannot sign the URL %s", url);
	memcpy(host, hp, hl);
	host[hl] = '\0';
	memcpy(path, pp, pl);
	path[pl] = '\0';
	/* the headers the caller set, then skiff's own; all of them are signed */
	for (struct curl_slist *l = *headers; l; l = l->next) {
		const char *colon = strchr(l->data, ':');
		size_t len = colon ? (size_t)(colon - l->data) : 0;
		if (!len || len >= sizeof(names[0]) || n + 5 > SIGV4_HEADERS_MAX)
			return error_set(err, SKIFF_EINTERNAL, NULL, "cannot sign header %s", l->data);
		if (!colon[1 + strspn(colon + 1, " \t")])
			continue;   /* "Name:" tells libcurl to leave the header out: not signed */
		memcpy(names[n], l->data, len);
		names[n][len] = '\0';
		hv[n] = (struct sigv4_pair){ names[n], colon + 1 };
		n++;
	}
	sigv4_date(clock_wall_ms() + creds->skew_ms, date);
	hv[n++] = (struct sigv4_pair){ "host", host };
	hv[n++] = (struct sigv4_pair){ "x-amz-date", date };
	hv[n++] = (struct sigv4_pair){ "x-amz-content-sha256", payload_hash };
	if (creds->token[0])
		hv[n++] = (struct sigv4_pair){ "x-amz-security-token", creds->token };
	struct sigv4_request r = { method, path, query, hv, n, payload_hash, date, region, service };
	if (sigv4_authorization(&r, creds->access_key, creds->secret_key, auth) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "cannot sign the request (a name or header is too long)");
	/* the URL goes out exactly as signed: no dot-segment folding, no re-encoding */
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	snprintf(line, sizeof(line), "Host: %s", host);
	*headers = curl_slist_append(*headers, line);
	snprintf(line, sizeof(line), "X-Amz-Date: %s", date);
	*headers = curl_slist_append(*headers, line);
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", payload_hash);
	*headers = curl_slist_append(*headers, line);
	if (creds->token[0]) {
		snprintf(line, sizeof(line), "x-amz-security-token: %s", creds->token);
		*headers = curl_slist_append(*headers, line);
		aws_wipe(line, sizeof(line));
	}
	snprintf(line, sizeof(line), "Authorization: %s", auth);
	*headers = curl_slist_append(*headers, line);
	if (!*headers)
		abort();
	return 0;
}

size_t aws_answer_header(char *p, size_t size, size_t n, void *ctx)
{
	struct aws_answer *a = ctx;
	size_t len = size * n;
	static const struct { const char *name; size_t off, cap; } want[] = {
		{ "x-amzn-errortype:", offsetof(struct aws_answer, error_type),
		  sizeof(((struct aws_answer *)0)->error_type) },
		{ "date:", offsetof(struct aws_answer, date), sizeof(((struct aws_answer *)0)->date) },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		size_t k = strlen(want[i].name);
		if (len <= k || strncasecmp(p, want[i].name, k))
			continue;
		const char *v = p + k;
		size_t vl = len - k;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		char *dst = (char *)a + want[i].off;
		if (vl >= want[i].cap)
			vl = want[i].cap - 1;
		memcpy(dst, v, vl);
		dst[vl] = '\0';
	}
	return len;
}

void aws_error_name(const char *type, char *out, size_t cap)
{
	const char *hash = strrchr(type, '#');
	const char *t = hash ? hash + 1 : type;
	size_t n = strcspn(t, ":");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, t, n);
	out[n] = '\0';
}

int aws_clock_skewed(const char *name, const char *message)
{
	return !strcmp(name, "RequestTimeTooSkewed") || !strcmp(name, "RequestExpired") ||
	       !strcmp(name, "RequestInTheFuture") ||
	       ((!strcmp(name, "InvalidSignatureException") || !strcmp(name, "AccessDenied") ||
		 !strcmp(name, "SignatureDoesNotMatch")) &&
		(strstr(message, "Signature expired") || strstr(message, "Signature not yet current")));
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

int aws_retryable(CURLcode cc, long status)
{
	switch (cc) {
	case CURLE_OK:
		return status >= 500 || status == 429;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

long long aws_backoff_ms(int attempt, long long base_ms, long long cap_ms)
{
	long long hi = base_ms;
	for (int i = 0; i < attempt && hi < cap_ms; i++)
		hi *= 2;
	if (hi > cap_ms)
		hi = cap_ms;
	unsigned r = 0;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned)clock_mono_ms();
	if (hi <= base_ms)
		return base_ms;
	return base_ms + (long long)(r % (unsigned long long)(hi - base_ms + 1));
}

int aws_uri_encode(char *out, size_t cap, size_t *used, const char *s, size_t n, bool keep_slash)
{
	size_t o = *used;
	if (o >= cap)
		return -1;
	struct buf b = BUF_INIT(cap - o - 1);
	int rc = percent_encode(&b, s, n, keep_slash ? "/" : "") < 0 ? -1 : 0;
	if (rc == 0) {
		memcpy(out + o, buf_cstr(&b), b.len + 1);
		*used = o + b.len;
	}
	buf_dispose(&b);
	return rc;
}
