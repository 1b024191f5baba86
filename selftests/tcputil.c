// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcputil.h"

static const char *tcpstates_path(void)
{
	const char *p = getenv("TCPSTATES_PROC");

	return p ? p : "/proc/tcpstates";
}

int fam_col(int family)
{
	return family == AF_INET6 ? TCPSTATES_IPV6 : TCPSTATES_IPV4;
}

static int state_by_name(const char *name)
{
	int s;

	for (s = 1; s < TCPSTATES_NR_STATES; s++)
		if (tcpstates_state_names[s] && !strcmp(name, tcpstates_state_names[s]))
			return s;
	return -1;
}

static void parse_key(struct tcp_counts *c, const char *key, long long v)
{
	if (!strcmp(key, "tw_count"))
		c->tw_count = v;
	else if (!strcmp(key, "max_tw_buckets"))
		c->max_tw_buckets = v;
	else if (!strcmp(key, "tw_overflow"))
		c->tw_overflow = v;
	else if (!strcmp(key, "scan_buckets"))
		c->scan_buckets = v;
	else if (!strcmp(key, "netns"))
		c->netns = v;
}

/* Parse a whole /proc/tcpstates text; -1 unless every state line is there. */
static int parse_tcpstates(char *text, struct tcp_counts *c)
{
	char *line, *save = NULL;
	long long v4, v6;
	char key[64];
	int s, seen = 0, n;

	memset(c, 0, sizeof(*c));
	line = strtok_r(text, "\n", &save);
	if (!line || strcmp(line, "tcpstates 1"))
		return -1;
	while ((line = strtok_r(NULL, "\n", &save))) {
		n = sscanf(line, "%63s %lld %lld", key, &v4, &v6);
		s = state_by_name(key);
		if (s > 0 && n == 3) {
			c->n[s][TCPSTATES_IPV4] = v4;
			c->n[s][TCPSTATES_IPV6] = v6;
			seen++;
		} else if (n >= 2) {
			parse_key(c, key, v4);
		}
	}
	return seen == TCPSTATES_NR_STATES - 1 ? 0 : -1;
}

int read_tcpstates_fd(int fd, struct tcp_counts *c)
{
	char buf[4096];
	ssize_t n, len = 0;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	if (n < 0)
		return -1;
	buf[len] = '\0';
	return parse_tcpstates(buf, c);
}

int read_tcpstates(struct tcp_counts *c)
{
	int fd = open(tcpstates_path(), O_RDONLY);
	int ret;

	if (fd < 0)
		return -1;
	ret = read_tcpstates_fd(fd, c);
	close(fd);
	return ret;
}

/* ss's names for the states, as misc/ss.c spells them. */
static const char * const ss_names[TCPSTATES_NR_STATES] = {
	[TCP_ESTABLISHED] = "ESTAB",	[TCP_SYN_SENT] = "SYN-SENT",
	[TCP_SYN_RECV] = "SYN-RECV",	[TCP_FIN_WAIT1] = "FIN-WAIT-1",
	[TCP_FIN_WAIT2] = "FIN-WAIT-2",	[TCP_TIME_WAIT] = "TIME-WAIT",
	[TCP_CLOSE] = "UNCONN",		[TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCP_LAST_ACK] = "LAST-ACK",	[TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
};

static int read_ss_family(struct tcp_counts *c, int col, const char *opt)
{
	char cmd[64], line[512], name[32];
	FILE *p;
	int s;

	snprintf(cmd, sizeof(cmd), "ss -tanH %s 2>/dev/null", opt);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%31s", name) != 1)
			continue;
		for (s = 1; s < TCPSTATES_NR_STATES; s++)
			if (!strcmp(name, ss_names[s]))
				break;
		if (s == TCPSTATES_NR_STATES) {
			pclose(p);
			return -1;
		}
		c->n[s][col]++;
	}
	return pclose(p) ? -1 : 0;
}

int read_ss(struct tcp_counts *c)
{
	memset(c, 0, sizeof(*c));
	if (read_ss_family(c, TCPSTATES_IPV4, "-4"))
		return -1;
	return read_ss_family(c, TCPSTATES_IPV6, "-6");
}

/* "TCP: inuse 1 orphan 0 tw 2 alloc 3 mem 0" */
long long read_sockstat_tw(void)
{
	char line[256];
	long long tw = -1;
	FILE *f = fopen("/proc/net/sockstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TCP: inuse %*d orphan %*d tw %lld", &tw) == 1)
			break;
	fclose(f);
	return tw;
}

int read_sysctl(const char *path, long long *val)
{
	FILE *f = fopen(path, "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%lld", val);
	fclose(f);
	return n == 1 ? 0 : -1;
}

int write_sysctl(const char *path, long long val)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%lld\n", val) < 0;
	return fclose(f) || ret ? -1 : 0;
}

int new_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, ret;

	if (unshare(CLONE_NEWNET))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!ret)
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return ret;
}

int raise_nofile(unsigned int n)
{
	struct rlimit rl = { n, n };

	return setrlimit(RLIMIT_NOFILE, &rl);
}

static socklen_t loopback(int family, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
	return sizeof(*sin);
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int listen_at(int family, int port, bool dual, int sockopt,
		     int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd, off = 0, on = 1;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (dual) {
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_any;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	}
	if (sockopt)
		setsockopt(fd, SOL_SOCKET, sockopt, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	return fd;
}

int tcp_listener(int family, bool dual, int backlog)
{
	return listen_at(family, 0, dual, 0, backlog);
}

int tcp_listen_port(int family, int port, int sockopt)
{
	return listen_at(family, port, false, sockopt, 4096);
}

int tcp_connect(int lfd, int family)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, local_port(lfd), &ss);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

int tcp_accept(int lfd)
{
	return accept(lfd, NULL, NULL);
}

int tcp_pair(int lfd, int family, int *cfd, int *sfd)
{
	*cfd = tcp_connect(lfd, family);
	if (*cfd < 0)
		return -1;
	*sfd = tcp_accept(lfd);
	if (*sfd < 0) {
		close(*cfd);
		return -1;
	}
	return 0;
}

int tcp_wait_state(int fd, int state)
{
	struct tcp_info ti;
	socklen_t len;
	int i;

	for (i = 0; i < 200; i++) {
		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			return -1;
		if (ti.tcpi_state == state)
			return 0;
		usleep(10000);
	}
	return -1;
}

int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int tcp_fill(int fd)
{
	static char buf[65536];
	ssize_t n;

	if (nonblock(fd))
		return -1;
	do {
		n = write(fd, buf, sizeof(buf));
	} while (n > 0);
	if (errno != EAGAIN)
		return -1;
	/* Let loopback deliver what it can, then top up the send queue. */
	usleep(100000);
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	return errno == EAGAIN ? 0 : -1;
}

/* The Internet checksum, read bytewise: no aliasing of the headers. */
static unsigned short csum(const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned int sum = 0;

	for (; len > 1; len -= 2, p += 2)
		sum += p[0] << 8 | p[1];
	if (len)
		sum += p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/* Both headers are 20 bytes with 4-byte alignment: no padding. */
struct syn_packet {
	struct iphdr ip;
	struct tcphdr tcp;
};

static_assert(sizeof(struct syn_packet) == 40, "IPv4 + TCP header");

static void syn_tcp(struct tcphdr *tcp, int sport, int dport)
{
	tcp->source = htons(sport);
	tcp->dest = htons(dport);
	tcp->seq = htonl(0x10000 + sport);
	tcp->doff = 5;
	tcp->syn = 1;
	tcp->window = htons(65535);
}

static void build_syn(struct syn_packet *pk, in_addr_t src, in_addr_t dst,
		      int sport, int dport)
{
	struct {
		in_addr_t src, dst;
		unsigned char zero, proto;
		unsigned short len;
		struct tcphdr tcp;
	} pseudo;

	memset(pk, 0, sizeof(*pk));
	pk->ip.version = 4;
	pk->ip.ihl = 5;
	pk->ip.ttl = 64;
	pk->ip.protocol = IPPROTO_TCP;
	pk->ip.tot_len = htons(sizeof(*pk));
	pk->ip.saddr = src;
	pk->ip.daddr = dst;
	pk->ip.check = csum(&pk->ip, sizeof(pk->ip));
	syn_tcp(&pk->tcp, sport, dport);
	pseudo.src = src;
	pseudo.dst = dst;
	pseudo.zero = 0;
	pseudo.proto = IPPROTO_TCP;
	pseudo.len = htons(sizeof(pk->tcp));
	pseudo.tcp = pk->tcp;
	static_assert(sizeof(pseudo) == 32, "pseudo header + TCP header");
	pk->tcp.check = csum(&pseudo, sizeof(pseudo));
}

/* Both headers have 4-byte alignment and sizes: no padding. */
struct syn6_packet {
	struct ip6_hdr ip6;
	struct tcphdr tcp;
};

static_assert(sizeof(struct syn6_packet) == 60, "IPv6 + TCP header");

static void build_syn6(struct syn6_packet *pk, const struct in6_addr *src,
		       const struct in6_addr *dst, int sport, int dport)
{
	struct {
		struct in6_addr src, dst;
		unsigned int len;
		unsigned char zero[3], next;
		struct tcphdr tcp;
	} pseudo;

	memset(pk, 0, sizeof(*pk));
	pk->ip6.ip6_flow = htonl(6 << 28);
	pk->ip6.ip6_plen = htons(sizeof(pk->tcp));
	pk->ip6.ip6_nxt = IPPROTO_TCP;
	pk->ip6.ip6_hlim = 64;
	pk->ip6.ip6_src = *src;
	pk->ip6.ip6_dst = *dst;
	syn_tcp(&pk->tcp, sport, dport);
	memset(&pseudo, 0, sizeof(pseudo));
	pseudo.src = *src;
	pseudo.dst = *dst;
	pseudo.len = htonl(sizeof(pk->tcp));
	pseudo.next = IPPROTO_TCP;
	pseudo.tcp = pk->tcp;
	static_assert(sizeof(pseudo) == 60, "pseudo header + TCP header");
	pk->tcp.check = csum(&pseudo, sizeof(pseudo));
}

static int send_syns4(const char *src, const char *dst, int port, int n)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct syn_packet pk;
	in_addr_t s0, d;
	int fd, on = 1, i;

	if (inet_pton(AF_INET, src, &s0) != 1 || inet_pton(AF_INET, dst, &d) != 1)
		return -1;
	to.sin_addr.s_addr = d;
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &on, sizeof(on)))
		return -1;
	for (i = 0; i < n; i++) {
		build_syn(&pk, htonl(ntohl(s0) + i), d, 40000 + i, port);
		if (sendto(fd, &pk, sizeof(pk), 0, (struct sockaddr *)&to,
			   sizeof(to)) != sizeof(pk))
			break;
	}
	close(fd);
	return i == n ? 0 : -1;
}

/* An IPPROTO_RAW IPv6 socket takes the whole header from us. */
static int send_syns6(const char *src, const char *dst, int port, int n)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
	struct syn6_packet pk;
	struct in6_addr s;
	int fd, i;

	if (inet_pton(AF_INET6, src, &s) != 1 ||
	    inet_pton(AF_INET6, dst, &to.sin6_addr) != 1)
		return -1;
	fd = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0)
		return -1;
	for (i = 0; i < n; i++) {
		s.s6_addr[15] = 0x10 + i;
		build_syn6(&pk, &s, &to.sin6_addr, 40000 + i, port);
		if (sendto(fd, &pk, sizeof(pk), 0, (struct sockaddr *)&to,
			   sizeof(to)) != sizeof(pk))
			break;
	}
	close(fd);
	return i == n ? 0 : -1;
}

int send_raw_syns(int family, const char *src, const char *dst, int port,
		  int n)
{
	if (family == AF_INET6)
		return send_syns6(src, dst, port, n);
	return send_syns4(src, dst, port, n);
}
