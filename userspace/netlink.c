// SPDX-License-Identifier: GPL-2.0
/*
 * The netlink source: what the module reports, rebuilt from interfaces
 * every kernel has.  Socket states come from a sock_diag dump (as ss gets
 * them), the TIME_WAIT count and limit and the overflow counters from the
 * usual /proc files of the current network namespace.  --ports is rebuilt
 * from the same dump: the ports of LISTEN sockets are the "in" ports;
 * --close-wait from its CLOSE_WAIT sockets and their tcp_info, whose
 * tcpi_last_data_recv is the module's age (ss's lastrcv).
 * Sources layer.  May call: module.c (to read /proc files), the model
 * layer, libc and the kernel's sock_diag.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/rtnetlink.h>

#include "source.h"

static const int ts_families[TCPSTATES_NR_FAMILIES] = {
	[TCPSTATES_IPV4] = AF_INET,
	[TCPSTATES_IPV6] = AF_INET6,
};

/* @ext: INET_DIAG_* attributes wanted, as bits (1 << (attr - 1)). */
static int diag_request(int fd, int family, unsigned int seq,
			unsigned int states, unsigned char ext)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = seq,
		},
		.req = {
			.sdiag_family = family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_ext = ext,
			.idiag_states = states,
		},
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* The module's state of @m, or 0 for one it does not count. */
unsigned int ts_diag_state(const struct inet_diag_msg *m)
{
	unsigned int state = m->idiag_state;

	if (state == TS_NEW_SYN_RECV)
		state = TCP_SYN_RECV;
	/* Newer kernels add states (BOUND_INACTIVE) the module omits. */
	return state < TCPSTATES_NR_STATES ? state : 0;
}

static void diag_count(const struct nlmsghdr *h, unsigned int fam,
		       void *ctx)
{
	struct ts_sample *s = ctx;
	unsigned int state = ts_diag_state(NLMSG_DATA(h));

	if (state)
		s->sockets[state][fam]++;
}

/* Handle one datagram; returns 1 when the dump is complete. */
static int diag_batch(const struct nlmsghdr *h, ssize_t len,
		      unsigned int seq, unsigned int fam, ts_diag_fn fn,
		      void *ctx)
{
	const struct nlmsgerr *e;
	int intr = 0;

	for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_seq != seq)
			continue;
		if (h->nlmsg_flags & NLM_F_DUMP_INTR)
			intr = 1;
		if (h->nlmsg_type == NLMSG_DONE)
			return intr ? TS_EINTR_DUMP : 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			e = NLMSG_DATA(h);
			return e->error ? e->error : -EPROTO;
		}
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			fn(h, fam, ctx);
	}
	return intr ? TS_EINTR_DUMP : 0;
}

static int diag_dump(int fd, unsigned int fam, unsigned int seq,
		     unsigned int states, unsigned char ext, ts_diag_fn fn,
		     void *ctx)
{
	static long buf[8192];	/* long: aligned for struct nlmsghdr */
	ssize_t len;
	int ret;

	ret = diag_request(fd, ts_families[fam], seq, states, ext);
	while (!ret) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return len ? -errno : -EPROTO;
		ret = diag_batch((struct nlmsghdr *)buf, len, seq, fam, fn,
				 ctx);
	}
	return ret < 0 ? ret : 0;
}

/*
 * Dump the sockets in @states (TS_BIT(state) bits; ~0U: every socket,
 * request and timewait socks included), with the attributes @ext asks
 * for (1 << (INET_DIAG_* - 1) bits), calling @fn for each.  A timewait
 * sock is matched by its substate, so FIN_WAIT2 also asks for the
 * orphans' timewait socks.  TS_EINTR_DUMP: churn changed the dump.
 */
int ts_diag_all(unsigned int states, unsigned char ext, ts_diag_fn fn,
		void *ctx)
{
	unsigned int fam, seq = 1;
	int fd, ret = 0;

	if (states & TS_BIT(TCP_SYN_RECV))
		states |= TS_BIT(TS_NEW_SYN_RECV);

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		ts_err("netlink socket: %s: is sock_diag built? try modprobe tcp_diag",
		       strerror(errno));
		return -1;
	}
	for (fam = 0; fam < TCPSTATES_NR_FAMILIES && !ret; fam++) {
		ret = diag_dump(fd, fam, seq++, states, ext, fn, ctx);
		/* Without IPv6 there is nothing to count for it. */
		if (fam == TCPSTATES_IPV6 && (ret == -ENOENT || ret == -EAFNOSUPPORT))
			ret = 0;
	}
	close(fd);
	if (ret == TS_EINTR_DUMP)
		return ret;
	if (ret) {
		ts_err("sock_diag dump: %s: try modprobe tcp_diag, or use --source module",
		       strerror(-ret));
		return -1;
	}
	return 0;
}

static int read_proc(const char *path, char **buf)
{
	size_t len;
	int ret;

	ret = ts_read_file(path, buf, &len);
	if (ret)
		ts_err("%s: %s: is /proc mounted?", path, strerror(-ret));
	return ret ? -1 : 0;
}

/* Value of @key in the "TCP:" line of /proc/net/sockstat. */
static int read_sockstat(const char *key, unsigned long long *val)
{
	const char *path = "/proc/net/sockstat";
	char *buf, *tcp, *end, *p = NULL;
	char pat[32];

	if (read_proc(path, &buf))
		return -1;
	snprintf(pat, sizeof(pat), " %s ", key);
	tcp = strstr(buf, "\nTCP: ");
	end = tcp ? strchr(tcp + 1, '\n') : NULL;
	if (end)
		*end = '\0';
	if (tcp)
		p = strstr(tcp, pat);
	if (p)
		*val = strtoull(p + strlen(pat), NULL, 10);
	free(buf);
	if (!p)
		ts_err("%s: no TCP \"%s\" field; use --source module", path, key);
	return p ? 0 : -1;
}

/* Index of @name among the space separated words of @hdr, or -1. */
static int word_index(const char *hdr, const char *end, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = hdr;
	int idx = 0;

	while (p < end) {
		if (!strncmp(p, name, nlen) && (p[nlen] == ' ' || p + nlen == end))
			return idx;
		p = memchr(p, ' ', end - p);
		if (!p)
			break;
		p++;
		idx++;
	}
	return -1;
}

static unsigned long long nth_word(const char *p, int n)
{
	while (n-- > 0 && p)
		p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
	return p ? strtoull(p, NULL, 10) : 0;
}

/*
 * /proc/net/netstat holds "TcpExt: names..." then "TcpExt: values...".
 * Fetch the named counters in one read so they come from one snapshot.
 */
static int read_tcpext(const char * const *names, unsigned long long **vals,
		       int n)
{
	const char *path = "/proc/net/netstat";
	char *buf, *hdr, *hend, *v;
	int i, idx, ret = 0;

	if (read_proc(path, &buf))
		return -1;
	hdr = strstr(buf, "TcpExt: ");
	hend = hdr ? strchr(hdr, '\n') : NULL;
	v = hend ? strstr(hend, "TcpExt: ") : NULL;
	for (i = 0; i < n && !ret; i++) {
		idx = v ? word_index(hdr, hend, names[i]) : -1;
		if (idx < 1) {
			ts_err("%s: no TcpExt %s counter; use --source module",
			       path, names[i]);
			ret = -1;
			break;
		}
		*vals[i] = nth_word(v, idx);
	}
	free(buf);
	return ret;
}

static int read_sysctl(const char *path, unsigned long long *val)
{
	char *buf;

	if (read_proc(path, &buf))
		return -1;
	*val = strtoull(buf, NULL, 10);
	free(buf);
	return 0;
}

/* What the module reports besides the states; the bpf source too. */
int ts_read_counters(struct ts_sample *s)
{
	static const char * const names[] = {
		"TCPTimeWaitOverflow", "ListenOverflows", "ListenDrops",
		"SyncookiesSent",
	};
	unsigned long long *vals[] = {
		&s->tw_overflow, &s->listen_overflows, &s->listen_drops,
		&s->syncookies_sent,
	};
	struct stat st;

	if (stat("/proc/self/ns/net", &st)) {
		ts_err("/proc/self/ns/net: %s: is /proc mounted?",
		       strerror(errno));
		return -1;
	}
	s->netns = st.st_ino;
	if (read_sockstat("tw", &s->tw_count) ||
	    read_sysctl("/proc/sys/net/ipv4/tcp_max_tw_buckets",
			&s->max_tw_buckets))
		return -1;
	return read_tcpext(names, vals, 4);
}

int ts_read_netlink(struct ts_sample *s)
{
	unsigned int i, fam;
	int ret;

	for (i = 0; i < TS_DUMP_RETRIES; i++) {
		memset(s, 0, sizeof(*s));
		ret = ts_diag_all(~0U, 0, diag_count, s);
		if (ret != TS_EINTR_DUMP)
			break;
	}
	if (ret == TS_EINTR_DUMP) {
		ts_err("sock_diag dump kept being interrupted by socket churn; retry");
		return -1;
	}
	if (ret)
		return -1;
	s->source = TS_SRC_NETLINK;
	for (i = 1; i < TCPSTATES_NR_STATES; i++)
		for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++)
			s->total[fam] += s->sockets[i][fam];
	return ts_read_counters(s);
}

/* ---- --ports and --processes ---- */

/*
 * The tcp_info of a full socket's dump (INET_DIAG_INFO) in @info, as
 * much of it as the kernel sent and the rest 0; false without one.
 */
bool ts_diag_info(const struct nlmsghdr *h, struct tcp_info *info)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a = (const void *)(m + 1);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	size_t n;

	memset(info, 0, sizeof(*info));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type != INET_DIAG_INFO)
			continue;
		n = RTA_PAYLOAD(a);
		memcpy(info, RTA_DATA(a), n < sizeof(*info) ? n : sizeof(*info));
		return true;
	}
	return false;
}

/* Seconds since the peer's last data (ss's lastrcv): the module's age. */
static unsigned int diag_age(const struct nlmsghdr *h)
{
	struct tcp_info info;

	ts_diag_info(h, &info);
	return info.tcpi_last_data_recv / 1000;
}

static void diag_collect(const struct nlmsghdr *h, unsigned int fam,
			 void *ctx)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct ts_socks *ss = ctx;
	unsigned int state = ts_diag_state(m);
	struct ts_sock *v;

	if (!state || ss->nomem)
		return;
	if (ss->n == ss->cap) {
		ss->cap = ss->cap ? 2 * ss->cap : 1024;
		v = realloc(ss->v, ss->cap * sizeof(*v));
		if (!v) {
			ss->nomem = true;
			return;
		}
		ss->v = v;
	}
	v = &ss->v[ss->n++];
	memset(v, 0, sizeof(*v));
	v->inode = m->idiag_inode;
	v->sport = ntohs(m->id.idiag_sport);
	v->dport = ntohs(m->id.idiag_dport);
	v->state = state;
	v->fam = fam;
	if (ss->aged && state == TCP_CLOSE_WAIT)
		v->age = diag_age(h);
}

/*
 * Group the sockets as the module does: "in" by local port if a listener
 * of either family has that port, else "out" by remote port.
 */
static void group_socks(struct ts_socks *ss)
{
	static unsigned char listening[(TS_MAX_PORT + 1) / 8];
	struct ts_sock *k;
	size_t i;

	memset(listening, 0, sizeof(listening));
	for (i = 0; i < ss->n; i++)
		if (ss->v[i].state == TCP_LISTEN)
			listening[ss->v[i].sport / 8] |= 1 << (ss->v[i].sport % 8);
	for (i = 0; i < ss->n; i++) {
		k = &ss->v[i];
		if (listening[k->sport / 8] & (1 << (k->sport % 8)))
			k->group = k->sport;
		else
			k->group = TS_OUT + k->dport;
	}
}

/* ts_dump_socks(), with each CLOSE_WAIT socket's age if @aged. */
static int dump_socks(unsigned int states, bool ports, bool aged,
		      struct ts_socks *ss)
{
	unsigned char ext = aged ? 1 << (INET_DIAG_INFO - 1) : 0;
	unsigned int i;
	int ret;

	memset(ss, 0, sizeof(*ss));
	ss->aged = aged;
	for (i = 0; i < TS_DUMP_RETRIES; i++) {
		ss->n = 0;
		ret = ts_diag_all(states, ext, diag_collect, ss);
		if (ret != TS_EINTR_DUMP)
			break;
	}
	if (ret == TS_EINTR_DUMP)
		ts_err("sock_diag dump kept being interrupted by socket churn; retry");
	else if (!ret && ss->nomem)
		ts_err("sock_diag dump: out of memory");
	if (ret || ss->nomem) {
		free(ss->v);
		ss->v = NULL;
		return -1;
	}
	for (i = 0; !ports && i < ss->n; i++)
		ss->v[i].group = ss->v[i].state;
	if (ports)
		group_socks(ss);
	return 0;
}

/*
 * Dump the sockets in @states (TS_BIT(state) bits) into @ss, each with
 * its --ports group if @ports (then LISTEN must be in @states, or no
 * socket is "in"), else with its state as group.  On error @ss is freed.
 */
int ts_dump_socks(unsigned int states, bool ports, struct ts_socks *ss)
{
	return dump_socks(states, ports, false, ss);
}

static int group_cmp(const void *a, const void *b)
{
	const struct ts_sock *x = a, *y = b;

	return x->group < y->group ? -1 : x->group > y->group;
}

/*
 * One row per group, in the module file's order; @fams: families counted.
 * --close-wait: of the CLOSE_WAIT sockets only, the oldest's age kept.
 */
static int make_rows(struct ts_socks *ss, unsigned int fams,
		     struct ts_table *t)
{
	bool cw = t->mode == TS_MODE_CLOSE_WAIT;
	struct ts_row *r = NULL;
	struct ts_sock *k;
	size_t i;

	if (ss->n)
		qsort(ss->v, ss->n, sizeof(*ss->v), group_cmp);
	for (i = 0; i < ss->n; i++) {
		k = &ss->v[i];
		if (!(fams & TS_BIT(k->fam)) ||
		    (cw && k->state != TCP_CLOSE_WAIT))
			continue;
		if (!r || ts_row_group(r) != k->group) {
			r = ts_table_add(t);
			if (!r)
				return -1;
			r->out = k->group >= TS_OUT;
			r->key = k->group & TS_MAX_PORT;
		}
		r->sockets[k->state]++;
		r->total++;
		if (k->age > r->oldest)
			r->oldest = k->age;
	}
	return 0;
}

/* --ports or --close-wait (@mode) from a dump. */
int ts_read_ports_netlink(enum ts_mode mode, struct ts_table *t,
			  unsigned int fams)
{
	bool cw = mode == TS_MODE_CLOSE_WAIT;
	struct ts_socks ss;
	struct stat st;
	int ret;

	memset(t, 0, sizeof(*t));
	t->mode = mode;
	t->source = TS_SRC_NETLINK;
	if (stat("/proc/self/ns/net", &st)) {
		ts_err("/proc/self/ns/net: %s: is /proc mounted?",
		       strerror(errno));
		return -1;
	}
	t->netns = st.st_ino;
	/* The listeners too: they make a port "in". */
	if (dump_socks(cw ? TS_BIT(TCP_LISTEN) | TS_BIT(TCP_CLOSE_WAIT) : ~0U,
		       true, cw, &ss))
		return -1;
	ret = make_rows(&ss, fams, t);
	if (ret) {
		ts_err("sock_diag: out of memory");
		free(t->rows);
		t->rows = NULL;
	}
	free(ss.v);
	return ret;
}
