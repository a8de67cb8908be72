/* aws_process.h — a profile's credential_process, as the AWS CLI runs it (no shell). */
#ifndef SKIFF_AWS_PROCESS_H
#define SKIFF_AWS_PROCESS_H

#include <stddef.h>
#include "aws.h"
#include "error.h"

/* Splits a profile's credential_process into words as the AWS CLI does (POSIX shlex: blanks
 * separate words; '...' is literal; in "..." only \" and \\ are escapes; \ outside quotes
 * takes the next character as it is), into store (cap bytes) and argv (max entries, the
 * last one NULL). The number of words, or -1 (unbalanced quotes, too long, too many). */
int aws_process_split(const char *cmd, char *store, size_t cap, char **argv, int max);
/* Runs cmd (split by aws_process_split, the program looked up in PATH unless it has a '/')
 * with skiff's environment for at most 30 s (SKIFF_AWS_CREDENTIAL_PROCESS_TIMEOUT may
 * shorten it, for tests); its stdout must be JSON "Version": 1 with AccessKeyId,
 * SecretAccessKey, optional SessionToken and Expiration, which go to *c. 0, or SKIFF_EAUTH
 * that never quotes the output nor its stderr (they may hold secrets). */
int aws_process_creds(const char *cmd, struct aws_creds *c, struct error *err);

#endif
