/* mod_skiff_fastpath.c — lighttpd's serving fast path as a module of its own: the decision of
 * apache/skiff-fastpath.lua (answer a warm hit from the site's tree in fastpath_dir exactly as
 * skiff-serve would, or leave the request to skiff-serve), in C, without mod_magnet's Lua VM.
 * Built against the source of the very lighttpd release that loads it (scripts/lighttpd-src.sh,
 * mk/lighttpd.mk); doc/operators.md says how to load it. Configuration: "mod_skiff_fastpath"
 * in server.modules before "mod_fastcgi" (both take requests at the same stage: the first
 * listed wins), and in the sites' block
 *   skiff.fastpath-dir = "/var/lib/skiff/fastpath"      (fastpath_dir of skiff.conf)
 *   skiff.fastpath-keep = 100000    (optional: the most sites and entries kept, per process)
 *
 * It answers at lighttpd's uri-clean stage (where mod_magnet's attract-raw-url runs), from the
 * raw request target, and only what the Lua decision answers: GET or HEAD of a path of
 * [A-Za-z0-9._~/-] without "//" or "/." that has an entry (lib/fastpath.h), no Range, no
 * If-Modified-Since without If-None-Match, an Accept-Encoding without q-values, a blob there
 * with the entry's size. What it keeps, per configured directory: the suffix (read again when
 * the file changes), per site its tree's identity (looked at once a second through lighttpd's
 * stat cache, which trusts a stat for a second: a switch is seen within two) and the entries
 * it read, negative ones too; past skiff.fastpath-keep of them it forgets everything. */
#include "first.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"
#include "buffer.h"
#include "ck.h"
#include "http_chunk.h"
#include "http_header.h"
#include "log.h"
#include "plugin.h"
#include "request.h"
#include "response.h"
#include "stat_cache.h"

#include "fastpath_match.h"   /* skiff's lib/: what skiff-serve decides alike */

#define FASTPATH_KEEP_MAX 100000   /* sites and entries kept by default (the Lua's max) */
#define FASTPATH_ENTRY_MAX 8192    /* bytes of an entry (lib/fastpath.h) */
#define FASTPATH_HOST_MAX 255
#define FASTPATH_SLUG_MAX 63
#define FASTPATH_SUFFIX_MAX 300
#define FASTPATH_HEADERS_MAX 64    /* name/value pairs of one entry */

enum { CODING_IDENTITY, CODING_GZIP, CODING_BR, CODING_N };

struct header {
	enum http_header_e id;
	const char *name, *value;
	uint32_t name_len, value_len;
};

/* what one coding of an entry sends */
struct variant {
	buffer file;               /* the blob's local copy (points into the entry's line) */
	off_t size;
	char *etag;                /* '"' hash '"' */
	uint32_t etag_len;
};

/* what a table chains by key: the first member of an entry and of a site */
struct node {
	struct node *next;
	uint32_t hash;
	uint32_t key_len;
	const char *key;
};

struct table {
	struct node **b;
	uint32_t nb, n;
};

struct entry {
	struct node node;          /* key: the raw request target (path and query), target */
	char *target;
	int found;                 /* 0: no entry (a remembered miss) */
	char *line;                /* the entry's text, its fields NUL-terminated in place */
	const char *ctype;
	uint32_t ctype_len;
	unsigned mask;             /* 1: a gzip variant, 2: a br one */
	struct variant v[CODING_N];
	struct header *headers;    /* the pairs skiff-serve sends beside ETag and Content-Encoding */
	int nheaders;
};

struct site {
	struct node node;          /* key: slug */
	char slug[FASTPATH_SLUG_MAX + 1];
	buffer dir;                /* {fastpath_dir}/sites/{slug} */
	unix_time64_t t;           /* the second its identity was looked at (-1: never) */
	int linked;                /* its link names a directory */
	ino_t ino;
	struct timespec mtim, ctim;
	struct table entries;
};

/* the state of one fastpath directory */
struct fastpath {
	struct fastpath *next;
	buffer dir;
	buffer suffix_file;
	unix_time64_t t;
	int suffix_known;
	ino_t suffix_ino;
	time_t suffix_mtime;
	char suffix[FASTPATH_SUFFIX_MAX + 1];   /* "" when none */
	uint32_t suffix_len;
	struct table sites;
	uint32_t kept, keep;        /* sites and entries kept; the most it keeps */
};

typedef struct {
	PLUGIN_DATA;
	const buffer *defaults_dir; /* skiff.fastpath-dir of the global scope */
	const buffer *dir;          /* ... merged with the request's conditions */
	uint32_t defaults_keep, keep;  /* skiff.fastpath-keep, the same way */
	struct fastpath *states;
	int layout;                 /* 1: lighttpd's stat cache entries read as built; -1: not */
} plugin_data;

static uint32_t fastpath_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void table_add(struct table *t, struct node *x)
{
	if (t->n >= t->nb) {
		uint32_t nb = t->nb ? t->nb * 2 : 64;
		struct node **b = ck_calloc(nb, sizeof(*b));
		for (uint32_t i = 0; i < t->nb; i++) {
			struct node *y = t->b[i];
			while (y) {
				struct node *next = y->next;
				y->next = b[y->hash & (nb - 1)];
				b[y->hash & (nb - 1)] = y;
				y = next;
			}
		}
		free(t->b);
		t->b = b;
		t->nb = nb;
	}
	x->next = t->b[x->hash & (t->nb - 1)];
	t->b[x->hash & (t->nb - 1)] = x;
	t->n++;
}

static struct node *table_get(const struct table *t, uint32_t hash, const char *key, uint32_t len)
{
	if (!t->nb)
		return NULL;
	for (struct node *x = t->b[hash & (t->nb - 1)]; x; x = x->next)
		if (x->hash == hash && x->key_len == len && memcmp(x->key, key, len) == 0)
			return x;
	return NULL;
}

/* Frees every node with free_node and empties t. */
static void table_clear(struct table *t, void (*free_node)(struct node *))
{
	for (uint32_t i = 0; i < t->nb; i++) {
		struct node *x = t->b[i];
		while (x) {
			struct node *next = x->next;
			free_node(x);
			x = next;
		}
	}
	free(t->b);
	t->b = NULL;
	t->nb = t->n = 0;
}

static void entry_free(struct node *x)
{
	struct entry *e = (struct entry *)x;
	for (int i = 0; i < CODING_N; i++)
		free(e->v[i].etag);
	free(e->headers);
	free(e->line);
	free(e->target);
	free(e);
}

static void site_free(struct node *x)
{
	struct site *s = (struct site *)x;
	table_clear(&s->entries, entry_free);
	free(s->dir.ptr);
	free(s);
}

static void fastpath_forget(struct fastpath *fp)
{
	table_clear(&fp->sites, site_free);
	fp->kept = 0;
}

/* Counts one more kept site or entry: 0, or -1 after forgetting everything when there were
 * too many (every site and entry a caller holds is gone then). */
static int fastpath_keep(struct fastpath *fp)
{
	if (fp->kept >= fp->keep) {
		fastpath_forget(fp);
		return -1;
	}
	fp->kept++;
	return 0;
}

/* The suffix written by skiff-serve (lib/fastpath.h fastpath_suffix), looked at once a second:
 * a new one starts afresh. 0 when there is none. */
static int fastpath_suffix_ok(struct fastpath *fp)
{
	if (fp->t == log_epoch_secs)
		return fp->suffix_len != 0;
	fp->t = log_epoch_secs;
	const stat_cache_entry *sce = stat_cache_get_entry(&fp->suffix_file);
	int known = sce && S_ISREG(sce->st.st_mode);
	if (known == fp->suffix_known &&
	    (!known || (sce->st.st_ino == fp->suffix_ino && sce->st.st_mtime == fp->suffix_mtime)))
		return fp->suffix_len != 0;
	fastpath_forget(fp);
	fp->suffix_known = known;
	fp->suffix_len = 0;
	fp->suffix[0] = '\0';
	if (!known)
		return 0;
	fp->suffix_ino = sce->st.st_ino;
	fp->suffix_mtime = sce->st.st_mtime;
	char buf[FASTPATH_SUFFIX_MAX + 2];
	int fd = open(fp->suffix_file.ptr, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	size_t len = strcspn(buf, "\n");
	if (len == 0 || len > FASTPATH_SUFFIX_MAX || buf[0] != '.')
		return 0;
	memcpy(fp->suffix, buf, len);
	fp->suffix[len] = '\0';
	fp->suffix_len = (uint32_t)len;
	return 1;
}

/* The site's slug of a Host (lower-cased into slug), or 0: "{slug}" suffix, any case. */
static int fastpath_slug(const struct fastpath *fp, const buffer *host, char *slug)
{
	if (!host)
		return 0;
	uint32_t n = buffer_clen(host), sn = fp->suffix_len;
	if (n > FASTPATH_HOST_MAX || n <= sn || n - sn > FASTPATH_SLUG_MAX)
		return 0;
	for (uint32_t i = 0; i < sn; i++) {
		char c = host->ptr[n - sn + i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != fp->suffix[i])
			return 0;
	}
	uint32_t m = n - sn;
	for (uint32_t i = 0; i < m; i++) {
		char c = host->ptr[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (c == '-' && i > 0 && slug[i - 1] == '-')
			return 0;
		slug[i] = c;
	}
	slug[m] = '\0';
	return 1;
}

static struct site *fastpath_site(struct fastpath *fp, const char *slug)
{
	uint32_t len = (uint32_t)strlen(slug);
	uint32_t h = fastpath_hash(slug, len);
	struct node *x = table_get(&fp->sites, h, slug, len);
	if (x)
		return (struct site *)x;
	if (fastpath_keep(fp) < 0)
		fp->kept++;   /* nothing was held: the new site is the first kept */
	struct site *s = ck_calloc(1, sizeof(*s));
	memcpy(s->slug, slug, len + 1);
	s->node.hash = h;
	s->node.key = s->slug;
	s->node.key_len = len;
	buffer_copy_buffer(&s->dir, &fp->dir);
	buffer_append_str2(&s->dir, CONST_STR_LEN("/sites/"), slug, len);
	s->t = -1;
	table_add(&fp->sites, &s->node);
	return s;
}

/* Looks at the site's link once a second: a switch is a rename(2) to another tree (another
 * inode), and a tree never changes once linked. 0 when the site has no tree. */
static int site_linked(struct site *s)
{
	if (s->t == log_epoch_secs)
		return s->linked;
	s->t = log_epoch_secs;
	const stat_cache_entry *sce = stat_cache_get_entry(&s->dir);
	if (!sce || !S_ISDIR(sce->st.st_mode)) {
		if (s->linked || s->entries.n)
			table_clear(&s->entries, entry_free);
		s->linked = 0;
		return 0;
	}
	if (!s->linked || sce->st.st_ino != s->ino ||
	    sce->st.st_mtim.tv_sec != s->mtim.tv_sec || sce->st.st_mtim.tv_nsec != s->mtim.tv_nsec ||
	    sce->st.st_ctim.tv_sec != s->ctim.tv_sec || sce->st.st_ctim.tv_nsec != s->ctim.tv_nsec)
		table_clear(&s->entries, entry_free);
	s->linked = 1;
	s->ino = sce->st.st_ino;
	s->mtim = sce->st.st_mtim;
	s->ctim = sce->st.st_ctim;
	return 1;
}

static int parse_size(const char *s, off_t *out)
{
	if (*s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > INT64_MAX)
		return -1;
	*out = (off_t)v;
	return 0;
}

/* Fills e from line, the first line of its entry file (lib/fastpath.h), whose fields e then
 * points into; 0 when it is not one (what e got is freed with it, line is the caller's). */
static int entry_parse(struct entry *e, char *line)
{
	char *f[12 + 2 * FASTPATH_HEADERS_MAX];
	int n = 0;
	char *p = line;
	for (;;) {
		if (n == (int)(sizeof(f) / sizeof(f[0])))
			return 0;
		f[n++] = p;
		char *tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (n < 12 || strcmp(f[0], "2") != 0)
		return 0;
	e->ctype = f[2];
	e->ctype_len = (uint32_t)strlen(f[2]);
	for (int c = 0; c < CODING_N; c++) {
		const char *hash = f[3 + 3 * c], *file = f[4 + 3 * c], *size = f[5 + 3 * c];
		if (c != CODING_IDENTITY && strcmp(hash, "-") == 0)
			continue;
		struct variant *v = &e->v[c];
		if (parse_size(size, &v->size) < 0)
			return 0;
		size_t hl = strlen(hash), fl = strlen(file);
		if (fl == 0)
			return 0;
		v->etag = ck_malloc(hl + 3);
		v->etag[0] = '"';
		memcpy(v->etag + 1, hash, hl);
		v->etag[hl + 1] = '"';
		v->etag[hl + 2] = '\0';
		v->etag_len = (uint32_t)hl + 2;
		v->file.ptr = (char *)file;
		v->file.used = (uint32_t)fl + 1;
		v->file.size = (uint32_t)fl + 1;
		if (c != CODING_IDENTITY)
			e->mask |= c == CODING_GZIP ? 1u : 2u;
	}
	/* the pairs: f[12], f[13], ... (an odd last field is ignored, as the Lua does) */
	int np = (n - 12) / 2;
	if (np > 0) {
		e->headers = ck_calloc((size_t)np, sizeof(*e->headers));
		for (int i = 0; i < np; i++) {
			struct header *h = &e->headers[i];
			h->name = f[12 + 2 * i];
			h->value = f[13 + 2 * i];
			h->name_len = (uint32_t)strlen(h->name);
			h->value_len = (uint32_t)strlen(h->value);
			h->id = http_header_hkey_get(h->name, h->name_len);
		}
		e->nheaders = np;
	}
	return 1;
}

/* The entry of a request target of site s (read and kept on its first request), or NULL. */
static struct entry *site_entry(struct fastpath *fp, struct site *s, const char *target, uint32_t len)
{
	uint32_t h = fastpath_hash(target, len);
	struct entry *e = (struct entry *)table_get(&s->entries, h, target, len);
	if (e)
		return e->found ? e : NULL;
	if (fastpath_keep(fp) < 0)
		return NULL;   /* s is gone with everything else: skiff-serve answers this one */
	e = ck_calloc(1, sizeof(*e));
	e->target = ck_malloc(len + 1);
	memcpy(e->target, target, len);
	e->target[len] = '\0';
	e->node.hash = h;
	e->node.key = e->target;
	e->node.key_len = len;
	const char *q = memchr(target, '?', len);
	size_t plen = q ? (size_t)(q - target) : len;
	if (fastpath_match_path(target, plen)) {
		buffer *path = buffer_init();
		buffer_copy_buffer(path, &s->dir);
		buffer_append_str2(path, target, plen, CONST_STR_LEN("@"));
		int fd = open(path->ptr, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		buffer_free(path);
		char buf[FASTPATH_ENTRY_MAX + 1];
		ssize_t n = fd >= 0 ? read(fd, buf, FASTPATH_ENTRY_MAX) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = '\0';
			size_t ll = strcspn(buf, "\n");
			char *line = ck_malloc(ll + 1);   /* kept as long as the entry: its own size */
			memcpy(line, buf, ll);
			line[ll] = '\0';
			if (entry_parse(e, line)) {
				e->line = line;
				/* a rule of the deployment looks at the query: skiff-serve's */
				e->found = !(strcmp(e->line + 2, "1") == 0 && q && len - plen > 1);
			} else {
				free(line);
			}
		}
	}
	if (!e->found) {
		/* kept as a miss: only its key */
		for (int i = 0; i < CODING_N; i++) {
			free(e->v[i].etag);
			e->v[i].etag = NULL;
		}
		free(e->headers);
		e->headers = NULL;
		free(e->line);
		e->line = NULL;
	}
	table_add(&s->entries, &e->node);
	return e->found ? e : NULL;
}

/* lib/serve_reply.c's choice of variant for lists without parameters: CODING_*, or -1 when a
 * q-value or parameter leaves the choice to skiff-serve. */
static int fastpath_coding(const buffer *ae, unsigned mask)
{
	if (!ae || buffer_is_blank(ae) || mask == 0)
		return CODING_IDENTITY;
	const char *s = ae->ptr;
	if (strpbrk(s, ";="))
		return -1;
	int br = 0, gz = 0, star = 0;
	while (*s) {
		while (*s == ',')
			s++;
		if (!*s)
			break;
		while (*s == ' ' || *s == '\t')
			s++;
		const char *name = s;
		while (*s && *s != ';' && *s != ',' && *s != ' ' && *s != '\t')
			s++;
		size_t n = (size_t)(s - name);
		if (n == 2 && strncasecmp(name, "br", 2) == 0)
			br = 1;
		else if ((n == 4 && strncasecmp(name, "gzip", 4) == 0) ||
			 (n == 6 && strncasecmp(name, "x-gzip", 6) == 0))
			gz = 1;
		else if (n == 1 && *name == '*')
			star = 1;
		while (*s && *s != ',')
			s++;
	}
	if ((mask & 2) && (br || star))
		return CODING_BR;
	if ((mask & 1) && (gz || star))
		return CODING_GZIP;
	return CODING_IDENTITY;
}

/* Sets one header as mod_magnet's lighty.header did (an empty value unsets it; Content-Length,
 * Connection and Transfer-Encoding stay lighttpd's). */
static void fastpath_header(request_st *r, enum http_header_e id, const char *k, uint32_t kl,
			    const char *v, uint32_t vl)
{
	if (id == HTTP_HEADER_CONTENT_LENGTH || id == HTTP_HEADER_CONNECTION ||
	    id == HTTP_HEADER_TRANSFER_ENCODING)
		return;
	if (vl == 0)
		http_header_response_unset(r, id, k, kl);
	else
		http_header_response_set(r, id, k, kl, v, vl);
}

static struct fastpath *fastpath_of(plugin_data *p, const buffer *dir)
{
	for (struct fastpath *fp = p->states; fp; fp = fp->next)
		if (buffer_is_equal(&fp->dir, dir))
			return fp;
	struct fastpath *fp = ck_calloc(1, sizeof(*fp));
	buffer_copy_buffer(&fp->dir, dir);
	while (buffer_clen(&fp->dir) > 1 && fp->dir.ptr[buffer_clen(&fp->dir) - 1] == '/')
		buffer_truncate(&fp->dir, buffer_clen(&fp->dir) - 1);
	buffer_copy_buffer(&fp->suffix_file, &fp->dir);
	buffer_append_string_len(&fp->suffix_file, CONST_STR_LEN("/suffix"));
	fp->t = -1;
	fp->next = p->states;
	p->states = fp;
	return fp;
}

/* Whether this module was built for the lighttpd that loaded it: a stat cache entry must read
 * as what stat(2) says of the same file (lighttpd's headers were configured by hand, see
 * mk/lighttpd.mk). Looked at once, with the directory itself; a mismatch is logged and every
 * request goes to skiff-serve. */
static int fastpath_layout_ok(plugin_data *p, request_st *r, const struct fastpath *fp)
{
	if (p->layout < 0)
		return 0;
	struct stat st;
	if (stat(fp->dir.ptr, &st) < 0)
		return 0;   /* not there yet: looked at again on the next request */
	const stat_cache_entry *sce = stat_cache_get_entry(&fp->dir);
	if (sce && sce->st.st_ino == st.st_ino && sce->st.st_dev == st.st_dev &&
	    sce->st.st_mode == st.st_mode && sce->fd == -1) {
		p->layout = 1;
		return 1;
	}
	p->layout = -1;
	log_error(r->conf.errh, __FILE__, __LINE__,
		  "mod_skiff_fastpath: built for another lighttpd (its stat cache does not read "
		  "as expected); every request goes to skiff-serve until it is rebuilt");
	return 0;
}

static void mod_skiff_fastpath_merge(plugin_data *p, const config_plugin_value_t *cpv)
{
	for (; cpv->k_id != -1; cpv++) {
		if (cpv->k_id == 0)
			p->dir = cpv->v.b;
		else if (cpv->k_id == 1)
			p->keep = cpv->v.u;
	}
}

URIHANDLER_FUNC(mod_skiff_fastpath_uri)
{
	plugin_data *p = p_d;
	if (r->http_method != HTTP_METHOD_GET && r->http_method != HTTP_METHOD_HEAD)
		return HANDLER_GO_ON;
	p->dir = p->defaults_dir;
	p->keep = p->defaults_keep;
	for (int i = 1; i < p->nconfig; i++)
		if (config_check_cond(r, (uint32_t)p->cvlist[i].k_id))
			mod_skiff_fastpath_merge(p, p->cvlist + p->cvlist[i].v.u2[0]);
	if (!p->dir || buffer_is_blank(p->dir))
		return HANDLER_GO_ON;
	const buffer *range = http_header_request_get(r, HTTP_HEADER_RANGE, CONST_STR_LEN("Range"));
	if (range && !buffer_is_blank(range))
		return HANDLER_GO_ON;
	const buffer *inm = http_header_request_get(r, HTTP_HEADER_IF_NONE_MATCH,
						    CONST_STR_LEN("If-None-Match"));
	if (inm && buffer_is_blank(inm))
		inm = NULL;
	if (!inm) {
		const buffer *ims = http_header_request_get(r, HTTP_HEADER_IF_MODIFIED_SINCE,
							    CONST_STR_LEN("If-Modified-Since"));
		if (ims && !buffer_is_blank(ims))
			return HANDLER_GO_ON;
	}
	struct fastpath *fp = fastpath_of(p, p->dir);
	fp->keep = p->keep;
	if (p->layout <= 0 && !fastpath_layout_ok(p, r, fp))
		return HANDLER_GO_ON;
	if (!fastpath_suffix_ok(fp))
		return HANDLER_GO_ON;
	char slug[FASTPATH_HOST_MAX + 1];
	if (!fastpath_slug(fp, r->http_host, slug))
		return HANDLER_GO_ON;
	struct site *s = fastpath_site(fp, slug);
	if (!site_linked(s))
		return HANDLER_GO_ON;
	if (buffer_is_blank(&r->target))
		return HANDLER_GO_ON;
	struct entry *e = site_entry(fp, s, r->target.ptr, buffer_clen(&r->target));
	if (!e)
		return HANDLER_GO_ON;
	int c = CODING_IDENTITY;
	if (e->mask) {
		c = fastpath_coding(http_header_request_get(r, HTTP_HEADER_ACCEPT_ENCODING,
							    CONST_STR_LEN("Accept-Encoding")), e->mask);
		if (c < 0)
			return HANDLER_GO_ON;
	}
	const struct variant *v = &e->v[c];
	/* the blob, there with the entry's size (a cache file not filled yet, evicted or cut
	 * short is skiff-serve's: it fills the cache again). Looked at without opening it: an
	 * open file stays in lighttpd's stat cache for the rest of the second, and skiff-serve's
	 * X-Sendfile of the file it fetches again in its place would send that one instead. */
	stat_cache_entry *sce = stat_cache_get_entry(&v->file);
	if (!sce || !S_ISREG(sce->st.st_mode) || sce->st.st_size != v->size)
		return HANDLER_GO_ON;
	if (sce->fd < 0 && v->size != 0) {   /* a warm hit has it open already */
		sce = stat_cache_get_entry_open(&v->file, r->conf.follow_symlink);
		if (!sce || !S_ISREG(sce->st.st_mode) || sce->st.st_size != v->size || sce->fd < 0)
			return HANDLER_GO_ON;
	}
	int not_modified = inm && fastpath_match_etag(inm->ptr, v->etag);
	if (!not_modified)
		fastpath_header(r, HTTP_HEADER_CONTENT_TYPE, CONST_STR_LEN("Content-Type"),
				e->ctype, e->ctype_len);
	fastpath_header(r, HTTP_HEADER_ETAG, CONST_STR_LEN("ETag"), v->etag, v->etag_len);
	if (c == CODING_GZIP)
		fastpath_header(r, HTTP_HEADER_CONTENT_ENCODING, CONST_STR_LEN("Content-Encoding"),
				CONST_STR_LEN("gzip"));
	else if (c == CODING_BR)
		fastpath_header(r, HTTP_HEADER_CONTENT_ENCODING, CONST_STR_LEN("Content-Encoding"),
				CONST_STR_LEN("br"));
	for (int i = 0; i < e->nheaders; i++) {
		const struct header *h = &e->headers[i];
		fastpath_header(r, h->id, h->name, h->name_len, h->value, h->value_len);
	}
	if (not_modified) {
		r->http_status = 304;
	} else {
		http_response_body_clear(r, 0);
		if (v->size > 0 && http_chunk_append_file_ref(r, sce) != 0) {
			http_response_body_clear(r, 0);
			return HANDLER_GO_ON;
		}
		r->http_status = 200;
	}
	r->resp_body_finished = 1;
	return HANDLER_FINISHED;
}

INIT_FUNC(mod_skiff_fastpath_init)
{
	return ck_calloc(1, sizeof(plugin_data));
}

FREE_FUNC(mod_skiff_fastpath_free)
{
	plugin_data *p = p_d;
	struct fastpath *fp = p->states;
	while (fp) {
		struct fastpath *next = fp->next;
		fastpath_forget(fp);
		free(fp->dir.ptr);
		free(fp->suffix_file.ptr);
		free(fp);
		fp = next;
	}
	p->states = NULL;
}

SETDEFAULTS_FUNC(mod_skiff_fastpath_set_defaults)
{
	static const config_plugin_keys_t cpk[] = {
		{ CONST_STR_LEN("skiff.fastpath-dir"), T_CONFIG_STRING, T_CONFIG_SCOPE_CONNECTION },
		{ CONST_STR_LEN("skiff.fastpath-keep"), T_CONFIG_INT, T_CONFIG_SCOPE_CONNECTION },
		{ NULL, 0, T_CONFIG_UNSET, T_CONFIG_SCOPE_UNSET }
	};
	plugin_data *p = p_d;
	if (!config_plugin_values_init(srv, p, cpk, "mod_skiff_fastpath"))
		return HANDLER_ERROR;
	p->dir = NULL;
	p->keep = FASTPATH_KEEP_MAX;
	if (p->nconfig > 0 && p->cvlist->v.u2[1])
		mod_skiff_fastpath_merge(p, p->cvlist + p->cvlist->v.u2[0]);
	p->defaults_dir = p->dir;
	p->defaults_keep = p->keep;
	return HANDLER_GO_ON;
}

__attribute_cold__
int mod_skiff_fastpath_plugin_init(plugin *p);
int mod_skiff_fastpath_plugin_init(plugin *p)
{
	p->version = LIGHTTPD_VERSION_ID;
	p->name = "skiff_fastpath";
	p->init = mod_skiff_fastpath_init;
	p->handle_uri_clean = mod_skiff_fastpath_uri;
	p->set_defaults = mod_skiff_fastpath_set_defaults;
	p->cleanup = mod_skiff_fastpath_free;
	return 0;
}
