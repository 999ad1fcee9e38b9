/* The kernel sources embedded at build time (see tools/embed.c). */
#ifndef CLCONV_KERNEL_SOURCES_H
#define CLCONV_KERNEL_SOURCES_H
#include <stddef.h>

typedef struct clconv_kernel_source {
    const char *name;   /* file name without .cl, e.g. "conv_generic" */
    const char *text;   /* NUL-terminated source */
    size_t length;      /* bytes, without the NUL */
} clconv_kernel_source;

extern const clconv_kernel_source clconv_kernel_sources[];
extern const int clconv_kernel_source_count;
/* kernels/prelude.cl: built in front of every source (program.c). */
extern const clconv_kernel_source clconv_kernel_prelude;

#endif
