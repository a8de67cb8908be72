/* check_sshkey.c — deploy keys: a generated key is one OpenSSH's own ssh-keygen reads back
 * (same public key, same fingerprint), and fingerprints are written as ssh-keygen writes them. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sshkey.h"

/* What `ssh-keygen args...` prints on stdout (its exit status must be 0). */
static void keygen_output(const char *const *args, char *out, size_t cap)
{
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execv("/usr/bin/ssh-keygen", (char *const *)args);
		_exit(127);
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t r;
	while (n < cap - 1 && (r = read(fds[0], out + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fds[0]);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ssh-keygen failed: %s", out);
}

START_TEST(test_sshkey_generate_read_by_ssh_keygen)
{
	char priv[SSHKEY_PRIVATE_MAX + 1], pub[SSHKEY_PUBLIC_MAX + 1];
	char fp[SSHKEY_FINGERPRINT_MAX + 1], path[] = "/tmp/check_sshkey.XXXXXX";
	struct error err;
	ck_assert_int_eq(sshkey_generate("skiff-site", priv, pub, fp, &err), 0);
	ck_assert_int_eq(strncmp(priv, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36), 0);
	ck_assert_int_eq(strncmp(pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 37), 0);
	ck_assert_str_eq(pub + strlen(pub) - 11, " skiff-site");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, priv, strlen(priv)), (ssize_t)strlen(priv));
	close(fd);
	char out[1024];
	/* -y: the public key from the private file; it must be ours (comment aside) */
	const char *const y[] = { "ssh-keygen", "-y", "-f", path, NULL };
	keygen_output(y, out, sizeof(out));
	size_t keylen = strrchr(pub, ' ') - pub;
	ck_assert_msg(!strncmp(out, pub, keylen), "ssh-keygen -y: %s, ours: %s", out, pub);
	/* -l: its fingerprint is the one we show */
	const char *const l[] = { "ssh-keygen", "-l", "-f", path, NULL };
	keygen_output(l, out, sizeof(out));
	ck_assert_msg(strstr(out, fp) != NULL, "ssh-keygen -l: %s, ours: %s", out, fp);
	ck_assert_msg(strstr(out, "skiff-site (ED25519)") != NULL, "%s", out);
	unlink(path);
}
END_TEST

START_TEST(test_sshkey_generate_differs)
{
	char priv1[SSHKEY_PRIVATE_MAX + 1], pub1[SSHKEY_PUBLIC_MAX + 1], fp1[SSHKEY_FINGERPRINT_MAX + 1];
	char priv2[SSHKEY_PRIVATE_MAX + 1], pub2[SSHKEY_PUBLIC_MAX + 1], fp2[SSHKEY_FINGERPRINT_MAX + 1];
	struct error err;
	ck_assert_int_eq(sshkey_generate("a", priv1, pub1, fp1, &err), 0);
	ck_assert_int_eq(sshkey_generate("a", priv2, pub2, fp2, &err), 0);
	ck_assert_str_ne(pub1, pub2);
	ck_assert_str_ne(priv1, priv2);
	ck_assert_str_ne(fp1, fp2);
}
END_TEST

START_TEST(test_sshkey_fingerprint_as_ssh_keygen)
{
	/* ssh-keygen -lf of these two lines */
	char fp[SSHKEY_FINGERPRINT_MAX + 1];
	struct error err;
	ck_assert_int_eq(sshkey_public_fingerprint("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHDNsVCPkt1zDb"
						   "UO2SrhfifAgHd89R/IuHsT0LxQKvCm test", fp, &err), 0);
	ck_assert_str_eq(fp, "SHA256:pH9Cdz69YNrD7+6pY2staG5z8QaZ8uexoUH2w0LUqS4");
	ck_assert_int_eq(sshkey_public_fingerprint("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBNFNvQWOiCfYz"
						   "PXAAxdVDEzMLs33mmz8XZb86cXyBmJ", fp, &err), 0);
	ck_assert_str_eq(fp, "SHA256:6zSnQcyrgCYgQtCknTQyYXdFbEzU8pIQIlchP/LM38E");
	ck_assert_int_eq(sshkey_public_fingerprint("ssh-ed25519", fp, &err), SKIFF_EINVALID);
	ck_assert_int_eq(sshkey_public_fingerprint("ssh-ed25519 AAA", fp, &err), SKIFF_EINVALID);
	ck_assert_int_eq(sshkey_public_fingerprint("ssh-ed25519 !!!!", fp, &err), SKIFF_EINVALID);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sshkey");
	TCase *tc = tcase_create("sshkey");
	tcase_add_test(tc, test_sshkey_generate_read_by_ssh_keygen);
	tcase_add_test(tc, test_sshkey_generate_differs);
	tcase_add_test(tc, test_sshkey_fingerprint_as_ssh_keygen);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
