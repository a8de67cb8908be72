/* detect.c — project detection: project settings, then skiff.json, then package.json, then
 * a static site. */
#include "detect.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const detect_node_outputs[] = { "dist", "build", "out", "public" };

const char *detect_kind_name(enum detect_kind kind)
{
	return kind == DETECT_NODE ? "node" : "static";
}

/* Reads name in dirfd as JSON: 0 with *out NULL when absent. Never follows a symlink and
 * never blocks on a fifo. */
static int detect_read_json(int dirfd, const char *name, json_t **out, struct error *err)
{
	*out = NULL;
	int rc = 0;
	char *data = NULL;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP)
			return error_set(err, SKIFF_EINVALID, "invalid_project",
					 "%s is a symbolic link; it must be a regular file", name);
		return error_set(err, SKIFF_EIO, NULL, "cannot open %s: %s", name, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = error_set(err, SKIFF_EINVALID, "invalid_project", "%s is not a regular file", name);
		goto out;
	}
	if (st.st_size > (off_t)DETECT_FILE_MAX) {
		rc = error_set(err, SKIFF_EINVALID, "invalid_project", "%s is larger than %u bytes",
			       name, DETECT_FILE_MAX);
		goto out;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	data = malloc(cap);
	if (!data)
		abort();
	for (;;) {
		ssize_t n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_set(err, SKIFF_EIO, NULL, "cannot read %s: %s", name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			rc = error_set(err, SKIFF_EINVALID, "invalid_project", "%s grew while read", name);
			goto out;
		}
	}
	json_error_t je;
	*out = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		rc = error_set(err, SKIFF_EINVALID, "invalid_project", "%s is not valid JSON: %s (line %d)",
			       name, je.text, je.line);
out:
	free(data);
	close(fd);
	return rc;
}

/* Copies a setting into dst after validation; "./x/" becomes "x", "." becomes "". */
static int detect_set_output(char dst[OUTPUT_DIR_MAX + 1], const char *src, const char *field,
			     struct error *err)
{
	while (src[0] == '.' && src[1] == '/')
		src += 2;
	size_t n = strlen(src);
	while (n && src[n - 1] == '/')
		n--;
	if (n == 1 && src[0] == '.')
		n = 0;
	if (n > OUTPUT_DIR_MAX)
		return error_set(err, SKIFF_EINVALID, "invalid_output_directory",
				 "%s is longer than %d bytes", field, OUTPUT_DIR_MAX);
	char tmp[OUTPUT_DIR_MAX + 1];
	memcpy(tmp, src, n);
	tmp[n] = '\0';
	struct error e;
	if (validate_output_dir(tmp, &e) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_output_directory", "%s: %s", field,
				 e.message);
	memcpy(dst, tmp, n + 1);
	return 0;
}

static int detect_set_command(char dst[COMMAND_MAX + 1], const char *src, const char *field,
			      struct error *err)
{
	int rc = validate_command(src, field, err);
	if (rc < 0)
		return rc;
	snprintf(dst, COMMAND_MAX + 1, "%s", src);
	return 0;
}

static int detect_skiff_bool(json_t *cfg, const char *key, int *out, struct error *err)
{
	json_t *v = json_object_get(cfg, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return error_set(err, SKIFF_EINVALID, "invalid_project",
				 "skiff.json: %s must be true or false", key);
	*out = json_is_true(v) ? 1 : 0;
	return 0;
}

/* skiff.json: fills what the project did not set. *_set tell which fields it provided. */
static int detect_skiff_json(json_t *cfg, const struct detect_settings *user,
			     struct detect_result *d, bool *install_set, bool *build_set,
			     struct error *err)
{
	if (!json_is_object(cfg))
		return error_set(err, SKIFF_EINVALID, "invalid_project",
				 "skiff.json must be a JSON object");
	static const struct {
		const char *key;
		size_t off;
	} cmds[] = {
		{ "installCommand", offsetof(struct detect_result, install_command) },
		{ "buildCommand", offsetof(struct detect_result, build_command) },
	};
	const char *user_cmds[] = { user->install_command, user->build_command };
	bool *set[] = { install_set, build_set };
	const char **from[] = { &d->install_from, &d->build_from };
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(cfg, cmds[i].key);
		if (!v || json_is_null(v))
			continue;
		if (!json_is_string(v))
			return error_set(err, SKIFF_EINVALID, "invalid_project",
					 "skiff.json: %s must be a string", cmds[i].key);
		char field[48];
		snprintf(field, sizeof(field), "skiff.json %s", cmds[i].key);
		char cmd[COMMAND_MAX + 1];
		int rc = detect_set_command(cmd, json_string_value(v), field, err);
		if (rc < 0)
			return rc;
		if (user_cmds[i] && *user_cmds[i])
			continue; /* valid, but the project's own setting wins */
		memcpy((char *)d + cmds[i].off, cmd, sizeof(cmd));
		*set[i] = true;
		*from[i] = "skiff.json";
	}
	json_t *v = json_object_get(cfg, "outputDirectory");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return error_set(err, SKIFF_EINVALID, "invalid_project",
					 "skiff.json: outputDirectory must be a string");
		char dir[OUTPUT_DIR_MAX + 1];
		int rc = detect_set_output(dir, json_string_value(v), "skiff.json outputDirectory", err);
		if (rc < 0)
			return rc;
		if (!(user->output_dir && *user->output_dir)) {
			memcpy(d->output_dir, dir, sizeof(dir));
			d->output_auto = false;
			d->output_from = "skiff.json";
		}
	}
	int clean = 0;
	if (detect_skiff_bool(cfg, "cleanUrls", &clean, err) < 0 ||
	    detect_skiff_bool(cfg, "trailingSlash", &d->trailing_slash, err) < 0 ||
	    detect_skiff_bool(cfg, "spa", &d->spa, err) < 0)
		return err ? err->code : SKIFF_EINVALID;
	d->clean_urls = clean == 1;
	static const char *const arrays[] = { "redirects", "headers" };
	json_t **dst[] = { &d->redirects, &d->headers };
	for (size_t i = 0; i < 2; i++) {
		json_t *a = json_object_get(cfg, arrays[i]);
		if (!a || json_is_null(a))
			continue;
		if (!json_is_array(a))
			return error_set(err, SKIFF_EINVALID, "invalid_project",
					 "skiff.json: %s must be an array", arrays[i]);
		*dst[i] = json_incref(a);
	}
	return 0;
}

static bool detect_exists(int dirfd, const char *name, bool want_dir)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

/* A result with nothing detected yet. */
static void detect_result_init(struct detect_result *d)
{
	memset(d, 0, sizeof(*d));
	d->trailing_slash = d->spa = -1;
	d->output_auto = true;
	d->install_from = d->build_from = d->output_from = "detected";
}

int detect_skiff_config(json_t *cfg, struct detect_result *d, struct error *err)
{
	static const struct detect_settings none = { "", "", "" };
	bool install_set = false, build_set = false;
	detect_result_init(d);
	d->has_skiff_json = true;
	int rc = detect_skiff_json(cfg, &none, d, &install_set, &build_set, err);
	if (rc < 0)
		detect_result_dispose(d);
	return rc;
}

int detect_project(const char *repo, const struct detect_settings *user,
		   struct detect_result *d, struct error *err)
{
	detect_result_init(d);
	json_t *skiff = NULL, *pkg = NULL;
	bool install_set = false, build_set = false;
	int rc = 0, dirfd = open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return error_set(err, SKIFF_EIO, NULL, "cannot open the checkout: %s", strerror(errno));

	/* the project's own settings */
	if (user->install_command && *user->install_command) {
		rc = detect_set_command(d->install_command, user->install_command, "installCommand", err);
		install_set = true;
		d->install_from = "project";
	}
	if (rc == 0 && user->build_command && *user->build_command) {
		rc = detect_set_command(d->build_command, user->build_command, "buildCommand", err);
		build_set = true;
		d->build_from = "project";
	}
	if (rc == 0 && user->output_dir && *user->output_dir) {
		rc = detect_set_output(d->output_dir, user->output_dir, "outputDirectory", err);
		d->output_auto = false;
		d->output_from = "project";
	}
	if (rc < 0)
		goto out;

	rc = detect_read_json(dirfd, "skiff.json", &skiff, err);
	if (rc == 0 && skiff) {
		d->has_skiff_json = true;
		rc = detect_skiff_json(skiff, user, d, &install_set, &build_set, err);
	}
	if (rc < 0)
		goto out;

	rc = detect_read_json(dirfd, "package.json", &pkg, err);
	if (rc < 0)
		goto out;
	json_t *build = json_object_get(json_object_get(pkg, "scripts"), "build");
	if (json_is_string(build) && json_string_length(build) > 0) {
		d->kind = DETECT_NODE;
		if (!install_set) {
			bool lock = detect_exists(dirfd, "package-lock.json", false) ||
				    detect_exists(dirfd, "npm-shrinkwrap.json", false);
			snprintf(d->install_command, sizeof(d->install_command), "%s",
				 lock ? "npm ci" : "npm install");
		}
		if (!build_set)
			snprintf(d->build_command, sizeof(d->build_command), "npm run build");
	}
out:
	json_decref(skiff);
	json_decref(pkg);
	close(dirfd);
	if (rc < 0)
		detect_result_dispose(d);
	return rc;
}

int detect_output(const char *repo, struct detect_result *d, struct error *err)
{
	if (!d->output_auto)
		return 0;
	int dirfd = open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return error_set(err, SKIFF_EIO, NULL, "cannot open the checkout: %s", strerror(errno));
	int rc = 0;
	d->output_dir[0] = '\0';
	if (d->kind == DETECT_NODE) {
		size_t i, n = sizeof(detect_node_outputs) / sizeof(detect_node_outputs[0]);
		for (i = 0; i < n; i++)
			if (detect_exists(dirfd, detect_node_outputs[i], true))
				break;
		if (i == n)
			rc = error_set(err, SKIFF_EBUILD, "no_output",
				       "the build produced no output directory (looked for dist/, build/, "
				       "out/, public/); set outputDirectory");
		else
			snprintf(d->output_dir, sizeof(d->output_dir), "%s", detect_node_outputs[i]);
	} else if (detect_exists(dirfd, "public", true)) {
		snprintf(d->output_dir, sizeof(d->output_dir), "public");
	}
	close(dirfd);
	return rc;
}

void detect_result_dispose(struct detect_result *d)
{
	json_decref(d->redirects);
	json_decref(d->headers);
	d->redirects = d->headers = NULL;
}
