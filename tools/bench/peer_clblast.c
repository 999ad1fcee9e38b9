/* peer_clblast.c - CLBlast Sconvgemm as the forward peer. */
#include "peer_clblast.h"

#include <stdlib.h>

#ifdef CLCONV_HAVE_CLBLAST
#include <clblast_c.h>
#endif

void bench_peer_quiet_builds(void)
{
    setenv("POCL_EXTRA_BUILD_FLAGS", "-w", 0);
}

int bench_peer_supports(const clconv_desc *d)
{
    return d->groups == 1;
}

#ifdef CLCONV_HAVE_CLBLAST
int bench_peer_available(void)
{
    return 1;
}

/* CLBlast's convgemm convolves batch_count NCHW images with KCRS filters
 * into NKPQ outputs (cross-correlation, like clconv); dilation 1-based. */
int bench_peer_forward(cl_command_queue q, const clconv_desc *d, cl_mem x, size_t x_off,
                       cl_mem w, size_t w_off, cl_mem y, size_t y_off, cl_event *ev)
{
    if (!bench_peer_supports(d))
        return 1;
    CLBlastStatusCode st = CLBlastSconvgemm(
        CLBlastKernelModeCrossCorrelation, (size_t)d->c, (size_t)d->h, (size_t)d->w,
        (size_t)d->r, (size_t)d->s, (size_t)d->pad_h, (size_t)d->pad_w, (size_t)d->stride_h,
        (size_t)d->stride_w, (size_t)d->dilation_h, (size_t)d->dilation_w, (size_t)d->k,
        (size_t)d->n, x, x_off, w, w_off, y, y_off, &q, ev);
    return (int)st;
}
#else
int bench_peer_available(void)
{
    return 0;
}

int bench_peer_forward(cl_command_queue q, const clconv_desc *d, cl_mem x, size_t x_off,
                       cl_mem w, size_t w_off, cl_mem y, size_t y_off, cl_event *ev)
{
    (void)q, (void)d, (void)x, (void)x_off, (void)w, (void)w_off, (void)y, (void)y_off, (void)ev;
    return 1;
}
#endif
