/* acme.c — the ACME configuration file for the web server: rendered from the live custom
 * domains, written atomically, only when it changes. */
#include "acme.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int acme_render_apache(const struct config *cfg, json_t *names, struct buf *out)
{
	long http_port = cfg->site_port ? cfg->site_port : 80;
	buf_puts(out, "# Written by skiff-dispatch from the custom domains that passed skiff's "
		 "ownership check; do not edit.\n# Include it at the server level (not inside a "
		 "VirtualHost), after mod_md and mod_ssl are loaded.\n");
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v) {
		const char *n = json_string_value(v);
		buf_printf(out, "\n<MDomainSet %s>\n\tMDRequireHttps temporary\n</MDomainSet>\n", n);
		buf_printf(out, "<VirtualHost *:%ld>\n\tServerName %s\n\tInclude %s\n"
			   "</VirtualHost>\n", http_port, n, cfg->acme_site);
		buf_printf(out, "<VirtualHost *:%ld>\n\tServerName %s\n\tSSLEngine on\n"
			   "\tInclude %s\n</VirtualHost>\n", cfg->acme_https_port, n, cfg->acme_site);
	}
	return 0;
}

int acme_render(const struct config *cfg, json_t *names, struct buf *out, struct error *err)
{
	int rc;
	if (!strcmp(cfg->acme, "apache"))
		rc = acme_render_apache(cfg, names, out);
	else
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "acme = %s writes no configuration file", cfg->acme);
	if (rc == 0 && (out->err || out->len > ACME_FILE_MAX))
		return error_set(err, SKIFF_ELIMIT, NULL, "the ACME configuration is over %d bytes",
				 ACME_FILE_MAX);
	return rc;
}

/* 1 when the file at path holds exactly data. */
static int acme_same(const char *path, const struct buf *data)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	int same = 0;
	if (fstat(fd, &st) == 0 && (size_t)st.st_size == data->len) {
		char chunk[8192];
		size_t off = 0;
		same = 1;
		while (off < data->len) {
			ssize_t n = read(fd, chunk, sizeof(chunk));
			if (n <= 0 || off + (size_t)n > data->len ||
			    memcmp(chunk, data->data + off, (size_t)n) != 0) {
				same = 0;
				break;
			}
			off += (size_t)n;
		}
	}
	close(fd);
	return same;
}

int acme_write(const char *path, const struct buf *data, struct error *err)
{
	if (acme_same(path, data))
		return 0;
	char tmp[CONFIG_STR_MAX + 16];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return error_set(err, SKIFF_EIO, NULL, "%s: %s", tmp, strerror(errno));
	size_t off = 0;
	while (off < data->len) {
		ssize_t n = write(fd, data->data + off, data->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			return error_set(err, SKIFF_EIO, NULL, "%s: %s", tmp, strerror(e));
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return error_set(err, SKIFF_EIO, NULL, "%s: %s", path, strerror(e));
	}
	return 1;
}
