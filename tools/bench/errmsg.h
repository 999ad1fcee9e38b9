/* errmsg.h - the one-line reasons the pure option parsers hand back. */
#ifndef BENCH_ERRMSG_H
#define BENCH_ERRMSG_H

#include <stddef.h>

/* Format the reason into err (when cap > 0) and return -1, the parsers'
 * failure value. */
int bench_err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
