/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What tcpstates.bpf.c and the reader's bpf.c share: the program's tables
 * and errors, and the layout of its counts.
 */
#ifndef TCPSTATES_BPF_H
#define TCPSTATES_BPF_H

#define TS_BPF_LISTEN		0	/* lhash2 */
#define TS_BPF_EHASH		1

/* counts[state * 2 + family]: 12 states by 2 families, a power of 2. */
#define TS_BPF_CELLS		32

#define TS_BPF_EFAULT		1	/* a table pointer did not read */
#define TS_BPF_ELAYOUT		2	/* sock_common too wide for one read */

#endif /* TCPSTATES_BPF_H */
