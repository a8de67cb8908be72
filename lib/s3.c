/* s3.c — the S3 client: request building and signing, retries with backoff, single requests
 * on one reused handle, and batch uploads on the curl multi interface. */
#include "s3.h"
#include "clock.h"
#include "aws_auth.h"
#include "hash.h"
#include "log.h"
#include "sigv4.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S3_BACKOFF_BASE_MS 100
#define S3_BACKOFF_CAP_MS 5000
#define S3_CONNECT_TIMEOUT_MS 10000L
#define S3_LIST_MAX_BODY (8u << 20)
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3 {
	char endpoint[CONFIG_STR_MAX];
	char bucket[256];
	char region[64];
	char prefix[256];          /* "" or "some/prefix/" */
	bool path_style;
	long parallel;
	long retries;
	long long timeout_ms;      /* one small request */
	long long deadline_ms;     /* a batch */
	struct aws_auth *auth;
	CURL *easy;                /* reused by single requests: keeps the connection */
	CURLM *multi;              /* reused by batches */
	unsigned long long requests, retried;
};

/* What a request does and, after it ran, what came back. */
struct s3_req {
	const char *method;            /* "GET" "PUT" "HEAD" "DELETE" */
	char url[S3_URL_MAX];
	const char *key;               /* for messages */
	const char *content_type, *cache_control, *content_encoding;
	const void *body;              /* PUT from memory */
	size_t body_len;
	const char *src_path;          /* PUT from a file */
	const char *src_sha256;
	int dst_fd;                    /* GET into a file: -1 when not */
	struct buf *dst_buf;           /* GET into memory */
	unsigned long long dst_max;
	unsigned long long dst_len;        /* bytes of the object received, resumed ones included */
	unsigned long long resume_from;    /* this attempt asked for bytes from here on (Range) */
	bool body_started;                 /* this attempt delivered body bytes */
	bool too_big;
	/* per attempt */
	CURL *h;
	struct curl_slist *hdrs;
	FILE *src;
	struct buf errbody;
	CURLcode cc;
	long status;
	bool write_failed;
	int attempt;
	bool refreshed;                /* credentials were refreshed for this request once */
	bool reclocked;                /* the signing clock was corrected for it once */
	struct aws_answer ans;         /* headers of the last answer */
};

static void s3_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int s3_new(struct s3 **out, const struct config *cfg, struct error *err)
{
	*out = NULL;
	if (!cfg->s3_bucket[0])
		return error_set(err, SKIFF_EINVALID, "invalid_config", "s3_bucket is required");
	if (strlen(cfg->s3_prefix) + 2 > sizeof(((struct s3 *)0)->prefix))
		return error_set(err, SKIFF_EINVALID, "invalid_config", "s3_prefix is too long");
	struct s3 *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	if (cfg->s3_endpoint[0])
		s3_copy(s->endpoint, sizeof(s->endpoint), cfg->s3_endpoint);
	else
		snprintf(s->endpoint, sizeof(s->endpoint), "https://s3.%s.%s", cfg->s3_region,
			 aws_dns_suffix(cfg->s3_region));
	size_t n = strlen(s->endpoint);
	while (n && s->endpoint[n - 1] == '/')
		s->endpoint[--n] = '\0';
	if (strncmp(s->endpoint, "http://", 7) && strncmp(s->endpoint, "https://", 8)) {
		free(s);
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "s3_endpoint must start with http:// or https://");
	}
	s3_copy(s->bucket, sizeof(s->bucket), cfg->s3_bucket);
	s3_copy(s->region, sizeof(s->region), cfg->s3_region);
	const char *p = cfg->s3_prefix;
	while (*p == '/')
		p++;
	s3_copy(s->prefix, sizeof(s->prefix), p);
	n = strlen(s->prefix);
	while (n && s->prefix[n - 1] == '/')
		s->prefix[--n] = '\0';
	if (n)
		s->prefix[n++] = '/', s->prefix[n] = '\0';
	s->path_style = cfg->s3_path_style;
	s->parallel = cfg->s3_parallel > 0 ? cfg->s3_parallel : 16;
	s->retries = cfg->s3_retries;
	s->timeout_ms = cfg->s3_timeout * 1000LL;
	s->deadline_ms = cfg->s3_deadline * 1000LL;
	s->auth = aws_auth_new(cfg->s3_access_key, cfg->s3_secret_key);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	s->easy = curl_easy_init();
	s->multi = curl_multi_init();
	if (!s->easy || !s->multi)
		abort();
	curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, s->parallel);
	*out = s;
	return 0;
}

void s3_free(struct s3 *s)
{
	if (!s)
		return;
	curl_easy_cleanup(s->easy);
	curl_multi_cleanup(s->multi);
	aws_auth_free(s->auth);
	free(s);
}

void s3_stats(const struct s3 *s, unsigned long long *requests, unsigned long long *retries)
{
	if (requests)
		*requests = s->requests;
	if (retries)
		*retries = s->retried;
}

/* A bucket name usable as a DNS label in a virtual-hosted URL. */
static bool s3_bucket_dns(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-'))
			return false;
	return true;
}

int s3_url_build(char *out, size_t cap, const char *endpoint, const char *bucket,
		 bool path_style, const char *objkey, const char *query)
{
	const char *host = strstr(endpoint, "://");
	if (!host || cap < 16)
		return -1;
	host += 3;
	size_t scheme_len = (size_t)(host - endpoint);
	size_t elen = strlen(endpoint);
	while (elen > scheme_len && endpoint[elen - 1] == '/')
		elen--;
	size_t o = 0;
	int n;
	if (path_style || !s3_bucket_dns(bucket)) {
		n = snprintf(out, cap, "%.*s/", (int)elen, endpoint);
		if (n < 0 || (size_t)n >= cap)
			return -1;
		o = (size_t)n;
		if (aws_uri_encode(out, cap, &o, bucket, strlen(bucket), false) < 0)
			return -1;
		if (*objkey) {
			if (o + 1 >= cap)
				return -1;
			out[o++] = '/';
		}
	} else {
		n = snprintf(out, cap, "%.*s%s.%.*s/", (int)scheme_len, endpoint, bucket,
			     (int)(elen - scheme_len), host);
		if (n < 0 || (size_t)n >= cap)
			return -1;
		o = (size_t)n;
	}
	if (aws_uri_encode(out, cap, &o, objkey, strlen(objkey), true) < 0)
		return -1;
	if (query && *query) {
		n = snprintf(out + o, cap - o, "?%s", query);
		if (n < 0 || (size_t)n >= cap - o)
			return -1;
	}
	return 0;
}

/* The object key with the configured prefix. */
static int s3_full_key(const struct s3 *s, const char *key, char out[S3_KEY_MAX],
		       struct error *err)
{
	int n = snprintf(out, S3_KEY_MAX, "%s%s", s->prefix, key);
	if (n < 0 || n >= S3_KEY_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_key", "object key too long");
	return 0;
}

static int s3_req_url(const struct s3 *s, struct s3_req *r, const char *key, const char *query,
		      struct error *err)
{
	char full[S3_KEY_MAX];
	int rc = s3_full_key(s, key, full, err);
	if (rc < 0)
		return rc;
	if (s3_url_build(r->url, sizeof(r->url), s->endpoint, s->bucket, s->path_style, full,
			 query) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_key", "object URL too long");
	r->key = key;
	return 0;
}

static void s3_req_init(struct s3_req *r, const char *method)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->dst_fd = -1;
	buf_init(&r->errbody, S3_ERROR_BODY_MAX);
}

static void s3_req_end_attempt(struct s3_req *r)
{
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	if (r->src) {
		fclose(r->src);
		r->src = NULL;
	}
}

static void s3_req_dispose(struct s3_req *r)
{
	s3_req_end_attempt(r);
	buf_dispose(&r->errbody);
}

static bool s3_status_ok(long status)
{
	return status >= 200 && status < 300;
}

static size_t s3_write(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct s3_req *r = ctx;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	if (!s3_status_ok(status)) {
		buf_append(&r->errbody, p, n); /* bounded; a cut error body is still useful */
		return n;
	}
	if (!r->body_started) {
		r->body_started = true;
		/* a resumed download answered with the whole object (Range ignored): start over */
		if (r->resume_from && status != 206 && r->dst_fd >= 0) {
			if (ftruncate(r->dst_fd, 0) < 0 || lseek(r->dst_fd, 0, SEEK_SET) < 0) {
				r->write_failed = true;
				return 0;
			}
			r->resume_from = r->dst_len = 0;
		}
	}
	if (r->dst_max && n > r->dst_max - r->dst_len) {
		r->too_big = true;
		return 0;
	}
	if (r->dst_buf) {
		if (buf_append(r->dst_buf, p, n) < 0) {
			r->too_big = true;
			return 0;
		}
	} else if (r->dst_fd >= 0) {
		size_t off = 0;
		while (off < n) {
			ssize_t w = write(r->dst_fd, p + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				r->write_failed = true;
				return 0;
			}
			off += (size_t)w;
		}
	}
	r->dst_len += n;
	return n;
}

/* Prepares r->h for one attempt with fresh credentials. */
static int s3_req_prepare(struct s3 *s, struct s3_req *r, CURL *h, long long timeout_ms,
			  struct error *err)
{
	struct aws_creds creds;
	char line[512], hash[HASH_HEX_LEN + 1];
	const char *payload = S3_EMPTY_SHA256;
	int rc = aws_auth_get(s->auth, &creds, err);
	if (rc < 0)
		return rc;
	s3_req_end_attempt(r);
	buf_reset(&r->errbody);
	r->h = h;
	r->cc = CURLE_OK;
	r->status = 0;
	r->too_big = r->write_failed = r->body_started = false;
	if (r->dst_buf) {
		buf_reset(r->dst_buf);
		r->dst_len = 0;
	}
	/* a download into a file goes on from the bytes it has (Range), never from byte 0 */
	r->resume_from = r->dst_fd >= 0 ? r->dst_len : 0;
	if (r->dst_fd >= 0 && (ftruncate(r->dst_fd, (off_t)r->dst_len) < 0 ||
			       lseek(r->dst_fd, (off_t)r->dst_len, SEEK_SET) < 0))
		return error_set(err, SKIFF_EIO, NULL, "cannot resume the download: %s",
				 strerror(errno));
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, S3_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s3_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	memset(&r->ans, 0, sizeof(r->ans));
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, aws_answer_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r->ans);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "skiff/" SKIFF_VERSION);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
	if (r->dst_fd >= 0) {
		/* blobs may be large: a stall limit, and the whole s3_deadline (s3_perform) rather
		 * than s3_timeout for the transfer (uploads do the same) */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(s->timeout_ms + 999) / 1000);
		if (r->resume_from) {
			snprintf(line, sizeof(line), "Range: bytes=%llu-", r->resume_from);
			r->hdrs = curl_slist_append(r->hdrs, line);
		}
	}
	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "DELETE")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		if (r->src_path) {
			struct stat st;
			r->src = fopen(r->src_path, "rbe");
			if (!r->src || fstat(fileno(r->src), &st) < 0)
				return error_set(err, SKIFF_EIO, NULL, "cannot open %s: %s", r->src_path,
						 strerror(errno));
			curl_easy_setopt(h, CURLOPT_READDATA, r->src);
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
			payload = r->src_sha256 ? r->src_sha256 : "UNSIGNED-PAYLOAD";
		} else {
			r->src = fmemopen((void *)(r->body ? r->body : ""), r->body_len ? r->body_len : 1,
					  "rb");
			if (!r->src)
				abort();
			curl_easy_setopt(h, CURLOPT_READDATA, r->src);
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
			hash_buffer(r->body ? r->body : "", r->body_len, hash);
			payload = hash;
		}
		if (r->content_type) {
			snprintf(line, sizeof(line), "Content-Type: %s", r->content_type);
			r->hdrs = curl_slist_append(r->hdrs, line);
		}
		if (r->cache_control) {
			snprintf(line, sizeof(line), "Cache-Control: %s", r->cache_control);
			r->hdrs = curl_slist_append(r->hdrs, line);
		}
		if (r->content_encoding) {
			snprintf(line, sizeof(line), "Content-Encoding: %s", r->content_encoding);
			r->hdrs = curl_slist_append(r->hdrs, line);
		}
	}
	rc = aws_sign(h, &r->hdrs, &creds, s->region, "s3", r->method, r->url, payload, err);
	memset(&creds, 0, sizeof(creds));
	if (rc < 0)
		return rc;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->hdrs);
	s->requests++;
	return 0;
}

enum s3_outcome { S3_DONE, S3_RETRY, S3_FAIL };

/* Decides what an attempt's result means; on S3_FAIL err is set. */
static enum s3_outcome s3_req_outcome(struct s3 *s, struct s3_req *r, struct error *err)
{
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->cc == CURLE_WRITE_ERROR && r->too_big) {
		error_set(err, SKIFF_ELIMIT, NULL, "%s is larger than allowed", r->key);
		return S3_FAIL;
	}
	if (r->cc == CURLE_WRITE_ERROR && r->write_failed) {
		error_set(err, SKIFF_EIO, NULL, "cannot write the download of %s", r->key);
		return S3_FAIL;
	}
	if (r->cc == CURLE_OK && s3_status_ok(r->status))
		return S3_DONE;
	char code[64] = "", msg[256] = "";
	if (r->errbody.len) {
		s3_xml_text(r->errbody.data, r->errbody.len, "Code", code, sizeof(code));
		s3_xml_text(r->errbody.data, r->errbody.len, "Message", msg, sizeof(msg));
	}
	/* expired temporary credentials: refresh once and go again */
	if (r->cc == CURLE_OK && (r->status == 400 || r->status == 403) && !r->refreshed &&
	    (!strcmp(code, "ExpiredToken") || !strcmp(code, "TokenRefreshRequired") ||
	     (!code[0] && !strcmp(r->method, "HEAD"))) &&
	    aws_auth_expired(s->auth)) {
		r->refreshed = true;
		log_info("s3 credentials expired, refreshing key=%s", r->key);
		return S3_RETRY;
	}
	/* a resumed download asked past the end: start over */
	if (r->cc == CURLE_OK && r->status == 416 && r->resume_from) {
		r->dst_len = 0;
		return S3_RETRY;
	}
	/* our clock is off: sign again with S3's time, once */
	if (r->cc == CURLE_OK && !r->reclocked &&
	    (aws_clock_skewed(code, msg) ||
	     (r->status == 403 && !code[0] && aws_auth_clock_off(s->auth, r->ans.date))) &&
	    aws_auth_skew(s->auth, r->ans.date)) {
		r->reclocked = true;
		log_warn("s3 request signed with a skewed clock, retrying key=%s", r->key);
		return S3_RETRY;
	}
	if (aws_retryable(r->cc, r->status) || !strcmp(code, "RequestTimeout") ||
	    !strcmp(code, "SlowDown"))
		return S3_RETRY;
	if (r->cc != CURLE_OK) {
		error_set(err, SKIFF_ESTORE, "store_unavailable", "S3 %s %s failed: %s", r->method,
			  r->key, curl_easy_strerror(r->cc));
		return S3_FAIL;
	}
	if (r->status == 404) {
		error_set(err, SKIFF_ENOTFOUND, NULL, "%s not found in the store", r->key);
		return S3_FAIL;
	}
	/* S3 answers a missing key with 403, not 404, to a caller without an unconditioned
	 * s3:ListBucket: say so rather than guess "not found" */
	if (r->status == 403 && (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD")) &&
	    (!strcmp(code, "AccessDenied") || !code[0])) {
		error_set(err, SKIFF_ESTORE, "store_forbidden",
			  "S3 %s %s answered HTTP 403 AccessDenied: skiff's credentials lack "
			  "s3:GetObject on the key, or the key is missing and they lack s3:ListBucket "
			  "on the bucket without a prefix condition (then S3 answers 403 instead of "
			  "404; doc/aws.md, section 3)", r->method, r->key);
		return S3_FAIL;
	}
	error_set(err, SKIFF_ESTORE, "store_unavailable", "S3 %s %s answered HTTP %ld%s%s%s%s",
		  r->method, r->key, r->status, code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
	return S3_FAIL;
}

/* The error of a request that ran out of attempts. */
static int s3_req_gave_up(struct s3_req *r, struct error *err)
{
	char code[64] = "";
	if (r->errbody.len)
		s3_xml_text(r->errbody.data, r->errbody.len, "Code", code, sizeof(code));
	if (r->cc != CURLE_OK)
		return error_set(err, SKIFF_ESTORE, "store_unavailable",
				 "S3 %s %s failed after %d attempts: %s", r->method, r->key,
				 r->attempt, curl_easy_strerror(r->cc));
	return error_set(err, SKIFF_ESTORE, "store_unavailable",
			 "S3 %s %s failed after %d attempts: HTTP %ld%s%s", r->method, r->key,
			 r->attempt, r->status, code[0] ? " " : "", code);
}

/* One request on the reused handle, retried within min(s3_deadline, s3_timeout * attempts);
 * a download into a file within s3_deadline, each attempt going on from the bytes the
 * earlier ones received. */
static int s3_perform(struct s3 *s, struct s3_req *r, long long timeout_ms, long retries,
		      struct error *err)
{
	long long budget = timeout_ms * (retries + 1);
	if (budget > s->deadline_ms || r->dst_fd >= 0)
		budget = s->deadline_ms;
	long long deadline = clock_mono_ms() + budget;
	for (;;) {
		long long left = deadline - clock_mono_ms();
		int rc = s3_req_prepare(s, r, s->easy,
					left < timeout_ms || r->dst_fd >= 0 ? left : timeout_ms, err);
		if (rc < 0)
			return rc;
		r->cc = curl_easy_perform(s->easy);
		r->attempt++;
		struct error e;
		error_clear(&e);
		enum s3_outcome o = s3_req_outcome(s, r, &e);
		s3_req_end_attempt(r);
		if (o == S3_DONE)
			return 0;
		if (o == S3_FAIL)
			return error_set(err, e.code, e.name, "%s", e.message);
		long long wait = r->refreshed && r->attempt == 1 ? 0
			: aws_backoff_ms(r->attempt - 1, S3_BACKOFF_BASE_MS, S3_BACKOFF_CAP_MS);
		if (r->attempt > retries || clock_mono_ms() + wait >= deadline)
			return s3_req_gave_up(r, err);
		s->retried++;
		log_debug("s3 retry method=%s key=%s attempt=%d status=%ld curl=%d", r->method, r->key,
			  r->attempt, r->status, (int)r->cc);
		aws_sleep_ms(wait);
	}
}

int s3_put_mem(struct s3 *s, const char *key, const void *data, size_t len,
	       const char *content_type, const char *cache_control, struct error *err)
{
	struct s3_req r;
	s3_req_init(&r, "PUT");
	r.body = data;
	r.body_len = len;
	r.content_type = content_type;
	r.cache_control = cache_control;
	int rc = s3_req_url(s, &r, key, NULL, err);
	if (rc == 0)
		rc = s3_perform(s, &r, s->timeout_ms, s->retries, err);
	s3_req_dispose(&r);
	return rc;
}

int s3_put_file(struct s3 *s, const char *key, const char *path, const char *sha256,
		const char *content_type, const char *cache_control, struct error *err)
{
	struct s3_put p = { .key = key, .path = path, .sha256 = sha256,
			    .content_type = content_type, .cache_control = cache_control };
	return s3_put_many(s, &p, 1, false, err);
}

int s3_presign_put(struct s3 *s, const char *key, const struct sigv4_pair *headers, size_t n,
		   long expires, char *url, size_t cap, struct error *err)
{
	struct aws_creds creds;
	struct sigv4_pair hv[SIGV4_HEADERS_MAX];
	char full[S3_KEY_MAX], base[S3_URL_MAX], host[512], date[SIGV4_DATE_LEN + 1];
	char query[S3_PRESIGN_URL_MAX];
	if (n + 1 > SIGV4_HEADERS_MAX)
		return error_set(err, SKIFF_EINTERNAL, NULL, "too many headers to presign");
	int rc = s3_full_key(s, key, full, err);
	if (rc < 0)
		return rc;
	if (s3_url_build(base, sizeof(base), s->endpoint, s->bucket, s->path_style, full, NULL) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_key", "object URL too long");
	/* scheme://host[:port]/path: the host is signed, the path is the canonical URI */
	const char *hp = strstr(base, "://") + 3;
	size_t hl = strcspn(hp, "/");
	if (hl == 0 || hl >= sizeof(host) || hp[hl] != '/')
		return error_set(err, SKIFF_EINVALID, "invalid_config", "cannot presign %s", base);
	memcpy(host, hp, hl);
	host[hl] = '\0';
	if ((rc = aws_auth_get(s->auth, &creds, err)) < 0)
		return rc;
	if (creds.expires_ms) {
		/* a URL outliving its credentials would only be refused later, by S3 */
		long long left = (creds.expires_ms - clock_wall_ms()) / 1000;
		if (left < expires)
			expires = left > 1 ? (long)left : 1;
	}
	hv[0] = (struct sigv4_pair){ "host", host };
	memcpy(hv + 1, headers, n * sizeof(*headers));
	sigv4_date(clock_wall_ms() + creds.skew_ms, date);
	struct sigv4_request r = { "PUT", hp + hl, "", hv, n + 1, NULL, date, s->region, "s3" };
	rc = sigv4_presign(&r, creds.access_key, creds.secret_key, creds.token, expires, query,
			   sizeof(query));
	memset(&creds, 0, sizeof(creds));
	int k = rc < 0 ? -1 : snprintf(url, cap, "%s?%s", base, query);
	if (k < 0 || (size_t)k >= cap)
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "cannot presign the upload of %s (a name is too long)", key);
	return 0;
}

int s3_get_fd(struct s3 *s, const char *key, int fd, unsigned long long max, struct error *err)
{
	struct s3_req r;
	s3_req_init(&r, "GET");
	r.dst_fd = fd;
	r.dst_max = max;
	int rc = s3_req_url(s, &r, key, NULL, err);
	if (rc == 0)
		rc = s3_perform(s, &r, s->timeout_ms, s->retries, err);
	s3_req_dispose(&r);
	return rc;
}

int s3_get_buf(struct s3 *s, const char *key, struct buf *out, struct error *err)
{
	struct s3_req r;
	s3_req_init(&r, "GET");
	r.dst_buf = out;
	int rc = s3_req_url(s, &r, key, NULL, err);
	if (rc == 0)
		rc = s3_perform(s, &r, s->timeout_ms, s->retries, err);
	s3_req_dispose(&r);
	return rc;
}

int s3_head(struct s3 *s, const char *key, struct s3_object *info, struct error *err)
{
	struct s3_req r;
	s3_req_init(&r, "HEAD");
	int rc = s3_req_url(s, &r, key, NULL, err);
	if (rc == 0)
		rc = s3_perform(s, &r, s->timeout_ms, s->retries, err);
	if (rc == 0 && info) {
		memset(info, 0, sizeof(*info));
		s3_copy(info->key, sizeof(info->key), key);
		curl_off_t len = -1;
		long ft = -1;
		char *ct = NULL;
		curl_easy_getinfo(s->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
		curl_easy_getinfo(s->easy, CURLINFO_FILETIME, &ft);
		curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &ct);
		info->size = len > 0 ? (unsigned long long)len : 0;
		info->mtime = ft > 0 ? ft : 0;
		if (ct)
			s3_copy(info->content_type, sizeof(info->content_type), ct);
	}
	s3_req_dispose(&r);
	if (rc == SKIFF_ENOTFOUND)
		return 0;
	return rc < 0 ? rc : 1;
}

int s3_delete(struct s3 *s, const char *key, struct error *err)
{
	struct s3_req r;
	s3_req_init(&r, "DELETE");
	int rc = s3_req_url(s, &r, key, NULL, err);
	if (rc == 0)
		rc = s3_perform(s, &r, s->timeout_ms, s->retries, err);
	s3_req_dispose(&r);
	return rc == SKIFF_ENOTFOUND ? 0 : rc;
}

int s3_list(struct s3 *s, const char *prefix, int (*fn)(const struct s3_object *o, void *ctx),
	    void *ctx, struct error *err)
{
	char full[S3_KEY_MAX], query[S3_KEY_MAX * 3 + S3_TOKEN_MAX * 3 + 64];
	struct s3_list_page page = { false, "" };
	struct buf body = BUF_INIT(S3_LIST_MAX_BODY);
	int rc = s3_full_key(s, prefix ? prefix : "", full, err);
	if (rc < 0)
		return rc;
	size_t strip = strlen(s->prefix);
	do {
		/* encoded and sorted by skiff ("+/=" of base64 tokens as %2B %2F %3D), sent as
		 * signed */
		struct sigv4_pair q[] = { { "list-type", "2" }, { "max-keys", "1000" },
					  { "prefix", full }, { "continuation-token", page.next_token } };
		if (sigv4_query(query, sizeof(query), q, page.next_token[0] ? 4 : 3) < 0)
			goto toolong;
		struct s3_req r;
		s3_req_init(&r, "GET");
		r.dst_buf = &body;
		r.key = prefix;
		if (s3_url_build(r.url, sizeof(r.url), s->endpoint, s->bucket, s->path_style, "",
				 query) < 0) {
			s3_req_dispose(&r);
			goto toolong;
		}
		rc = s3_perform(s, &r, s->timeout_ms, s->retries, err);
		s3_req_dispose(&r);
		if (rc < 0)
			break;
		rc = s3_list_parse(body.data ? body.data : "", body.len, strip, fn, ctx, &page, err);
		if (rc != 0)
			break;
	} while (page.truncated);
	buf_dispose(&body);
	return rc < 0 ? rc : 0;
toolong:
	buf_dispose(&body);
	return error_set(err, SKIFF_EINVALID, "invalid_key", "listing request too long");
}

int s3_check(struct s3 *s, struct error *err)
{
	char query[S3_KEY_MAX * 3 + 64];
	struct sigv4_pair q[] = { { "list-type", "2" }, { "max-keys", "1" }, { "prefix", s->prefix } };
	struct buf body = BUF_INIT(S3_LIST_MAX_BODY);
	struct s3_req r;
	s3_req_init(&r, "GET");
	r.dst_buf = &body;
	r.key = "(bucket)";
	int rc = 0;
	if (sigv4_query(query, sizeof(query), q, 3) < 0 ||
	    s3_url_build(r.url, sizeof(r.url), s->endpoint, s->bucket, s->path_style, "", query) < 0)
		rc = error_set(err, SKIFF_EINVALID, "invalid_config", "s3_prefix too long");
	if (rc == 0)
		rc = s3_perform(s, &r, s->timeout_ms < 5000 ? s->timeout_ms : 5000, 0, err);
	s3_req_dispose(&r);
	buf_dispose(&body);
	return rc;
}

/* ---- batch uploads on the multi interface ---- */

enum s3_job_phase { S3_JOB_HEAD, S3_JOB_PUT, S3_JOB_DONE };

struct s3_job {
	struct s3_put *put;
	struct s3_req req;
	enum s3_job_phase phase;
	long long not_before;     /* monotonic ms: when a retry may start */
	CURL *h;
};

static int s3_job_start(struct s3 *s, struct s3_job *j, long long deadline, struct error *err)
{
	s3_req_dispose(&j->req);
	int attempt = j->req.attempt;
	bool refreshed = j->req.refreshed, reclocked = j->req.reclocked;
	s3_req_init(&j->req, j->phase == S3_JOB_HEAD ? "HEAD" : "PUT");
	j->req.attempt = attempt;
	j->req.refreshed = refreshed;
	j->req.reclocked = reclocked;
	j->req.src_path = j->put->path;
	j->req.src_sha256 = j->put->sha256;
	j->req.content_type = j->put->content_type;
	j->req.cache_control = j->put->cache_control;
	j->req.content_encoding = j->put->content_encoding;
	int rc = s3_req_url(s, &j->req, j->put->key, NULL, err);
	if (rc < 0)
		return rc;
	if (!j->h && !(j->h = curl_easy_init()))
		abort();
	long long left = deadline - clock_mono_ms();
	rc = s3_req_prepare(s, &j->req, j->h, left, err);
	if (rc < 0)
		return rc;
	if (j->phase == S3_JOB_PUT) {
		/* big files: no overall limit per request but the batch deadline; a stall fails */
		curl_easy_setopt(j->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(j->h, CURLOPT_LOW_SPEED_TIME, (long)(s->timeout_ms / 1000));
	}
	curl_multi_add_handle(s->multi, j->h);
	return 0;
}

int s3_put_many(struct s3 *s, struct s3_put *puts, size_t n, bool skip_existing,
		struct error *err)
{
	if (n == 0)
		return 0;
	struct s3_job *jobs = calloc(n, sizeof(*jobs));
	size_t *waiting = calloc(n, sizeof(*waiting));   /* jobs to (re)start, in order */
	if (!jobs || !waiting)
		abort();
	size_t nwait = 0, next = 0, done = 0, active = 0;
	long long deadline = clock_mono_ms() + s->deadline_ms;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		jobs[i].put = &puts[i];
		jobs[i].phase = skip_existing ? S3_JOB_HEAD : S3_JOB_PUT;
		s3_req_init(&jobs[i].req, "PUT");
		puts[i].uploaded = false;
		puts[i].bytes = 0;
	}
	while (done < n && rc == 0) {
		long long now = clock_mono_ms();
		if (now >= deadline) {
			rc = error_set(err, SKIFF_ETIMEOUT, "store_timeout",
				       "the upload did not finish within %lld s (%zu of %zu files done)",
				       s->deadline_ms / 1000, done, n);
			break;
		}
		long long wake = now + 200;
		/* start retries that are due, then new jobs, up to s3_parallel */
		for (size_t w = 0; w < nwait && active < (size_t)s->parallel && rc == 0;) {
			struct s3_job *j = &jobs[waiting[w]];
			if (j->not_before > now) {
				if (j->not_before < wake)
					wake = j->not_before;
				w++;
				continue;
			}
			waiting[w] = waiting[--nwait];
			rc = s3_job_start(s, j, deadline, err);
			active += rc == 0;
		}
		while (rc == 0 && next < n && active < (size_t)s->parallel) {
			rc = s3_job_start(s, &jobs[next++], deadline, err);
			active += rc == 0;
		}
		if (rc < 0)
			break;
		int running = 0;
		curl_multi_perform(s->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(s->multi, &left)) != NULL && rc == 0) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct s3_req *r = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			struct s3_job *j = (struct s3_job *)(void *)((char *)r - offsetof(struct s3_job, req));
			r->cc = m->data.result;
			curl_multi_remove_handle(s->multi, m->easy_handle);
			active--;
			r->attempt++;
			struct error e;
			enum s3_outcome o = s3_req_outcome(s, r, &e);
			if (o == S3_FAIL && j->phase == S3_JOB_HEAD && e.code == SKIFF_ENOTFOUND) {
				j->phase = S3_JOB_PUT;   /* missing: send it now */
				j->req.attempt = 0;
				j->not_before = 0;
				waiting[nwait++] = (size_t)(j - jobs);
			} else if (o == S3_DONE) {
				if (j->phase == S3_JOB_PUT) {
					curl_off_t sent = 0;
					curl_easy_getinfo(j->h, CURLINFO_SIZE_UPLOAD_T, &sent);
					j->put->uploaded = true;
					j->put->bytes = (unsigned long long)sent;
				}
				j->phase = S3_JOB_DONE;
				s3_req_end_attempt(r);
				curl_easy_cleanup(j->h);
				j->h = NULL;
				done++;
			} else if (o == S3_RETRY && r->attempt <= s->retries) {
				s->retried++;
				j->not_before = clock_mono_ms() +
					(r->refreshed && r->attempt == 1 ? 0
					 : aws_backoff_ms(r->attempt - 1, S3_BACKOFF_BASE_MS,
							  S3_BACKOFF_CAP_MS));
				log_debug("s3 retry method=%s key=%s attempt=%d status=%ld curl=%d",
					  r->method, r->key, r->attempt, r->status, (int)r->cc);
				s3_req_end_attempt(r);
				waiting[nwait++] = (size_t)(j - jobs);
			} else {
				if (o == S3_RETRY)
					s3_req_gave_up(r, &e);
				rc = error_set(err, e.code, e.name, "%s", e.message);
			}
		}
		if (rc == 0 && done < n) {
			long long t = wake - clock_mono_ms();
			if (t < 1)
				t = 1;
			if (t > 200)
				t = 200;
			curl_multi_poll(s->multi, NULL, 0, (int)t, NULL);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].h) {
			curl_multi_remove_handle(s->multi, jobs[i].h);
			curl_easy_cleanup(jobs[i].h);
		}
		s3_req_dispose(&jobs[i].req);
	}
	free(jobs);
	free(waiting);
	return rc;
}
