// SPDX-License-Identifier: GPL-2.0
/*
 * --processes: which processes hold the sockets in the shown states, found
 * as ss -p finds them.  A sock_diag dump of those states only gives each
 * socket's inode, and /proc/PID/fd/N of the process holding it links to
 * "socket:[INODE]".  The module counts sockets but knows no inodes, so
 * this dump is made whatever the source.
 *
 * The cost is bounded by what was asked: the dump holds the shown states
 * only (plus the listeners, to group --ports), and /proc is not read at
 * all when none of those sockets has a file: TIME_WAIT, request socks and
 * orphans have none.  A socket shared by several processes counts for
 * each of them, once per process however many descriptors it has.
 * Views layer.  May call: owners.c, the sources layer (netlink.c's
 * dump), the model layer, libc.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view.h"

struct ts_hit {
	unsigned int group;
	int pid;
};

struct ts_comm {
	int pid;
	char comm[TS_COMM_LEN];
};

struct ts_scan {
	const char *procfs;
	struct ts_socks ss;		/* the asked sockets, by inode */
	struct ts_hit *hits;		/* (group, pid) for each socket held */
	size_t nhits;
	size_t hits_cap;
	struct ts_comm *comms;		/* each PID holding a socket */
	size_t ncomms;
	size_t comms_cap;
};

/* Grow @*v (elements of @size) to hold one more than @n. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;

	if (n < *cap)
		return 0;
	nv = realloc(*v, (*cap ? 2 * *cap : 256) * size);
	if (!nv)
		return -ENOMEM;
	*cap = *cap ? 2 * *cap : 256;
	*v = nv;
	return 0;
}

static int add_hit(struct ts_scan *sc, unsigned int group, int pid)
{
	if (grow((void **)&sc->hits, &sc->hits_cap, sc->nhits,
		 sizeof(*sc->hits)))
		return -1;
	sc->hits[sc->nhits].group = group;
	sc->hits[sc->nhits++].pid = pid;
	return 0;
}

static int add_comm(struct ts_scan *sc, int pid)
{
	struct ts_comm *c;

	if (grow((void **)&sc->comms, &sc->comms_cap, sc->ncomms,
		 sizeof(*sc->comms)))
		return -1;
	c = &sc->comms[sc->ncomms++];
	c->pid = pid;
	ts_read_comm(sc->procfs, pid, c->comm);
	return 0;
}

static int inode_cmp(const void *a, const void *b)
{
	const struct ts_sock *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static int pid_cmp(const void *a, const void *b)
{
	const struct ts_comm *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The socket @link ("socket:[INODE]") names, if it is one we look for. */
static struct ts_sock *find_sock(struct ts_scan *sc, const char *link)
{
	struct ts_sock key = { 0 };
	unsigned long ino;
	char *end;

	if (strncmp(link, "socket:[", 8) || !isdigit((unsigned char)link[8]))
		return NULL;
	ino = strtoul(link + 8, &end, 10);
	if (strcmp(end, "]") || !ino || ino > UINT_MAX)
		return NULL;
	key.inode = ino;
	return bsearch(&key, sc->ss.v, sc->ss.n, sizeof(key), inode_cmp);
}

/* Note every asked socket @pid holds; a PID we may not read is skipped. */
static int scan_pid(struct ts_scan *sc, int pid)
{
	char path[PATH_MAX], link[64];
	struct ts_sock *k;
	struct dirent *de;
	int ret = 0, held = 0;
	DIR *dir;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/fd", sc->procfs, pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!ret && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		k = find_sock(sc, link);
		if (!k || k->owner == pid)
			continue;	/* not asked for, or a dup of one */
		k->owner = pid;
		ret = add_hit(sc, k->group, pid);
		held++;
	}
	closedir(dir);
	if (!ret && held)
		ret = add_comm(sc, pid);
	return ret;
}

static int scan_proc(struct ts_scan *sc)
{
	struct dirent *de;
	int ret = 0;
	char *end;
	long pid;
	DIR *dir;

	dir = opendir(sc->procfs);
	if (!dir) {
		ts_err("--processes: %s: cannot list processes", sc->procfs);
		return -1;
	}
	while (!ret && (de = readdir(dir))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (!*end && pid > 0 && pid <= INT_MAX)
			ret = scan_pid(sc, (int)pid);
	}
	closedir(dir);
	return ret;
}

/* Keep the sockets in the asked states and families; any with a file? */
static bool keep_asked(struct ts_socks *ss, const bool *show,
		       unsigned int fams)
{
	bool files = false;
	size_t i, kept = 0;

	for (i = 0; i < ss->n; i++) {
		if (!show[ss->v[i].state] || !(fams & TS_BIT(ss->v[i].fam)))
			continue;
		files |= ss->v[i].inode != 0;
		ss->v[kept++] = ss->v[i];
	}
	ss->n = kept;
	return files;
}

/* The sockets no process holds, and those whose process was not found. */
static int add_unheld(struct ts_scan *sc)
{
	struct ts_sock *k;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < sc->ss.n; i++) {
		k = &sc->ss.v[i];
		if (!k->owner)
			ret = add_hit(sc, k->group, k->inode ? TS_PID_UNSEEN :
							       TS_PID_NONE);
	}
	return ret;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct ts_hit *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int int_cmp(int x, int y)
{
	return x < y ? -1 : x > y;
}

/* In a group: processes by sockets held, then "no process", "not found". */
static int proc_cmp(const void *a, const void *b)
{
	const struct ts_proc *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->pid <= 0 || y->pid <= 0)
		return int_cmp(y->pid, x->pid);
	if (x->sockets != y->sockets)
		return x->sockets < y->sockets ? 1 : -1;
	return int_cmp(x->pid, y->pid);
}

/* One entry per (group, pid) of the hits, with the command name. */
static int count_hits(struct ts_scan *sc, struct ts_procs *p)
{
	struct ts_comm key, *c;
	struct ts_proc *e = NULL;
	size_t i;

	p->n = 0;
	p->v = calloc(sc->nhits ? sc->nhits : 1, sizeof(*p->v));
	if (!p->v)
		return -ENOMEM;
	if (sc->nhits)
		qsort(sc->hits, sc->nhits, sizeof(*sc->hits), hit_cmp);
	if (sc->ncomms)
		qsort(sc->comms, sc->ncomms, sizeof(*sc->comms), pid_cmp);
	for (i = 0; i < sc->nhits; i++) {
		if (!e || e->group != sc->hits[i].group ||
		    e->pid != sc->hits[i].pid) {
			e = &p->v[p->n++];
			e->group = sc->hits[i].group;
			e->pid = sc->hits[i].pid;
			key.pid = e->pid;
			c = bsearch(&key, sc->comms, sc->ncomms,
				    sizeof(key), pid_cmp);
			snprintf(e->comm, sizeof(e->comm), "%s",
				 c ? c->comm : "");
		}
		e->sockets++;
	}
	if (p->n)
		qsort(p->v, p->n, sizeof(*p->v), proc_cmp);
	return 0;
}

/*
 * Find the processes holding the sockets in the states @show[] of the
 * families @fams, grouped by state or, with @ports, by --ports group.
 * On error (reported) @p is left empty.
 */
int ts_find_procs(struct ts_procs *p, const bool *show, unsigned int fams,
		  bool ports, const char *procfs)
{
	struct ts_scan sc = { .procfs = procfs };
	unsigned int states = ports ? TS_BIT(TCP_LISTEN) : 0;
	int st, ret;

	memset(p, 0, sizeof(*p));
	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		if (show[st])
			states |= TS_BIT(st);
	if (ts_dump_socks(states, ports, &sc.ss))
		return -1;
	ret = 0;
	if (keep_asked(&sc.ss, show, fams)) {
		qsort(sc.ss.v, sc.ss.n, sizeof(*sc.ss.v), inode_cmp);
		ret = scan_proc(&sc);
	}
	if (!ret)
		ret = add_unheld(&sc);
	if (!ret)
		ret = count_hits(&sc, p);
	if (ret == -ENOMEM)
		ts_err("--processes: out of memory");
	free(sc.ss.v);
	free(sc.hits);
	free(sc.comms);
	return ret ? -1 : 0;
}

static int group_cmp(const void *key, const void *elem)
{
	unsigned int g = *(const unsigned int *)key;
	const struct ts_proc *e = elem;

	return g < e->group ? -1 : g > e->group;
}

/* The entries of @group and how many there are (@n), or NULL. */
const struct ts_proc *ts_procs_group(const struct ts_procs *p,
				     unsigned int group, size_t *n)
{
	const struct ts_proc *e, *end = p->v + p->n;

	*n = 0;
	e = bsearch(&group, p->v, p->n, sizeof(*p->v), group_cmp);
	if (!e)
		return NULL;
	while (e > p->v && e[-1].group == group)
		e--;
	while (e + *n < end && e[*n].group == group)
		(*n)++;
	return e;
}
