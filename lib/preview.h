/* preview.h — preview deployments: which branches a project previews (its `previews`
 * setting) and the key of a branch's or a pull request's preview, which is also its address:
 * {slug}--{key}.{domain}. */
#ifndef SKIFF_PREVIEW_H
#define SKIFF_PREVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include "error.h"

#define PREVIEW_SETTING_MAX 1023   /* the stored setting: patterns separated by spaces */
#define PREVIEW_PATTERNS_MAX 32
#define PREVIEW_LABEL_MAX 63       /* a DNS label: {slug}--{key} */
#define PREVIEW_KEY_MAX 60         /* "b-…" or "pr-N": what a one-letter slug leaves */
#define PREVIEW_HASH_LEN 8         /* hex digits of the branch name's SHA-256 */
#define PREVIEW_PR_MAX 999999999LL /* a pull request number */
#define PREVIEW_OPEN_MAX 100       /* previews a project has at once (branches and pull requests) */

/* The API's value of `previews` into the stored form: "none" (or null) → "", "all" → "*",
 * an array of 1..PREVIEW_PATTERNS_MAX branch patterns ('*' matches any run of characters,
 * '/' included) → the patterns separated by spaces. A form sends one string: "none", "all"
 * or patterns separated by spaces or commas. SKIFF_EINVALID (invalid_previews) otherwise. */
int preview_setting_parse(json_t *value, bool is_form, char out[PREVIEW_SETTING_MAX + 1],
			  struct error *err);
/* The stored form as the API shows it: "none", "all" or an array of patterns. */
json_t *preview_setting_json(const char *setting);
/* 1 when branch matches one of the setting's patterns (never for ""). */
bool preview_branch_wanted(const char *setting, const char *branch);

/* The key of a branch's preview: "b-" and the branch as a DNS label (lowercase letters,
 * digits and single '-'); a branch that is not one already, or is too long for the label
 * {slug}--{key} to stay within 63 characters, gets PREVIEW_HASH_LEN hex digits of its
 * SHA-256 (after as much of the label as fits). SKIFF_ELIMIT when the slug leaves no room. */
int preview_key_branch(const char *slug, const char *branch, char out[PREVIEW_KEY_MAX + 1],
		       struct error *err);
/* "pr-N" for pull request n (1..PREVIEW_PR_MAX); SKIFF_ELIMIT as above. */
int preview_key_pr(const char *slug, long long n, char out[PREVIEW_KEY_MAX + 1],
		   struct error *err);
/* 1 for a key the two functions above could have made ("b-" + [a-z0-9-], "pr-" + digits,
 * at most PREVIEW_KEY_MAX). A deployment id (12 base32 characters) never is one. */
bool preview_key_valid(const char *key);

#endif
