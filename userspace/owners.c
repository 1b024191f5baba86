// SPDX-License-Identifier: GPL-2.0
/*
 * --all-netns: name the process owning each network namespace as lsns(8)
 * does, the lowest PID whose /proc/PID/ns/net is that namespace.  The
 * link is read rather than stat()ed ("net:[INODE]"), which is the same
 * inode and lets the tests use a fake procfs.
 * Views layer.  May call: the model layer (tabular.c, err.c), libc.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view.h"

static int key_cmp(const void *key, const void *elem)
{
	unsigned long long k = *(const unsigned long long *)key;
	const struct ts_row *r = elem;

	return k < r->key ? -1 : k > r->key;
}

static int pid_of(const char *name)
{
	char *end;
	long pid;

	if (!isdigit((unsigned char)*name))
		return 0;
	pid = strtol(name, &end, 10);
	return *end || pid <= 0 || pid > INT_MAX ? 0 : (int)pid;
}

static void note_pid(struct ts_table *t, const char *procfs, int pid)
{
	char path[PATH_MAX], link[64];
	unsigned long long ino;
	struct ts_row *r;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/ns/net", procfs, pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return;
	link[n] = '\0';
	if (sscanf(link, "net:[%llu]", &ino) != 1)
		return;
	r = bsearch(&ino, t->rows, t->nrows, sizeof(*r), key_cmp);
	if (r && (!r->pid || pid < r->pid))
		r->pid = pid;
}

/*
 * The command name of @pid into @comm (TS_COMM_LEN bytes): printable, and
 * safe in a JSON string and a Prometheus label.
 */
void ts_read_comm(const char *procfs, int pid, char *comm)
{
	char path[PATH_MAX], *p;
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/comm", procfs, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, TS_COMM_LEN - 1);
		close(fd);
	}
	if (n <= 0) {
		snprintf(comm, TS_COMM_LEN, "?");	/* it just exited */
		return;
	}
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	for (p = comm; *p; p++)
		if (!isprint((unsigned char)*p) || *p == '"' || *p == '\\')
			*p = '?';
}

/* @t's rows must be sorted by key (ts_table_finish() does it). */
void ts_find_owners(struct ts_table *t, const char *procfs)
{
	struct dirent *de;
	size_t i;
	DIR *dir;
	int pid;

	if (!t->nrows)
		return;
	dir = opendir(procfs);
	if (!dir)
		return;		/* no owners shown, not an error */
	while ((de = readdir(dir))) {
		pid = pid_of(de->d_name);
		if (pid)
			note_pid(t, procfs, pid);
	}
	closedir(dir);
	for (i = 0; i < t->nrows; i++)
		if (t->rows[i].pid)
			ts_read_comm(procfs, t->rows[i].pid, t->rows[i].comm);
}
