/* check_model_buildtoken.c — build tokens against a real redis-server: stored only as their
 * hash, found again by the secret with their deployment's state and lease, renewing a live
 * lease and never reviving a dead one, replaced by the next launch's token, gone with their
 * deployment. */
#include "modelenv.h"
#include "hash.h"
#include "model_buildtoken.h"
#include "model_queue.h"

START_TEST(test_model_buildtoken_secret_form)
{
	char a[BUILD_TOKEN_LEN + 1], b[BUILD_TOKEN_LEN + 1];
	model_buildtoken_secret_new(a);
	model_buildtoken_secret_new(b);
	ck_assert_uint_eq(strlen(a), 51);
	ck_assert_int_eq(strncmp(a, "skiffbuild_", 11), 0);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(model_buildtoken_secret_valid(a), 1);
	ck_assert_int_eq(model_buildtoken_secret_valid("skiffbuild_short"), 0);
	a[20] = 'A';
	ck_assert_int_eq(model_buildtoken_secret_valid(a), 0);
	ck_assert_int_eq(model_buildtoken_secret_valid(NULL), 0);
}
END_TEST

START_TEST(test_model_buildtoken_mint_lookup)
{
	char id[ID_LEN + 1], secret[BUILD_TOKEN_LEN + 1], hash[HASH_HEX_LEN + 1];
	struct error err;
	struct build_token bt;
	create("site", id);
	model_buildtoken_secret_new(secret);
	ck_assert_int_eq(model_buildtoken_mint(r, id, secret, 600, &err), 0);
	ck_assert_int_eq(rc_contains(secret), 0);
	hash_buffer(secret, strlen(secret), hash);
	ck_assert_str_eq(rc_hget(key("upload:%s", id), "build_token"), hash);
	ck_assert_str_eq(rc_hget(key("upload:%s", id), "seq"), "-1"); /* log calls work at once */
	/* no lease yet: found, but not alive, and no lease is made */
	ck_assert_int_eq(model_buildtoken_lookup(r, secret, 30, &bt, &err), 0);
	ck_assert_str_eq(bt.deployment, id);
	ck_assert_str_eq(bt.project, "site");
	ck_assert_int_eq(bt.state, DEPLOYMENT_QUEUED);
	ck_assert(!bt.lease_alive);
	ck_assert_int_eq(rc_int("EXISTS %s%s", key("lease:%s", id), ""), 0);
	/* a live lease is renewed by the lookup */
	ck_assert_int_eq(model_lease_renew(r, id, "", 5, &err), 1);
	ck_assert_int_eq(model_buildtoken_lookup(r, secret, 300, &bt, &err), 0);
	ck_assert(bt.lease_alive);
	ck_assert_int_gt(rc_int("TTL %s%s", key("lease:%s", id), ""), 100);
	/* extend never revives */
	ck_assert_int_eq(model_lease_drop(r, id, "", &err), 0);
	ck_assert_int_eq(model_lease_extend(r, id, 30, &err), 0);
	ck_assert_int_eq(rc_int("EXISTS %s%s", key("lease:%s", id), ""), 0);
	/* a final state is reported; the lease of an ended build is not renewed */
	ck_assert_int_eq(model_lease_renew(r, id, "", 5, &err), 1);
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_ERROR, "", NULL, 0, &err), 0);
	ck_assert_int_eq(model_buildtoken_lookup(r, secret, 300, &bt, &err), 0);
	ck_assert_int_eq(bt.state, DEPLOYMENT_ERROR);
	ck_assert_int_le(rc_int("TTL %s%s", key("lease:%s", id), ""), 5);
}
END_TEST

START_TEST(test_model_buildtoken_replaced)
{
	char id[ID_LEN + 1], one[BUILD_TOKEN_LEN + 1], two[BUILD_TOKEN_LEN + 1];
	struct error err;
	struct build_token bt;
	create("site", id);
	model_buildtoken_secret_new(one);
	model_buildtoken_secret_new(two);
	ck_assert_int_eq(model_buildtoken_mint(r, id, one, 600, &err), 0);
	ck_assert_int_eq(model_buildtoken_mint(r, id, two, 600, &err), 0);
	ck_assert_int_eq(model_buildtoken_lookup(r, one, 30, &bt, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(model_buildtoken_lookup(r, two, 30, &bt, &err), 0);
	/* never minted; a deployment that does not exist */
	model_buildtoken_secret_new(one);
	ck_assert_int_eq(model_buildtoken_lookup(r, one, 30, &bt, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(model_buildtoken_mint(r, "aaaaaaaaaaaa", one, 600, &err), SKIFF_ENOTFOUND);
	/* the deployment removed (its record gone): the token is dead */
	freeReplyObject(rc_cmd("DEL %s", key("deployment:%s", id)));
	ck_assert_int_eq(model_buildtoken_lookup(r, two, 30, &bt, &err), SKIFF_ENOTFOUND);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_model_buildtoken_secret_form);
	tcase_add_test(tc, test_model_buildtoken_mint_lookup);
	tcase_add_test(tc, test_model_buildtoken_replaced);
}

int main(void)
{
	return modelenv_run("model_buildtoken", add_tests);
}
