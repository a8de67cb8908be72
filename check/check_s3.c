/* check_s3.c — the pure parts of the S3 client: URL building (path-style, virtual-hosted,
 * encoding), ListObjectsV2 parsing (entities, pages, every truncation of a document refused),
 * AWS time parsing and backoff bounds, partitions' DNS suffixes, a failing credential
 * fetch held briefly. */
#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "aws_auth.h"
#include "aws_process.h"
#include "config.h"
#include "s3.h"
#include "testfs.h"

START_TEST(test_s3_url_path_style)
{
	char url[S3_URL_MAX];
	ck_assert_int_eq(s3_url_build(url, sizeof(url), "http://127.0.0.1:9000/", "bucket", true,
				      "site/blobs/ab/abc", NULL), 0);
	ck_assert_str_eq(url, "http://127.0.0.1:9000/bucket/site/blobs/ab/abc");
	ck_assert_int_eq(s3_url_build(url, sizeof(url), "https://minio.example/s3", "b-1", true, "",
				      "list-type=2&prefix=a%2F"), 0);
	ck_assert_str_eq(url, "https://minio.example/s3/b-1?list-type=2&prefix=a%2F");
}
END_TEST

START_TEST(test_s3_url_virtual_hosted)
{
	char url[S3_URL_MAX];
	ck_assert_int_eq(s3_url_build(url, sizeof(url), "https://s3.eu-west-1.amazonaws.com",
				      "my-bucket", false, "a b/ü+&.json", NULL), 0);
	ck_assert_str_eq(url, "https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/%C3%BC%2B%26.json");
	ck_assert_int_eq(s3_url_build(url, sizeof(url), "http://localhost:4000", "bkt", false, "",
				      "list-type=2"), 0);
	ck_assert_str_eq(url, "http://bkt.localhost:4000/?list-type=2");
	/* a bucket that is not a DNS label (dots, capitals) falls back to path-style */
	ck_assert_int_eq(s3_url_build(url, sizeof(url), "https://s3.amazonaws.com", "my.bucket",
				      false, "k", NULL), 0);
	ck_assert_str_eq(url, "https://s3.amazonaws.com/my.bucket/k");
	ck_assert_int_eq(s3_url_build(url, 20, "https://s3.amazonaws.com", "bucket", false,
				      "a-very-long-key", NULL), -1);
	ck_assert_int_eq(s3_url_build(url, sizeof(url), "no-scheme", "bucket", true, "k", NULL), -1);
}
END_TEST

START_TEST(test_s3_uri_encode)
{
	char out[16];
	size_t used = 0;
	ck_assert_int_eq(aws_uri_encode(out, sizeof(out), &used, "a/b=c~", 6, false), 0);
	ck_assert_str_eq(out, "a%2Fb%3Dc~");
	used = 0;
	ck_assert_int_eq(aws_uri_encode(out, sizeof(out), &used, "a/b", 3, true), 0);
	ck_assert_str_eq(out, "a/b");
	used = 0;
	ck_assert_int_eq(aws_uri_encode(out, 5, &used, "ab/", 3, false), -1);
}
END_TEST

struct collected {
	int n;
	char keys[8][S3_KEY_MAX];
	unsigned long long sizes[8];
	long long mtimes[8];
	int stop_after;
};

static int collect(const struct s3_object *o, void *ctx)
{
	struct collected *c = ctx;
	if (c->n < 8) {
		snprintf(c->keys[c->n], S3_KEY_MAX, "%s", o->key);
		c->sizes[c->n] = o->size;
		c->mtimes[c->n] = o->mtime;
	}
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

static const char page1[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	"<Name>bucket</Name><Prefix>site/blobs/</Prefix><KeyCount>2</KeyCount>"
	"<MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
	"<Contents><Key>site/blobs/a&amp;b&lt;c&gt;&quot;&apos;&#233;&#x20AC;</Key>"
	"<LastModified>2024-05-01T12:00:00.000Z</LastModified><ETag>&quot;x&quot;</ETag>"
	"<Size>123</Size><Owner><ID>o</ID></Owner><StorageClass>STANDARD</StorageClass></Contents>"
	"<!-- a comment <Key>not a key</Key> -->"
	"<Contents><Key>site/blobs/z</Key><LastModified>2024-05-01T12:00:01Z</LastModified>"
	"<Size>0</Size></Contents>"
	"<CommonPrefixes><Prefix>site/blobs/dir/</Prefix></CommonPrefixes>"
	"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
	"</ListBucketResult>";

START_TEST(test_s3_list_parse_page)
{
	struct collected c = { 0 };
	struct s3_list_page page;
	struct error err;
	ck_assert_int_eq(s3_list_parse(page1, strlen(page1), strlen("site/"), collect, &c, &page,
				       &err), 0);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.keys[0], "blobs/a&b<c>\"'\xc3\xa9\xe2\x82\xac");
	ck_assert_uint_eq(c.sizes[0], 123);
	ck_assert_int_eq(c.mtimes[0], 1714564800);
	ck_assert_str_eq(c.keys[1], "blobs/z");
	ck_assert_int_eq(c.mtimes[1], 1714564801);
	ck_assert(page.truncated);
	ck_assert_str_eq(page.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}
END_TEST

START_TEST(test_s3_list_parse_last_page_and_stop)
{
	static const char last[] = "<ListBucketResult><IsTruncated>false</IsTruncated>"
				   "<Contents><Key>a</Key><Size>1</Size></Contents>"
				   "<Contents><Key>b</Key><Size>2</Size></Contents></ListBucketResult>";
	struct collected c = { 0 };
	struct s3_list_page page;
	struct error err;
	ck_assert_int_eq(s3_list_parse(last, strlen(last), 0, collect, &c, &page, &err), 0);
	ck_assert_int_eq(c.n, 2);
	ck_assert(!page.truncated);
	struct collected c2 = { .stop_after = 1 };
	ck_assert_int_eq(s3_list_parse(last, strlen(last), 0, collect, &c2, &page, &err), 1);
	ck_assert_int_eq(c2.n, 1);
	static const char empty[] = "<ListBucketResult><KeyCount>0</KeyCount>"
				    "<IsTruncated>false</IsTruncated></ListBucketResult>";
	struct collected c3 = { 0 };
	ck_assert_int_eq(s3_list_parse(empty, strlen(empty), 0, collect, &c3, &page, &err), 0);
	ck_assert_int_eq(c3.n, 0);
}
END_TEST

/* every proper prefix of a valid document is refused (never a silent partial listing) */
START_TEST(test_s3_list_parse_every_truncation)
{
	size_t n = strlen(page1);
	for (size_t len = 0; len < n; len++) {
		struct collected c = { 0 };
		struct s3_list_page page;
		struct error err;
		int rc = s3_list_parse(page1, len, strlen("site/"), collect, &c, &page, &err);
		ck_assert_msg(rc == SKIFF_EUPSTREAM, "a document cut at %zu bytes gave %d", len, rc);
	}
}
END_TEST

START_TEST(test_s3_list_parse_malformed)
{
	static const char *const bad[] = {
		"<Error><Code>AccessDenied</Code></Error>",
		"<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>a&bogus;</Key></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>a&#0;</Key></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>a</Key><Size>12x</Size></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>a</Key><Contents></ListBucketResult>",
		"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
		"<ListBucketResult><Contents><Key>x</Key><LastModified>yesterday</LastModified>"
		"</Contents></ListBucketResult>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct collected c = { 0 };
		struct s3_list_page page;
		struct error err;
		ck_assert_msg(s3_list_parse(bad[i], strlen(bad[i]), 0, collect, &c, &page, &err) ==
				      SKIFF_EUPSTREAM,
			      "accepted: %s", bad[i]);
	}
	/* a key shorter than the stripped prefix is outside the listing */
	static const char outside[] = "<ListBucketResult><Contents><Key>ab</Key></Contents>"
				      "</ListBucketResult>";
	struct collected c = { 0 };
	struct s3_list_page page;
	struct error err;
	ck_assert_int_eq(s3_list_parse(outside, strlen(outside), 5, collect, &c, &page, &err),
			 SKIFF_EUPSTREAM);
}
END_TEST

START_TEST(test_s3_xml_text)
{
	static const char doc[] = "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
				  "<Message>Please reduce &amp; retry</Message></Error>";
	char out[64];
	ck_assert_int_eq(s3_xml_text(doc, strlen(doc), "Code", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "SlowDown");
	ck_assert_int_eq(s3_xml_text(doc, strlen(doc), "Message", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "Please reduce & retry");
	ck_assert_int_eq(s3_xml_text(doc, strlen(doc), "RequestId", out, sizeof(out)), -1);
	ck_assert_int_eq(s3_xml_text(doc, strlen(doc), "Message", out, 8), -1);
}
END_TEST

START_TEST(test_s3_time_parse)
{
	ck_assert_int_eq(aws_time_parse("2024-05-01T12:00:00Z"), 1714564800000LL);
	ck_assert_int_eq(aws_time_parse("2024-05-01T12:00:00.25Z"), 1714564800250LL);
	ck_assert_int_eq(aws_time_parse("2024-05-01T12:00:00+00:00"), 1714564800000LL);
	ck_assert_int_eq(aws_time_parse("2024-05-01 12:00:00"), -1);
	ck_assert_int_eq(aws_time_parse("2024-05-01T12:00:00Zjunk"), -1);
	ck_assert_int_eq(aws_time_parse(NULL), -1);
}
END_TEST

START_TEST(test_s3_backoff_bounds)
{
	for (int attempt = 0; attempt < 20; attempt++)
		for (int i = 0; i < 50; i++) {
			long long ms = aws_backoff_ms(attempt, 100, 5000);
			long long hi = 100LL << (attempt < 6 ? attempt : 6);
			ck_assert(ms >= 100);
			ck_assert(ms <= (hi < 5000 ? hi : 5000));
		}
	ck_assert(aws_retryable(CURLE_OK, 503));
	ck_assert(aws_retryable(CURLE_OK, 500));
	ck_assert(aws_retryable(CURLE_OK, 429));
	ck_assert(aws_retryable(CURLE_COULDNT_CONNECT, 0));
	ck_assert(!aws_retryable(CURLE_OK, 403));
	ck_assert(!aws_retryable(CURLE_OK, 404));
	ck_assert(!aws_retryable(CURLE_OK, 400));
}
END_TEST

/* The default endpoints follow the region's partition (China has its own DNS suffix). */
START_TEST(test_s3_dns_suffix)
{
	ck_assert_str_eq(aws_dns_suffix("eu-west-1"), "amazonaws.com");
	ck_assert_str_eq(aws_dns_suffix("cn-north-1"), "amazonaws.com.cn");
	ck_assert_str_eq(aws_dns_suffix("cn-northwest-1"), "amazonaws.com.cn");
	ck_assert_str_eq(aws_dns_suffix("us-gov-west-1"), "amazonaws.com");
	ck_assert_str_eq(aws_dns_suffix("us-iso-east-1"), "c2s.ic.gov");
	ck_assert_str_eq(aws_dns_suffix("us-isob-east-1"), "sc2s.sgov.gov");
}
END_TEST

static long long test_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A credentials endpoint that fails costs its retries once; the calls right after answer
 * the same error at once instead of stalling every request behind another fetch. */
START_TEST(test_s3_creds_failure_held)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);   /* nobody listens there now: connections are refused */
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", ntohs(a.sin_port));
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	struct aws_auth *auth = aws_auth_new("", "");
	struct aws_creds c;
	struct error err;
	long long t0 = test_ms();
	ck_assert_int_eq(aws_auth_get(auth, &c, &err), SKIFF_EAUTH);
	long long first = test_ms() - t0;
	ck_assert_ptr_nonnull(strstr(err.message, "unreachable"));
	ck_assert(first >= 150);   /* three retries with backoff */
	t0 = test_ms();
	for (int i = 0; i < 10; i++) {
		error_clear(&err);
		ck_assert_int_eq(aws_auth_get(auth, &c, &err), SKIFF_EAUTH);
		ck_assert_ptr_nonnull(strstr(err.message, "unreachable"));
	}
	ck_assert_msg(test_ms() - t0 < first, "ten calls took %lld ms, one fetch %lld ms",
		      test_ms() - t0, first);
	aws_auth_free(auth);
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
}
END_TEST

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The chain: environment before the shared files; AWS_PROFILE picks a section; the
 * credentials file before the config file, whose sections are "[profile name]"; nothing
 * found (IMDS disabled) is an error naming every source. */
START_TEST(test_s3_creds_chain_profiles)
{
	char dir[] = "/tmp/skiff-check-aws.XXXXXX", creds[64], conf[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(creds, sizeof(creds), "%s/credentials", dir);
	snprintf(conf, sizeof(conf), "%s/config", dir);
	write_text(creds, "# comment\n[default]\naws_access_key_id = AKDEFAULT\n"
			  "aws_secret_access_key = sdefault\n\n[ci]\n  aws_access_key_id=AKCI  \n"
			  "aws_secret_access_key = sci\naws_session_token = tci\n");
	write_text(conf, "[profile ops]\naws_access_key_id = AKOPS\naws_secret_access_key = sops\n"
		   "[ci]\naws_access_key_id = AKWRONG\naws_secret_access_key = wrong\n");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds, 1);
	setenv("AWS_CONFIG_FILE", conf, 1);
	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
	struct aws_creds c;
	struct error err;
	struct aws_auth *a = aws_auth_new("", "");
	ck_assert_int_eq(aws_auth_get(a, &c, &err), 0);
	ck_assert_str_eq(c.access_key, "AKENV");
	ck_assert_str_eq(c.source, "environment");
	aws_auth_free(a);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");

	static const char *const cases[][4] = {
		{ "", "AKDEFAULT", "sdefault", "" },
		{ "ci", "AKCI", "sci", "tci" },
		{ "ops", "AKOPS", "sops", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("AWS_PROFILE", cases[i][0], 1);
		a = aws_auth_new("", "");
		ck_assert_int_eq(aws_auth_get(a, &c, &err), 0);
		ck_assert_str_eq(c.source, "profile");
		ck_assert_str_eq(c.access_key, cases[i][1]);
		ck_assert_str_eq(c.secret_key, cases[i][2]);
		ck_assert_str_eq(c.token, cases[i][3]);
		aws_auth_free(a);
	}
	/* configuration keys still win */
	a = aws_auth_new("AKCONF", "sconf");
	ck_assert_int_eq(aws_auth_get(a, &c, &err), 0);
	ck_assert_str_eq(c.source, "config");
	aws_auth_free(a);

	setenv("AWS_PROFILE", "missing", 1);
	a = aws_auth_new("", "");
	ck_assert_int_eq(aws_auth_get(a, &c, &err), SKIFF_EAUTH);
	ck_assert_ptr_nonnull(strstr(err.message, "a profile"));
	aws_auth_free(a);
	unlink(creds);
	unlink(conf);
	rmdir(dir);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_EC2_METADATA_DISABLED");
}
END_TEST


/* credential_process is split as the AWS CLI splits it (shlex), never by a shell. */
START_TEST(test_s3_split_command)
{
	char store[256], *argv[8];
	ck_assert_int_eq(aws_process_split("  /bin/cred  --profile  ci ", store, sizeof(store), argv, 8), 3);
	ck_assert_str_eq(argv[0], "/bin/cred");
	ck_assert_str_eq(argv[2], "ci");
	ck_assert_ptr_null(argv[3]);
	ck_assert_int_eq(aws_process_split("'/opt/my tools/cred' \"a \\\"b\\\" \\x\" c\\ d $HOME;x", store,
					   sizeof(store), argv, 8), 4);
	ck_assert_str_eq(argv[0], "/opt/my tools/cred");
	ck_assert_str_eq(argv[1], "a \"b\" \\x");
	ck_assert_str_eq(argv[2], "c d");
	ck_assert_str_eq(argv[3], "$HOME;x");   /* no shell: no expansion, no command list */
	ck_assert_int_eq(aws_process_split("cred 'open", store, sizeof(store), argv, 8), -1);
	ck_assert_int_eq(aws_process_split("a b c d e f g h i", store, sizeof(store), argv, 8), -1);
	ck_assert_int_eq(aws_process_split("a", store, 2, argv, 8), 1);
	ck_assert_int_eq(aws_process_split("ab", store, 2, argv, 8), -1);
}
END_TEST

/* A profile with credential_process: the program's JSON gives the keys; they are fetched
 * again before Expiration; a failing, chatty or wrong program is an error that never quotes
 * its output. */
START_TEST(test_s3_creds_process)
{
	char dir[] = "/tmp/skiff-check-aws.XXXXXX", conf[64], script[96], count[64], text[2048];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/config", dir);
	snprintf(script, sizeof(script), "%s/my cred", dir);
	snprintf(count, sizeof(count), "%s/count", dir);
	/* MODE: ok (expires in 2 s), fail, big, v2, forever (no Expiration) */
	snprintf(text, sizeof(text),
		 "#!/bin/sh\necho run >>'%s'\n"
		 "case $1 in\n"
		 "fail) echo '{\"Version\":1,\"AccessKeyId\":\"AKLEAK\",\"SecretAccessKey\":\"sleak\"}'; "
		 "echo oops >&2; exit 3;;\n"
		 "big) yes xxxxxxxxxxxxxxxxxxxx | head -c 70000;;\n"
		 "v2) echo '{\"Version\":2,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"s\"}';;\n"
		 "slow) exec sleep 20;;\n"
		 "forever) printf '{\"Version\": 1,\\n\"AccessKeyId\": \"AKPROC\",\\n"
		 "\"SecretAccessKey\": \"%%s\"}\\n' \"$2\";;\n"
		 "*) printf '{\"Version\":1,\"AccessKeyId\":\"AKPROC%%s\",\"SecretAccessKey\":\"sproc\","
		 "\"SessionToken\":\"tproc\",\"Expiration\":\"%%s\"}\\n' $(wc -l <'%s') "
		 "$(date -u -d '+2 seconds' +%%Y-%%m-%%dT%%H:%%M:%%SZ);;\n"
		 "esac\n", count, count);
	write_text(script, text);
	ck_assert_int_eq(chmod(script, 0755), 0);
	snprintf(text, sizeof(text),
		 "[profile ok]\ncredential_process = '%s' ok\n"
		 "[profile fail]\ncredential_process = '%s' fail\n"
		 "[profile big]\ncredential_process = '%s' big\n"
		 "[profile v2]\ncredential_process = '%s' v2\n"
		 "[profile forever]\ncredential_process = \"%s\" forever \"s p'c\"\n"
		 "[profile missing]\ncredential_process = %s/none\n"
		 "[profile slow]\ncredential_process = '%s' slow\n"
		 "[profile keysfirst]\naws_access_key_id = AKCONF\naws_secret_access_key = sconf\n"
		 "credential_process = '%s' ok\n",
		 script, script, script, script, script, dir, script, script);
	write_text(conf, text);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
	setenv("AWS_CONFIG_FILE", conf, 1);
	struct aws_creds c;
	struct error err;

	setenv("AWS_PROFILE", "ok", 1);
	struct aws_auth *a = aws_auth_new("", "");
	ck_assert_msg(aws_auth_get(a, &c, &err) == 0, "%s", err.message);
	ck_assert_str_eq(c.source, "process");
	ck_assert_str_eq(c.access_key, "AKPROC1");
	ck_assert_str_eq(c.secret_key, "sproc");
	ck_assert_str_eq(c.token, "tproc");
	ck_assert(c.expires_ms > 0);
	ck_assert_int_eq(aws_auth_get(a, &c, &err), 0);
	ck_assert_str_eq(c.access_key, "AKPROC1");    /* still fresh: not run again */
	usleep(1800 * 1000);                          /* within a fifth of its 2 s life */
	ck_assert_int_eq(aws_auth_get(a, &c, &err), 0);
	ck_assert_str_eq(c.access_key, "AKPROC2");    /* run again before Expiration */
	aws_auth_free(a);

	setenv("AWS_PROFILE", "forever", 1);
	a = aws_auth_new("", "");
	ck_assert_msg(aws_auth_get(a, &c, &err) == 0, "%s", err.message);
	ck_assert_str_eq(c.access_key, "AKPROC");
	ck_assert_str_eq(c.secret_key, "s p'c");     /* quoted words reach the program whole */
	ck_assert(c.expires_ms == 0 && c.token[0] == '\0');
	aws_auth_free(a);

	setenv("AWS_PROFILE", "keysfirst", 1);        /* the config file's keys come after it */
	a = aws_auth_new("", "");
	ck_assert_int_eq(aws_auth_get(a, &c, &err), 0);
	ck_assert_str_eq(c.source, "process");
	aws_auth_free(a);

	static const char *const bad[][2] = {
		{ "fail", "exit code 3" },
		{ "big", "more than 65536 bytes" },
		{ "v2", "\"Version\": 1" },
		{ "missing", "is not an executable program" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("AWS_PROFILE", bad[i][0], 1);
		a = aws_auth_new("", "");
		ck_assert_int_eq(aws_auth_get(a, &c, &err), SKIFF_EAUTH);
		ck_assert_msg(strstr(err.message, bad[i][1]), "%s: %s", bad[i][0], err.message);
		ck_assert_ptr_null(strstr(err.message, "leak"));
		ck_assert_ptr_null(strstr(err.message, "oops"));
		aws_auth_free(a);
	}
	/* a program that hangs is killed at the timeout (30 s; 1 s here), and said so */
	setenv("AWS_PROFILE", "slow", 1);
	setenv("SKIFF_AWS_CREDENTIAL_PROCESS_TIMEOUT", "1", 1);
	a = aws_auth_new("", "");
	long long t0 = test_ms();
	ck_assert_int_eq(aws_auth_get(a, &c, &err), SKIFF_EAUTH);
	ck_assert_msg(strstr(err.message, "timed out after 1 s"), "%s", err.message);
	ck_assert_msg(test_ms() - t0 < 3000, "took %lld ms", test_ms() - t0);
	aws_auth_free(a);
	unsetenv("SKIFF_AWS_CREDENTIAL_PROCESS_TIMEOUT");
	unlink(script);
	unlink(count);
	unlink(conf);
	rmdir(dir);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_EC2_METADATA_DISABLED");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
}
END_TEST

/* botocore's order between the environment and the profile: AWS_PROFILE named on purpose
 * wins over the environment's keys; a profile's role comes before web identity from the
 * environment, which comes before the profile's static keys. (Nothing answers at the STS
 * address: which source was tried shows in the error.) */
START_TEST(test_s3_creds_order)
{
	char dir[] = "/tmp/skiff-check-aws.XXXXXX", conf[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/config", dir);
	write_text(conf, "[profile keys]\naws_access_key_id = AKPROF\naws_secret_access_key = sprof\n"
		   "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
		   "source_profile = keys\n");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
	setenv("AWS_CONFIG_FILE", conf, 1);
	setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1/", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
	setenv("AWS_PROFILE", "keys", 1);
	struct aws_creds c;
	struct error err;
	struct aws_auth *a = aws_auth_new("", "");
	ck_assert_int_eq(aws_auth_get(a, &c, &err), 0);
	ck_assert_str_eq(c.access_key, "AKPROF");
	aws_auth_free(a);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web", 1);
	a = aws_auth_new("", "");
	ck_assert_int_eq(aws_auth_get(a, &c, &err), SKIFF_EAUTH);
	ck_assert_msg(strstr(err.message, "web identity token file"), "%s", err.message);
	aws_auth_free(a);
	setenv("AWS_PROFILE", "role", 1);
	a = aws_auth_new("", "");
	ck_assert_int_eq(aws_auth_get(a, &c, &err), SKIFF_EAUTH);
	ck_assert_msg(strstr(err.message, "STS AssumeRole (profile role) is unreachable"), "%s",
		      err.message);
	aws_auth_free(a);
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	unsetenv("AWS_ROLE_ARN");
	unsetenv("AWS_ENDPOINT_URL_STS");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_EC2_METADATA_DISABLED");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	unlink(conf);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("s3");
	TCase *tc = tcase_create("pure");
	tcase_add_test(tc, test_s3_url_path_style);
	tcase_add_test(tc, test_s3_split_command);
	tcase_add_test(tc, test_s3_creds_process);
	tcase_add_test(tc, test_s3_url_virtual_hosted);
	tcase_add_test(tc, test_s3_uri_encode);
	tcase_add_test(tc, test_s3_list_parse_page);
	tcase_add_test(tc, test_s3_list_parse_last_page_and_stop);
	tcase_add_test(tc, test_s3_list_parse_every_truncation);
	tcase_add_test(tc, test_s3_list_parse_malformed);
	tcase_add_test(tc, test_s3_xml_text);
	tcase_add_test(tc, test_s3_time_parse);
	tcase_add_test(tc, test_s3_backoff_bounds);
	tcase_add_test(tc, test_s3_dns_suffix);
	tcase_add_test(tc, test_s3_creds_failure_held);
	tcase_add_test(tc, test_s3_creds_chain_profiles);
	tcase_add_test(tc, test_s3_creds_order);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
