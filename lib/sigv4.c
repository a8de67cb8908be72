/* sigv4.c — AWS Signature Version 4 by skiff's own hand (sigv4.h): canonical query strings,
 * canonical requests, strings to sign and Authorization headers, checked against AWS's
 * published test suite (check/sigv4/). */
#include "sigv4.h"
#include "hex.h"
#include "aws.h"
#include "hash.h"
#include "percent.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIGV4_NAME_MAX 64          /* a header name */
#define SIGV4_VALUE_MAX 4096       /* a header value (a session token fits) */
#define SIGV4_ITEM_MAX (3 * AWS_TOKEN_MAX + 64) /* one encoded query pair (a session token, each byte %XX) */
#define SIGV4_SCOPE_MAX 160

struct sigv4_header {
	char name[SIGV4_NAME_MAX];
	struct buf value;
	size_t order;                  /* first appearance, for a stable sort */
};

/* Orders the pairs "name=value" by name, then value. '=' sorts after '%', '-', '.' and the
 * digits, which names may hold ("a-b=1" before "a=1" would be wrong), so the parts are
 * compared, not the joined strings. */
static int sigv4_cmp_pair(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t xn = strcspn(x, "="), yn = strcspn(y, "=");
	int c = strncmp(x, y, xn < yn ? xn : yn);
	if (c == 0 && xn != yn)
		return xn < yn ? -1 : 1;
	if (c != 0)
		return c;
	return strcmp(x + xn, y + yn);
}

/* Joins the sorted items with '&' into out. */
static int sigv4_join(char *out, size_t cap, char **items, size_t n)
{
	qsort(items, n, sizeof(*items), sigv4_cmp_pair);
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(items[i]);
		if (len + 2 > cap - o)
			return -1;
		if (i)
			out[o++] = '&';
		memcpy(out + o, items[i], len + 1);
		o += len;
	}
	return 0;
}

/* "name=value", both encoded, into out[SIGV4_ITEM_MAX]. */
static int sigv4_query_item(char *out, const struct sigv4_pair *p)
{
	struct buf b = BUF_INIT(SIGV4_ITEM_MAX - 1);
	percent_encode(&b, p->name, strlen(p->name), "");
	buf_putc(&b, '=');
	int rc = percent_encode(&b, p->value, strlen(p->value), "") < 0 ? -1 : 0;
	if (rc == 0)
		memcpy(out, buf_cstr(&b), b.len + 1);
	buf_dispose(&b);
	return rc;
}

int sigv4_query(char *out, size_t cap, const struct sigv4_pair *params, size_t n)
{
	char *items[SIGV4_PARAMS_MAX];
	int rc = 0;
	if (n > SIGV4_PARAMS_MAX || cap == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!(items[i] = malloc(SIGV4_ITEM_MAX)))
			abort();
		if (sigv4_query_item(items[i], &params[i]) < 0)
			rc = -1;
	}
	if (rc == 0)
		rc = sigv4_join(out, cap, items, n);
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	return rc;
}

/* The query string as sent, its pairs sorted ("name" alone counts as "name="). */
static int sigv4_canonical_query(struct buf *out, const char *query)
{
	char *items[SIGV4_PARAMS_MAX];
	size_t n = 0;
	int rc = 0;
	const char *p = query ? query : "";
	while (*p && rc == 0) {
		size_t len = strcspn(p, "&");
		if (len) {
			if (n == SIGV4_PARAMS_MAX || len + 2 > SIGV4_ITEM_MAX) {
				rc = -1;
				break;
			}
			if (!(items[n] = malloc(len + 2)))
				abort();
			memcpy(items[n], p, len);
			items[n][len] = '\0';
			if (!memchr(p, '=', len))
				items[n][len] = '=', items[n][len + 1] = '\0';
			n++;
		}
		p += len + (p[len] == '&');
	}
	if (rc == 0) {
		qsort(items, n, sizeof(*items), sigv4_cmp_pair);
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_putc(out, '&');
			buf_puts(out, items[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	return rc;
}

static int sigv4_cmp_header(const void *a, const void *b)
{
	const struct sigv4_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Appends value trimmed, runs of spaces made one. */
static void sigv4_header_value(struct buf *out, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	bool space = false;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = true;
			continue;
		}
		if (space)
			buf_putc(out, ' ');
		space = false;
		buf_putc(out, *v);
	}
}

int sigv4_canonical_request(const struct sigv4_request *r, struct buf *creq,
			    char *signed_headers, size_t cap)
{
	struct sigv4_header *h = NULL;
	size_t n = 0;
	int rc = 0;
	if (r->nheaders > SIGV4_HEADERS_MAX || cap == 0)
		return -1;
	if (!(h = calloc(r->nheaders ? r->nheaders : 1, sizeof(*h))))
		abort();
	/* lowercase names; a repeated name joins its values with ',' in order */
	for (size_t i = 0; i < r->nheaders && rc == 0; i++) {
		char name[SIGV4_NAME_MAX];
		size_t len = strlen(r->headers[i].name);
		if (len == 0 || len >= sizeof(name)) {
			rc = -1;
			break;
		}
		for (size_t k = 0; k <= len; k++) {
			char c = r->headers[i].name[k];
			name[k] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
		size_t j = 0;
		while (j < n && strcmp(h[j].name, name))
			j++;
		if (j == n) {
			memcpy(h[n].name, name, len + 1);
			buf_init(&h[n].value, SIGV4_VALUE_MAX);
			h[n].order = n;
			n++;
		} else {
			buf_putc(&h[j].value, ',');
		}
		sigv4_header_value(&h[j].value, r->headers[i].value);
		if (h[j].value.err)
			rc = -1;
	}
	qsort(h, n, sizeof(*h), sigv4_cmp_header);
	size_t o = 0;
	signed_headers[0] = '\0';
	for (size_t i = 0; i < n && rc == 0; i++) {
		int k = snprintf(signed_headers + o, cap - o, "%s%s", i ? ";" : "", h[i].name);
		if (k < 0 || (size_t)k >= cap - o)
			rc = -1;
		else
			o += (size_t)k;
	}
	if (rc == 0) {
		buf_puts(creq, r->method);
		buf_putc(creq, '\n');
		buf_puts(creq, r->uri && *r->uri ? r->uri : "/");
		buf_putc(creq, '\n');
		if (rc == 0)
			rc = sigv4_canonical_query(creq, r->query);
		buf_putc(creq, '\n');
		for (size_t i = 0; i < n; i++)
			buf_printf(creq, "%s:%s\n", h[i].name, buf_cstr(&h[i].value));
		buf_printf(creq, "\n%s\n%s", signed_headers, r->payload_hash);
		if (creq->err)
			rc = -1;
	}
	for (size_t i = 0; i < n; i++)
		buf_dispose(&h[i].value);
	free(h);
	return rc;
}

static int sigv4_scope(const struct sigv4_request *r, char out[SIGV4_SCOPE_MAX])
{
	if (strlen(r->amz_date) != SIGV4_DATE_LEN)
		return -1;
	int n = snprintf(out, SIGV4_SCOPE_MAX, "%.8s/%s/%s/aws4_request", r->amz_date, r->region,
			 r->service);
	return n < 0 || n >= SIGV4_SCOPE_MAX ? -1 : 0;
}

int sigv4_string_to_sign(const struct sigv4_request *r, const char *creq, size_t creq_len,
			 struct buf *sts)
{
	char scope[SIGV4_SCOPE_MAX], hash[HASH_HEX_LEN + 1];
	if (sigv4_scope(r, scope) < 0)
		return -1;
	hash_buffer(creq, creq_len, hash);
	buf_printf(sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", r->amz_date, scope, hash);
	return sts->err ? -1 : 0;
}

static void sigv4_hmac(const unsigned char *key, size_t key_len, const char *data,
		       size_t len, unsigned char out[32])
{
	unsigned char md[32];
	unsigned int n = sizeof(md);
	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, len, md, &n))
		abort();
	memcpy(out, md, sizeof(md));
}

/* The hex signature of r (its canonical request, string to sign, signing key) into sig, and
 * its credential scope into scope. 0 or -1. */
static int sigv4_signature(const struct sigv4_request *r, const char *secret_key,
			   char *signed_headers, size_t cap, char scope[SIGV4_SCOPE_MAX],
			   char sig[65])
{
	struct buf creq = BUF_INIT(SIGV4_CREQ_MAX), sts = BUF_INIT(SIGV4_CREQ_MAX);
	char secret[AWS_KEY_MAX + 8];
	unsigned char k[32];
	int rc = sigv4_canonical_request(r, &creq, signed_headers, cap);
	if (rc == 0)
		rc = sigv4_string_to_sign(r, buf_cstr(&creq), creq.len, &sts);
	if (rc == 0)
		rc = sigv4_scope(r, scope);
	int sn = snprintf(secret, sizeof(secret), "AWS4%s", secret_key);
	if (rc == 0 && (sn < 0 || (size_t)sn >= sizeof(secret)))
		rc = -1;
	if (rc == 0) {
		/* the signing key: date, region, service, "aws4_request" */
		sigv4_hmac((unsigned char *)secret, (size_t)sn, r->amz_date, 8, k);
		sigv4_hmac(k, sizeof(k), r->region, strlen(r->region), k);
		sigv4_hmac(k, sizeof(k), r->service, strlen(r->service), k);
		sigv4_hmac(k, sizeof(k), "aws4_request", 12, k);
		sigv4_hmac(k, sizeof(k), buf_cstr(&sts), sts.len, k);
		hex_encode(k, sizeof(k), sig);
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(k, sizeof(k));
	buf_dispose(&creq);
	buf_dispose(&sts);
	return rc;
}

int sigv4_authorization(const struct sigv4_request *r, const char *access_key,
			const char *secret_key, char out[SIGV4_AUTH_MAX])
{
	char signed_headers[SIGV4_AUTH_MAX / 2], scope[SIGV4_SCOPE_MAX], sig[65];
	if (sigv4_signature(r, secret_key, signed_headers, sizeof(signed_headers), scope, sig) < 0)
		return -1;
	int n = snprintf(out, SIGV4_AUTH_MAX,
			 "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
			 access_key, scope, signed_headers, sig);
	return n < 0 || n >= SIGV4_AUTH_MAX ? -1 : 0;
}

int sigv4_presign(const struct sigv4_request *r, const char *access_key, const char *secret_key,
		  const char *token, long expires, char *out, size_t cap)
{
	struct sigv4_request q = *r;
	struct buf creq = BUF_INIT(SIGV4_CREQ_MAX);
	char signed_headers[SIGV4_AUTH_MAX / 2], scope[SIGV4_SCOPE_MAX], sig[65];
	char credential[AWS_KEY_MAX + SIGV4_SCOPE_MAX + 2], exp[24];
	int rc = -1;
	if (expires < 1 || expires > SIGV4_PRESIGN_EXPIRES_MAX || sigv4_scope(r, scope) < 0 ||
	    /* the signed header list goes into the query it signs: learn it first */
	    sigv4_canonical_request(r, &creq, signed_headers, sizeof(signed_headers)) < 0)
		goto out;
	snprintf(credential, sizeof(credential), "%s/%s", access_key, scope);
	snprintf(exp, sizeof(exp), "%ld", expires);
	struct sigv4_pair p[] = {
		{ "X-Amz-Algorithm", "AWS4-HMAC-SHA256" }, { "X-Amz-Credential", credential },
		{ "X-Amz-Date", r->amz_date }, { "X-Amz-Expires", exp },
		{ "X-Amz-SignedHeaders", signed_headers }, { "X-Amz-Security-Token", token },
	};
	size_t np = token && *token ? 6 : 5, used = 0;
	if (r->query && *r->query) {
		used = strlen(r->query);
		if (used + 2 > cap)
			goto out;
		memcpy(out, r->query, used);
		out[used++] = '&';
	}
	if (sigv4_query(out + used, cap - used, p, np) < 0)
		goto out;
	q.query = out;
	q.payload_hash = "UNSIGNED-PAYLOAD";
	if (sigv4_signature(&q, secret_key, signed_headers, sizeof(signed_headers), scope, sig) < 0)
		goto out;
	used = strlen(out);
	int n = snprintf(out + used, cap - used, "&X-Amz-Signature=%s", sig);
	rc = n < 0 || (size_t)n >= cap - used ? -1 : 0;
out:
	buf_dispose(&creq);
	return rc;
}

void sigv4_date(long long ms, char out[SIGV4_DATE_LEN + 1])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}
