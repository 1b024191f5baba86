/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates reader, sources layer: where the numbers come from.  The
 * module's files (module.c, and tunables.c for its sysfs), its walk run
 * as a BPF program (bpf.c or bpf_none.c, tcpstates.bpf.c) and sock_diag
 * netlink (netlink.c), each filling the sample model; the same walk pinned
 * in bpffs (pin.c, pin.bpf.c), whose files read as the module's (pinread.c).
 * May call: the model layer (sample.h, err.h), libc, the kernel.
 */
#ifndef TS_SOURCE_H
#define TS_SOURCE_H

#include "sample.h"

#define TS_PROC_DEFAULT		"/proc/tcpstates"
#define TS_SYSFS_DEFAULT	"/sys/kernel/tcpstates"
#define TS_PROC_ALL_DEFAULT	"/proc/tcpstates_all"
#define TS_PROC_PORTS_DEFAULT	"/proc/tcpstates_ports"
#define TS_PROC_TRANSITIONS_DEFAULT	"/proc/tcpstates_transitions"
#define TS_PROC_TR_PORTS_DEFAULT	"/proc/tcpstates_transitions_ports"
#define TS_PROC_AGES_DEFAULT	"/proc/tcpstates_ages"
#define TS_PROC_CLOSE_WAIT_DEFAULT	"/proc/tcpstates_close_wait"
#define TS_PROCFS_DEFAULT	"/proc"

/* One socket of a sock_diag dump (--ports, --processes). */
struct ts_sock {
	unsigned int inode;		/* 0: no file holds it */
	unsigned int group;		/* state, or a --ports group */
	int owner;			/* --processes: last PID seen with it */
	unsigned short sport;
	unsigned short dport;
	unsigned char state;
	unsigned char fam;
	unsigned int age;		/* CLOSE_WAIT, if aged: seconds */
};

struct ts_socks {
	struct ts_sock *v;
	size_t n;
	size_t cap;
	bool nomem;
	bool aged;			/* CLOSE_WAIT sockets' tcp_info read */
};

/* module.c */
int ts_read_file(const char *path, char **bufp, size_t *lenp);
int ts_read_fd(int fd, char **bufp, size_t *lenp);
int ts_read_module(const char *path, struct ts_sample *s);
int ts_read_table(enum ts_mode mode, const char *path, struct ts_table *t);
int ts_read_transitions(const char *path, struct ts_transitions *tr);
int ts_read_ages(const char *path, struct ts_ages *a);
int ts_read_tr_ports(const char *path, struct ts_tr_ports *p);

/* pinread.c: the pinned files read as the module's, @reader our version */
#define TS_PIN_CURRENT		"current"
bool ts_pin_is_gen(const char *name);
int ts_pin_version(const char *dir, char *buf, size_t len);
bool ts_pin_has(const char *dir, enum ts_mode mode);
int ts_pin_check(const char *what, const char *buf, size_t len);
int ts_read_pin(const char *dir, const char *reader, struct ts_sample *s);
int ts_read_pin_transitions(const char *dir, const char *reader,
			    struct ts_transitions *tr);
int ts_read_pin_tr_ports(const char *dir, const char *reader,
			 struct ts_tr_ports *p);
int ts_read_pin_ages(const char *dir, const char *reader, struct ts_ages *a);
int ts_read_pin_table(enum ts_mode mode, const char *dir, const char *reader,
		      struct ts_table *t);

/* tunables.c */
int ts_set_tunable(const char *dir, const char *key, const char *val);

/* netlink.c */
#define TS_NEW_SYN_RECV		12	/* request socks, not in <netinet/tcp.h> */
#define TS_DUMP_RETRIES		3
/* A dump changed under us (NLM_F_DUMP_INTR): counts are inconsistent. */
#define TS_EINTR_DUMP		(-1000)
struct nlmsghdr;
struct inet_diag_msg;
struct tcp_info;
/* Called for each socket of a dump, with its address family index. */
typedef void (*ts_diag_fn)(const struct nlmsghdr *h, unsigned int fam,
			   void *ctx);
int ts_diag_all(unsigned int states, unsigned char ext, ts_diag_fn fn,
		void *ctx);
unsigned int ts_diag_state(const struct inet_diag_msg *m);
bool ts_diag_info(const struct nlmsghdr *h, struct tcp_info *info);
int ts_read_netlink(struct ts_sample *s);
int ts_read_counters(struct ts_sample *s);
int ts_read_ports_netlink(enum ts_mode mode, struct ts_table *t,
			  unsigned int fams);
int ts_dump_socks(unsigned int states, bool ports, struct ts_socks *ss);

/* netlink_ages.c */
int ts_read_ages_netlink(struct ts_ages *a);

/* bpf.c */
int ts_bpf_open(void);
int ts_read_bpf(struct ts_sample *s);
int ts_bpf_table_open(void);
int ts_read_bpf_table(enum ts_mode mode, struct ts_table *t);
const char *ts_bpf_reason(int ret, const char *refused);
union bpf_iter_link_info;
int ts_bpf_iter_link(int prog_fd, const union bpf_iter_link_info *info);
struct bpf_loader_ctx;
void ts_bpf_log_setup(struct bpf_loader_ctx *ctx);
void ts_bpf_log_print(const char *walk, int ret);

/* pin.c: the pinned files in bpffs (docs/pins.md) */
#define TS_PIN_DIR_DEFAULT	"/sys/fs/bpf/tcpstates"
int ts_pin(const char *dir, const char *version, unsigned int mode);
int ts_unpin(const char *dir);
unsigned int ts_pin_default_mode(void);

#endif /* TS_SOURCE_H */
