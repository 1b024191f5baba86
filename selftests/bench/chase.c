// SPDX-License-Identifier: GPL-2.0
/*
 * chase NODES STRIDE: the cost of one dependent cache miss, as a physical
 * limit for a walk that touches NODES sockets once each.
 *
 * NODES nodes, STRIDE bytes apart (a socket's slab object size), are linked
 * into one random cycle (Sattolo's shuffle), so every load depends on the
 * one before and no prefetcher can guess the next address.  The buffer is
 * as large as the sockets' slab memory.  Prints the median nanoseconds per
 * load over 5 passes of at least 2^20 loads each:
 *
 *   chase nodes N stride S bytes B ns_per_load X
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PASSES		5
#define MIN_LOADS	1048576L

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long xorshift(unsigned long long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The loads must not be optimised away: the end of the chase is printed. */
static void *walk(void *p, long loads)
{
	while (loads--)
		p = *(void **)p;
	return p;
}

int main(int argc, char **argv)
{
	long nodes, stride, i, j, loads;
	unsigned long long seed = 0x9e3779b97f4a7c15ULL;
	double t[PASSES], t0;
	unsigned int *order, tmp;
	char *buf;
	void *p;
	int k;

	if (argc != 3) {
		fprintf(stderr, "usage: chase NODES STRIDE\n");
		return 2;
	}
	nodes = atol(argv[1]);
	stride = atol(argv[2]);
	if (nodes < 2 || nodes > UINT_MAX || stride < 8 || stride % 8) {
		fprintf(stderr, "chase: need NODES >= 2, STRIDE a multiple of 8\n");
		return 2;
	}
	buf = mmap(NULL, nodes * stride, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	order = calloc(nodes, sizeof(*order));
	if (buf == MAP_FAILED || !order) {
		perror("chase");
		return 1;
	}
	/*
	 * Sockets live in the kernel's direct map, mapped with huge pages:
	 * a walk over them misses the cache, rarely the TLB.  Huge pages here
	 * too (where THP allows it), so that the floor is the cache miss.
	 */
	madvise(buf, nodes * stride, MADV_HUGEPAGE);
	for (i = 0; i < nodes; i++)
		order[i] = i;
	/* Sattolo: a uniformly random permutation that is a single cycle. */
	for (i = nodes - 1; i > 0; i--) {
		j = xorshift(&seed) % i;
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (i = 0; i < nodes; i++)
		*(void **)(buf + order[i] * stride) =
			buf + order[(i + 1) % nodes] * stride;
	free(order);

	loads = nodes < MIN_LOADS ? MIN_LOADS : nodes;
	p = walk(buf, nodes);	/* warm up the page tables */
	for (k = 0; k < PASSES; k++) {
		t0 = now();
		p = walk(p, loads);
		t[k] = (now() - t0) * 1e9 / loads;
	}
	qsort(t, PASSES, sizeof(t[0]), cmp_double);
	printf("chase nodes %ld stride %ld bytes %ld ns_per_load %.2f%s\n",
	       nodes, stride, nodes * stride, t[PASSES / 2],
	       p ? "" : " ");
	return 0;
}
