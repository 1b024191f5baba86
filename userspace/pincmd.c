// SPDX-License-Identifier: GPL-2.0
/*
 * The pinned files' commands (docs/pins.md):
 *
 *   tcpstates pin [--mode MODE] [DIR]   pin DIR/tcpstates, or pin again
 *   tcpstates pin --check [DIR]         are they this reader's version?
 *   tcpstates unpin [DIR]               remove them
 *
 * DIR is TCPSTATES_BPF_DIR, else /sys/fs/bpf/tcpstates.  Exit status: 0
 * done, 1 it could not be done (one line says why), 2 usage error.
 *
 * Command line layer, on top.  May call: the sources layer (pin.c), the
 * model layer (err.c), libc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define TS_PIN_USAGE \
	"usage: tcpstates pin [--mode MODE] [DIR]\n" \
	"       tcpstates pin --check [DIR]\n" \
	"       tcpstates unpin [DIR]\n" \
	"DIR: $TCPSTATES_BPF_DIR, else " TS_PIN_DIR_DEFAULT "\n"

/* One line, as args.c's usage errors; exit status 2. */
static int pin_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "tcpstates: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "; see tcpstates pin --help\n");
	return 2;
}

/* --mode: read bits only (0400, 0440, 0444): a pin has nothing to write. */
static int parse_mode(const char *arg, unsigned int *mode)
{
	char *end;
	unsigned long m;

	m = strtoul(arg, &end, 8);
	if (!*arg || *end || !(m & 0400) || (m & ~0444UL))
		return -1;
	*mode = m;
	return 0;
}

/* The pins at @dir are this reader's, or one line says whose they are. */
static int pin_check(const char *dir)
{
	char ver[64];

	if (ts_pin_version(dir, ver, sizeof(ver)))
		return 1;
	if (strcmp(ver, TS_VERSION)) {
		ts_err("%s: pinned by tcpstates %s, this is tcpstates %s: run tcpstates pin again",
		       dir, ver, TS_VERSION);
		return 1;
	}
	printf("%s: pinned by tcpstates %s\n", dir, ver);
	return 0;
}

/* -1 if argv is no pin command, else the exit status. */
int ts_pin_main(int argc, char **argv)
{
	const char *dir = getenv("TCPSTATES_BPF_DIR");
	bool pin, check = false, dir_set = false;
	unsigned int mode = 0;
	int i;

	if (argc < 2 || (strcmp(argv[1], "pin") && strcmp(argv[1], "unpin")))
		return -1;
	pin = !strcmp(argv[1], "pin");
	if (!dir || !*dir)
		dir = TS_PIN_DIR_DEFAULT;
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf(TS_PIN_USAGE);
			return 0;
		} else if (pin && !strcmp(argv[i], "--check")) {
			check = true;
		} else if (pin && !strcmp(argv[i], "--mode")) {
			if (++i == argc || parse_mode(argv[i], &mode))
				return pin_usage("--mode wants 0400, 0440 or 0444, not \"%s\"",
						 i < argc ? argv[i] : "");
		} else if (argv[i][0] != '-' && !dir_set) {
			dir = argv[i];
			dir_set = true;
		} else {
			return pin_usage("unexpected argument \"%s\"", argv[i]);
		}
	}
	if (!pin)
		return ts_finish(ts_unpin(dir) ? 1 : 0);
	if (check)
		return ts_finish(pin_check(dir));
	if (!mode)
		mode = ts_pin_default_mode();
	return ts_finish(ts_pin(dir, TS_VERSION, mode) ? 1 : 0);
}
