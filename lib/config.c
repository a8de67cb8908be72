/* config.c — the configuration key table, parsing of the file and of SKIFF_* variables. */
#include "config.h"
#include "dnstxt.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum config_type { CONFIG_STR, CONFIG_INT, CONFIG_BOOL };

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	size_t size;        /* for strings */
	const char *def;
	long min, max;      /* for integers */
	bool secret;
};

#define S(n, d) { #n, CONFIG_STR, offsetof(struct config, n), sizeof(((struct config *)0)->n), d, 0, 0, false }
#define SS(n, d) { #n, CONFIG_STR, offsetof(struct config, n), sizeof(((struct config *)0)->n), d, 0, 0, true }
#define I(n, d, lo, hi) { #n, CONFIG_INT, offsetof(struct config, n), 0, d, lo, hi, false }
#define B(n, d) { #n, CONFIG_BOOL, offsetof(struct config, n), 0, d, 0, 1, false }

static const struct config_key config_keys[] = {
	S(redis_host, "127.0.0.1"),
	I(redis_port, "6379", 1, 65535),
	S(redis_socket, ""),
	S(redis_prefix, "skiff:"),
	I(redis_timeout_ms, "2000", 10, 60000),
	S(redis_username, ""),
	SS(redis_password, ""),
	S(redis_password_file, ""),
	S(store, "file"),
	S(store_path, "/var/lib/skiff/store"),
	S(cache_path, "/var/cache/skiff"),
	S(s3_endpoint, ""),
	S(s3_bucket, ""),
	S(s3_region, "us-east-1"),
	S(s3_prefix, ""),
	B(s3_path_style, "false"),
	SS(s3_access_key, ""),
	SS(s3_secret_key, ""),
	I(s3_parallel, "16", 1, 256),
	I(s3_timeout, "60", 1, 3600),
	I(s3_retries, "8", 0, 100),
	I(s3_deadline, "900", 1, 86400),
	I(s3_presign_expires, "3600", 0, 604800),
	I(cache_max_mb, "1024", 1, 16777216),
	S(build_cache_path, "/var/cache/skiff/build"),
	I(build_cache_mb, "4096", 0, 16777216),
	S(domain, "localhost"),
	I(site_port, "0", 0, 65535),
	S(site_scheme, "http"),
	S(dashboard_url, "http://localhost"),
	B(xsendfile, "true"),
	B(xsendfile_plain_only, "false"),
	S(fastpath_dir, ""),
	SS(api_token, ""),
	S(secret_key_file, "/etc/skiff/secret.key"),
	B(auth_disabled, "false"),
	B(public_reads, "false"),
	I(max_body, "65536", 256, 16777216),
	B(allow_local_git, "false"),
	I(rate_limit_window, "60", 1, 86400),
	I(rate_limit_create, "10", 0, 1000000),
	I(rate_limit_deploy, "30", 0, 1000000),
	I(rate_limit_deploy_project, "20", 0, 1000000),
	I(rate_limit_hook, "600", 0, 1000000),
	I(rate_limit_hook_project, "60", 0, 1000000),
	S(work_dir, "/var/lib/skiff/work"),
	S(build_program, "/usr/lib/skiff/skiff-build"),
	S(sandbox, "bwrap"),
	I(build_timeout, "900", 1, 86400),
	I(build_cpu, "900", 1, 86400),
	I(build_memory_mb, "2048", 16, 1048576),
	S(build_network, "egress"),
	I(build_tmp_mb, "1024", 1, 1048576),
	I(build_disk_mb, "4096", 1, 16777216),
	I(build_file_mb, "1024", 1, 1048576),
	I(build_processes, "512", 8, 1000000),
	I(max_files, "20000", 1, 10000000),
	I(max_file_mb, "100", 1, 1048576),
	I(max_output_mb, "500", 1, 1048576),
	I(log_max_entries, "100000", 100, 10000000),
	I(concurrency, "2", 1, 256),
	I(concurrency_project, "0", 0, 1000),
	I(concurrency_total, "0", 0, 100000),
	I(lease_ttl, "30", 3, 3600),
	I(retention_keep, "10", 1, 1000),
	I(retention_keep_previews, "20", 1, 1000),
	I(gc_interval, "3600", 0, 604800),
	I(gc_grace, "3600", 60, 604800),
	I(poll_interval, "60", 5, 86400),
	I(poll_per_minute, "120", 1, 100000),
	I(poll_timeout, "20", 1, 600),
	I(poll_concurrency, "4", 1, 64),
	I(notify_retry_base_ms, "10000", 100, 600000),
	I(notify_timeout, "10", 1, 60),
	S(launcher, "local"),
	S(ecs_endpoint, ""),
	S(ecs_region, ""),
	S(ecs_cluster, ""),
	S(ecs_task_definition, "skiff-build"),
	S(ecs_container, "skiff-build"),
	S(ecs_subnets, ""),
	S(ecs_security_groups, ""),
	B(ecs_assign_public_ip, "false"),
	S(ecs_capacity_providers, ""),
	S(ecs_api_url, ""),
	I(ecs_start_timeout, "600", 1, 86400),
	I(ecs_run_rate, "10", 1, 19),
	I(ecs_retries, "8", 0, 100),
	I(ecs_timeout, "30", 1, 3600),
	S(domain_check_resolve, ""),
	I(domain_check_timeout, "5", 1, 60),
	S(domain_check_nameserver, ""),
	I(domain_recheck_interval, "43200", 1, 604800),
	S(acme, "none"),
	S(acme_file, "/var/lib/skiff/acme/skiff-domains.conf"),
	S(acme_site, "/etc/apache2/skiff-site.inc"),
	I(acme_https_port, "443", 1, 65535),
	S(acme_client, ""),
	S(acme_cert_dir, "/var/lib/skiff/acme/certs"),
	S(acme_reload, ""),
	I(acme_renew_interval, "43200", 1, 604800),
	S(sse_listen, "127.0.0.1:8081"),
	I(sse_threads, "0", 0, 64),
	I(sse_max_clients, "20000", 1, 1000000),
	I(sse_keepalive, "15", 1, 3600),
	I(sse_soft_limit, "262144", 1024, 1073741824),
	I(sse_hard_limit, "1048576", 1024, 1073741824),
	I(sse_soft_seconds, "10", 1, 3600),
	S(log_level, "info"),
};

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static const struct config_key *config_key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

static int config_key_set(struct config *cfg, const struct config_key *k, const char *value,
			  struct error *err)
{
	char *field = (char *)cfg + k->offset;
	switch (k->type) {
	case CONFIG_STR: {
		size_t n = strlen(value);
		if (n >= k->size)
			return error_set(err, SKIFF_EINVALID, "invalid_config",
					 "%s: value longer than %zu bytes", k->name, k->size - 1);
		memcpy(field, value, n + 1);
		return 0;
	}
	case CONFIG_INT: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || end == value || *end != '\0')
			return error_set(err, SKIFF_EINVALID, "invalid_config",
					 "%s: '%s' is not a number", k->name, value);
		if (v < k->min || v > k->max)
			return error_set(err, SKIFF_EINVALID, "invalid_config",
					 "%s: %ld is outside %ld..%ld", k->name, v, k->min, k->max);
		*(long *)(void *)field = v;
		return 0;
	}
	case CONFIG_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1") ||
		    !strcmp(value, "on"))
			*(bool *)(void *)field = true;
		else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0") ||
			 !strcmp(value, "off"))
			*(bool *)(void *)field = false;
		else
			return error_set(err, SKIFF_EINVALID, "invalid_config",
					 "%s: '%s' is not true or false", k->name, value);
		return 0;
	}
	return error_set(err, SKIFF_EINTERNAL, NULL, "bad key type");
}

int config_set(struct config *cfg, const char *key, const char *value, struct error *err)
{
	const struct config_key *k = config_key_find(key);
	if (!k)
		return error_set(err, SKIFF_EINVALID, "invalid_config", "unknown key '%s'", key);
	return config_key_set(cfg, k, value, err);
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++) {
		int rc = config_key_set(cfg, &config_keys[i], config_keys[i].def, NULL);
		(void)rc;
	}
}

static char *config_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int config_read_file(struct config *cfg, const char *path, struct error *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return error_set(err, SKIFF_EIO, "invalid_config", "%s: %s", path, strerror(errno));
	char line[2048];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = error_set(err, SKIFF_EINVALID, "invalid_config", "%s:%d: line too long",
				       path, lineno);
			break;
		}
		char *s = config_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = error_set(err, SKIFF_EINVALID, "invalid_config",
				       "%s:%d: expected key = value", path, lineno);
			break;
		}
		*eq = '\0';
		char *key = config_trim(s), *value = config_trim(eq + 1);
		size_t vn = strlen(value);
		if (vn >= 2 && value[0] == '"' && value[vn - 1] == '"') {
			value[vn - 1] = '\0';
			value++;
		}
		struct error e;
		if (config_set(cfg, key, value, &e) < 0) {
			rc = error_set(err, e.code, "invalid_config", "%s:%d: %s", path, lineno,
				       e.message);
			break;
		}
	}
	fclose(f);
	return rc;
}

/* A secret kept in a file of its own (mode 0600, outside the main configuration): its first
 * line without the newline. Empty, too long or unreadable is an error naming the file, never
 * its content. */
static int config_read_secret(const char *path, char *out, size_t size, struct error *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return error_set(err, SKIFF_EIO, "invalid_config", "redis_password_file: %s: %s", path,
				 strerror(errno));
	char line[512];
	bool got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	size_t n = got ? strcspn(line, "\r\n") : 0;
	if (got && n == strlen(line) && n == sizeof(line) - 1)
		n = size; /* no newline within the buffer: too long */
	if (n == 0)
		return error_set(err, SKIFF_EINVALID, "invalid_config", "redis_password_file: %s is empty",
				 path);
	if (n >= size)
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "redis_password_file: %s: longer than %zu bytes", path, size - 1);
	memcpy(out, line, n);
	out[n] = '\0';
	return 0;
}

int config_load(struct config *cfg, const char *path, struct error *err)
{
	config_defaults(cfg);
	if (!path || !*path)
		path = getenv("SKIFF_CONFIG");
	if (path && *path) {
		int rc = config_read_file(cfg, path, err);
		if (rc < 0)
			return rc;
	} else if (access(CONFIG_DEFAULT_PATH, R_OK) == 0) {
		int rc = config_read_file(cfg, CONFIG_DEFAULT_PATH, err);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		char env[96] = "SKIFF_";
		size_t j = 6;
		for (const char *p = config_keys[i].name; *p && j < sizeof(env) - 1; p++)
			env[j++] = (char)toupper((unsigned char)*p);
		env[j] = '\0';
		const char *v = getenv(env);
		if (!v)
			continue;
		struct error e;
		if (config_key_set(cfg, &config_keys[i], v, &e) < 0)
			return error_set(err, SKIFF_EINVALID, "invalid_config", "%s: %s", env,
					 e.message);
	}
	enum log_level lvl;
	if (log_level_parse(cfg->log_level, &lvl) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "log_level: '%s' is not error, warn, info or debug", cfg->log_level);
	log_level_set(lvl);
	if (cfg->redis_password_file[0]) {
		int rc = config_read_secret(cfg->redis_password_file, cfg->redis_password,
					    sizeof(cfg->redis_password), err);
		if (rc < 0)
			return rc;
	}
	return config_check(cfg, err);
}

int config_check(const struct config *cfg, struct error *err)
{
	if (strcmp(cfg->store, "file") && strcmp(cfg->store, "s3"))
		return error_set(err, SKIFF_EINVALID, "invalid_config", "store: '%s' is not file or s3",
				 cfg->store);
	if (!strcmp(cfg->store, "file") && cfg->store_path[0] != '/')
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "store_path: must be an absolute path");
	if (cfg->fastpath_dir[0] && cfg->fastpath_dir[0] != '/')
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "fastpath_dir: must be an absolute path");
	if (!strcmp(cfg->store, "s3") && !cfg->s3_bucket[0])
		return error_set(err, SKIFF_EINVALID, "invalid_config", "s3_bucket: required with store = s3");
	if (strcmp(cfg->sandbox, "bwrap") && strcmp(cfg->sandbox, "none"))
		return error_set(err, SKIFF_EINVALID, "invalid_config", "sandbox: '%s' is not bwrap or none",
				 cfg->sandbox);
	if (strcmp(cfg->build_network, "egress") && strcmp(cfg->build_network, "none") &&
	    strcmp(cfg->build_network, "host"))
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "build_network: '%s' is not egress, none or host", cfg->build_network);
	if (strcmp(cfg->launcher, "local") && strcmp(cfg->launcher, "ecs"))
		return error_set(err, SKIFF_EINVALID, "invalid_config", "launcher: '%s' is not local or ecs",
				 cfg->launcher);
	if (!strcmp(cfg->launcher, "ecs") && (!cfg->ecs_cluster[0] || !cfg->ecs_subnets[0]))
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "launcher = ecs needs ecs_cluster and ecs_subnets");
	if (strcmp(cfg->site_scheme, "http") && strcmp(cfg->site_scheme, "https"))
		return error_set(err, SKIFF_EINVALID, "invalid_config", "site_scheme: http or https");
	if (!cfg->domain[0] || strchr(cfg->domain, '/') || strchr(cfg->domain, ':'))
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "domain: a host name without scheme or port");
	if (cfg->build_cache_path[0] != '/')
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "build_cache_path: must be an absolute path");
	if (cfg->work_dir[0] != '/')
		return error_set(err, SKIFF_EINVALID, "invalid_config", "work_dir: must be an absolute path");
	if (cfg->sse_soft_limit > cfg->sse_hard_limit)
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "sse_soft_limit: larger than sse_hard_limit");
	if (cfg->redis_username[0] && !cfg->redis_password[0])
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "redis_username: needs redis_password or redis_password_file");
	if (strlen(cfg->redis_prefix) == 0)
		return error_set(err, SKIFF_EINVALID, "invalid_config", "redis_prefix: must not be empty");
	if (strcmp(cfg->acme, "none") && strcmp(cfg->acme, "apache") && strcmp(cfg->acme, "lighttpd"))
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "acme: '%s' is not none, apache or lighttpd", cfg->acme);
	if (strcmp(cfg->acme, "none") && cfg->acme_file[0] != '/')
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "acme_file: must be an absolute path");
	if (!strcmp(cfg->acme, "lighttpd") && cfg->acme_client[0] != '/')
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "acme = lighttpd needs acme_client, starting with an absolute path");
	if (cfg->acme_reload[0] && cfg->acme_reload[0] != '/')
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "acme_reload: the command starts with an absolute path");
	struct sockaddr_in ns;
	if (cfg->domain_check_nameserver[0] &&
	    dnstxt_server_parse(cfg->domain_check_nameserver, &ns, err) < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "domain_check_nameserver: not an IPv4 address with an optional "
				 ":port");
	return 0;
}

void config_print(const struct config *cfg)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		const char *field = (const char *)cfg + k->offset;
		switch (k->type) {
		case CONFIG_STR:
			printf("%s = %s\n", k->name, k->secret && *field ? "(set)" : field);
			break;
		case CONFIG_INT:
			printf("%s = %ld\n", k->name, *(const long *)(const void *)field);
			break;
		case CONFIG_BOOL:
			printf("%s = %s\n", k->name,
			       *(const bool *)(const void *)field ? "true" : "false");
			break;
		}
	}
}
