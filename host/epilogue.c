/* The fused forward epilogue's public half: defaults and checks (the
 * arithmetic is kernels/prelude.cl's epi_apply, in each forward kernel's
 * store step). */
#include <math.h>
#include "internal.h"

void clconv_epilogue_init(clconv_epilogue *e)
{
    if (e)
        *e = (clconv_epilogue){.struct_size = (int64_t)sizeof(clconv_epilogue), .alpha = 1.0f,
                               .activation = CLCONV_ACT_IDENTITY};
}

clconv_status clconv_epilogue_check(const clconv_epilogue *e)
{
    if (!e)
        return CLCONV_NULL_ARGUMENT;
    if (e->struct_size != 0 && e->struct_size != (int64_t)sizeof(clconv_epilogue))
        return CLCONV_BAD_VERSION;
    if ((uint32_t)e->activation >= CLCONV_ACT_COUNT_)
        return CLCONV_BAD_EPILOGUE;
    if (!isfinite(e->alpha) || !isfinite(e->beta) || !isfinite(e->param))
        return CLCONV_BAD_EPILOGUE;
    if (e->activation == CLCONV_ACT_CLIPPED_RELU && !(e->param > 0.0f))
        return CLCONV_BAD_EPILOGUE;
    if (e->activation == CLCONV_ACT_LEAKY_RELU && !(e->param >= 0.0f))
        return CLCONV_BAD_EPILOGUE;
    return CLCONV_OK;
}
