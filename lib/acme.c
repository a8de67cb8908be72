/* acme.c — the ACME configuration file for the web server: rendered from the live custom
 * domains, written atomically, only when it changes. */
#include "acme.h"
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int acme_render_apache(const struct config *cfg, json_t *names, struct buf *out,
			      json_t *covered)
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
		json_array_append_new(covered, json_string(n));
	}
	return 0;
}

long long acme_cert_version(const struct config *cfg, const char *name)
{
	char path[CONFIG_STR_MAX + HOST_DOMAIN_MAX + 32];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s/fullchain.pem", cfg->acme_cert_dir, name);
	if (stat(path, &st) != 0)   /* follows dehydrated's link to fullchain-{time}.pem */
		return 0;
	return (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec + 1;
}

int acme_cert_present(const struct config *cfg, const char *name)
{
	char path[CONFIG_STR_MAX + HOST_DOMAIN_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s/fullchain.pem", cfg->acme_cert_dir, name);
	if (access(path, R_OK) != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s/privkey.pem", cfg->acme_cert_dir, name);
	return access(path, R_OK) == 0;
}

/* lighttpd 1.4.56+ chooses ssl.pemfile by SNI from $HTTP["host"] conditions; the HTTPS
 * socket itself (with the platform's wildcard as its default) is the operator's. */
static int acme_render_lighttpd(const struct config *cfg, json_t *names, struct buf *out,
				json_t *covered)
{
	buf_puts(out, "# Written by skiff-dispatch: the certificates of the verified custom "
		 "domains; do not edit.\n# Include it inside the $SERVER[\"socket\"] block of the "
		 "HTTPS port.\n");
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v) {
		const char *n = json_string_value(v);
		if (!acme_cert_present(cfg, n))
			continue;
		/* the comment changes with the certificate, so that a renewal changes the file
		 * and whatever watches it (acme_reload, a systemd path unit) reloads lighttpd */
		buf_printf(out, "# certificate %lld\n", acme_cert_version(cfg, n));
		buf_printf(out, "$HTTP[\"host\"] == \"%s\" {\n\tssl.pemfile = \"%s/%s/fullchain.pem\"\n"
			   "\tssl.privkey = \"%s/%s/privkey.pem\"\n}\n", n, cfg->acme_cert_dir, n,
			   cfg->acme_cert_dir, n);
		json_array_append_new(covered, json_string(n));
	}
	return 0;
}

int acme_render(const struct config *cfg, json_t *names, struct buf *out, json_t **covered,
		struct error *err)
{
	int rc;
	*covered = json_array();
	if (!strcmp(cfg->acme, "apache"))
		rc = acme_render_apache(cfg, names, out, *covered);
	else if (!strcmp(cfg->acme, "lighttpd"))
		rc = acme_render_lighttpd(cfg, names, out, *covered);
	else
		rc = error_set(err, SKIFF_EINVALID, "invalid_config",
			       "acme = %s writes no configuration file", cfg->acme);
	if (rc == 0 && (out->err || out->len > ACME_FILE_MAX))
		rc = error_set(err, SKIFF_ELIMIT, NULL, "the ACME configuration is over %d bytes",
			       ACME_FILE_MAX);
	if (rc < 0) {
		json_decref(*covered);
		*covered = NULL;
	}
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
