// SPDX-License-Identifier: GPL-2.0
/*
 * write_once PATH HEX: one write(2) of the bytes HEX spells (so a test
 * can send a NUL or a 5000-byte string), then print "ok" or the errno
 * name.  Exit 0 only when every byte was taken.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ERANGE: return "ERANGE";
	default: return strerror(e);
	}
}

int main(int argc, char **argv)
{
	size_t len, i;
	char *buf;
	ssize_t n;
	int fd;

	if (argc != 3 || strlen(argv[2]) % 2) {
		fprintf(stderr, "usage: write_once PATH HEX\n");
		return 2;
	}
	len = strlen(argv[2]) / 2;
	buf = malloc(len + 1);
	for (i = 0; i < len; i++) {
		if (sscanf(argv[2] + 2 * i, "%2hhx", &buf[i]) != 1) {
			fprintf(stderr, "write_once: bad hex\n");
			return 2;
		}
	}
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	n = write(fd, buf, len);
	if (n < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	printf(n == (ssize_t)len ? "ok\n" : "short %zd\n", n);
	return n == (ssize_t)len ? 0 : 1;
}
