/* preview.c — the `previews` setting of a project and the keys (addresses) of previews. */
#include "preview.h"
#include "hash.h"
#include "validate.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

/* One pattern: a branch name in which '*' may stand for any run of characters. */
static int preview_pattern_check(const char *p, size_t n, struct error *err)
{
	char tmp[BRANCH_MAX + 1];
	if (n == 0 || n > BRANCH_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_previews",
				 "previews takes branch patterns of 1 to %d characters", BRANCH_MAX);
	for (size_t i = 0; i < n; i++)
		tmp[i] = p[i] == '*' ? 'x' : p[i];
	tmp[n] = '\0';
	if (validate_branch(tmp, NULL) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_previews",
				 "previews has '%.*s', which is not a branch name or pattern",
				 (int)(n > 64 ? 64 : n), p);
	return 0;
}

/* Appends pattern p (n bytes) to out (used bytes *len), with a space before all but the first. */
static int preview_setting_add(char *out, size_t *len, size_t *count, const char *p, size_t n,
			       struct error *err)
{
	int rc = preview_pattern_check(p, n, err);
	if (rc < 0)
		return rc;
	if (++*count > PREVIEW_PATTERNS_MAX || n + 1 > PREVIEW_SETTING_MAX - *len)
		return error_set(err, SKIFF_EINVALID, "invalid_previews",
				 "previews takes at most %d branch patterns of %d characters in all",
				 PREVIEW_PATTERNS_MAX, PREVIEW_SETTING_MAX);
	if (*len)
		out[(*len)++] = ' ';
	memcpy(out + *len, p, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

int preview_setting_parse(json_t *value, bool is_form, char out[PREVIEW_SETTING_MAX + 1],
			  struct error *err)
{
	size_t len = 0, count = 0;
	out[0] = '\0';
	if (!value || json_is_null(value))
		return 0;
	if (json_is_string(value)) {
		const char *s = json_string_value(value);
		if (strlen(s) != json_string_length(value))
			return error_set(err, SKIFF_EINVALID, "invalid_previews", "previews contains NUL");
		if (!strcmp(s, "none") || (is_form && !*s))
			return 0;
		if (!strcmp(s, "all")) {
			memcpy(out, "*", 2);
			return 0;
		}
		if (!is_form)
			return error_set(err, SKIFF_EINVALID, "invalid_previews",
					 "previews is \"none\", \"all\" or an array of branch patterns");
		while (*s) {
			size_t skip = strspn(s, " ,\t\r\n"), n;
			s += skip;
			n = strcspn(s, " ,\t\r\n");
			if (n && preview_setting_add(out, &len, &count, s, n, err) < 0)
				return err->code;
			s += n;
		}
		return 0;
	}
	if (!json_is_array(value) || json_array_size(value) == 0)
		return error_set(err, SKIFF_EINVALID, "invalid_previews",
				 "previews is \"none\", \"all\" or an array of branch patterns");
	size_t i;
	json_t *v;
	json_array_foreach(value, i, v) {
		const char *p = json_string_value(v);
		if (!p || strlen(p) != json_string_length(v))
			return error_set(err, SKIFF_EINVALID, "invalid_previews",
					 "previews takes an array of strings");
		if (preview_setting_add(out, &len, &count, p, strlen(p), err) < 0)
			return err->code;
	}
	return 0;
}

json_t *preview_setting_json(const char *setting)
{
	if (!setting || !*setting)
		return json_string("none");
	if (!strcmp(setting, "*"))
		return json_string("all");
	json_t *a = json_array();
	for (const char *s = setting; *s;) {
		size_t n = strcspn(s, " ");
		if (n)
			json_array_append_new(a, json_stringn(s, n));
		s += n + (s[n] == ' ');
	}
	return a;
}

bool preview_branch_wanted(const char *setting, const char *branch)
{
	char pattern[BRANCH_MAX + 1];
	if (!setting || !branch || !*branch)
		return false;
	for (const char *s = setting; *s;) {
		size_t n = strcspn(s, " ");
		if (n && n <= BRANCH_MAX) {
			memcpy(pattern, s, n);
			pattern[n] = '\0';
			if (fnmatch(pattern, branch, 0) == 0)
				return true;
		}
		s += n + (s[n] == ' ');
	}
	return false;
}

/* What the label {slug}--{key} leaves for the key: 63 minus the slug and "--". */
static int preview_room(const char *slug, size_t need, struct error *err)
{
	size_t used = strlen(slug) + 2;
	if (used >= PREVIEW_LABEL_MAX || PREVIEW_LABEL_MAX - used < need)
		return error_set(err, SKIFF_ELIMIT, "slug_too_long",
				 "the slug '%s' leaves no room for a preview address within a DNS "
				 "label's 63 characters", slug);
	return (int)(PREVIEW_LABEL_MAX - used);
}

int preview_key_branch(const char *slug, const char *branch, char out[PREVIEW_KEY_MAX + 1],
		       struct error *err)
{
	char label[BRANCH_MAX + 1], h[HASH_HEX_LEN + 1];
	size_t n = 0;
	bool lossy = false;
	int room = preview_room(slug, 2 + PREVIEW_HASH_LEN, err);
	if (room < 0)
		return room;
	room -= 2;   /* "b-" */
	/* lowercase letters and digits; any other run becomes one '-', none at either end */
	for (const char *c = branch; *c; c++) {
		char ch = *c;
		if (ch >= 'A' && ch <= 'Z') {
			ch = (char)(ch - 'A' + 'a');
			lossy = true;
		}
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
			label[n++] = ch;
			continue;
		}
		lossy |= ch != '-' || n == 0 || label[n - 1] == '-' || !c[1];
		if (n && label[n - 1] != '-')
			label[n++] = '-';
	}
	while (n && label[n - 1] == '-')
		n--;
	label[n] = '\0';
	memcpy(out, "b-", 2);
	if (!lossy && n > 0 && n <= (size_t)room) {
		memcpy(out + 2, label, n + 1);
		return 0;
	}
	hash_buffer(branch, strlen(branch), h);
	h[PREVIEW_HASH_LEN] = '\0';
	size_t keep = (size_t)room > PREVIEW_HASH_LEN + 1 ? (size_t)room - PREVIEW_HASH_LEN - 1 : 0;
	if (keep > n)
		keep = n;
	while (keep && label[keep - 1] == '-')
		keep--;
	size_t o = 2;
	if (keep) {   /* keep + 1 + PREVIEW_HASH_LEN <= room */
		memcpy(out + o, label, keep);
		o += keep;
		out[o++] = '-';
	}
	memcpy(out + o, h, PREVIEW_HASH_LEN + 1);
	return 0;
}

int preview_key_pr(const char *slug, long long n, char out[PREVIEW_KEY_MAX + 1],
		   struct error *err)
{
	char key[32];
	if (n < 1 || n > PREVIEW_PR_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_pull_request",
				 "a pull request number is 1 to %lld", PREVIEW_PR_MAX);
	int len = snprintf(key, sizeof(key), "pr-%lld", n);
	int room = preview_room(slug, (size_t)len, err);
	if (room < 0)
		return room;
	memcpy(out, key, (size_t)len + 1);
	return 0;
}

bool preview_key_valid(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	if (n > PREVIEW_KEY_MAX)
		return false;
	if (n > 2 && !strncmp(key, "b-", 2))
		return strspn(key + 2, "abcdefghijklmnopqrstuvwxyz0123456789-") == n - 2 &&
		       key[2] != '-' && key[n - 1] != '-' && !strstr(key, "--");
	if (n > 3 && !strncmp(key, "pr-", 3))
		return strspn(key + 3, "0123456789") == n - 3 && key[3] != '0';
	return false;
}
