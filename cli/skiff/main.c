/* main.c — the `skiff` command-line client: dispatches to deploy, login and the small commands. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include "deploy.h"
#include "domains.h"
#include "login.h"
#include "logs.h"
#include "open.h"
#include "simple.h"
#include "tokens.h"

static void usage(FILE *f)
{
	fputs("usage: skiff COMMAND [ARGS] [--json]\n"
	      "\n"
	      "  deploy [DIR] --project SLUG [--preview]  upload a built directory and make it live\n"
	      "  domains [ls|add NAME|rm NAME|primary NAME|--none] [--project SLUG]\n"
	      "                                           a project's custom domains and primary\n"
	      "  login URL                                store a server URL and token\n"
	      "  logs [-f] ID                             a build log; -f follows it until the end\n"
	      "  ls [--project SLUG]                      projects, or a project's deployments\n"
	      "  open [ID|--project SLUG]                 open a deployment or live site in a browser\n"
	      "  rollback SLUG ID                         make an earlier deployment current\n"
	      "  cancel ID                                stop a deployment\n"
	      "  tokens SLUG [create NAME|revoke ID]      a project's deploy tokens (admin)\n"
	      "\n"
	      "`skiff COMMAND --help` describes one command; man skiff describes them all.\n", f);
}

int main(int argc, char **argv)
{
	int rc;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts("skiff " SKIFF_VERSION);
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(argv[1], "deploy") == 0)
		rc = cli_deploy(argc - 1, argv + 1);
	else if (strcmp(argv[1], "domains") == 0)
		rc = cli_domains(argc - 1, argv + 1);
	else if (strcmp(argv[1], "login") == 0)
		rc = cli_login(argc - 1, argv + 1);
	else if (strcmp(argv[1], "logs") == 0)
		rc = cli_logs(argc - 1, argv + 1);
	else if (strcmp(argv[1], "tokens") == 0)
		rc = cli_tokens(argc - 1, argv + 1);
	else if (strcmp(argv[1], "open") == 0)
		rc = cli_open(argc - 1, argv + 1);
	else if (strcmp(argv[1], "ls") == 0 ||
		 strcmp(argv[1], "rollback") == 0 || strcmp(argv[1], "cancel") == 0)
		rc = cli_simple(argv[1], argc - 1, argv + 1);
	else {
		fprintf(stderr, "skiff: unknown command '%.80s'\n", argv[1]);
		usage(stderr);
		rc = 2;
	}
	curl_global_cleanup();
	return rc;
}
