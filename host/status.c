/* Version, status and algorithm names: generated from the lists in clconv.h. */
#include "clconv.h"

unsigned clconv_version_number(void) { return CLCONV_VERSION_NUMBER; }
const char *clconv_version_string(void) { return CLCONV_VERSION_STRING; }

static const char *const status_names[] = {
#define NAME_(name, msg) "CLCONV_" #name,
    CLCONV_STATUS_LIST(NAME_)
#undef NAME_
};

static const char *const status_strings[] = {
#define STR_(name, msg) msg,
    CLCONV_STATUS_LIST(STR_)
#undef STR_
};

const char *clconv_status_name(clconv_status s)
{
    return (unsigned)s < CLCONV_STATUS_COUNT_ ? status_names[s] : "CLCONV_UNKNOWN";
}

const char *clconv_status_string(clconv_status s)
{
    return (unsigned)s < CLCONV_STATUS_COUNT_ ? status_strings[s] : "unknown status";
}

const char *clconv_algo_name(clconv_algo a)
{
    static const char *const names[CLCONV_ALGO_COUNT_] = {"auto", "explicit", "direct", "gemm",
                                                            "tiled", "winograd"};
    return (unsigned)a < CLCONV_ALGO_COUNT_ ? names[a] : "unknown";
}
