// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates reader, sources layer: the module's files.  Read a whole proc
 * file, then hand /proc/tcpstates to the model's parser (parse.c) and
 * /proc/tcpstates_all or /proc/tcpstates_ports to its table parser
 * (tabular.c), /proc/tcpstates_transitions and _transitions_ports to
 * parse_tr.c and /proc/tcpstates_ages to parse_ages.c, each open error
 * told as what to do about it.
 * May call: the model layer (sample.h, err.h), libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source.h"

/* Sanity cap; tcpstates_ports can reach 2 x 65536 rows. */
#define TS_MAX_FILE		(64 * 1024 * 1024)

/* Read a whole (proc) file: st_size is 0 there, so grow as we go. */
int ts_read_file(const char *path, char **bufp, size_t *lenp)
{
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return ts_read_fd(fd, bufp, lenp);
}

/* Read @fd to its end, and close it: a file as ts_read_file() reads one. */
int ts_read_fd(int fd, char **bufp, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf = NULL, *nbuf;
	ssize_t n;

	do {
		if (len == cap || !buf) {
			cap = buf ? cap * 2 : cap;
			nbuf = cap > TS_MAX_FILE ? NULL : realloc(buf, cap + 1);
			if (!nbuf) {
				n = -1;
				errno = EFBIG;
				break;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n > 0)
			len += n;
	} while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0) {
		n = -errno;
		close(fd);
		free(buf);
		return n;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

int ts_read_module(const char *path, struct ts_sample *s)
{
	size_t len;
	char *buf;
	int ret;

	ret = ts_read_file(path, &buf, &len);
	if (ret == -ENOENT) {
		ts_err("module not loaded: insmod tcpstates.ko, or use --source netlink");
		return -1;
	}
	if (ret) {
		ts_err("%s: %s; use --source netlink", path, strerror(-ret));
		return -1;
	}
	ret = ts_parse(buf, len, path, s);
	free(buf);
	return ret;
}

static int open_error(enum ts_mode mode, const char *path, int err)
{
	if (err == ENOENT)
		ts_err("module not loaded (no %s): insmod a tcpstates.ko that has it%s",
		       path, ts_by_port(mode) ?
		       ", or use --source netlink" : ", or tcpstates pin");
	else if (err == EBUSY)
		ts_churn("%s: busy: snapshots fill this user's share of the budget; try again",
			 path);
	else if (err == EAGAIN)
		ts_churn("%s: namespaces came and went under the read; try again",
			 path);
	else if (mode == TS_MODE_ALL && (err == EPERM || err == EACCES))
		ts_err("%s: permission denied: needs CAP_NET_ADMIN in the initial namespaces",
		       path);
	else
		ts_err("%s: %s", path, strerror(err));
	return -1;
}

int ts_read_table(enum ts_mode mode, const char *path, struct ts_table *t)
{
	size_t len;
	char *buf;
	int ret;

	t->mode = mode;
	ret = ts_read_file(path, &buf, &len);
	if (ret)
		return open_error(mode, path, -ret);
	ret = ts_parse_table(buf, len, path, t);
	free(buf);
	return ret;
}

/*
 * A file only the module has, read whole for --transitions, --ages or
 * --transitions --ports (@opt): no other source to suggest when it is
 * missing, but the pins for the transitions.
 */
static int read_module_only(const char *opt, const char *path, char **buf,
			    size_t *len)
{
	int ret;

	ret = ts_read_file(path, buf, len);
	if (ret == -ENOENT)
		ts_err("%s needs the module's %s (not loaded?): insmod a tcpstates.ko that has it%s",
		       opt, path, !strcmp(opt, "--transitions") ?
		       ", or run tcpstates pin" :
		       !strcmp(opt, "--transitions --ports") ?
		       ", or run tcpstates pin on a kernel that takes fentry programs" :
		       "");
	else if (ret)
		ts_err("%s: %s", path, strerror(-ret));
	return ret ? -1 : 0;
}

int ts_read_transitions(const char *path, struct ts_transitions *tr)
{
	size_t len;
	char *buf;
	int ret;

	if (read_module_only("--transitions", path, &buf, &len))
		return -1;
	ret = ts_parse_transitions(buf, len, path, tr);
	free(buf);
	return ret;
}

int ts_read_ages(const char *path, struct ts_ages *a)
{
	size_t len;
	char *buf;
	int ret;

	if (read_module_only("--ages", path, &buf, &len))
		return -1;
	ret = ts_parse_ages(buf, len, path, a);
	free(buf);
	return ret;
}

int ts_read_tr_ports(const char *path, struct ts_tr_ports *p)
{
	size_t len;
	char *buf;
	int ret;

	if (read_module_only("--transitions --ports", path, &buf, &len))
		return -1;
	ret = ts_parse_tr_ports(buf, len, path, p);
	free(buf);
	return ret;
}
