/* batch.h - reading --batch files. */
#ifndef BENCH_BATCH_H
#define BENCH_BATCH_H

#include <stddef.h>

/* Where a --batch=FILE given inside base_file (NULL on the command line)
 * is: a relative FILE next to base_file if it opens there, else FILE as
 * given (relative to the working directory).  The result is malloc'ed
 * (NULL if out of memory). */
char *bench_batch_path(const char *file, const char *base_file);

/* The whole file, NUL-terminated, malloc'ed; NULL with a message in err. */
char *bench_read_text(const char *path, char *err, size_t err_cap);

#endif
