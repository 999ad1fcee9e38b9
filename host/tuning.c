/* Per-device tunables: each kernel family keeps a small table of rows
 * (device kind -> -D build options), first match wins, the last row being
 * the generic default.  The .cl files hold #ifndef defaults for the same
 * names, so a kernel builds even with no options at all. */
#include <string.h>
#include "internal.h"

static int has(const char *hay, const char *needle)
{
    return !needle || !*needle || strstr(hay, needle) != NULL;
}

const char *tuning_pick(const clconv_devinfo *info, const tuning_row *rows, int nrows)
{
    for (int i = 0; i < nrows; i++) {
        const tuning_row *r = &rows[i];
        if (r->type && !(info->type & r->type))
            continue;
        if (!has(info->vendor, r->vendor) && !has(info->platform, r->vendor))
            continue;
        if (info->local_mem < r->min_local_mem || info->compute_units < r->min_compute_units)
            continue;
        return r->options;
    }
    return "";
}
