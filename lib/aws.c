/* aws.c — what the S3 client, the ECS launcher and the credential sources share about AWS:
 * requests signed with skiff's own SigV4 (sigv4.c), the headers of answers, clock skew, the
 * retry policy, one HTTP call for credentials, partitions' DNS suffixes, times. The
 * credential chain itself is aws_auth.c's. */
#include "aws.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "percent.h"
#include "sigv4.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

void aws_sleep_ms(long long ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
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

int aws_http_perform(CURL *h, const char *method, const char *url, struct curl_slist *hdrs,
		     const char *data, int retries, long timeout_ms, struct buf *body,
		     const char *what, struct error *err)
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

int aws_http_call(const char *method, const char *url, const char *header, const char *data,
		  int retries, long timeout_ms, struct buf *body, const char *what,
		  struct error *err)
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
		OPENSSL_cleanse(line, sizeof(line));
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
