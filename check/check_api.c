/* check_api.c — records as API clients see them: the JSON of a deployment and of a project
 * (names, numbers from stored text, nulls for what is missing, links), and site URLs. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "model_state.h"

static struct config cfg;

static void setup(void)
{
	config_defaults(&cfg);
	snprintf(cfg.domain, sizeof(cfg.domain), "%s", "sites.test");
	snprintf(cfg.site_scheme, sizeof(cfg.site_scheme), "%s", "http");
	cfg.site_port = 8080;
}

/* got equals the JSON text want, or the test fails showing both. */
static void assert_json(json_t *got, const char *want_text)
{
	json_error_t jerr;
	json_t *want = json_loads(want_text, 0, &jerr);
	ck_assert_msg(want != NULL, "bad expected JSON: %s", jerr.text);
	char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
	char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_msg(json_equal(got, want), "got  %s\nwant %s", g, w);
	free(g);
	free(w);
	json_decref(want);
}

static void deployment_full(struct deployment *d)
{
	model_deployment_init(d);
	snprintf(d->id, sizeof(d->id), "%s", "abcdefgh2345");
	snprintf(d->project, sizeof(d->project), "%s", "site");
	d->state = DEPLOYMENT_READY;
	snprintf(d->phase, sizeof(d->phase), "%s", "done");
	snprintf(d->trigger, sizeof(d->trigger), "%s", "push");
	snprintf(d->git_url, sizeof(d->git_url), "%s", "https://git.example/site.git");
	snprintf(d->ref, sizeof(d->ref), "%s", "main");
	snprintf(d->commit, sizeof(d->commit), "%s", "0123456789abcdef0123456789abcdef01234567");
	snprintf(d->commit_message, sizeof(d->commit_message), "%s", "Fix \"quotes\" \xc3\xa9");
	snprintf(d->task_arn, sizeof(d->task_arn), "%s", "arn:aws:ecs:eu-west-1:1:task/x");
	d->created = 1700000000000LL;
	d->started = 1700000001000LL;
	d->finished = 1700000002500LL;
	d->exit_code = 0;
	d->files = 12;
	d->bytes = 34567;
	d->bytes_uploaded = 0;
}

START_TEST(test_api_deployment_json)
{
	struct deployment d;
	deployment_full(&d);
	json_t *o = api_deployment(&cfg, &d, "abcdefgh2345");
	/* internal fields (launcher, task ARN, delivery) are not part of the API */
	assert_json(o, "{\"id\":\"abcdefgh2345\",\"project\":\"site\",\"state\":\"ready\","
		       "\"phase\":\"done\",\"trigger\":\"push\","
		       "\"gitUrl\":\"https://git.example/site.git\",\"ref\":\"main\","
		       "\"commit\":\"0123456789abcdef0123456789abcdef01234567\","
		       "\"commitMessage\":\"Fix \\\"quotes\\\" \xc3\xa9\","
		       "\"created\":1700000000000,\"started\":1700000001000,"
		       "\"finished\":1700000002500,\"error\":null,\"exitCode\":0,\"files\":12,"
		       "\"bytes\":34567,\"bytesUploaded\":0,\"rolledBackFrom\":null,"
		       "\"context\":\"production\",\"branch\":null,\"preview\":null,\"fork\":false,"
		       "\"current\":true,"
		       "\"url\":\"http://site--abcdefgh2345.sites.test:8080/\","
		       "\"projectUrl\":\"http://site.sites.test:8080/\","
		       "\"logUrl\":\"http://localhost/api/deployments/abcdefgh2345/log\","
		       "\"eventsUrl\":\"http://localhost/events/abcdefgh2345\"}");
	json_decref(o);
}
END_TEST

/* A queued build: what it lacks is null (a missing number is null, not 0); no links without
 * an id and a project; current only for the project's current id. */
START_TEST(test_api_deployment_sparse)
{
	struct deployment d;
	model_deployment_init(&d);
	snprintf(d.id, sizeof(d.id), "%s", "abcdefgh2345");
	snprintf(d.project, sizeof(d.project), "%s", "site");
	json_t *o = api_deployment(&cfg, &d, "zzzzzzzzzzzz");
	ck_assert_str_eq(json_string_value(json_object_get(o, "state")), "queued");
	ck_assert(json_is_null(json_object_get(o, "created")));
	ck_assert(json_is_null(json_object_get(o, "exitCode")));
	ck_assert(json_is_null(json_object_get(o, "commit")));
	ck_assert(json_is_false(json_object_get(o, "current")));
	ck_assert_ptr_nonnull(json_object_get(o, "url"));
	json_decref(o);
	o = api_deployment(&cfg, &d, NULL);
	ck_assert(json_is_false(json_object_get(o, "current")));
	json_decref(o);
	d.state = DEPLOYMENT_UNKNOWN;
	d.project[0] = '\0';
	o = api_deployment(&cfg, &d, "abcdefgh2345");
	ck_assert(json_is_null(json_object_get(o, "state")));
	ck_assert_ptr_null(json_object_get(o, "url"));
	ck_assert_ptr_null(json_object_get(o, "logUrl"));
	ck_assert(json_is_true(json_object_get(o, "current")));
	json_decref(o);
}
END_TEST

START_TEST(test_api_project_json)
{
	struct project p;
	model_project_init(&p);
	snprintf(p.slug, sizeof(p.slug), "%s", "site");
	snprintf(p.git_url, sizeof(p.git_url), "%s", "https://git.example/site.git");
	snprintf(p.branch, sizeof(p.branch), "%s", "main");
	snprintf(p.build_command, sizeof(p.build_command), "%s", "npm run build");
	snprintf(p.output_dir, sizeof(p.output_dir), "%s", "dist");
	snprintf(p.webhook_secret, sizeof(p.webhook_secret), "%s", "sekrit-webhook-secret");
	snprintf(p.current, sizeof(p.current), "%s", "abcdefgh2345");
	snprintf(p.latest, sizeof(p.latest), "%s", "bcdefgh23456");
	p.created = 1700000000000LL;
	p.updated = 1700000500000LL;
	p.pinned = true;
	json_t *o = api_project(&cfg, &p);
	assert_json(o, "{\"slug\":\"site\",\"gitUrl\":\"https://git.example/site.git\","
		       "\"branch\":\"main\",\"buildCommand\":\"npm run build\","
		       "\"installCommand\":null,\"outputDirectory\":\"dist\","
		       "\"current\":\"abcdefgh2345\",\"latest\":\"bcdefgh23456\","
		       "\"created\":1700000000000,\"updatedAt\":1700000500000,\"rolledBackFrom\":null,\"rolledBackBy\":null,"
		       "\"rolledBackAt\":null,\"pinned\":true,\"watch\":false,"
		       "\"previews\":\"none\",\"previewForks\":false,\"hsts\":false,"
		       "\"primaryDomain\":null,\"redirectProjectAddress\":false,"
		       "\"url\":\"http://site.sites.test:8080/\"}");
	char *text = json_dumps(o, 0);
	ck_assert_ptr_null(strstr(text, "sekrit"));       /* the webhook secret never shows */
	free(text);
	json_decref(o);
}
END_TEST

/* A preview deployment says so, with its preview's address beside its own; a preview record
 * shows its address. */
START_TEST(test_api_preview_json)
{
	struct deployment d;
	deployment_full(&d);
	snprintf(d.branch, sizeof(d.branch), "%s", "feature/x");
	snprintf(d.preview, sizeof(d.preview), "%s", "pr-7");
	d.fork = true;
	json_t *o = api_deployment(&cfg, &d, "zzzzzzzzzzzz");
	ck_assert_str_eq(json_string_value(json_object_get(o, "context")), "preview");
	ck_assert_str_eq(json_string_value(json_object_get(o, "branch")), "feature/x");
	ck_assert_str_eq(json_string_value(json_object_get(o, "previewUrl")),
			 "http://site--pr-7.sites.test:8080/");
	ck_assert_str_eq(json_string_value(json_object_get(o, "url")),
			 "http://site--abcdefgh2345.sites.test:8080/");
	ck_assert(json_is_true(json_object_get(o, "fork")));
	json_decref(o);
	struct preview pv;
	model_preview_init(&pv);
	snprintf(pv.key, sizeof(pv.key), "%s", "b-staging");
	snprintf(pv.kind, sizeof(pv.kind), "%s", "branch");
	snprintf(pv.branch, sizeof(pv.branch), "%s", "staging");
	o = api_preview(&cfg, "site", &pv);
	assert_json(o, "{\"key\":\"b-staging\",\"kind\":\"branch\",\"branch\":\"staging\","
		       "\"pullRequest\":null,\"title\":null,\"fork\":false,\"current\":null,"
		       "\"queued\":null,\"created\":null,\"updated\":null,"
		       "\"url\":\"http://site--b-staging.sites.test:8080/\"}");
	json_decref(o);
}
END_TEST

START_TEST(test_api_site_url_ports)
{
	char url[256];
	cfg.site_port = 80;
	api_site_url(&cfg, "site", NULL, url, sizeof(url));
	ck_assert_str_eq(url, "http://site.sites.test/");
	cfg.site_port = 0;
	api_site_url(&cfg, "site", "abcdefgh2345", url, sizeof(url));
	ck_assert_str_eq(url, "http://site--abcdefgh2345.sites.test/");
	snprintf(cfg.site_scheme, sizeof(cfg.site_scheme), "%s", "https");
	cfg.site_port = 443;
	api_site_url(&cfg, "site", NULL, url, sizeof(url));
	ck_assert_str_eq(url, "https://site.sites.test/");
	cfg.site_port = 80;                       /* not https's default: shown */
	api_site_url(&cfg, "site", NULL, url, sizeof(url));
	ck_assert_str_eq(url, "https://site.sites.test:80/");
	char small[12];
	api_site_url(&cfg, "site", NULL, small, sizeof(small));
	ck_assert_str_eq(small, "https://sit");   /* cut, still terminated */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_api_deployment_json);
	tcase_add_test(tc, test_api_deployment_sparse);
	tcase_add_test(tc, test_api_project_json);
	tcase_add_test(tc, test_api_preview_json);
	tcase_add_test(tc, test_api_site_url_ports);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
