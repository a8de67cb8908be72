/* config.h — skiff's configuration: one key table, defaults in one place, a file plus
 * SKIFF_* environment overrides. */
#ifndef SKIFF_CONFIG_H
#define SKIFF_CONFIG_H

#include <stdbool.h>
#include "error.h"

#define CONFIG_DEFAULT_PATH "/etc/skiff/skiff.conf"
#define CONFIG_STR_MAX 512

struct config {
	/* Redis */
	char redis_host[CONFIG_STR_MAX];
	long redis_port;
	char redis_socket[CONFIG_STR_MAX];   /* a unix socket path; wins over host:port */
	char redis_prefix[64];
	long redis_timeout_ms;
	char redis_username[128];            /* ACL user; "" = AUTH with the password alone */
	char redis_password[256];            /* "" = no AUTH */
	char redis_password_file[CONFIG_STR_MAX]; /* read into redis_password at load */
	/* store */
	char store[16];                      /* "file" or "s3" */
	char store_path[CONFIG_STR_MAX];     /* file backend root */
	char cache_path[CONFIG_STR_MAX];     /* s3 blob cache for skiff-serve */
	char s3_endpoint[CONFIG_STR_MAX];
	char s3_bucket[256];
	char s3_region[64];
	char s3_prefix[256];
	bool s3_path_style;
	char s3_access_key[256];
	char s3_secret_key[256];
	long s3_parallel;
	long s3_timeout;                     /* seconds for one request; stall time of uploads */
	long s3_retries;                     /* retries on 5xx/429/connection errors */
	long s3_deadline;                    /* seconds for a whole batch upload */
	long s3_presign_expires;             /* seconds a presigned blob upload lives; 0 = none */
	long cache_max_mb;                   /* bound of cache_path (LRU) */
	char build_cache_path[CONFIG_STR_MAX]; /* package-manager caches kept between builds */
	long build_cache_mb;                 /* bound of build_cache_path (LRU); 0: no cache */
	/* sites and URLs */
	char domain[256];                    /* sites live on {slug}.{domain} */
	long site_port;                      /* port in site URLs; 0 or 80 = none */
	char site_scheme[8];
	char dashboard_url[CONFIG_STR_MAX];  /* where the dashboard and API live */
	bool xsendfile;                      /* the web server honours X-Sendfile */
	bool xsendfile_plain_only;           /* its X-Sendfile acts only on plain 200s (mod_xsendfile) */
	char fastpath_dir[CONFIG_STR_MAX];   /* trees the web server serves itself; "" = off */
	/* API */
	char api_token[256];                 /* bearer token for mutations; empty = REMOTE_USER only */
	char secret_key_file[CONFIG_STR_MAX]; /* key of values sealed at rest (lib/secret.h) */
	bool auth_disabled;                  /* local use: mutations need no token */
	bool public_reads;                   /* reads (dashboard, API, logs) need no credentials */
	long max_body;                       /* request body limit in bytes */
	/* rate limits per rate_limit_window seconds; 0 = off (lib/rate.h) */
	long rate_limit_window;
	long rate_limit_create;              /* project creations per client address */
	long rate_limit_deploy;              /* redeploys per client address */
	long rate_limit_deploy_project;      /* redeploys per project */
	long rate_limit_hook;                /* webhook deliveries per client address */
	long rate_limit_hook_project;        /* verified webhook deliveries per project */
	/* builds */
	bool allow_local_git;                /* file:// and loopback git URLs (local use, tests) */
	char work_dir[CONFIG_STR_MAX];
	char build_program[CONFIG_STR_MAX];  /* path to skiff-build */
	char sandbox[16];                    /* "bwrap" or "none" */
	long build_timeout;                  /* seconds, wall clock */
	long build_cpu;                      /* seconds of CPU */
	long build_memory_mb;                /* RLIMIT_AS of each command */
	char build_network[16];              /* "egress" (slirp4netns), "none" or "host" */
	long build_tmp_mb;                   /* size of the sandbox's /tmp (a tmpfs) */
	long build_disk_mb;                  /* bytes in the build's work directory */
	long build_file_mb;                  /* RLIMIT_FSIZE: one file */
	long build_processes;                /* processes and threads at once (pids cgroup) */
	long max_files;
	long max_file_mb;
	long max_output_mb;
	long log_max_entries;                /* MAXLEN ~ of a log stream */
	long concurrency;                    /* builds at once (dispatch) */
	long concurrency_project;            /* builds of one project at once, all dispatchers; 0 = no cap */
	long concurrency_total;              /* builds at once over all dispatchers; 0 = no cap */
	long lease_ttl;                      /* seconds */
	/* project lifecycle */
	long retention_keep;                 /* ready deployments kept per project, plus current */
	long retention_keep_previews;        /* ready preview deployments kept per project, apart */
	long gc_interval;                    /* seconds between sweeps in skiff-dispatch; 0 = never */
	long gc_grace;                       /* seconds a blob is safe from the sweep after upload */
	long poll_interval;                  /* seconds between polls of a watched project */
	long poll_per_minute;                /* polls started per minute, all dispatchers */
	long poll_timeout;                   /* seconds before a poll is killed and backs off */
	long poll_concurrency;               /* polls at once per dispatcher */
	long notify_retry_base_ms;           /* first retry of a failed notification; x4 each */
	long notify_timeout;                 /* seconds one notification attempt may take */
	char launcher[16];                   /* "local" or "ecs" */
	char ecs_endpoint[CONFIG_STR_MAX];   /* "" = https://ecs.{region}.amazonaws.com/ */
	char ecs_region[64];                 /* "" = s3_region */
	char ecs_cluster[CONFIG_STR_MAX];
	char ecs_task_definition[CONFIG_STR_MAX];
	char ecs_container[128];
	char ecs_subnets[CONFIG_STR_MAX];    /* comma-separated */
	char ecs_security_groups[CONFIG_STR_MAX];
	bool ecs_assign_public_ip;
	char ecs_capacity_providers[CONFIG_STR_MAX]; /* "" = launchType FARGATE; else
					      * "FARGATE_SPOT:3,FARGATE:1[:base]" */
	char ecs_api_url[CONFIG_STR_MAX];    /* the API as tasks reach it; "" = dashboard_url */
	long ecs_start_timeout;              /* seconds a launched build may stay unstarted */
	long ecs_run_rate;                   /* RunTask calls per second */
	long ecs_retries;
	long ecs_timeout;                    /* seconds for one ECS API call */
	/* custom domains (skiff-dispatch checks them and keeps the ACME configuration) */
	char domain_check_resolve[CONFIG_STR_MAX]; /* "name:address ...": fixed answers for the
					      * check instead of DNS (split horizon, tests) */
	long domain_check_timeout;           /* seconds for one check */
	char domain_check_nameserver[CONFIG_STR_MAX]; /* "IPv4[:port]" asked for the TXT
					      * records; "" = the system resolver */
	long domain_recheck_interval;        /* seconds between checks of a name that passed */
	char acme[16];                       /* "none", "apache" (mod_md) or "lighttpd" */
	char acme_file[CONFIG_STR_MAX];      /* the configuration file skiff writes */
	char acme_site[CONFIG_STR_MAX];      /* apache: the file each generated vhost includes */
	long acme_https_port;                /* the port of the generated HTTPS virtual hosts */
	char acme_client[CONFIG_STR_MAX];    /* lighttpd: the ACME client (dehydrated) and its
					      * options; skiff adds --cron --domain NAME */
	char acme_cert_dir[CONFIG_STR_MAX];  /* lighttpd: where it puts NAME/fullchain.pem */
	char acme_reload[CONFIG_STR_MAX];    /* the command run (execve, split on spaces) after
					      * acme_file changed; "" = none */
	long acme_renew_interval;            /* lighttpd: seconds between renewal rounds */
	/* sse bridge */
	char sse_listen[CONFIG_STR_MAX];     /* "127.0.0.1:8081" or "unix:/path" */
	long sse_threads;                    /* event loop threads, 0 = one per CPU */
	long sse_max_clients;
	long sse_keepalive;                  /* seconds */
	long sse_soft_limit;                 /* bytes queued for a client before the soft timer */
	long sse_hard_limit;                 /* bytes queued: close at once */
	long sse_soft_seconds;
	/* logging */
	char log_level[16];
};

/* Fills cfg with defaults, then the file at path (NULL: $SKIFF_CONFIG, else the default
 * path if it exists), then SKIFF_<KEY> environment variables. */
int config_load(struct config *cfg, const char *path, struct error *err);
void config_defaults(struct config *cfg);
/* Sets one key from its text form (as in the file); validates type and range. */
int config_set(struct config *cfg, const char *key, const char *value, struct error *err);
/* Checks consistency across keys (used by -n). */
int config_check(const struct config *cfg, struct error *err);
/* Writes every key = value (secrets masked) to stdout. */
void config_print(const struct config *cfg);

#endif
