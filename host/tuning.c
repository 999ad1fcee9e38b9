/* Per-device tunables: each kernel family keeps a small typed table of
 * rows (device kind -> its parameters), first match wins, the last row
 * being the generic default.  The .cl files hold #ifndef defaults for the
 * same names, so a kernel builds even with no options at all.
 * CLCONV_TUNING=<row name> makes every table take its row of that name on
 * any device, so the GPU configurations run, and are checked, on PoCL. */
#include <string.h>
#include "internal.h"

static int has(const char *hay, const char *needle)
{
    return !needle || !*needle || strstr(hay, needle) != NULL;
}

static int matches(const clconv_devinfo *info, const tuning_match *m)
{
    if (m->type && !(info->type & m->type))
        return 0;
    if (!has(info->vendor, m->vendor) && !has(info->platform, m->vendor))
        return 0;
    return info->local_mem >= m->min_local_mem && info->compute_units >= m->min_compute_units;
}

static const tuning_match *row_at(const tuning_match *rows, size_t stride, int i)
{
    return (const tuning_match *)((const char *)rows + (size_t)i * stride);
}

/* find's row for the call being timed or run (find.c).  Thread-local, so
 * it reaches exactly the call on this thread (which holds the context's
 * lock) and never a query another thread makes meanwhile
 * (clconv_workspace_size takes no lock). */
static _Thread_local const char *row_override;

const char *tuning_override(const char *name)
{
    const char *old = row_override;
    row_override = name;
    return old;
}

int tuning_pick(const clconv_devinfo *info, const tuning_match *rows, size_t stride, int nrows)
{
    const char *want = row_override ? row_override : info->tuning;
    if (want[0])
        for (int i = 0; i < nrows; i++)
            if (!strcmp(row_at(rows, stride, i)->name, want))
                return i;
    for (int i = 0; i < nrows - 1; i++)
        if (matches(info, row_at(rows, stride, i)))
            return i;
    return nrows - 1;
}
