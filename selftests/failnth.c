// SPDX-License-Identifier: GPL-2.0
/*
 * failnth N OP ARGS: do one operation with this thread's Nth fault point
 * failed (/proc/thread-self/fail-nth, CONFIG_FAULT_INJECTION), then print
 * "injected Y|N", and "ok" or the errno's name:
 *   load KO          finit_module(KO): the module's init and its unwinding
 *   read PATH        open, read to EOF, close; the bytes go to stdout
 *   write PATH STR   open, one write(2) of STR, close
 *   netns            unshare(CLONE_NEWNET), then exit: a netns made and
 *                    dismantled with the module's pernet init and exit
 * The fail-nth file is opened before N is written, and read back with no
 * allocation, so that only OP's own fault points count.  Exit status 0
 * whatever OP did; 2 on bad usage or when fault injection is missing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bad_args(void)
{
	fprintf(stderr, "usage: failnth N load KO | read PATH | write PATH STR | netns\n");
	return 2;
}

static int op_load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		err = errno;
	close(fd);
	return err;
}

/*
 * Touched before fail-nth is armed, as stdout's buffer is: a page fault of
 * ours on a fresh page (the heap stdio would allocate, a stack page) would
 * take the injected failure instead of OP, as a user fault the kernel
 * retries ("Huh VM_FAULT_OOM leaked out to the #PF handler").
 */
static char buf[4096];
static char outbuf[1 << 20];

/* The bytes read go to stdout, for the caller to check they are whole. */
static int op_read(const char *path)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	if (n < 0)
		err = errno;
	close(fd);
	return err;
}

static int op_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, s, strlen(s)) < 0)
		err = errno;
	close(fd);
	return err;
}

static int op(int argc, char **argv)
{
	if (!strcmp(argv[2], "load") && argc == 4)
		return op_load(argv[3]);
	if (!strcmp(argv[2], "read") && argc == 4)
		return op_read(argv[3]);
	if (!strcmp(argv[2], "write") && argc == 5)
		return op_write(argv[3], argv[4]);
	if (!strcmp(argv[2], "netns") && argc == 3)
		return unshare(CLONE_NEWNET) ? errno : 0;
	return -1;
}

int main(int argc, char **argv)
{
	char left[32] = "";
	int fd, err;

	if (argc < 3)
		return bad_args();
	memset(buf, 0, sizeof(buf));
	memset(outbuf, 0, sizeof(outbuf));
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("failnth: /proc/thread-self/fail-nth");
		return 2;
	}
	if (pwrite(fd, argv[1], strlen(argv[1]), 0) < 0) {
		perror("failnth: fail-nth");
		return 2;
	}
	err = op(argc, argv);
	/* 0: the fault was injected; N: N fault points were still to go. */
	if (pread(fd, left, sizeof(left) - 1, 0) < 0)
		left[0] = '?';
	pwrite(fd, "0", 1, 0);
	fflush(stdout);
	if (err < 0)
		return bad_args();
	fprintf(stderr, "injected %s %s\n", atoi(left) ? "N" : "Y",
		err ? strerrorname_np(err) : "ok");
	return 0;
}
