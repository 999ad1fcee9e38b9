/* peer_clblast.h - CLBlast's CLBlastSconvgemm as a peer for the forward
 * pass (one group only).  Built in when CLCONV_HAVE_CLBLAST is defined
 * (the Makefile does so when clblast_c.h exists); otherwise the peer
 * reports itself unavailable. */
#ifndef BENCH_PEER_CLBLAST_H
#define BENCH_PEER_CLBLAST_H

#include "clconv.h"

/* CLBlast builds its kernels without -w, and PoCL's compiler then writes
 * its warning count ("1 warning generated.") to stderr, into the middle of
 * the table: this asks PoCL for -w on every build (POCL_EXTRA_BUILD_FLAGS,
 * unless the user set it).  Call it before the device builds anything. */
void bench_peer_quiet_builds(void);

/* 1 if the peer was compiled in. */
int bench_peer_available(void);
/* 1 if the peer can run d (one group). */
int bench_peer_supports(const clconv_desc *d);
/* Enqueue y = conv(x, w) with CLBlast on q (offsets in floats), the event
 * of its last command in *ev if ev is not NULL.  0, or CLBlast's status
 * code (negative), or 1 if the peer is unavailable. */
int bench_peer_forward(cl_command_queue q, const clconv_desc *d, cl_mem x, size_t x_off,
                       cl_mem w, size_t w_off, cl_mem y, size_t y_off, cl_event *ev);

#endif
