// SPDX-License-Identifier: GPL-2.0
/*
 * The bpf source when the reader was built without it: clang, bpftool,
 * libbpf-dev or the build machine's kernel BTF were missing (see the
 * Makefile's BPF setting).  --source auto then goes on to netlink.
 * "tcpstates pin" needs it too.
 * Sources layer.  May call: err.c.
 */
#include "source.h"

int ts_bpf_open(void)
{
	ts_err("bpf: this tcpstates was built without the bpf source (make BPF=1 needs clang, bpftool, libbpf-dev and /sys/kernel/btf/vmlinux)");
	return -1;
}

int ts_read_bpf(struct ts_sample *s)
{
	s->source = TS_SRC_BPF;
	return ts_bpf_open();
}

int ts_bpf_table_open(void)
{
	return ts_bpf_open();
}

int ts_read_bpf_table(enum ts_mode mode, struct ts_table *t)
{
	t->mode = mode;
	t->source = TS_SRC_BPF;
	return ts_bpf_open();
}

const char *ts_bpf_reason(int ret, const char *refused)
{
	(void)ret;
	(void)refused;
	return "this tcpstates was built without the bpf source";
}

int ts_pin(const char *dir, const char *version, unsigned int mode)
{
	(void)dir;
	(void)version;
	(void)mode;
	return ts_bpf_open();
}

int ts_unpin(const char *dir)
{
	(void)dir;
	return ts_bpf_open();
}

unsigned int ts_pin_default_mode(void)
{
	return 0444;
}
