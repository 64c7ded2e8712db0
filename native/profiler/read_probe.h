/*
 * read_probe.h — the streaming-read probe over memory the caller already has
 * (profiler/roofline.c). Plain C declarations, so the addon (C++) can use it
 * without the profiler's internal header.
 */
#ifndef HYPERION_PROFILER_READ_PROBE_H
#define HYPERION_PROFILER_READ_PROBE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Streaming-read bandwidth (GB/s) of memory the caller already has, [buf,
 * buf + bytes): the best of `passes` passes by `threads` threads with the
 * machine probe's read loop. For a model's mapped weights: on a virtual
 * machine the physical memory under a file's page cache can stream slower
 * than the fresh memory the machine probe reads (tinyllama q4_0 here: 20.8
 * against 23.4 GB/s at 2 threads, 22.5 once the file was read back into
 * other pages), and decode can only be as fast as its weights' memory. buf:
 * readable, 8-byte aligned (pages not resident fault in, and make the figure
 * low). 0 when buf is NULL or too small to split. Allocates nothing. */
double hy_roofline_read_bandwidth(const void *buf, size_t bytes, int threads, int passes);

#ifdef __cplusplus
}
#endif

#endif
