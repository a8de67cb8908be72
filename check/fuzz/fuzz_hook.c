/* fuzz_hook.c — libFuzzer target for webhook payloads (lib/hook.c): the JSON skiff-hook
 * parses (strict, duplicates refused), the repository URLs it takes from it, the push
 * classification for a project on the default branch and on "main", pull and merge requests
 * of each host, URL normalisation and
 * signature checks. A push classified as a deployment must carry a valid branch and a
 * hex commit id; normalised URLs must be stable and valid. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"
#include "hook_pr.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A pull request that builds or closes names a valid branch and a number; otherwise a reason. */
static void fuzz_pull(json_t *payload, enum hook_host host)
{
	struct hook_pr pr;
	memset(&pr, 0x5a, sizeof(pr));
	hook_pr_classify(host, payload, &pr);
	if (pr.action == HOOK_PR_BUILD || pr.action == HOOK_PR_CLOSE) {
		if (validate_branch(pr.branch, NULL) != 0 || pr.number < 1 || pr.reason ||
		    strlen(pr.title) > HOOK_TITLE_MAX)
			abort();
	} else if (!pr.reason || !*pr.reason) {
		abort();
	}
}

static void fuzz_classify(json_t *payload, const char *branch)
{
	struct hook_push p;
	memset(&p, 0x5a, sizeof(p));
	hook_push_classify(payload, branch, &p);
	if (p.action == HOOK_PUSH_DEPLOY) {
		size_t n = strlen(p.commit);
		if (validate_branch(p.branch, NULL) != 0 || (n != 40 && n != 64) ||
		    strspn(p.commit, "0123456789abcdef") != n || p.reason)
			abort();
		if (strlen(p.message) > HOOK_MESSAGE_MAX)
			abort();
	} else if (!p.reason || !*p.reason) {
		abort();   /* an ignored or invalid push says why */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *payload = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_object(payload)) {
		char urls[3][HOOK_URL_MAX + 1];
		size_t n = hook_payload_urls(payload, urls, 3);
		for (size_t i = 0; i < n; i++) {
			char again[HOOK_URL_MAX + 1];
			if (hook_url_normalize(urls[i], again, sizeof(again)) != 0 ||
			    strcmp(again, urls[i]) != 0)
				abort();   /* normalising is idempotent */
			for (size_t j = 0; j < i; j++)
				if (!strcmp(urls[i], urls[j]))
					abort();   /* no duplicates */
		}
		fuzz_classify(payload, "");
		fuzz_classify(payload, "main");
		fuzz_pull(payload, HOOK_GITHUB);
		fuzz_pull(payload, HOOK_GITLAB);
		fuzz_pull(payload, HOOK_GITEA);
	}
	json_decref(payload);

	/* the bytes as a repository URL and as a signature header */
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	char norm[HOOK_URL_MAX + 1], again[HOOK_URL_MAX + 1];
	if (hook_url_normalize(s, norm, sizeof(norm)) == 0 &&
	    (hook_url_normalize(norm, again, sizeof(again)) != 0 || strcmp(norm, again) != 0))
		abort();
	if (hook_signature_verify("fuzz-secret-0123456789", data, size, s))
		abort();   /* a forged header never verifies */
	char sig[HOOK_SIGNATURE_LEN + 1];
	hook_signature("fuzz-secret-0123456789", data, size, sig);
	if (!hook_signature_verify("fuzz-secret-0123456789", data, size, sig))
		abort();
	(void)hook_delivery_valid(s);
	(void)hook_secret_valid(s);
	free(s);
	return 0;
}
