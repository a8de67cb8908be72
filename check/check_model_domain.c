/* check_model_domain.c — custom domains against a real redis-server: one project per name,
 * the cap, the check's outcomes (verified, pending with a reason and backoff, failed after
 * DOMAIN_FAIL_AFTER), a check of a name removed and added again meanwhile ignored, the live
 * set and activation, live names checked again (one that stopped pointing here keeps serving,
 * with the reason and since when), removal, and a project's deletion taking its domains
 * along. */
#include "modelenv.h"
#include "model_domain.h"
#include "model_env.h"
#include "model_lifecycle.h"

#define RECHECK_MS 43200000LL

/* When name's next check is due (ms), 0 when none is scheduled. */
static long long next_check(const char *name)
{
	redisReply *score = rc_cmd("ZSCORE %s %s", key("domains:check"), name);
	long long next = score->type == REDIS_REPLY_STRING ? strtoll(score->str, NULL, 10) : 0;
	freeReplyObject(score);
	return next;
}

static void domain_add(const char *slug, const char *name, int want, struct domain *out)
{
	struct domain d;
	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.project, sizeof(d.project), "%s", slug);
	model_domain_token_new(d.token);
	d.created = 1700000000000LL;
	struct error err;
	error_clear(&err);
	int rc = model_domain_add(r, &d, &err);
	ck_assert_msg(rc == want, "add %s to %s: %d (%s), want %d", name, slug, rc, err.message, want);
	if (out)
		*out = d;
}

static const char *state_of(const char *name)
{
	static struct domain d;
	struct error err;
	if (model_domain_get(r, name, &d, &err) < 0)
		return "";
	return d.state;
}

START_TEST(test_model_domain_one_project)
{
	char id[ID_LEN + 1];
	create("site", id);
	create("other", id);
	domain_add("site", "www.example.org", 0, NULL);
	domain_add("other", "www.example.org", SKIFF_ECONFLICT, NULL);
	domain_add("site", "www.example.org", SKIFF_ECONFLICT, NULL);
	domain_add("nosuch", "a.example.org", SKIFF_ENOTFOUND, NULL);
	ck_assert_str_eq(state_of("www.example.org"), "pending");
	struct domain_site ds;
	struct error err;
	ck_assert_int_eq(model_domain_site(r, "www.example.org", &ds, &err), 0);
	ck_assert_str_eq(ds.project, "site");
	ck_assert_str_eq(ds.current, "");            /* no build is ready yet */
	ck_assert_int_eq(model_domain_site(r, "a.example.org", &ds, &err), SKIFF_ENOTFOUND);
	json_t *list = NULL;
	ck_assert_int_eq(model_domain_list(r, "site", &list, &err), 0);
	ck_assert_uint_eq(json_array_size(list), 1);
	json_decref(list);
	ck_assert_int_eq(model_domain_remove(r, "other", "www.example.org", &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(model_domain_remove(r, "site", "www.example.org", &err), 0);
	ck_assert_int_eq(rc_int("EXISTS %s%s", key("domain:www.example.org"), ""), 0);
	domain_add("other", "www.example.org", 0, NULL);
}
END_TEST

START_TEST(test_model_domain_cap)
{
	char id[ID_LEN + 1], name[64];
	create("site", id);
	for (int i = 0; i < DOMAIN_PER_PROJECT_MAX; i++) {
		snprintf(name, sizeof(name), "n%d.example.org", i);
		domain_add("site", name, 0, NULL);
	}
	domain_add("site", "one-more.example.org", SKIFF_ELIMIT, NULL);
	ck_assert_int_eq(rc_int("EXISTS %s%s", key("domain:one-more.example.org"), ""), 0);
}
END_TEST

START_TEST(test_model_domain_checks)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct domain good, bad, due[4];
	domain_add("site", "good.example.org", 0, &good);
	domain_add("site", "bad.example.org", 0, &bad);
	size_t n = 0;
	struct error err;
	ck_assert_int_eq(model_domain_due(r, 1700000000000LL, due, 4, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	/* claimed: a second dispatcher asking at the same time gets nothing */
	ck_assert_int_eq(model_domain_due(r, 1700000000000LL, due, 4, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	long long now = 1700000001000LL;
	ck_assert_int_eq(model_domain_checked(r, good.name, good.token, true, "", now, RECHECK_MS,
					      &err), 0);
	ck_assert_str_eq(state_of(good.name), "verified");
	/* a stale token (the name was removed and added again) changes nothing */
	ck_assert_int_eq(model_domain_checked(r, bad.name, good.token, true, "", now, RECHECK_MS,
					      &err), 0);
	ck_assert_str_eq(state_of(bad.name), "pending");
	for (int i = 1; i <= DOMAIN_FAIL_AFTER; i++) {
		ck_assert_int_eq(model_domain_checked(r, bad.name, bad.token, false, "no answer", now,
						      RECHECK_MS, &err), 0);
		ck_assert_str_eq(state_of(bad.name), i < DOMAIN_FAIL_AFTER ? "pending" : "failed");
		/* backoff: DOMAIN_RETRY_MIN_MS doubled per attempt */
		redisReply *score = rc_cmd("ZSCORE %s %s", key("domains:check"), bad.name);
		ck_assert_int_eq(score->type, REDIS_REPLY_STRING);
		long long next = strtoll(score->str, NULL, 10);
		freeReplyObject(score);
		ck_assert_int_eq(next - now, (long long)DOMAIN_RETRY_MIN_MS << (i - 1));
	}
	struct domain d;
	ck_assert_int_eq(model_domain_get(r, bad.name, &d, &err), 0);
	ck_assert_str_eq(d.reason, "no answer");
	ck_assert_int_eq(d.attempts, DOMAIN_FAIL_AFTER);
	/* only the good one is due no more, and live */
	ck_assert_int_eq(model_domain_due(r, now, due, 4, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	json_t *live = NULL;
	ck_assert_int_eq(model_domain_live(r, now + RECHECK_MS, &live, &err), 0);
	ck_assert_uint_eq(json_array_size(live), 1);
	ck_assert_str_eq(json_string_value(json_array_get(live, 0)), good.name);
	ck_assert_int_eq(model_domain_activate(r, live, &err), 0);
	json_decref(live);
	ck_assert_str_eq(state_of(good.name), "active");
	ck_assert(model_domain_serves("active") && model_domain_serves("verified"));
	ck_assert(!model_domain_serves("pending") && !model_domain_serves("failed"));
	/* a failed domain that is fixed becomes verified */
	ck_assert_int_eq(model_domain_checked(r, bad.name, bad.token, true, "", now, RECHECK_MS,
					      &err), 0);
	ck_assert_str_eq(state_of(bad.name), "verified");
}
END_TEST

START_TEST(test_model_domain_project_deleted)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct domain d;
	domain_add("site", "www.example.org", 0, &d);
	struct error err;
	ck_assert_int_eq(model_domain_checked(r, d.name, d.token, true, "", 1, RECHECK_MS, &err), 0);
	ck_assert_int_eq(model_lifecycle_delete(r, "site", &err) >= 0, 1);
	ck_assert_int_eq(rc_int("EXISTS %s%s", key("domain:www.example.org"), ""), 0);
	ck_assert_int_eq(rc_int("SCARD %s%s", key("domains:live"), ""), 0);
	ck_assert_int_eq(rc_int("EXISTS %s%s", key("project:site:domains"), ""), 0);
}
END_TEST

/* Sets (or clears, name "") the primary domain of slug through the settings write. */
static int primary_set(const char *slug, const char *name, bool redirect_project)
{
	struct project change;
	struct error err;
	model_project_init(&change);
	snprintf(change.primary_domain, sizeof(change.primary_domain), "%s", name);
	change.redirect_project = redirect_project;
	json_t *fields = json_pack("[s]", "primaryDomain");
	int rc = model_project_settings(r, slug, &change, PROJECT_SET(PRIMARY_DOMAIN) |
					PROJECT_SET(REDIRECT_PROJECT), NULL, fields, "test", &err);
	json_decref(fields);
	return rc;
}

START_TEST(test_model_domain_primary)
{
	char id[ID_LEN + 1];
	create("site", id);
	create("other", id);
	struct domain www, apex, away, theirs;
	domain_add("site", "www.example.org", 0, &www);
	domain_add("site", "example.org", 0, &apex);
	domain_add("site", "away.example.org", 0, &away);
	domain_add("other", "other.example.org", 0, &theirs);
	struct error err;
	ck_assert_int_eq(model_domain_checked(r, www.name, www.token, true, "", 1, RECHECK_MS, &err), 0);
	ck_assert_int_eq(model_domain_checked(r, apex.name, apex.token, true, "", 1, RECHECK_MS, &err), 0);
	ck_assert_int_eq(model_domain_checked(r, theirs.name, theirs.token, true, "", 1, RECHECK_MS, &err), 0);
	/* the write itself refuses a pending domain, another project's, and an unknown name */
	ck_assert_int_eq(primary_set("site", away.name, false), SKIFF_ECONFLICT);
	ck_assert_int_eq(primary_set("site", theirs.name, false), SKIFF_ECONFLICT);
	ck_assert_int_eq(primary_set("site", "nosuch.example.org", false), SKIFF_ECONFLICT);
	ck_assert_int_eq(rc_int("HEXISTS %s %s", key("project:site"), "primary_domain"), 0);
	/* a verified domain of the project is accepted; every name of the project sees it */
	ck_assert_int_eq(primary_set("site", www.name, true), 0);
	struct domain_site ds;
	ck_assert_int_eq(model_domain_site(r, apex.name, &ds, &err), 0);
	ck_assert_str_eq(ds.primary, www.name);
	ck_assert(!ds.primary_active && ds.redirect_project);
	ck_assert_int_eq(model_domain_project_site(r, "site", &ds, &err), 0);
	ck_assert_str_eq(ds.primary, www.name);
	ck_assert_str_eq(ds.project, "site");
	ck_assert_int_eq(model_domain_project_site(r, "other", &ds, &err), 0);
	ck_assert_str_eq(ds.primary, "");
	json_t *live = json_pack("[s]", www.name);
	ck_assert_int_eq(model_domain_activate(r, live, &err), 0);
	json_decref(live);
	ck_assert_int_eq(model_domain_site(r, apex.name, &ds, &err), 0);
	ck_assert(ds.primary_active);
	/* a primary whose record names another project (written behind the API's back) is
	 * not followed */
	rc_int("HSET %s primary_domain %s", key("project:other"), www.name);
	ck_assert_int_eq(model_domain_site(r, theirs.name, &ds, &err), 0);
	ck_assert_str_eq(ds.primary, "");
	/* removing the primary domain clears it in the same step; removing another keeps it */
	ck_assert_int_eq(model_domain_remove(r, "site", apex.name, &err), 0);
	ck_assert_int_eq(model_domain_project_site(r, "site", &ds, &err), 0);
	ck_assert_str_eq(ds.primary, www.name);
	ck_assert_int_eq(model_domain_remove(r, "site", www.name, &err), 0);
	struct project p;
	ck_assert_int_eq(model_project_get(r, "site", &p, &err), 0);
	ck_assert_str_eq(p.primary_domain, "");
	ck_assert_int_eq(model_domain_project_site(r, "site", &ds, &err), 0);
	ck_assert_str_eq(ds.primary, "");
	/* clearing needs no domain */
	ck_assert_int_eq(primary_set("site", "", false), 0);
}
END_TEST

START_TEST(test_model_domain_recheck)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct domain d, got, due[4];
	domain_add("site", "www.example.org", 0, &d);
	struct error err;
	size_t n = 0;
	long long t1 = 1700000001000LL;
	ck_assert_int_eq(model_domain_checked(r, d.name, d.token, true, "", t1, RECHECK_MS, &err), 0);
	ck_assert_int_eq(next_check(d.name), t1 + RECHECK_MS);
	ck_assert_int_eq(model_domain_due(r, t1 + RECHECK_MS - 1, due, 4, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(model_domain_due(r, t1 + RECHECK_MS, due, 4, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	json_t *live = NULL;
	ck_assert_int_eq(model_domain_live(r, t1, &live, &err), 0);
	ck_assert_int_eq(model_domain_activate(r, live, &err), 0);
	json_decref(live);

	/* it stops pointing here: still active and serving, with the reason and since when */
	long long t2 = t1 + RECHECK_MS + 5;
	for (int i = 1; i <= DOMAIN_FAIL_AFTER + 1; i++) {
		long long t = t2 + i * 1000;
		ck_assert_int_eq(model_domain_checked(r, d.name, d.token, false, "HTTP 404", t,
						      RECHECK_MS, &err), 0);
		ck_assert_int_eq(model_domain_get(r, d.name, &got, &err), 0);
		ck_assert_str_eq(got.state, "active");
		ck_assert_str_eq(got.reason, "HTTP 404");
		ck_assert_int_eq(got.lost, t2 + 1000);
		ck_assert_int_eq(got.attempts, i);
		ck_assert_int_eq(next_check(d.name) - t, (long long)DOMAIN_RETRY_MIN_MS << (i - 1));
	}
	struct domain_site site;
	ck_assert_int_eq(model_domain_site(r, d.name, &site, &err), 0);
	ck_assert(model_domain_serves(site.state));
	ck_assert_int_eq(model_domain_live(r, t2, &live, &err), 0);
	ck_assert_uint_eq(json_array_size(live), 1);
	json_decref(live);
	json_t *list = NULL;
	ck_assert_int_eq(model_domain_list(r, "site", &list, &err), 0);
	json_t *o = json_array_get(list, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "lostSince")), t2 + 1000);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "nextCheck")), next_check(d.name));
	ck_assert_str_eq(json_string_value(json_object_get(o, "reason")), "HTTP 404");
	json_t *txt = json_object_get(o, "verificationTxt");
	ck_assert_str_eq(json_string_value(json_object_get(txt, "name")),
			 "_skiff-challenge.www.example.org");
	ck_assert_str_eq(json_string_value(json_object_get(txt, "value")), d.token);
	json_decref(list);

	/* it points here again */
	long long t3 = t2 + 3600000;
	ck_assert_int_eq(model_domain_checked(r, d.name, d.token, true, "", t3, RECHECK_MS, &err), 0);
	ck_assert_int_eq(model_domain_get(r, d.name, &got, &err), 0);
	ck_assert_str_eq(got.state, "active");
	ck_assert_str_eq(got.reason, "");
	ck_assert_int_eq(got.lost, 0);
	ck_assert_int_eq(got.attempts, 0);
	ck_assert_int_eq(next_check(d.name), t3 + RECHECK_MS);
	ck_assert_int_eq(model_domain_list(r, "site", &list, &err), 0);
	ck_assert(json_is_null(json_object_get(json_array_get(list, 0), "lostSince")));
	json_decref(list);

	/* a live name with no check to come (verified before re-checks) gets one, once */
	freeReplyObject(rc_cmd("ZREM %s %s", key("domains:check"), d.name));
	ck_assert_int_eq(model_domain_live(r, t3 + 7, &live, &err), 0);
	json_decref(live);
	ck_assert_int_eq(next_check(d.name), t3 + 7);
	ck_assert_int_eq(model_domain_live(r, t3 + 9, &live, &err), 0);
	json_decref(live);
	ck_assert_int_eq(next_check(d.name), t3 + 7);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_model_domain_primary);
	tcase_add_test(tc, test_model_domain_one_project);
	tcase_add_test(tc, test_model_domain_cap);
	tcase_add_test(tc, test_model_domain_checks);
	tcase_add_test(tc, test_model_domain_recheck);
	tcase_add_test(tc, test_model_domain_project_deleted);
}

int main(void)
{
	return modelenv_run("model_domain", add_tests);
}
