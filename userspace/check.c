// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates reader, output layer: --check-tw, a Monitoring Plugins check
 * of the TIME_WAIT count against its limit.  One status line, perfdata
 * after the "|", and the plugin's exit status.
 * May call: the model layer (sample.h, err.h), libc.
 */
#include <math.h>
#include <stdio.h>

#include "output.h"

/* Above @pct percent of the limit; with limit 0 any TIME_WAIT is. */
static bool tw_above(const struct ts_sample *s, double pct)
{
	if (!s->max_tw_buckets)
		return s->tw_count > 0;
	return s->tw_count * 100.0 > pct * s->max_tw_buckets;
}

/* A threshold in sockets, for perfdata: above it is above @pct. */
static unsigned long long tw_threshold(const struct ts_sample *s, double pct)
{
	return (unsigned long long)floor(pct * s->max_tw_buckets / 100.0);
}

/*
 * One Monitoring Plugins status line, perfdata after the "|":
 * TIME_WAIT WARNING - 900 of limit 1000 (90.0%); warning above 80%,
 * critical above 95% | 'time_wait'=900;800;950;0;1000 'tw_overflow'=7c
 */
int ts_check_tw(const struct ts_sample *s, double warn, double crit)
{
	static const char * const names[] = { "OK", "WARNING", "CRITICAL" };
	int status = TS_CHECK_OK;

	if (crit >= 0 && tw_above(s, crit))
		status = TS_CHECK_CRITICAL;
	else if (tw_above(s, warn))
		status = TS_CHECK_WARNING;
	printf("TIME_WAIT %s - %llu of limit %llu", names[status],
	       s->tw_count, s->max_tw_buckets);
	if (s->max_tw_buckets)
		printf(" (%.1f%%)", 100.0 * s->tw_count / s->max_tw_buckets);
	else
		printf(" (limit 0: no TIME_WAIT sockets allowed)");
	printf("; warning above %g%%", warn);
	if (crit >= 0)
		printf(", critical above %g%%", crit);
	printf(" | 'time_wait'=%llu;%llu;", s->tw_count,
	       tw_threshold(s, warn));
	if (crit >= 0)
		printf("%llu", tw_threshold(s, crit));
	printf(";0;%llu 'tw_overflow'=%lluc\n", s->max_tw_buckets,
	       s->tw_overflow);
	return status;
}

/* The UNKNOWN line, with the error that made it. */
int ts_check_unknown(void)
{
	printf("TIME_WAIT UNKNOWN - %s\n", ts_last_error());
	return TS_CHECK_UNKNOWN;
}
