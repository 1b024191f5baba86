// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates reader, model layer: errors and the exit status.  One error
 * line on stderr, kept for --check-tw's UNKNOWN line; a churn error marks
 * a read that failed only because the tables changed under it; and the
 * exit status once stdout is known to be written.  Every layer may call
 * it.  May call: libc only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

bool ts_check_mode;
bool ts_err_quiet;
bool ts_churned;
static char ts_last_err[512];	/* for --check-tw's UNKNOWN line */

static void ts_verr(const char *fmt, va_list ap)
{
	vsnprintf(ts_last_err, sizeof(ts_last_err), fmt, ap);
	if (!ts_err_quiet)
		fprintf(stderr, "tcpstates: %s\n", ts_last_err);
}

void ts_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_verr(fmt, ap);
	va_end(ap);
}

/* A read that failed only because the tables changed under it. */
void ts_churn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_verr(fmt, ap);
	va_end(ap);
	ts_churned = true;
}

const char *ts_last_error(void)
{
	return ts_last_err;
}

/*
 * Push out what was printed: a full disk or a closed pipe is an error,
 * reported once.  errno is kept from the failed write when the flush
 * itself has nothing left to write.
 */
int ts_flush(void)
{
	static bool reported;

	errno = 0;
	if (!fflush(stdout) && !ferror(stdout))
		return 0;
	if (!reported)
		ts_err("write error on standard output: %s",
		       errno ? strerror(errno) : "I/O error");
	reported = true;
	return -1;
}

/* The exit status for @rc, once stdout is known to be written. */
int ts_finish(int rc)
{
	int bad = rc ? rc : ts_check_mode ? TS_CHECK_UNKNOWN : 1;

	if (ts_flush())
		return bad;
	if (fclose(stdout)) {
		ts_err("write error on standard output: %s", strerror(errno));
		return bad;
	}
	return rc;
}
