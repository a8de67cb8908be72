/* check_model_repo.c — a project's repository access against a real redis-server: parts set
 * and cleared one at a time, a host key pinned once per host, everything gone with the
 * project; and gitauth on top: the sealed token or key opened only with the right key file,
 * for the right project and transport, what libgit2 is offered, and the errors users see. */
#include "modelenv.h"
#include "gitauth.h"
#include "model_lifecycle.h"
#include "model_repo.h"
#include "secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* A key file of 32 random bytes in the test's directory, its path in cfg. */
static void key_file(void)
{
	snprintf(cfg.secret_key_file, sizeof(cfg.secret_key_file), "%s/secret.key", tmpdir);
	int fd = open(cfg.secret_key_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	unsigned char k[32];
	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (unsigned char)(i * 7 + 1);
	ck_assert_int_eq(write(fd, k, sizeof(k)), 32);
	close(fd);
}

/* Seals value as field of slug with the test's key. */
static void seal(const char *slug, const char *field, const char *value, char *out, size_t outlen)
{
	struct secret_key k;
	struct error err;
	char aad[128], *sealed = NULL;
	snprintf(aad, sizeof(aad), "%s/repo/%s", slug, field);
	ck_assert_int_eq(secret_key_load(cfg.secret_key_file, &k, &err), 0);
	ck_assert_int_eq(secret_seal(&k, aad, value, strlen(value), &sealed, &err), 0);
	ck_assert_uint_lt(strlen(sealed), outlen);
	snprintf(out, outlen, "%s", sealed);
	free(sealed);
	secret_key_dispose(&k);
}

static void set_token(const char *slug, const char *user, const char *token)
{
	struct repo_access a;
	struct error err;
	memset(&a, 0, sizeof(a));
	snprintf(a.token_user, sizeof(a.token_user), "%s", user);
	snprintf(a.token_host, sizeof(a.token_host), "github.com");
	a.token_set = 1700000000000LL;
	seal(slug, "token", token, a.token, sizeof(a.token));
	ck_assert_int_eq(model_repo_set(r, slug, REPO_TOKEN, &a, false, &err), 0);
}

START_TEST(test_model_repo_parts)
{
	char id[ID_LEN + 1];
	struct repo_access a, got;
	struct error err;
	create("site", id);
	ck_assert_int_eq(model_repo_get(r, "site", &got, &err), 0);
	ck_assert_str_eq(got.token, "");
	ck_assert_str_eq(got.key, "");
	ck_assert_int_eq(model_repo_get(r, "nope", &got, &err), SKIFF_ENOTFOUND);
	memset(&a, 0, sizeof(a));
	snprintf(a.token, sizeof(a.token), "v1:token");
	snprintf(a.token_user, sizeof(a.token_user), "oauth2");
	a.token_set = 1700000000001LL;
	snprintf(a.key, sizeof(a.key), "v1:key");
	snprintf(a.key_public, sizeof(a.key_public), "ssh-ed25519 AAAA skiff-site");
	ck_assert_int_eq(model_repo_set(r, "site", REPO_TOKEN, &a, false, &err), 0);
	ck_assert_int_eq(model_repo_get(r, "site", &got, &err), 0);
	ck_assert_str_eq(got.token, "v1:token");
	ck_assert_str_eq(got.token_user, "oauth2");
	ck_assert_int_eq(got.token_set, 1700000000001LL);
	ck_assert_str_eq(got.key, ""); /* only the part named was written */
	ck_assert_int_eq(model_repo_set(r, "site", REPO_KEY, &a, false, &err), 0);
	ck_assert_int_eq(model_repo_set(r, "site", REPO_TOKEN, &a, true, &err), 0);
	ck_assert_int_eq(model_repo_get(r, "site", &got, &err), 0);
	ck_assert_str_eq(got.token, "");
	ck_assert_str_eq(got.token_user, "");
	ck_assert_str_eq(got.key, "v1:key");
	ck_assert_str_eq(got.key_public, "ssh-ed25519 AAAA skiff-site");
	/* a project that does not exist gets nothing written */
	ck_assert_int_eq(model_repo_set(r, "nope", REPO_TOKEN, &a, false, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(rc_int("EXISTS %s", "skiff:project:nope:repo", NULL), 0);
	/* deleting the project deletes its record */
	ck_assert_int_eq(model_lifecycle_delete(r, "site", &err), 0);
	ck_assert_int_eq(rc_int("EXISTS %s", "skiff:project:site:repo", NULL), 0);
}
END_TEST

/* A project created with its credentials has them from the start, in the same step; one
 * created without has none, even where a deleted project of that name left a record. */
START_TEST(test_model_repo_with_the_project)
{
	char id[ID_LEN + 1];
	struct project p;
	struct deployment d;
	struct repo_access a, got;
	struct error err;
	memset(&a, 0, sizeof(a));
	snprintf(a.token, sizeof(a.token), "v1:token");
	snprintf(a.token_host, sizeof(a.token_host), "github.com");
	a.token_set = 1700000000002LL;
	snprintf(a.key, sizeof(a.key), "v1:key");
	snprintf(a.key_host, sizeof(a.key_host), "github.com");
	id_new(id);
	project_rec(&p, "born", "https://github.com/o/r.git", id);
	deployment_rec(&d, id, "born");
	ck_assert_int_eq(model_project_create_full(r, &p, &d, NULL, &a, &err), 0);
	ck_assert_int_eq(model_repo_get(r, "born", &got, &err), 0);
	ck_assert_str_eq(got.token, "v1:token");
	ck_assert_int_eq(got.token_set, 1700000000002LL);
	ck_assert_str_eq(got.key, "v1:key");
	ck_assert_str_eq(got.key_host, "github.com");
	ck_assert_str_eq(got.host_key, "");
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 1);
	/* the slug taken: nothing of the second attempt is written */
	snprintf(a.token, sizeof(a.token), "v1:other");
	ck_assert_int_eq(model_project_create_full(r, &p, &d, NULL, &a, &err), SKIFF_ECONFLICT);
	ck_assert_str_eq(rc_hget("skiff:project:born:repo", "token"), "v1:token");
	/* a leftover record does not join a new project of the same name */
	redisReply *rep = rc_cmd("HSET skiff:project:fresh:repo token v1:stale");
	freeReplyObject(rep);
	id_new(id);
	project_rec(&p, "fresh", "https://github.com/o/r.git", id);
	deployment_rec(&d, id, "fresh");
	ck_assert_int_eq(model_project_create_full(r, &p, &d, NULL, NULL, &err), 0);
	ck_assert_int_eq(rc_int("EXISTS %s", "skiff:project:fresh:repo", NULL), 0);
}
END_TEST

START_TEST(test_model_repo_pin_once_per_host)
{
	char id[ID_LEN + 1];
	struct repo_access a;
	struct error err;
	create("site", id);
	memset(&a, 0, sizeof(a));
	snprintf(a.host, sizeof(a.host), "git.example.com");
	snprintf(a.host_key_type, sizeof(a.host_key_type), "ssh-ed25519");
	snprintf(a.host_key, sizeof(a.host_key), "SHA256:first");
	a.host_key_pinned = 1;
	ck_assert_int_eq(model_repo_pin(r, "site", &a, &err), 1);
	/* a second pin for the same host keeps the first and says which it is */
	snprintf(a.host_key, sizeof(a.host_key), "SHA256:second");
	ck_assert_int_eq(model_repo_pin(r, "site", &a, &err), 0);
	ck_assert_str_eq(a.host_key, "SHA256:first");
	/* another host (the URL changed) pins anew */
	snprintf(a.host, sizeof(a.host), "git.example.com:2222");
	snprintf(a.host_key, sizeof(a.host_key), "SHA256:third");
	ck_assert_int_eq(model_repo_pin(r, "site", &a, &err), 1);
	ck_assert_str_eq(rc_hget("skiff:project:site:repo", "host_key"), "SHA256:third");
	/* cleared: the next one pins */
	ck_assert_int_eq(model_repo_set(r, "site", REPO_HOST_KEY, &a, true, &err), 0);
	ck_assert_int_eq(rc_int("HEXISTS %s %s", "skiff:project:site:repo", "host_key"), 0);
	ck_assert_int_eq(model_repo_pin(r, "nope", &a, &err), SKIFF_ENOTFOUND);
}
END_TEST

START_TEST(test_gitauth_load_opens_the_right_secret)
{
	char id[ID_LEN + 1];
	struct gitauth a;
	struct error err;
	key_file();
	create("site", id);
	set_token("site", "oauth2", "ghp_secret");
	ck_assert_int_eq(gitauth_load(r, &cfg, "site", "https://github.com/o/r.git", false, &a, NULL, &err), 0);
	ck_assert_ptr_nonnull(a.token);
	ck_assert_str_eq(a.token, "ghp_secret");
	ck_assert_str_eq(a.username, "oauth2");
	ck_assert(!a.ssh);
	gitauth_dispose(&a);
	ck_assert_ptr_null(a.token);
	/* the token goes only to the host it was set for */
	ck_assert_int_eq(gitauth_load(r, &cfg, "site", "https://gitlab.example/o/r.git", false, &a, NULL, &err), 0);
	ck_assert_ptr_null(a.token);
	ck_assert_str_eq(a.token_host, "github.com");
	a.missing = true;
	gitauth_error(&a, "clone failed", &err);
	ck_assert_ptr_nonnull(strstr(err.message, "was set for github.com, not for this URL's host"));
	gitauth_dispose(&a);
	/* an ssh URL takes the key, not the token */
	ck_assert_int_eq(gitauth_load(r, &cfg, "site", "git@github.com:o/r.git", false, &a, NULL, &err), 0);
	ck_assert(a.ssh);
	ck_assert_ptr_null(a.token);
	ck_assert_ptr_null(a.private_key);
	gitauth_dispose(&a);
	/* a sealed value moved to another project does not open */
	create("other", id);
	char *moved = strdup(rc_hget("skiff:project:site:repo", "token"));
	redisReply *rep = rc_cmd("HSET skiff:project:other:repo token %s token_host github.com", moved);
	freeReplyObject(rep);
	free(moved);
	ck_assert_int_eq(gitauth_load(r, &cfg, "other", "https://github.com/o/r.git", false, &a, NULL, &err),
			 SKIFF_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "cannot open the repository credentials"));
	/* nor with another key file */
	int fd = open(cfg.secret_key_file, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "0123456789abcdef0123456789abcdef", 32), 32);
	close(fd);
	ck_assert_int_lt(gitauth_load(r, &cfg, "site", "https://github.com/o/r.git", false, &a, NULL, &err), 0);
	/* and a project without credentials needs no key file at all */
	snprintf(cfg.secret_key_file, sizeof(cfg.secret_key_file), "%s/missing.key", tmpdir);
	create("public", id);
	ck_assert_int_eq(gitauth_load(r, &cfg, "public", "https://github.com/o/r.git", false, &a, NULL, &err), 0);
	ck_assert_int_lt(gitauth_load(r, &cfg, "site", "https://github.com/o/r.git", false, &a, NULL, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.message, "missing.key"));
}
END_TEST

/* The deploy key goes only to the host it was made for, and nothing to a fork's pull request:
 * its URL comes from a webhook, wherever it points. */
START_TEST(test_gitauth_key_only_to_its_host)
{
	char id[ID_LEN + 1];
	struct gitauth a;
	struct repo_access k;
	struct error err;
	key_file();
	create("site", id);
	set_token("site", "", "ghp_secret");
	memset(&k, 0, sizeof(k));
	snprintf(k.key_public, sizeof(k.key_public), "ssh-ed25519 AAAA skiff-site");
	snprintf(k.key_host, sizeof(k.key_host), "github.com");
	seal("site", "key", "PRIVATE-KEY-TEXT", k.key, sizeof(k.key));
	ck_assert_int_eq(model_repo_set(r, "site", REPO_KEY, &k, false, &err), 0);
	ck_assert_int_eq(gitauth_load(r, &cfg, "site", "git@github.com:o/r.git", false, &a, NULL, &err), 0);
	ck_assert_str_eq(a.private_key, "PRIVATE-KEY-TEXT");
	gitauth_dispose(&a);
	/* another host: kept back, and the error says why */
	ck_assert_int_eq(gitauth_load(r, &cfg, "site", "ssh://git@evil.example/o/r.git", false, &a,
				      NULL, &err), 0);
	ck_assert_ptr_null(a.private_key);
	ck_assert_str_eq(a.key_host, "github.com");
	a.missing = true;
	gitauth_error(&a, "clone failed", &err);
	ck_assert_str_eq(err.name, "repository_auth_required");
	ck_assert_ptr_nonnull(strstr(err.message, "deploy key was made for github.com, not for this"));
	char line[512];
	gitauth_withheld(&a, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "made for github.com"));
	gitauth_dispose(&a);
	/* the same host with another port is another host */
	ck_assert_int_eq(gitauth_load(r, &cfg, "site", "ssh://git@github.com:2222/o/r.git", false, &a,
				      NULL, &err), 0);
	ck_assert_ptr_null(a.private_key);
	gitauth_dispose(&a);
	/* a fork on the project's own host gets neither key nor token */
	ck_assert_int_eq(gitauth_load(r, &cfg, "site", "git@github.com:fork/r.git", true, &a, NULL, &err), 0);
	ck_assert_ptr_null(a.private_key);
	ck_assert(a.fork);
	a.missing = true;
	gitauth_error(&a, "clone failed", &err);
	ck_assert_ptr_nonnull(strstr(err.message, "a pull request from a fork gets none"));
	gitauth_dispose(&a);
	ck_assert_int_eq(gitauth_load(r, &cfg, "site", "https://github.com/fork/r.git", true, &a, NULL, &err), 0);
	ck_assert_ptr_null(a.token);
	gitauth_withheld(&a, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "access token: a pull request from a fork"));
	gitauth_dispose(&a);
	/* a key made before its host was recorded goes to the host of the project's URL */
	ck_assert_int_eq(rc_int("HDEL %s %s", "skiff:project:site:repo", "key_host"), 1);
	ck_assert_int_eq(gitauth_load(r, &cfg, "site", "git@evil.example:o/r.git", false, &a, NULL, &err), 0);
	ck_assert_ptr_null(a.private_key);
	ck_assert_str_eq(a.key_host, "github.com");
	gitauth_dispose(&a);
	ck_assert_int_eq(gitauth_load(r, &cfg, "site", "git@github.com:o/r.git", false, &a, NULL, &err), 0);
	ck_assert_str_eq(a.private_key, "PRIVATE-KEY-TEXT");
	gitauth_dispose(&a);
}
END_TEST

START_TEST(test_gitauth_offers_once)
{
	struct gitauth a;
	struct error err;
	git_credential *c = NULL;
	git_libgit2_init();
	gitauth_init(&a);
	a.token = strdup("ghp_x");
	/* https: the token once; asked again, it was refused */
	ck_assert_int_eq(gitauth_on_credentials(&c, "https://h/r", NULL,
						GIT_CREDENTIAL_USERPASS_PLAINTEXT, &a), 0);
	ck_assert_ptr_nonnull(c);
	git_credential_free(c);
	c = NULL;
	ck_assert_int_lt(gitauth_on_credentials(&c, "https://h/r", NULL,
						GIT_CREDENTIAL_USERPASS_PLAINTEXT, &a), 0);
	ck_assert(a.refused);
	gitauth_error(&a, "clone failed", &err);
	ck_assert_str_eq(err.name, "repository_auth_failed");
	ck_assert_ptr_nonnull(strstr(err.message, "refused the access token (user x-access-token)"));
	ck_assert_ptr_null(strstr(err.message, "ghp_x"));
	gitauth_dispose(&a);
	/* ssh without a key: missing, named as such; a token is never offered to ssh */
	gitauth_init(&a);
	a.ssh = true;
	a.token = strdup("ghp_x");
	ck_assert_int_eq(gitauth_on_credentials(&c, "ssh://h/r", NULL, GIT_CREDENTIAL_USERNAME, &a), 0);
	git_credential_free(c);
	c = NULL;
	ck_assert_int_lt(gitauth_on_credentials(&c, "ssh://h/r", "git",
						GIT_CREDENTIAL_SSH_MEMORY | GIT_CREDENTIAL_USERPASS_PLAINTEXT,
						&a), 0);
	ck_assert(a.missing);
	gitauth_error(&a, "clone failed", &err);
	ck_assert_str_eq(err.name, "repository_auth_required");
	ck_assert_ptr_nonnull(strstr(err.message, "no deploy key"));
	gitauth_dispose(&a);
	git_libgit2_shutdown();
}
END_TEST

START_TEST(test_gitauth_wire_round_trip)
{
	struct gitauth a, b;
	struct error err;
	int fd = -1;
	gitauth_init(&a);
	a.ssh = true;
	a.private_key = strdup("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n");
	snprintf(a.public_key, sizeof(a.public_key), "ssh-ed25519 AAAA c");
	snprintf(a.pin_type, sizeof(a.pin_type), "ssh-ed25519");
	snprintf(a.pin, sizeof(a.pin), "SHA256:pin");
	ck_assert_int_eq(gitauth_wire_write(&a, &fd, &err), 0);
	ck_assert_int_ge(fd, 0);
	/* a memfd: no file anywhere a build could open */
	char link[64], target[256];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_msg(!strncmp(target, "/memfd:", 7), "%s", target);
	ck_assert_int_eq(gitauth_wire_read(fd, &b, &err), 0);
	close(fd);
	ck_assert(b.ssh);
	ck_assert_str_eq(b.private_key, a.private_key);
	ck_assert_ptr_null(b.token);
	ck_assert_str_eq(b.public_key, "ssh-ed25519 AAAA c");
	ck_assert_str_eq(b.pin, "SHA256:pin");
	gitauth_dispose(&a);
	gitauth_dispose(&b);
	/* what is not JSON is refused */
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "nope", 4), 4);
	close(p[1]);
	ck_assert_int_eq(gitauth_wire_read(p[0], &b, &err), SKIFF_EINVALID);
	close(p[0]);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_model_repo_parts);
	tcase_add_test(tc, test_model_repo_with_the_project);
	tcase_add_test(tc, test_model_repo_pin_once_per_host);
	tcase_add_test(tc, test_gitauth_load_opens_the_right_secret);
	tcase_add_test(tc, test_gitauth_key_only_to_its_host);
	tcase_add_test(tc, test_gitauth_offers_once);
	tcase_add_test(tc, test_gitauth_wire_round_trip);
}

int main(void)
{
	return modelenv_run("model_repo", add_tests);
}
