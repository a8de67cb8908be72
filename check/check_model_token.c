/* check_model_token.c — project deploy tokens against a real redis-server: a token is stored
 * only as its hash, found again by its secret, scoped to its project, listed without secrets,
 * revoked for good (also by deleting the project), not inherited by a project created again
 * under the same slug, limited in number, with lastUsed written at most once a minute. */
#include "modelenv.h"
#include "clock.h"
#include "hash.h"
#include "model_lifecycle.h"
#include "model_token.h"

/* Creates a token of slug into *t and its secret into secret. */
static void token_new(const char *slug, const char *name, const char *scope, struct token *t,
		      char secret[TOKEN_LEN + 1])
{
	memset(t, 0, sizeof(*t));
	id_new(t->id);
	snprintf(t->project, sizeof(t->project), "%s", slug);
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->scope, sizeof(t->scope), "%s", scope);
	static long long n;
	t->created = 1700000000000LL + n++; /* distinct, increasing: the list's order */
	model_token_secret_new(secret);
	struct error err;
	int rc = model_token_create(r, t, secret, &err);
	ck_assert_msg(rc == 0, "token create: %s", err.message);
}

/* Project "site" with one token "ci" of scope. */
static void site_token(const char *scope, struct token *t, char secret[TOKEN_LEN + 1])
{
	char id[ID_LEN + 1];
	create("site", id);
	token_new("site", "ci", scope, t, secret);
}

START_TEST(test_model_token_secret_form)
{
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1];
	model_token_secret_new(a);
	model_token_secret_new(b);
	ck_assert_uint_eq(strlen(a), 38);
	ck_assert_int_eq(strncmp(a, "skiff_", 6), 0);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(model_token_secret_valid(a), 1);
	ck_assert_int_eq(model_token_secret_valid("skiff_short"), 0);
	a[10] = 'A'; /* outside base32 lowercase */
	ck_assert_int_eq(model_token_secret_valid(a), 0);
	ck_assert_int_eq(model_token_secret_valid(b + 1), 0);
	ck_assert_int_eq(model_token_scope_valid("deploy"), 1);
	ck_assert_int_eq(model_token_scope_valid("preview"), 1);
	ck_assert_int_eq(model_token_scope_valid("admin"), 0);
	ck_assert_int_eq(model_token_name_valid("ci on main"), 1);
	ck_assert_int_eq(model_token_name_valid(""), 0);
	ck_assert_int_eq(model_token_name_valid("a\nb"), 0);
	char longname[TOKEN_NAME_MAX + 2];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[TOKEN_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(model_token_name_valid(longname), 0);
	longname[TOKEN_NAME_MAX] = '\0';
	ck_assert_int_eq(model_token_name_valid(longname), 1);
}
END_TEST

START_TEST(test_model_token_create_lookup)
{
	char secret[TOKEN_LEN + 1];
	struct token t, got;
	site_token("preview", &t, secret);
	struct error err;
	ck_assert_int_eq(model_token_lookup(r, secret, &got, &err), 0);
	ck_assert_str_eq(got.id, t.id);
	ck_assert_str_eq(got.project, "site");
	ck_assert_str_eq(got.name, "ci");
	ck_assert_str_eq(got.scope, "preview");
	ck_assert_int_eq(got.created, t.created);
	ck_assert_int_eq(rc_contains("site"), 1); /* (rc_contains finds what is there) */
	/* only the hash is stored */
	char hash[HASH_HEX_LEN + 1];
	hash_buffer(secret, strlen(secret), hash);
	ck_assert_int_eq(rc_contains(secret), 0);
	ck_assert_int_eq(rc_contains(secret + 6), 0);
	ck_assert_int_eq(rc_contains(hash), 1);
	/* another secret is not it */
	char other[TOKEN_LEN + 1];
	model_token_secret_new(other);
	ck_assert_int_eq(model_token_lookup(r, other, &got, &err), SKIFF_ENOTFOUND);
	/* a token left behind by a project of the same slug made earlier (before deletes revoked
	 * tokens) opens nothing: the token remembers which project it was made for */
	freeReplyObject(rc_cmd("HSET %s created 1800000000000", key("project:site")));
	ck_assert_int_eq(model_token_lookup(r, secret, &got, &err), SKIFF_ENOTFOUND);
}
END_TEST

START_TEST(test_model_token_unknown_project)
{
	char d[64], after[64], secret[TOKEN_LEN + 1];
	rc_digest(d);
	struct token t;
	memset(&t, 0, sizeof(t));
	id_new(t.id);
	snprintf(t.project, sizeof(t.project), "nope");
	snprintf(t.name, sizeof(t.name), "ci");
	snprintf(t.scope, sizeof(t.scope), "deploy");
	model_token_secret_new(secret);
	struct error err;
	ck_assert_int_eq(model_token_create(r, &t, secret, &err), SKIFF_ENOTFOUND);
	rc_digest(after);
	ck_assert_str_eq(d, after);
}
END_TEST

START_TEST(test_model_token_list_and_delete)
{
	char id[ID_LEN + 1], s1[TOKEN_LEN + 1], s2[TOKEN_LEN + 1], s3[TOKEN_LEN + 1];
	create("site", id);
	create("other", id);
	struct token t1, t2, t3, got;
	token_new("site", "first", "deploy", &t1, s1);
	token_new("site", "second", "preview", &t2, s2);
	token_new("other", "theirs", "deploy", &t3, s3);
	struct error err;
	json_t *list = NULL;
	ck_assert_int_eq(model_token_list(r, "site", &list, &err), 0);
	ck_assert_uint_eq(json_array_size(list), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "name")), "first");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 1), "scope")), "preview");
	ck_assert(json_is_null(json_object_get(json_array_get(list, 0), "lastUsed")));
	char *text = json_dumps(list, 0);
	ck_assert_ptr_null(strstr(text, s1));
	ck_assert_ptr_null(strstr(text, "hash"));
	free(text);
	json_decref(list);
	/* a token is revoked only through its own project */
	ck_assert_int_eq(model_token_delete(r, "other", t1.id, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(model_token_lookup(r, s1, &got, &err), 0);
	ck_assert_int_eq(model_token_delete(r, "site", t1.id, &err), 0);
	ck_assert_int_eq(model_token_lookup(r, s1, &got, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(model_token_delete(r, "site", t1.id, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(model_token_lookup(r, s2, &got, &err), 0);
	ck_assert_int_eq(model_token_list(r, "site", &list, &err), 0);
	ck_assert_uint_eq(json_array_size(list), 1);
	json_decref(list);
	ck_assert_int_eq(rc_int("EXISTS %s%s", key("token:%s", t1.id), ""), 0);
}
END_TEST

START_TEST(test_model_token_project_recreated)
{
	char secret[TOKEN_LEN + 1];
	struct token t, got;
	site_token("deploy", &t, secret);
	struct error err;
	ck_assert_int_eq(model_lifecycle_delete(r, "site", &err), 0);
	ck_assert_int_eq(model_token_lookup(r, secret, &got, &err), SKIFF_ENOTFOUND);
	/* the delete revoked it: nothing of it is left */
	ck_assert_int_eq(rc_contains(t.id), 0);
	ck_assert_int_eq(rc_int("EXISTS %s%s", key("project:site:tokens"), ""), 0);
	/* the same slug again, created later: the old token does not open it */
	struct project p;
	struct deployment d;
	char id[ID_LEN + 1];
	id_new(id);
	project_rec(&p, "site", "https://github.com/o/r.git", id);
	p.created = 1800000000000LL;
	deployment_rec(&d, id, "site");
	ck_assert_int_eq(model_project_create(r, &p, &d, &err), 0);
	ck_assert_int_eq(model_token_lookup(r, secret, &got, &err), SKIFF_ENOTFOUND);
	json_t *list = NULL;
	ck_assert_int_eq(model_token_list(r, "site", &list, &err), 0);
	ck_assert_uint_eq(json_array_size(list), 0);
	json_decref(list);
}
END_TEST

START_TEST(test_model_token_last_used)
{
	char secret[TOKEN_LEN + 1];
	struct token t, got;
	site_token("deploy", &t, secret);
	const char *tk = key("token:%s", t.id);
	char tkey[REDIS_KEY_MAX];
	snprintf(tkey, sizeof(tkey), "%s", tk);
	ck_assert_str_eq(rc_hget(tkey, "last_used"), "");
	struct error err;
	long long before = clock_wall_ms();
	ck_assert_int_eq(model_token_lookup(r, secret, &got, &err), 0);
	ck_assert_int_ge(got.last_used, before);
	long long first = atoll(rc_hget(tkey, "last_used"));
	ck_assert_int_eq(first, got.last_used);
	/* within a minute: not written again */
	freeReplyObject(rc_cmd("HSET %s last_used %lld", tkey, first - 1000));
	ck_assert_int_eq(model_token_lookup(r, secret, &got, &err), 0);
	ck_assert_int_eq(atoll(rc_hget(tkey, "last_used")), first - 1000);
	/* over a minute ago: written */
	freeReplyObject(rc_cmd("HSET %s last_used %lld", tkey, first - TOKEN_TOUCH_MS - 1));
	ck_assert_int_eq(model_token_lookup(r, secret, &got, &err), 0);
	ck_assert_int_ge(atoll(rc_hget(tkey, "last_used")), first);
	json_t *list = NULL;
	ck_assert_int_eq(model_token_list(r, "site", &list, &err), 0);
	ck_assert(json_is_integer(json_object_get(json_array_get(list, 0), "lastUsed")));
	json_decref(list);
}
END_TEST

START_TEST(test_model_token_limit)
{
	char id[ID_LEN + 1], secret[TOKEN_LEN + 1];
	create("site", id);
	struct token t;
	for (int i = 0; i < TOKEN_PER_PROJECT_MAX; i++)
		token_new("site", "ci", "deploy", &t, secret);
	memset(&t, 0, sizeof(t));
	id_new(t.id);
	snprintf(t.project, sizeof(t.project), "site");
	snprintf(t.name, sizeof(t.name), "one too many");
	snprintf(t.scope, sizeof(t.scope), "deploy");
	model_token_secret_new(secret);
	struct error err;
	ck_assert_int_eq(model_token_create(r, &t, secret, &err), SKIFF_ELIMIT);
	ck_assert_str_eq(err.name, "too_many_tokens");
	ck_assert_int_eq(rc_int("EXISTS %s%s", key("token:%s", t.id), ""), 0);
	struct token got;
	ck_assert_int_eq(model_token_lookup(r, secret, &got, &err), SKIFF_ENOTFOUND);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_model_token_secret_form);
	tcase_add_test(tc, test_model_token_create_lookup);
	tcase_add_test(tc, test_model_token_unknown_project);
	tcase_add_test(tc, test_model_token_list_and_delete);
	tcase_add_test(tc, test_model_token_project_recreated);
	tcase_add_test(tc, test_model_token_last_used);
	tcase_add_test(tc, test_model_token_limit);
}

int main(void)
{
	return modelenv_run("model_token", add_tests);
}
