/* check_aws_profile.c — profiles of the AWS shared files as botocore resolves them: chained
 * roles in the order they are assumed, loops, depth, mfa_serial, SSO settings and the
 * token cache's file name. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws_profile.h"
#include "aws_sso.h"

static char dir[] = "/tmp/skiff-check-awsprof.XXXXXX";
static char conf[64], creds[64];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The shared files of every test: a chain top -> mid -> base (keys in the credentials
 * file), and the faulty shapes botocore refuses. */
static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/config", dir);
	snprintf(creds, sizeof(creds), "%s/credentials", dir);
	write_text(creds, "[base]\naws_access_key_id = AKBASE\naws_secret_access_key = sbase\n"
			  "[sso-and-keys]\naws_access_key_id = AKX\naws_secret_access_key = sx\n");
	write_text(conf,
		   "[profile top]\nrole_arn = arn:aws:iam::123456789012:role/top\n"
		   "source_profile = mid\nrole_session_name = s-top\nexternal_id = ext-top\n"
		   "duration_seconds = 1800\n"
		   "[profile mid]\nrole_arn = arn:aws:iam::123456789012:role/mid\n"
		   "source_profile = base\n"
		   "[profile base]\nregion = eu-west-1\n"
		   "[profile self]\nrole_arn = arn:aws:iam::123456789012:role/self\n"
		   "source_profile = self\naws_access_key_id = AKSELF\naws_secret_access_key = sself\n"
		   "[profile selfnokeys]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
		   "source_profile = selfnokeys\n"
		   "[profile loop1]\nrole_arn = arn:aws:iam::123456789012:role/l1\nsource_profile = loop2\n"
		   "[profile loop2]\nrole_arn = arn:aws:iam::123456789012:role/l2\nsource_profile = loop1\n"
		   "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/m\nsource_profile = base\n"
		   "mfa_serial = arn:aws:iam::123456789012:mfa/me\n"
		   "[profile mfatop]\nrole_arn = arn:aws:iam::123456789012:role/t\nsource_profile = mfa\n"
		   "[profile both]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = base\n"
		   "credential_source = Environment\n"
		   "[profile neither]\nrole_arn = arn:aws:iam::123456789012:role/n\n"
		   "[profile ghost]\nrole_arn = arn:aws:iam::123456789012:role/g\nsource_profile = nope\n"
		   "[profile badsource]\nrole_arn = arn:aws:iam::123456789012:role/b\n"
		   "credential_source = Somewhere\n"
		   "[profile empty]\nrole_arn = arn:aws:iam::123456789012:role/e\nsource_profile = base2\n"
		   "[profile base2]\nregion = eu-west-1\n"
		   "[profile envrole]\nrole_arn = arn:aws:iam::123456789012:role/env\n"
		   "credential_source = Environment\n"
		   "[profile keysrole]\nrole_arn = arn:aws:iam::123456789012:role/k\n"
		   "source_profile = rolewithkeys\n"
		   "[profile rolewithkeys]\nrole_arn = arn:aws:iam::123456789012:role/ignored\n"
		   "source_profile = base\naws_access_key_id = AKRK\naws_secret_access_key = srk\n"
		   "[profile web]\nrole_arn = arn:aws:iam::123456789012:role/web\n"
		   "web_identity_token_file = /var/run/token\nrole_session_name = w\n"
		   "[sso-session corp]\nsso_start_url = https://d-abc123.awsapps.com/start\n"
		   "sso_region = eu-central-1\nsso_registration_scopes = sso:account:access\n"
		   "[profile sso]\nsso_session = corp\nsso_account_id = 210987654321\n"
		   "sso_role_name = Deployer\n"
		   "[profile ssolegacy]\nsso_start_url = https://d-abc123.awsapps.com/start\n"
		   "sso_region = us-east-1\nsso_account_id = 210987654321\nsso_role_name = Ops\n"
		   "[profile ssohalf]\nsso_account_id = 210987654321\nsso_role_name = Ops\n"
		   "[profile ssonosession]\nsso_session = nobody\nsso_account_id = 1\nsso_role_name = r\n"
		   "[profile ssoclash]\nsso_session = corp\nsso_region = us-west-2\n"
		   "sso_account_id = 1\nsso_role_name = r\n"
		   "[profile sso-and-keys]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n"
		   "[profile ssorole]\nrole_arn = arn:aws:iam::123456789012:role/fromsso\n"
		   "source_profile = sso\n");
	setenv("AWS_CONFIG_FILE", conf, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds, 1);
}

static void teardown(void)
{
	unlink(conf);
	unlink(creds);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

static struct aws_profile *resolve_ok(const char *name)
{
	struct aws_profile *p = calloc(1, sizeof(*p));
	struct error err;
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(aws_profile_resolve(name, p, &err) == 0, "%s: %s", name, err.message);
	return p;
}

static void resolve_fails(const char *name, const char *says)
{
	struct aws_profile *p = calloc(1, sizeof(*p));
	struct error err;
	ck_assert_int_eq(aws_profile_resolve(name, p, &err), SKIFF_EAUTH);
	ck_assert_msg(strstr(err.message, says), "%s: %s", name, err.message);
	free(p);
}

/* top -> mid -> base: base's keys first, then mid's role, then top's with its session
 * name, external id and duration. */
START_TEST(test_aws_profile_chain_order)
{
	struct aws_profile *p = resolve_ok("top");
	ck_assert_int_eq(p->base, AWS_BASE_KEYS);
	ck_assert_str_eq(p->base_profile, "base");
	ck_assert_str_eq(p->access, "AKBASE");
	ck_assert_int_eq(p->roles_n, 2);
	ck_assert_str_eq(p->roles[0].arn, "arn:aws:iam::123456789012:role/mid");
	ck_assert_str_eq(p->roles[0].session_name, "");
	ck_assert_str_eq(p->roles[1].arn, "arn:aws:iam::123456789012:role/top");
	ck_assert_str_eq(p->roles[1].session_name, "s-top");
	ck_assert_str_eq(p->roles[1].external_id, "ext-top");
	ck_assert_str_eq(p->roles[1].duration, "1800");
	free(p);
	/* a profile naming itself uses its own keys; a source profile with keys is not followed
	 * further even when it has a role (botocore: static keys win) */
	p = resolve_ok("self");
	ck_assert_int_eq(p->roles_n, 1);
	ck_assert_str_eq(p->access, "AKSELF");
	free(p);
	p = resolve_ok("keysrole");
	ck_assert_int_eq(p->roles_n, 1);
	ck_assert_str_eq(p->access, "AKRK");
	free(p);
	p = resolve_ok("envrole");
	ck_assert_int_eq(p->base, AWS_BASE_ENVIRONMENT);
	ck_assert_int_eq(p->roles_n, 1);
	free(p);
	/* a role whose source is an SSO profile */
	p = resolve_ok("ssorole");
	ck_assert_int_eq(p->base, AWS_BASE_SSO);
	ck_assert_int_eq(p->roles_n, 1);
	ck_assert_str_eq(p->sso.role_name, "Deployer");
	free(p);
}
END_TEST

START_TEST(test_aws_profile_chain_refused)
{
	resolve_fails("loop1", "loop");
	resolve_fails("selfnokeys", "loop");
	resolve_fails("mfa", "mfa_serial is not supported");
	resolve_fails("mfatop", "profile mfa: mfa_serial");
	resolve_fails("both", "both source_profile and credential_source");
	resolve_fails("neither", "without source_profile or credential_source");
	resolve_fails("ghost", "source_profile nope of profile ghost does not exist");
	resolve_fails("badsource", "credential_source Somewhere is not");
	resolve_fails("empty", "source_profile base2 has no credentials");
}
END_TEST

/* nine roles in a row: more than AWS_PROFILE_ROLES_MAX; eight are fine */
START_TEST(test_aws_profile_chain_depth)
{
	char text[8192];
	size_t o = 0;
	for (int i = 0; i < 9; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "[profile r%d]\nrole_arn = arn:aws:iam::123456789012:role/r%d\n"
				      "source_profile = %s%d\n", i, i, i == 8 ? "k" : "r", i + 1);
	snprintf(text + o, sizeof(text) - o,
		 "[profile k9]\naws_access_key_id = AK\naws_secret_access_key = s\n");
	write_text(conf, text);
	resolve_fails("r0", "more than 8 chained roles");
	struct aws_profile *p = resolve_ok("r1");
	ck_assert_int_eq(p->roles_n, 8);
	ck_assert_str_eq(p->roles[0].arn, "arn:aws:iam::123456789012:role/r8");
	free(p);
}
END_TEST

/* botocore's order inside a profile: web identity, SSO, then keys; a missing profile says
 * nothing. */
START_TEST(test_aws_profile_sso_and_order)
{
	struct aws_profile *p = resolve_ok("web");
	ck_assert_int_eq(p->base, AWS_BASE_WEB_IDENTITY);
	ck_assert_int_eq(p->roles_n, 0);
	ck_assert_str_eq(p->web_token_file, "/var/run/token");
	ck_assert_str_eq(p->web.session_name, "w");
	free(p);
	p = resolve_ok("sso");
	ck_assert_int_eq(p->base, AWS_BASE_SSO);
	ck_assert_str_eq(p->sso.session, "corp");
	ck_assert_str_eq(p->sso.start_url, "https://d-abc123.awsapps.com/start");
	ck_assert_str_eq(p->sso.region, "eu-central-1");
	ck_assert_str_eq(p->sso.account_id, "210987654321");
	free(p);
	p = resolve_ok("sso-and-keys");
	ck_assert_int_eq(p->base, AWS_BASE_SSO);
	free(p);
	p = resolve_ok("ssolegacy");
	ck_assert_str_eq(p->sso.session, "");
	ck_assert_str_eq(p->sso.region, "us-east-1");
	free(p);
	p = resolve_ok("nosuchprofile");
	ck_assert_int_eq(p->base, AWS_BASE_NONE);
	ck_assert_int_eq(p->roles_n, 0);
	free(p);
	resolve_fails("ssohalf", "lacks one of sso_start_url");
	resolve_fails("ssonosession", "sso_session nobody has no [sso-session] section");
	resolve_fails("ssoclash", "differs from its sso-session corp");
}
END_TEST

/* The token cache's file: SHA-1 of the session name, or of the start URL (legacy), as
 * botocore's SSOTokenLoader names it (values from Python's hashlib). */
START_TEST(test_aws_profile_sso_cache_path)
{
	struct aws_sso s;
	char path[256];
	memset(&s, 0, sizeof(s));
	setenv("HOME", "/home/op", 1);
	snprintf(s.start_url, sizeof(s.start_url), "https://d-abc123.awsapps.com/start");
	ck_assert_int_eq(aws_sso_cache_path(&s, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/home/op/.aws/sso/cache/40a89917e3175433e361b710a9d43528d7f1890a.json");
	snprintf(s.session, sizeof(s.session), "my-sso");
	ck_assert_int_eq(aws_sso_cache_path(&s, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/home/op/.aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("aws_profile");
	TCase *tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_aws_profile_chain_order);
	tcase_add_test(tc, test_aws_profile_chain_refused);
	tcase_add_test(tc, test_aws_profile_chain_depth);
	tcase_add_test(tc, test_aws_profile_sso_and_order);
	tcase_add_test(tc, test_aws_profile_sso_cache_path);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
