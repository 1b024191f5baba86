// SPDX-License-Identifier: GPL-2.0
/*
 * --set: write one of the module's sysfs tunables and show the value
 * before and after.  The new value is read back rather than echoed, so
 * the user sees what the kernel actually kept.
 * Sources layer.  May call: the model layer (err.c), libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "source.h"

#define TS_VAL_MAX	64

static int open_err(const char *path, const char *key, int err)
{
	if (err == ENOENT)
		ts_err("%s: not found: load the module (insmod tcpstates.ko)",
		       path);
	else if (err == EACCES || err == EPERM)
		ts_err("set %s: need CAP_NET_ADMIN (run as root)", key);
	else
		ts_err("%s: %s", path, strerror(err));
	return -1;
}

static int read_value(const char *path, const char *key, char *buf,
		      size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return open_err(path, key, errno);
	n = read(fd, buf, size - 1);
	if (n < 0) {
		close(fd);
		return open_err(path, key, errno);
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_value(const char *path, const char *key, const char *val)
{
	char line[TS_VAL_MAX + 2];
	ssize_t n;
	int fd, len, err;

	len = snprintf(line, sizeof(line), "%s\n", val);
	/* O_TRUNC: a no-op on sysfs, needed for the test suite's fake files */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return open_err(path, key, errno);
	n = write(fd, line, len);
	err = errno;
	close(fd);
	if (n == len)
		return 0;
	if (n >= 0)
		ts_err("set %s=%s: short write; try again", key, val);
	else if (err == EINVAL || err == ERANGE)
		ts_err("set %s=%s: invalid value (rejected by the kernel)",
		       key, val);
	else
		return open_err(path, key, err);
	return -1;
}

int ts_set_tunable(const char *dir, const char *key, const char *val)
{
	char path[PATH_MAX], old[TS_VAL_MAX], new[TS_VAL_MAX];

	if (strlen(val) > TS_VAL_MAX) {
		ts_err("set %s: value too long", key);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (read_value(path, key, old, sizeof(old)) ||
	    write_value(path, key, val) ||
	    read_value(path, key, new, sizeof(new)))
		return -1;
	printf("%s: %s -> %s\n", key, old, new);
	return 0;
}
