/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The age columns of /proc/tcpstates_ages, shared by the module and the
 * reader: each column's name as the file's header prints it, youngest
 * first, and the upper bound of all but the last, in seconds.
 * docs/interface.md says how each state's age is taken.
 */
#ifndef _TCPSTATES_AGES_H
#define _TCPSTATES_AGES_H

#include "tcpstates_states.h"

/* The version on the file's first line: these columns are version 1's. */
#define TCPSTATES_AGES_VERSION	1
#define TCPSTATES_NR_AGES	7

static const char * const
tcpstates_age_names[TCPSTATES_NR_AGES] __maybe_unused = {
	"<1s", "<10s", "<1m", "<10m", "<1h", "<1d", ">=1d",
};

/* A socket is in the first column whose bound it is under. */
static const unsigned int
tcpstates_age_bounds[TCPSTATES_NR_AGES - 1] __maybe_unused = {
	1, 10, 60, 600, 3600, 86400,
};

#endif /* _TCPSTATES_AGES_H */
