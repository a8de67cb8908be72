/* fuzz_detect.c — libFuzzer target for skiff.json (lib/detect.c): the input is written as a
 * checkout's skiff.json (and, with the selector bit, the same bytes as package.json) and
 * detected. Whatever is accepted must be a setting skiff-build can use: commands that pass
 * validate_command, an output directory that passes validate_output_dir, tristates in range. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[64];

static void fuzz_write(const char *name, const uint8_t *data, size_t size)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/fuzz-detect.XXXXXX");
		if (!mkdtemp(fuzz_dir))
			abort();
	}
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	fuzz_write("skiff.json", data + 1, size - 1);
	char pkg[128];
	snprintf(pkg, sizeof(pkg), "%s/package.json", fuzz_dir);
	if (sel & 1)
		fuzz_write("package.json", data + 1, size - 1);
	else
		unlink(pkg);
	struct detect_settings user = { "", "", "" };
	if (sel & 2)
		user.build_command = "make site";
	struct detect_result d;
	struct error err;
	if (detect_project(fuzz_dir, &user, &d, &err) == 0) {
		if (validate_command(d.build_command, "buildCommand", NULL) != 0 ||
		    validate_command(d.install_command, "installCommand", NULL) != 0 ||
		    validate_output_dir(d.output_dir, NULL) != 0 || d.trailing_slash < -1 ||
		    d.trailing_slash > 1 || d.spa < -1 || d.spa > 1)
			abort();
		if ((sel & 2) && strcmp(d.build_command, "make site") != 0)
			abort();   /* the project's own setting wins over skiff.json */
		detect_result_dispose(&d);
	} else if (!err.message[0]) {
		abort();
	}
	return 0;
}
