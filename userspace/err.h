/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates reader, model layer: errors and the exit status.  Every file
 * of every layer reports through here.  May call: libc only.
 */
#ifndef TS_ERR_H
#define TS_ERR_H

#include <stdbool.h>

/* Monitoring Plugins exit codes, for --check-tw. */
enum {
	TS_CHECK_OK,
	TS_CHECK_WARNING,
	TS_CHECK_CRITICAL,
	TS_CHECK_UNKNOWN,
};

void ts_err(const char *fmt, ...);
void ts_churn(const char *fmt, ...);
const char *ts_last_error(void);
extern bool ts_err_quiet;	/* auto trying a source: keep the error */
extern bool ts_churned;		/* the last error came from churn */
extern bool ts_check_mode;	/* --check-tw: errors exit UNKNOWN */
int ts_flush(void);
int ts_finish(int rc);

#endif /* TS_ERR_H */
