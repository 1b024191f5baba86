// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates reader, sources layer: the pinned files of "tcpstates pin"
 * (docs/pins.md), read as the module's.  DIR/tcpstates, DIR/tcpstates_ports
 * and DIR/tcpstates_all print the grammars of the module's files of the
 * same names, so the model's parsers read them, and a read loads nothing.
 * What is told here is whose they are.  A pin of another format version
 * is refused: the fix is one command (tcpstates pin), and this reader
 * would otherwise take another grammar for its own.  A pin of another
 * reader version only is named, once, and read: its grammar is this one.
 * The version is the name of DIR/current, read here (not in pin.c) so
 * that a reader built without BPF names it too.
 * May call: module.c (ts_read_file), the model layer, libc.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>

#include "source.h"
#include "tcpstates_bpf.h"
#include "tcpstates_ages.h"
#include "tcpstates_transitions.h"

/* One pinned file, read whole. */
struct ts_pin_file {
	const char *dir;
	const char *reader;		/* this reader's version */
	char path[PATH_MAX];
	char *buf;
	size_t len;
};

static bool ts_pin_named;		/* another version's pins: said once */

static const char *pin_name(enum ts_mode mode)
{
	if (mode == TS_MODE_TRANSITIONS)
		return "tcpstates_transitions";
	if (mode == TS_MODE_TR_PORTS)
		return "tcpstates_transitions_ports";
	if (mode == TS_MODE_AGES)
		return "tcpstates_ages";
	if (mode == TS_MODE_ALL)
		return "tcpstates_all";
	if (mode == TS_MODE_PORTS)
		return "tcpstates_ports";
	return "tcpstates";
}

/* DIR holds the file of @mode, and this user may read it. */
bool ts_pin_has(const char *dir, enum ts_mode mode)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, pin_name(mode));
	return !access(path, R_OK);
}

/* Who pinned: DIR/current says, quietly; "unknown" when it does not. */
static void pin_version(const struct ts_pin_file *f, char *ver, size_t len)
{
	bool quiet = ts_err_quiet;

	ts_err_quiet = true;
	if (ts_pin_version(f->dir, ver, len))
		snprintf(ver, len, "unknown");
	ts_err_quiet = quiet;
}

/* The format a file of @mode carries on its first line, as the module's. */
static unsigned long long pin_format(enum ts_mode mode)
{
	if (mode == TS_MODE_TRANSITIONS)
		return TCPSTATES_TRANSITIONS_VERSION;
	if (mode == TS_MODE_TR_PORTS)
		return TS_TRP_VERSION;
	if (mode == TS_MODE_AGES)
		return TCPSTATES_AGES_VERSION;
	return TCPSTATES_FORMAT_VERSION;
}

static int open_error(const struct ts_pin_file *f, enum ts_mode mode, int err)
{
	if (err == ENOENT)
		ts_err("%s: not pinned: run tcpstates pin, or use --source %s",
		       f->path, mode == TS_MODE_ALL ? "bpf" :
		       mode == TS_MODE_TRANSITIONS ||
		       mode == TS_MODE_TR_PORTS ? "module" : "netlink");
	else if (err == EACCES || err == EPERM)
		ts_err("%s: permission denied: the pin's mode keeps it from this user (tcpstates pin --mode)",
		       f->path);
	else if (err == EAGAIN || err == EBUSY)
		ts_churn("%s: %s: try again", f->path, strerror(err));
	else
		ts_err("%s: %s", f->path, strerror(err));
	return -1;
}

/*
 * A pinned walk's file, from a pin or a one-shot iterator (pin.c), that
 * did not finish: empty, or rows and then "error incomplete" (pin.bpf.c).
 */
int ts_pin_check(const char *what, const char *buf, size_t len)
{
	if (!len) {
		ts_err("%s: empty: the pinned walk did not finish (too few tasks in this pid namespace to pause between its chunks, or a table did not read: docs/pins.md); use --source netlink",
		       what);
		return -1;
	}
	if (!strncmp(buf, "error busy\n", 11) || strstr(buf, "\nerror busy\n")) {
		ts_err("%s: busy: the pinned walk's %d places for readers are in use, or %d of them by this user (without CAP_NET_ADMIN), or this read sat unread for 5 s; try again (docs/pins.md)",
		       what, TS_PIN_READERS, TS_PIN_USER_MAX);
		return -1;
	}
	if (!strncmp(buf, "error netns\n", 12)) {
		ts_err("%s: every netns is shown to the initial netns only, as the module's /proc/tcpstates_all",
		       what);
		return -1;
	}
	if (strstr(buf, "\nerror incomplete\n")) {
		ts_err("%s: incomplete: the pinned walk ran out of tasks to pause on before its last rows (too few tasks in this pid namespace: docs/pins.md); use --source netlink",
		       what);
		return -1;
	}
	return 0;
}

/* The first line, "NAME FORMAT", must carry this reader's format, @want. */
static int check_format(const struct ts_pin_file *f, unsigned long long want)
{
	unsigned long long fmt;
	char ver[64];

	if (ts_pin_check(f->path, f->buf, f->len))
		return -1;
	/* Not "NAME N": the parser names what is wrong with it. */
	if (sscanf(f->buf, "%*[a-z_] %llu", &fmt) != 1 || fmt == want)
		return 0;
	pin_version(f, ver, sizeof(ver));
	ts_err("%s: format %llu, this reader's is %llu (pinned by tcpstates %s, this is tcpstates %s): run tcpstates pin again",
	       f->path, fmt, want, ver, f->reader);
	return -1;
}

/* Pins of another reader version, read all the same: said once. */
static void name_version(const struct ts_pin_file *f)
{
	char ver[64];

	if (ts_pin_named)
		return;
	ts_pin_named = true;
	pin_version(f, ver, sizeof(ver));
	if (strcmp(ver, f->reader))
		ts_err("%s: pinned by tcpstates %s, this is tcpstates %s: run tcpstates pin again (read all the same: same format)",
		       f->dir, ver, f->reader);
}

/* Read DIR's file of @mode into @f, and check whose it is. */
static int pin_read(struct ts_pin_file *f, enum ts_mode mode)
{
	int ret;

	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, pin_name(mode));
	ret = ts_read_file(f->path, &f->buf, &f->len);
	if (ret)
		return open_error(f, mode, -ret);
	if (check_format(f, pin_format(mode))) {
		free(f->buf);
		return -1;
	}
	name_version(f);
	return 0;
}

int ts_read_pin(const char *dir, const char *reader, struct ts_sample *s)
{
	struct ts_pin_file f = { .dir = dir, .reader = reader };
	int ret;

	if (pin_read(&f, TS_MODE_SAMPLE))
		return -1;
	ret = ts_parse(f.buf, f.len, f.path, s);
	free(f.buf);
	s->source = TS_SRC_PIN;
	return ret;
}

int ts_read_pin_transitions(const char *dir, const char *reader,
			    struct ts_transitions *tr)
{
	struct ts_pin_file f = { .dir = dir, .reader = reader };
	int ret;

	if (pin_read(&f, TS_MODE_TRANSITIONS))
		return -1;
	ret = ts_parse_transitions(f.buf, f.len, f.path, tr);
	free(f.buf);
	tr->source = TS_SRC_PIN;
	return ret;
}

int ts_read_pin_tr_ports(const char *dir, const char *reader,
			 struct ts_tr_ports *p)
{
	struct ts_pin_file f = { .dir = dir, .reader = reader };
	int ret;

	if (pin_read(&f, TS_MODE_TR_PORTS))
		return -1;
	ret = ts_parse_tr_ports(f.buf, f.len, f.path, p);
	free(f.buf);
	p->source = TS_SRC_PIN;
	return ret;
}

int ts_read_pin_ages(const char *dir, const char *reader, struct ts_ages *a)
{
	struct ts_pin_file f = { .dir = dir, .reader = reader };
	int ret;

	if (pin_read(&f, TS_MODE_AGES))
		return -1;
	ret = ts_parse_ages(f.buf, f.len, f.path, a);
	free(f.buf);
	a->source = TS_SRC_PIN;
	return ret;
}

int ts_read_pin_table(enum ts_mode mode, const char *dir, const char *reader,
		      struct ts_table *t)
{
	struct ts_pin_file f = { .dir = dir, .reader = reader };
	int ret;

	t->mode = mode;
	if (pin_read(&f, mode))
		return -1;
	ret = ts_parse_table(f.buf, f.len, f.path, t);
	free(f.buf);
	t->source = TS_SRC_PIN;
	return ret;
}

/* A name pin.c gives a set of pins: VERSION-PID, VERSION starting a digit. */
bool ts_pin_is_gen(const char *name)
{
	return name[0] >= '0' && name[0] <= '9' && strchr(name, '-');
}

/*
 * The version of the reader that made the pins at @dir, into @buf, from
 * the name "current" points at; -1 (with the reason) if there are none.
 */
int ts_pin_version(const char *dir, char *buf, size_t len)
{
	char path[PATH_MAX], name[NAME_MAX + 1];
	char *dash, *p;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, TS_PIN_CURRENT);
	n = readlink(path, name, sizeof(name) - 1);
	if (n < 0) {
		ts_err("%s: no pins there (%s): tcpstates pin makes them",
		       path, strerror(errno));
		return -1;
	}
	name[n] = '\0';
	dash = strrchr(name, '-');
	if (!dash || !ts_pin_is_gen(name)) {
		ts_err("%s: points at \"%s\", not pins of tcpstates", path,
		       name);
		return -1;
	}
	*dash = '\0';
	for (p = name; *p; p++)
		if (*p == '_')
			*p = '.';
	snprintf(buf, len, "%s", name);
	return 0;
}
