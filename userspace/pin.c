// SPDX-License-Identifier: GPL-2.0
/*
 * The pinned files: "tcpstates pin" loads pin.bpf.c, attaches it as a
 * task iterator and pins the link in bpffs, where cat
 * reads it with no module and no program load; "tcpstates unpin" removes
 * it.  docs/pins.md has the layout and why:
 *
 *   DIR/tcpstates -> current/tcpstates     symlink, made once
 *   DIR/current -> VERSION-PID             symlink, replaced by rename(2)
 *   DIR/VERSION-PID/tcpstates              the pinned link
 *
 * A pin makes a new VERSION-PID directory with every file in it, then
 * renames a symlink to it over "current": a reader finds the old set or
 * the new one, whole, never none.  VERSION is the reader's that pinned
 * (dots as underscores: bpffs refuses names with a dot), so a reader can
 * tell pins of another version by readlink(DIR/current), unprivileged.
 *
 * Sources layer.  May call: bpf.c (ts_bpf_reason, ts_bpf_iter_link),
 * pinread.c (ts_pin_is_gen), the model layer, libc and the kernel's bpf().
 */
#define _GNU_SOURCE
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <linux/magic.h>

#include "source.h"
#include "tcpstates_bpf.h"
#include "tcpstates_pin_direct.lskel.h"
#include "tcpstates_pin_probe.lskel.h"
#include "tcpstates_pin_tr_tp.lskel.h"
#include "tcpstates_pin_tr_hooks.lskel.h"
#include "tcpstates_pin_ages_direct.lskel.h"
#include "tcpstates_pin_ages_probe.lskel.h"
#include "tcpstates_ages.h"
#include "tcpstates_transitions.h"

#define TS_PIN_MAX_MADE		16
#define TS_PIN_GRACE_US		100000
/*
 * Buckets a table the pinned walk's last call may walk in one stretch
 * where the kernel does not preempt: 16 of its chunks (pin.bpf.c).
 */
#define TS_PIN_STRETCH		(16 * TS_BPF_BUCKETS)
#define TS_PIN_REFUSED		"the kernel refused the program: a pin needs Linux 6.1 or later (bpf_loop, task storage, BTF)"

#define TS_PIN_NR_FILES		3
#define TS_PIN_ALL		2	/* ts_pin_files[]'s tcpstates_all */

static const char * const ts_pin_files[TS_PIN_NR_FILES] = {
	"tcpstates", "tcpstates_ports", "tcpstates_all",
};

/*
 * pin_tr.bpf.c's file, and the links of its hooks that keep it counting:
 * the tracepoint's, and with it TS_PIN_TR_HOOK "_twalloc" and so on.
 */
#define TS_PIN_TR		"tcpstates_transitions"
#define TS_PIN_TR_HOOK		"tcpstates_transitions_hook"
/* Beside it where the hooks load: the moves by service port. */
#define TS_PIN_TRP		"tcpstates_transitions_ports"

/* pin_ages.bpf.c's file. */
#define TS_PIN_AGES		"tcpstates_ages"

/* The files pinned beside ts_pin_files[], each of its own program. */
static const char * const ts_pin_extra[] = {
	TS_PIN_TR, TS_PIN_TRP, TS_PIN_AGES,
};

static_assert(!(TS_AGES - TCPSTATES_NR_AGES),
	      "pin_ages.bpf.c's columns are the shared ones");
static_assert(!(TS_TR_PAIRS - TCPSTATES_NR_TRANSITIONS) &&
	      !(TS_TR_STATES - TCPSTATES_NR_STATES),
	      "pin_tr.bpf.c's tables are the shared ones");

/* What a pin made, to take back if it fails: nothing is left half-made. */
struct ts_pin_undo {
	char mounted[PATH_MAX];
	char made[TS_PIN_MAX_MADE][PATH_MAX];
	unsigned int nmade;
	char gen[PATH_MAX];
};

static bool is_bpffs(const char *path)
{
	struct statfs fs;

	return !statfs(path, &fs) && fs.f_type == BPF_FS_MAGIC;
}

/* mkdir -p, 0755, remembering what it made. */
static int make_dirs(const char *dir, struct ts_pin_undo *u)
{
	char path[PATH_MAX];
	size_t i, len;

	len = snprintf(path, sizeof(path), "%s", dir);
	for (i = 1; i <= len && i < sizeof(path); i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (!mkdir(path, 0755)) {
			if (u->nmade < TS_PIN_MAX_MADE)
				snprintf(u->made[u->nmade++], PATH_MAX, "%s",
					 path);
		} else if (errno != EEXIST) {
			return -1;
		}
		if (i < len)
			path[i] = '/';
	}
	return 0;
}

/* The deepest directory of @dir that exists, into @buf. */
static void existing_parent(const char *dir, char *buf, size_t len)
{
	struct stat st;
	char *slash;

	snprintf(buf, len, "%s", dir);
	while (stat(buf, &st)) {
		slash = strrchr(buf, '/');
		if (!slash || slash == buf) {
			snprintf(buf, len, "/");
			return;
		}
		*slash = '\0';
	}
}

/*
 * @dir on bpffs: as it is, made inside the bpffs above it, or with a
 * bpffs mounted on the deepest directory of it that exists (the empty
 * /sys/fs/bpf of sysfs, where nothing mounted one).
 */
static int prepare_dir(const char *dir, struct ts_pin_undo *u)
{
	char parent[PATH_MAX];

	if (!make_dirs(dir, u) && is_bpffs(dir))
		return 0;
	existing_parent(dir, parent, sizeof(parent));
	if (is_bpffs(parent)) {
		ts_err("pin: %s: %s", dir, strerror(errno));
		return -1;
	}
	if (mount("bpf", parent, "bpf", 0, "mode=0700")) {
		ts_err("pin: %s: no bpffs there, and mounting one failed: %s%s",
		       parent, strerror(errno), errno == EPERM ?
		       " (needs CAP_SYS_ADMIN)" : "");
		return -1;
	}
	snprintf(u->mounted, sizeof(u->mounted), "%s", parent);
	if (make_dirs(dir, u) || !is_bpffs(dir)) {
		ts_err("pin: %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Search permission for all, on @dir and each bpffs directory above it. */
static void make_traversable(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	char *slash;

	snprintf(path, sizeof(path), "%s", dir);
	while (is_bpffs(path) && !stat(path, &st)) {
		if ((st.st_mode & 0011) != 0011)
			chmod(path, (st.st_mode & 07777) | 0011);
		slash = strrchr(path, '/');
		if (!slash || slash == path)
			break;
		*slash = '\0';
	}
}

/* Unlink what a directory of pins holds, then the directory. */
static void remove_gen(const char *gen)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir(gen);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", gen, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(gen);
}

/* Every VERSION-PID directory in @dir but @keep (a name, or NULL). */
static void remove_gens(const char *dir, const char *keep)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!ts_pin_is_gen(de->d_name) || (keep && !strcmp(de->d_name, keep)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		remove_gen(path);
	}
	closedir(d);
}

static void undo(struct ts_pin_undo *u)
{
	if (u->gen[0])
		remove_gen(u->gen);
	if (u->mounted[0])
		umount(u->mounted);
	while (u->nmade)
		rmdir(u->made[--u->nmade]);
}

/*
 * Whether the kernel preempts a long walk: preempt=full or lazy, or
 * PREEMPT_RT; else a read holds its CPU between two scheduling points.
 */
static bool preemptible(void)
{
	char buf[128] = "";
	struct utsname u;
	FILE *f;

	f = fopen("/sys/kernel/debug/sched/preempt", "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		if (strstr(buf, "(full)") || strstr(buf, "(lazy)"))
			return true;
		if (buf[0])
			return false;
	}
	return !uname(&u) && strstr(u.version, "PREEMPT_RT");
}

/*
 * load_direct() and load_probe(): one variant of the pinned programs
 * (the light skeletons' two types, alike but for their names) loaded,
 * its programs into @fds, or the kernel's -errno, with the verifier's
 * log printed if asked for.
 */
#define TS_DEFINE_PIN_LOAD(variant)					\
static int load_##variant(int *fds, unsigned int stretch)		\
{									\
	struct ts_pin_##variant *s = ts_pin_##variant##__open();	\
	int ret;							\
									\
	if (!s)								\
		return -errno;						\
	ts_bpf_log_setup(&s->ctx);					\
	ret = ts_pin_##variant##__load(s);				\
	ts_bpf_log_print("pinned " #variant, ret);			\
	if (!ret) {							\
		s->bss->ts_stretch_max = stretch;			\
		fds[0] = dup(s->progs.tcpstates_pin.prog_fd);		\
		fds[1] = dup(s->progs.tcpstates_pin_ports.prog_fd);	\
		fds[2] = dup(s->progs.tcpstates_pin_all.prog_fd);	\
		if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0)		\
			ret = -errno;					\
	}								\
	ts_pin_##variant##__destroy(s);					\
	return ret;							\
}

TS_DEFINE_PIN_LOAD(direct)
TS_DEFINE_PIN_LOAD(probe)

/*
 * The programs, loaded, one a file of ts_pin_files[] into @fds: the
 * plain-load walk, else the probe-read one, the last call bounded to
 * @stretch buckets a table (0: no bound).
 */
static int load(int fds[TS_PIN_NR_FILES], unsigned int stretch)
{
	const char *probe = getenv("TCPSTATES_BPF_PROBE_READ");
	int ret;

	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ RLIM_INFINITY, RLIM_INFINITY });
	/* The older walk on demand, as bpf.c's: the tests compare both. */
	if (!probe || !strcmp(probe, "0")) {
		ret = load_direct(fds, stretch);
		if (!ret || ret == -EPERM)
			return ret;
	}
	return load_probe(fds, stretch);
}

/*
 * An iterator of every task of the reader's pid namespace: the ticks
 * between which the kernel reschedules a long walk (pin.bpf.c).
 */
static int attach(int prog_fd)
{
	union bpf_iter_link_info info;

	memset(&info, 0, sizeof(info));
	return ts_bpf_iter_link(prog_fd, &info);
}

static int obj_pin(int fd, const char *path)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (__u64)(unsigned long)path;
	attr.bpf_fd = fd;
	return skel_sys_bpf(BPF_OBJ_PIN, &attr, sizeof(attr));
}

/* @prog attached and pinned at DIR/VERSION-PID/@name, mode @mode. */
static int pin_file(const char *gen, const char *name, int prog,
		    unsigned int mode)
{
	char path[PATH_MAX];
	int link, ret;

	link = attach(prog);
	if (link < 0) {
		ret = -errno;
		ts_err("pin: attach: %s", ts_bpf_reason(ret, TS_PIN_REFUSED));
		return -1;
	}
	ret = -1;
	errno = ENAMETOOLONG;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", gen, name) <
	    sizeof(path))
		ret = obj_pin(link, path);
	if (!ret)
		ret = chmod(path, mode);
	if (ret)
		ts_err("pin: %s: %s", path, strerror(errno));
	close(link);
	return ret ? -1 : 0;
}

/*
 * TCPSTATES_BPF_DEBUG=1: the instructions the verifier explored for each
 * program (5.16), against its limit of a million: the tests keep the
 * programs well inside it on every kernel.
 */
static void report_verified(const char *name, int fd)
{
	struct bpf_prog_info info;
	union bpf_attr attr;

	if (!getenv("TCPSTATES_BPF_DEBUG"))
		return;
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (__u64)(unsigned long)&info;
	if (!skel_sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)))
		fprintf(stderr, "tcpstates: pin: %s: %u instructions verified\n",
			name, info.verified_insns);
}

/*
 * Whether the tracepoint alone counts pair @t whole: the pairs whose
 * hooks in module/transitions.c (tcpstates_tr_needs()) are the
 * tracepoint only.  The others need a request sock's hooks, the
 * timewait hand-over or a timewait sock's own: pin_tr.bpf.c's fentry and
 * fexit programs, without which they read "-".
 */
static bool tr_by_tracepoint(const struct tcpstates_transition *t)
{
	if (t->to == TCP_TIME_WAIT || t->from == TCP_TIME_WAIT)
		return false;
	if (t->from == TCP_LISTEN && t->to == TCP_SYN_RECV)
		return false;
	if (t->to != TCP_CLOSE)
		return true;
	return t->from != TCP_SYN_RECV && t->from != TCP_FIN_WAIT1 &&
	       t->from != TCP_FIN_WAIT2 && t->from != TCP_CLOSING;
}

/* The shared tables into the program's, before it counts anything. */
static void tr_tables(struct ts_tr_io *io, bool hooks)
{
	const struct tcpstates_transition *t;
	unsigned int i;

	for (i = 0; i < TCPSTATES_NR_TRANSITIONS; i++) {
		t = &tcpstates_transitions[i];
		io->from[i] = t->from;
		io->to[i] = t->to;
		io->index[t->from][t->to] = i + 1;
		if (hooks || tr_by_tracepoint(t))
			io->counted |= 1U << i;
	}
	for (i = 1; i < TCPSTATES_NR_STATES; i++)
		snprintf(io->names[i], sizeof(io->names[i]), "%s",
			 tcpstates_state_names[i]);
}

/*
 * Hook @prog (a tp_btf, fentry or fexit program) attached, its link
 * pinned as DIR/VERSION-PID/TS_PIN_TR_HOOK@suffix, 0400 (a link reads as
 * nothing), so that it counts after this process; 0, or -errno.
 */
static int pin_hook(const char *gen, const char *suffix, int prog)
{
	char path[PATH_MAX];
	int link, ret;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s%s", gen,
			     TS_PIN_TR_HOOK, suffix) >= sizeof(path))
		return -ENAMETOOLONG;
	link = skel_raw_tracepoint_open(NULL, prog);
	if (link < 0)
		return -errno;
	ret = obj_pin(link, path) || chmod(path, 0400) ? -errno : 0;
	close(link);
	return ret;
}

static void unlink_in(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

/*
 * The hooks' links, each pinned as TS_PIN_TR_HOOK and its suffix: the
 * tracepoint's first (the one a tracepoint-only pin has), then in
 * tr_hooks()'s order.
 */
static const char * const ts_tr_hook_suffixes[] = {
	"", "_twalloc", "_twfin_in", "_twfin", "_twkill", "_reqadd",
	"_reqdrop",
};

/* Every pinned hook link and file of @gen taken back: a try that failed. */
static void unpin_hooks(const char *gen)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ts_tr_hook_suffixes); i++) {
		snprintf(path, sizeof(path), "%s/%s%s", gen, TS_PIN_TR_HOOK,
			 ts_tr_hook_suffixes[i]);
		unlink(path);
	}
	unlink_in(gen, TS_PIN_TR);
	unlink_in(gen, TS_PIN_TRP);
}

/* Each of @s's hooks attached and pinned, in ts_tr_hook_suffixes[]'s order. */
static int tr_pin_hooks(const char *gen, const struct ts_pin_tr_hooks *s)
{
	const int hooks[] = {
		s->progs.tcpstates_pin_tr_state.prog_fd,
		s->progs.tcpstates_pin_tr_twalloc.prog_fd,
		s->progs.tcpstates_pin_tr_twfin_in.prog_fd,
		s->progs.tcpstates_pin_tr_twfin.prog_fd,
		s->progs.tcpstates_pin_tr_twkill.prog_fd,
		s->progs.tcpstates_pin_tr_reqadd.prog_fd,
		s->progs.tcpstates_pin_tr_reqdrop.prog_fd,
	};
	unsigned int i;
	int ret = 0;

	static_assert(ARRAY_SIZE(hooks) == ARRAY_SIZE(ts_tr_hook_suffixes),
		      "a suffix for each hook");
	for (i = 0; i < ARRAY_SIZE(hooks) && !ret; i++)
		ret = pin_hook(gen, ts_tr_hook_suffixes[i], hooks[i]);
	return ret;
}

/*
 * tr_hooks() and tr_tp(): pin_tr.bpf.c with every hook or the tracepoint
 * alone, its hooks pinned, then counting (ts_tr_on) before its file is
 * pinned; 0, the kernel's -errno if it refused a program (nothing left of
 * it), or 1 when the file could not be pinned (said).
 */
static int tr_hooks(const char *gen, unsigned int mode)
{
	struct ts_pin_tr_hooks *s = ts_pin_tr_hooks__open();
	int ret;

	if (!s)
		return -errno;
	ts_bpf_log_setup(&s->ctx);
	ret = ts_pin_tr_hooks__load(s);
	ts_bpf_log_print("pinned transitions' hooks", ret);
	if (ret)
		goto out;
	report_verified(TS_PIN_TR, s->progs.tcpstates_pin_tr.prog_fd);
	report_verified(TS_PIN_TRP, s->progs.tcpstates_pin_trp.prog_fd);
	tr_tables(&s->bss->ts_tr_io, true);
	ret = tr_pin_hooks(gen, s);
	if (ret) {
		unpin_hooks(gen);
		goto out;
	}
	s->bss->ts_tr_on = 1;
	if (pin_file(gen, TS_PIN_TR, s->progs.tcpstates_pin_tr.prog_fd, mode) ||
	    pin_file(gen, TS_PIN_TRP, s->progs.tcpstates_pin_trp.prog_fd, mode)) {
		unpin_hooks(gen);
		ret = 1;
	}
out:
	ts_pin_tr_hooks__destroy(s);
	return ret;
}

static int tr_tp(const char *gen, unsigned int mode)
{
	struct ts_pin_tr_tp *s = ts_pin_tr_tp__open();
	int ret;

	if (!s)
		return -errno;
	ts_bpf_log_setup(&s->ctx);
	ret = ts_pin_tr_tp__load(s);
	ts_bpf_log_print("pinned transitions", ret);
	if (ret)
		goto out;
	tr_tables(&s->bss->ts_tr_io, false);
	ret = pin_hook(gen, ts_tr_hook_suffixes[0],
		       s->progs.tcpstates_pin_tr_state.prog_fd);
	if (ret) {
		unpin_hooks(gen);
		goto out;
	}
	s->bss->ts_tr_on = 1;
	if (pin_file(gen, TS_PIN_TR, s->progs.tcpstates_pin_tr.prog_fd, mode)) {
		unpin_hooks(gen);
		ret = 1;
	}
out:
	ts_pin_tr_tp__destroy(s);
	return ret;
}

/*
 * DIR/VERSION-PID/tcpstates_transitions, mode @mode, counting from now:
 * every pair where the kernel lets fentry programs in (the guests' kernels
 * do; this machine's refuses them), else the tracepoint's alone, said in
 * one line; 0, or -1 with the reason said and nothing of it left.
 */
static int pin_transitions(const char *gen, unsigned int mode)
{
	int ret = tr_hooks(gen, mode);

	if (ret >= 0)
		return ret ? -1 : 0;
	ts_err("pin: %s: the kernel refused the request and timewait hooks (fentry, fexit): %s; their 9 pairs read -",
	       TS_PIN_TR, strerror(-ret));
	ret = tr_tp(gen, mode);
	if (ret < 0)
		ts_err("pin: %s: %s", TS_PIN_TR,
		       ts_bpf_reason(ret, TS_PIN_REFUSED));
	return ret ? -1 : 0;
}

/* The shared columns into the program's: bounds, and the header line. */
static void ages_tables(struct ts_ages_io *io)
{
	size_t len = snprintf(io->head, sizeof(io->head), "state");
	unsigned int i;

	for (i = 0; i < TCPSTATES_NR_AGES; i++) {
		if (i < TCPSTATES_NR_AGES - 1)
			io->bound_ms[i] = tcpstates_age_bounds[i] * 1000ULL;
		if (len < sizeof(io->head))
			len += snprintf(io->head + len, sizeof(io->head) - len,
					" %s", tcpstates_age_names[i]);
	}
}

/* A sysctl of this netns in seconds, or 0. */
static unsigned long long sysctl_secs(const char *name)
{
	char path[PATH_MAX];
	unsigned long long s = 0;
	size_t len;
	char *buf;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	if (!ts_read_file(path, &buf, &len)) {
		s = strtoull(buf, NULL, 10);
		free(buf);
	}
	return s;
}

/*
 * HZ, which a BPF program cannot know, into @io: a read of @prog in this
 * netns leaves its tcp_fin_timeout and tcp_keepalive_time in jiffies,
 * which are their values in seconds times HZ exactly (the sysctls store
 * seconds * HZ).  0, or -1 with the reason said.
 */
static int ages_hz(int prog, struct ts_ages_io *io)
{
	unsigned long long fin, ka, hz = 0;
	union bpf_attr attr;
	int link, fd = -1;
	size_t len;
	char *buf;

	link = attach(prog);
	if (link >= 0) {
		memset(&attr, 0, sizeof(attr));
		attr.iter_create.link_fd = link;
		fd = skel_sys_bpf(BPF_ITER_CREATE, &attr, sizeof(attr));
		close(link);
	}
	if (fd < 0 || ts_read_fd(fd, &buf, &len)) {
		ts_err("pin: %s: a first read: %s", TS_PIN_AGES,
		       strerror(errno));
		return -1;
	}
	free(buf);
	fin = sysctl_secs("tcp_fin_timeout");
	ka = sysctl_secs("tcp_keepalive_time");
	if (fin && io->cal_fin > 0 && !(io->cal_fin % fin))
		hz = io->cal_fin / fin;
	else if (ka && io->cal_keepalive > 0 && !(io->cal_keepalive % ka))
		hz = io->cal_keepalive / ka;
	if (hz < 24 || hz > 10000) {
		ts_err("pin: %s: cannot tell the kernel's HZ (tcp_fin_timeout %llu s is %d jiffies, tcp_keepalive_time %llu s %d)",
		       TS_PIN_AGES, fin, io->cal_fin, ka, io->cal_keepalive);
		return -1;
	}
	io->hz = hz;
	return 0;
}

/*
 * ages_direct() and ages_probe(): DIR/VERSION-PID/tcpstates_ages, mode
 * @mode, by one walk variant (as load_direct() and load_probe()); the
 * kernel's -errno if it refused the program, 1 if a later step failed
 * (said), 0.
 */
#define TS_DEFINE_AGES_PIN(variant)					\
static int ages_##variant(const char *gen, unsigned int mode,		\
			  unsigned int stretch)				\
{									\
	struct ts_pin_ages_##variant *s = ts_pin_ages_##variant##__open(); \
	int ret;							\
									\
	if (!s)								\
		return -errno;						\
	ts_bpf_log_setup(&s->ctx);					\
	ret = ts_pin_ages_##variant##__load(s);				\
	ts_bpf_log_print("pinned ages " #variant, ret);			\
	if (!ret) {							\
		report_verified(TS_PIN_AGES,				\
				s->progs.tcpstates_pin_ages.prog_fd);	\
		s->bss->ts_stretch_max = stretch;			\
		ages_tables(&s->bss->ts_ages_io);			\
		ret = ages_hz(s->progs.tcpstates_pin_ages.prog_fd,	\
			      &s->bss->ts_ages_io) ||			\
		      pin_file(gen, TS_PIN_AGES,			\
			       s->progs.tcpstates_pin_ages.prog_fd, mode); \
	}								\
	ts_pin_ages_##variant##__destroy(s);				\
	return ret;							\
}

TS_DEFINE_AGES_PIN(direct)
TS_DEFINE_AGES_PIN(probe)

/* As load(): the plain-load walk, else the probe-read one. */
static int pin_ages(const char *gen, unsigned int mode)
{
	const char *probe = getenv("TCPSTATES_BPF_PROBE_READ");
	unsigned int stretch = preemptible() ? 0 : TS_PIN_STRETCH;
	int ret = -EINVAL;

	if (!probe || !strcmp(probe, "0"))
		ret = ages_direct(gen, mode, stretch);
	if (ret < 0 && ret != -EPERM)
		ret = ages_probe(gen, mode, stretch);
	if (ret < 0)
		ts_err("pin: %s: load: %s", TS_PIN_AGES,
		       ts_bpf_reason(ret, TS_PIN_REFUSED));
	return ret ? -1 : 0;
}

/*
 * DIR/VERSION-PID/ with each of ts_pin_files[], mode @mode; tcpstates_all
 * 0400 whatever the mode, as the module's: it shows every container.
 */
static int pin_files(const char *gen, unsigned int mode)
{
	int fds[TS_PIN_NR_FILES] = { -1, -1, -1 };
	unsigned int i;
	int ret;

	ret = load(fds, preemptible() ? 0 : TS_PIN_STRETCH);
	if (ret) {
		ts_err("pin: load: %s", ts_bpf_reason(ret, TS_PIN_REFUSED));
		goto out;
	}
	for (i = 0; i < TS_PIN_NR_FILES; i++)
		report_verified(ts_pin_files[i], fds[i]);
	for (i = 0; i < TS_PIN_NR_FILES && !ret; i++)
		ret = pin_file(gen, ts_pin_files[i], fds[i],
			       i == TS_PIN_ALL ? 0400 : mode);
	/* Said, and the other files pinned all the same. */
	if (!ret && pin_transitions(gen, mode))
		ts_err("pin: %s not pinned; the other files are", TS_PIN_TR);
	if (!ret && pin_ages(gen, mode))
		ts_err("pin: %s not pinned; the other files are", TS_PIN_AGES);
out:
	for (i = 0; i < TS_PIN_NR_FILES; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ret ? -1 : 0;
}

/* The one-shot iterators of tcpstates_ports and tcpstates_all. */
static int ts_table_links[2] = { -1, -1 };

/*
 * --ports and --all-netns with --source bpf: the programs of the pinned
 * files DIR/tcpstates_ports and DIR/tcpstates_all, loaded and attached
 * once, here, and read through an iterator of their own at each read,
 * in this thread's netns, unpinned.
 */
int ts_bpf_table_open(void)
{
	int fds[TS_PIN_NR_FILES] = { -1, -1, -1 };
	unsigned int i;
	int ret;

	if (ts_table_links[0] >= 0)
		return 0;
	ret = load(fds, preemptible() ? 0 : TS_PIN_STRETCH);
	for (i = 0; !ret && i < 2; i++) {
		ts_table_links[i] = attach(fds[1 + i]);
		ret = ts_table_links[i] < 0 ? -errno : 0;
	}
	for (i = 0; i < TS_PIN_NR_FILES; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (ret) {
		for (i = 0; i < 2; i++)
			if (ts_table_links[i] >= 0)
				close(ts_table_links[i]);
		ts_table_links[0] = -1;
		ts_table_links[1] = -1;
		ts_err("bpf: %s", ts_bpf_reason(ret, TS_PIN_REFUSED));
	}
	return ret ? -1 : 0;
}

int ts_read_bpf_table(enum ts_mode mode, struct ts_table *t)
{
	union bpf_attr attr;
	size_t len;
	char *buf;
	int fd, ret;

	t->mode = mode;
	t->source = TS_SRC_BPF;
	if (ts_bpf_table_open())
		return -1;
	memset(&attr, 0, sizeof(attr));
	attr.iter_create.link_fd = ts_table_links[mode == TS_MODE_ALL];
	fd = skel_sys_bpf(BPF_ITER_CREATE, &attr, sizeof(attr));
	if (fd < 0 || ts_read_fd(fd, &buf, &len)) {
		ts_err("bpf: reading the walk: %s", strerror(errno));
		return -1;
	}
	ret = ts_pin_check("bpf", buf, len);
	if (!ret)
		ret = ts_parse_table(buf, len, "bpf", t);
	free(buf);
	t->source = TS_SRC_BPF;
	return ret;
}

/* @name in @dir: a symlink to @target, made under a temporary name. */
static int symlink_over(const char *dir, const char *name, const char *target)
{
	char tmp[PATH_MAX], path[PATH_MAX], old[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = readlink(path, old, sizeof(old) - 1);
	if (n >= 0 && (size_t)n == strlen(target) &&
	    !memcmp(old, target, n))
		return 0;
	snprintf(tmp, sizeof(tmp), "%s/new-%s-%d", dir, name, getpid());
	unlink(tmp);
	if (symlink(target, tmp) || rename(tmp, path)) {
		ts_err("pin: %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Whether DIR/VERSION-PID @gen holds @name. */
static bool pinned(const char *gen, const char *name)
{
	char path[PATH_MAX];

	return (size_t)snprintf(path, sizeof(path), "%s/%s", gen, name) <
	       sizeof(path) && !access(path, F_OK);
}

/* "1.0" as bpffs takes a name: "1_0". */
static void version_name(const char *version, char *buf, size_t len)
{
	char *p;

	snprintf(buf, len, "%s", version);
	for (p = buf; *p; p++)
		if (*p == '.' || *p == '/' || *p == '-')
			*p = '_';
}

static int make_gen(const char *dir, const char *version,
		    struct ts_pin_undo *u, const char **name)
{
	char ver[64];
	int i;

	version_name(version, ver, sizeof(ver));
	for (i = 0; i < 100; i++) {
		if (i)
			snprintf(u->gen, sizeof(u->gen), "%s/%s-%d_%d", dir,
				 ver, getpid(), i);
		else
			snprintf(u->gen, sizeof(u->gen), "%s/%s-%d", dir, ver,
				 getpid());
		if (!mkdir(u->gen, 0755)) {
			chmod(u->gen, 0755);
			*name = strrchr(u->gen, '/') + 1;
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	ts_err("pin: %s: %s", u->gen, strerror(errno));
	u->gen[0] = '\0';
	return -1;
}

int ts_pin(const char *dir, const char *version, unsigned int mode)
{
	char target[PATH_MAX];
	struct ts_pin_undo *u;
	const char *gen, *name;
	unsigned int i;
	int ret = -1;

	/*
	 * Without BTF nothing can load, whatever else the kernel lacks (the
	 * debug kernel has no bpffs either): name that first, as
	 * --source bpf does, before anything is made.
	 */
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		ts_err("pin: load: %s", ts_bpf_reason(-ENOENT, NULL));
		return -1;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		ts_err("pin: %s", strerror(errno));
		return -1;
	}
	if (prepare_dir(dir, u) || make_gen(dir, version, u, &gen) ||
	    pin_files(u->gen, mode))
		goto fail;
	make_traversable(dir);
	if (symlink_over(dir, TS_PIN_CURRENT, gen))
		goto fail;
	/*
	 * From here the new set is current: only tidying is left.  A reader
	 * that has just followed "current" to the old set gets a moment to
	 * open its file before the old set goes.
	 */
	usleep(TS_PIN_GRACE_US);
	remove_gens(dir, gen);
	ret = 0;
	for (i = 0; i < ARRAY_SIZE(ts_pin_files) + ARRAY_SIZE(ts_pin_extra);
	     i++) {
		name = i < ARRAY_SIZE(ts_pin_files) ? ts_pin_files[i] :
		       ts_pin_extra[i - ARRAY_SIZE(ts_pin_files)];
		snprintf(target, sizeof(target), "%s/%s", TS_PIN_CURRENT, name);
		/* A file that could not be pinned gets no dangling link. */
		if (!pinned(u->gen, name))
			unlink_in(dir, name);
		else if (symlink_over(dir, name, target))
			ret = -1;
	}
	free(u);
	return ret;
fail:
	undo(u);
	free(u);
	return -1;
}

int ts_unpin(const char *dir)
{
	char path[PATH_MAX];
	unsigned int i;

	if (access(dir, F_OK) && errno == ENOENT)
		return 0;
	for (i = 0; i < ARRAY_SIZE(ts_pin_files); i++)
		unlink_in(dir, ts_pin_files[i]);
	for (i = 0; i < ARRAY_SIZE(ts_pin_extra); i++)
		unlink_in(dir, ts_pin_extra[i]);
	unlink_in(dir, TS_PIN_CURRENT);
	remove_gens(dir, NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, ts_pin_files[0]);
	if (!access(path, F_OK) || (errno != ENOENT && errno != ENOTDIR)) {
		ts_err("unpin: %s: %s", path, access(path, F_OK) ?
		       strerror(errno) : "still there");
		return -1;
	}
	/* The directory goes if it is empty and no mount point. */
	rmdir(dir);
	return 0;
}

/*
 * The mode a pin gets by default: 0444 on every kernel, since no read
 * holds a CPU for more than a bounded stretch (docs/pins.md).
 */
unsigned int ts_pin_default_mode(void)
{
	return 0444;
}
