/* s3tool.c — a test driver for lib/s3.c and the s3 store (check/it_s3.sh builds it against
 * libskiff.a): one operation per run, results on stdout, errors on stderr, exit 1 on failure.
 *   s3tool put KEY FILE TYPE          s3_put_file (UNSIGNED-PAYLOAD)
 *   s3tool putmem KEY TEXT TYPE       s3_put_mem
 *   s3tool get KEY OUTFILE            s3_get_fd
 *   s3tool head KEY                   prints "size type" or "missing"
 *   s3tool delete KEY
 *   s3tool list PREFIX                prints "count N" then the first and last key
 *   s3tool fill PREFIX N              N small objects PREFIX/00000.. in parallel (s3_put_many)
 *   s3tool blobs FILE...              store_blobs_put of the files (by their SHA-256)
 *   s3tool blobpath HASH...           store_blob_path of each: prints the cache paths
 *   s3tool manifest ID                store_manifest_get: prints the bytes
 * Configuration as for every skiff program (SKIFF_CONFIG, SKIFF_* variables). */
#include "config.h"
#include "hash.h"
#include "log.h"
#include "s3.h"
#include "store.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tool_print(const struct s3_object *o, void *ctx)
{
	unsigned long *n = ctx;
	if (*n == 0)
		printf("first %s %llu\n", o->key, o->size);
	(*n)++;
	static char last[S3_KEY_MAX];
	snprintf(last, sizeof(last), "%s", o->key);
	if (getenv("S3TOOL_ALL"))
		printf("key %s %llu %lld\n", o->key, o->size, o->mtime);
	return 0;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	struct error err;
	struct s3 *s3 = NULL;
	struct store *store = NULL;
	int rc = 0;
	log_init("s3tool", LOG_INFO);
	if (argc < 2 || config_load(&cfg, NULL, &err) < 0) {
		fprintf(stderr, "s3tool: %s\n", argc < 2 ? "usage: see the source" : err.message);
		return 2;
	}
	const char *op = argv[1];
	if (!strcmp(op, "blobs") || !strcmp(op, "blobpath") || !strcmp(op, "manifest"))
		rc = store_open(&store, &cfg, &err);
	else
		rc = s3_new(&s3, &cfg, &err);
	if (rc < 0)
		goto out;
	if (!strcmp(op, "put") && argc == 5) {
		rc = s3_put_file(s3, argv[2], argv[3], NULL, argv[4], S3_CACHE_IMMUTABLE, &err);
	} else if (!strcmp(op, "putmem") && argc == 5) {
		rc = s3_put_mem(s3, argv[2], argv[3], strlen(argv[3]), argv[4], S3_CACHE_NONE, &err);
	} else if (!strcmp(op, "get") && argc == 4) {
		int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		rc = fd < 0 ? error_set(&err, SKIFF_EIO, NULL, "cannot open %s", argv[3])
			    : s3_get_fd(s3, argv[2], fd, 0, &err);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(op, "head") && argc == 3) {
		struct s3_object o;
		rc = s3_head(s3, argv[2], &o, &err);
		if (rc == 1)
			printf("%llu %s\n", o.size, o.content_type);
		else if (rc == 0)
			printf("missing\n");
		rc = rc < 0 ? rc : 0;
	} else if (!strcmp(op, "delete") && argc == 3) {
		rc = s3_delete(s3, argv[2], &err);
	} else if (!strcmp(op, "list") && argc == 3) {
		unsigned long n = 0;
		rc = s3_list(s3, argv[2], tool_print, &n, &err);
		printf("count %lu\n", n);
	} else if (!strcmp(op, "fill") && argc == 4) {
		char *end;
		unsigned long n = strtoul(argv[3], &end, 10);
		struct s3_put *puts = calloc(n, sizeof(*puts));
		char (*keys)[64] = calloc(n, 64);
		char path[] = "/tmp/s3tool.XXXXXX";
		int fd = mkstemp(path);
		if (!puts || !keys || fd < 0 || write(fd, "x", 1) != 1)
			abort();
		close(fd);
		for (unsigned long i = 0; i < n; i++) {
			snprintf(keys[i], 64, "%s/%05lu&<'\">", argv[2], i);
			puts[i] = (struct s3_put){ .key = keys[i], .path = path, .content_type = "text/plain" };
		}
		rc = s3_put_many(s3, puts, n, false, &err);
		unlink(path);
		free(puts);
		free(keys);
	} else if (!strcmp(op, "blobs")) {
		int n = argc - 2;
		struct store_upload *u = calloc((size_t)n + 1, sizeof(*u));
		char (*hashes)[HASH_HEX_LEN + 1] = calloc((size_t)n + 1, sizeof(*hashes));
		if (!u || !hashes)
			abort();
		for (int i = 0; i < n && rc == 0; i++) {
			rc = hash_file(argv[i + 2], hashes[i], NULL, &err);
			u[i] = (struct store_upload){ .hash = hashes[i], .path = argv[i + 2],
						      .content_type = "text/plain; charset=utf-8" };
		}
		if (rc == 0)
			rc = store_blobs_put(store, u, (size_t)n, &err);
		unsigned long long sent = 0;
		int uploaded = 0;
		for (int i = 0; i < n; i++) {
			uploaded += u[i].uploaded;
			sent += u[i].bytes;
		}
		if (rc == 0)
			printf("uploaded %d bytes %llu\n", uploaded, sent);
		free(u);
		free(hashes);
	} else if (!strcmp(op, "blobpath")) {
		for (int i = 2; i < argc && rc == 0; i++) {
			char path[STORE_PATH_MAX];
			rc = store_blob_path(store, argv[i], path, &err);
			if (rc == 0)
				printf("%s\n", path);
		}
	} else if (!strcmp(op, "manifest") && argc == 3) {
		struct buf b = BUF_INIT(1 << 20);
		rc = store_manifest_get(store, argv[2], &b, &err);
		if (rc == 0)
			fwrite(buf_cstr(&b), 1, b.len, stdout);
		buf_dispose(&b);
	} else {
		fprintf(stderr, "s3tool: bad arguments for %s\n", op);
		rc = 2;
		goto out;
	}
	if (s3) {
		unsigned long long req, retries;
		s3_stats(s3, &req, &retries);
		fprintf(stderr, "s3tool: requests=%llu retries=%llu\n", req, retries);
	}
out:
	if (rc < 0)
		fprintf(stderr, "s3tool: %s (%s)\n", err.message, err.name);
	s3_free(s3);
	store_free(store);
	return rc == 0 ? 0 : 1;
}
