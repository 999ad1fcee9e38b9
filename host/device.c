/* Device selection: CLCONV_DEVICE or an explicit selector, else the first
 * GPU, else the first CPU, else the first device of any kind. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "internal.h"

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

typedef struct dev_entry {
    cl_platform_id platform;
    cl_device_id device;
    unsigned pi, di;            /* platform and device index */
} dev_entry;

static int list_devices(dev_entry *out, int cap)
{
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    if (clGetPlatformIDs(MAX_PLATFORMS, plats, &np) != CL_SUCCESS)
        return 0;
    int n = 0;
    for (cl_uint p = 0; p < np && p < MAX_PLATFORMS; p++) {
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devs, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < nd && d < MAX_DEVICES && n < cap; d++)
            out[n++] = (dev_entry){plats[p], devs[d], p, d};
    }
    return n;
}

/* ---- the selector's text ------------------------------------------------- */

/* The selector as a counted string: trimming points into the caller's text
 * instead of copying it, so a selector of any length needs no allocation. */
typedef struct sel_text {
    const char *s;
    size_t n;
} sel_text;

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Surrounding spaces and tabs never count (a quoted " gpu " in a shell
 * script is "gpu"); NULL is the empty selector. */
static sel_text trim(const char *s)
{
    sel_text t = {s ? s : "", 0};
    while (is_blank(*t.s))
        t.s++;
    t.n = strlen(t.s);
    while (t.n && is_blank(t.s[t.n - 1]))
        t.n--;
    return t;
}

static int same_word(sel_text t, const char *word)
{
    return t.n == strlen(word) && !strncasecmp(t.s, word, t.n);
}

/* case-insensitive search of the first n bytes of needle in hay */
static int contains(const char *hay, sel_text needle)
{
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < needle.n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle.s[i]))
            i++;
        if (i == needle.n)
            return 1;
    }
    return needle.n == 0;
}

/* ---- "P:D" ----------------------------------------------------------------- */

/* No index can reach this: a parsed value at or above it matches no
 * device, where a 32-bit parse would have wrapped 2^32 to 0. */
#define INDEX_OUT_OF_RANGE (UINT64_C(1) << 32)

typedef enum sel_kind { SEL_NAME, SEL_INDEX, SEL_BAD_INDEX } sel_kind;

/* Text made only of digits, signs, colons and inner blanks, with a colon,
 * is meant as "P:D": it is taken as a name only if it has other letters,
 * so "0:", "-1:0" or "0 : 0" are refused rather than searched for. */
static int looks_like_index(sel_text t)
{
    int colon = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (!strchr("0123456789+-: \t", t.s[i]))
            return 0;
        colon |= t.s[i] == ':';
    }
    return colon;
}

/* Decimal digits from *i up to the next non-digit; at least one.  Values
 * saturate at INDEX_OUT_OF_RANGE so that no length of digits wraps. */
static int parse_digits(sel_text t, size_t *i, uint64_t *v)
{
    size_t start = *i;
    *v = 0;
    for (; *i < t.n && isdigit((unsigned char)t.s[*i]); (*i)++) {
        *v = *v * 10 + (uint64_t)(t.s[*i] - '0');
        if (*v > INDEX_OUT_OF_RANGE)
            *v = INDEX_OUT_OF_RANGE;
    }
    return *i > start;
}

/* Exactly digits ':' digits, or SEL_BAD_INDEX; names are SEL_NAME. */
static sel_kind parse_index(sel_text t, uint64_t *pi, uint64_t *di)
{
    if (!looks_like_index(t))
        return SEL_NAME;
    size_t i = 0;
    if (!parse_digits(t, &i, pi) || i == t.n || t.s[i++] != ':' || !parse_digits(t, &i, di) ||
        i != t.n)
        return SEL_BAD_INDEX;
    return SEL_INDEX;
}

/* ---- matching ---------------------------------------------------------------- */

static int matches_type(const dev_entry *e, cl_device_type want)
{
    cl_device_type type = 0;
    clGetDeviceInfo(e->device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    return (type & want) != 0;
}

/* names and vendors: PoCL's platform is "Portable Computing Language" but
 * its vendor is "The pocl project", which is what users type */
static int matches_name(const dev_entry *e, sel_text sel)
{
    const cl_platform_info pinfo[] = {CL_PLATFORM_NAME, CL_PLATFORM_VENDOR};
    const cl_device_info dinfo[] = {CL_DEVICE_NAME, CL_DEVICE_VENDOR};
    for (int i = 0; i < 2; i++) {
        char name[512] = "";
        clGetPlatformInfo(e->platform, pinfo[i], sizeof name, name, NULL);
        name[sizeof name - 1] = 0;
        if (contains(name, sel))
            return 1;
        name[0] = 0;
        clGetDeviceInfo(e->device, dinfo[i], sizeof name, name, NULL);
        name[sizeof name - 1] = 0;
        if (contains(name, sel))
            return 1;
    }
    return 0;
}

/* sel is trimmed and not an index (those are matched by device_select). */
static int matches(const dev_entry *e, sel_text sel)
{
    if (same_word(sel, "gpu"))
        return matches_type(e, CL_DEVICE_TYPE_GPU);
    if (same_word(sel, "cpu"))
        return matches_type(e, CL_DEVICE_TYPE_CPU);
    if (same_word(sel, "accelerator"))
        return matches_type(e, CL_DEVICE_TYPE_ACCELERATOR);
    return matches_name(e, sel);
}

static const dev_entry *find_index(const dev_entry *devs, int n, uint64_t pi, uint64_t di)
{
    for (int i = 0; i < n; i++)
        if (devs[i].pi == pi && devs[i].di == di)
            return &devs[i];
    return NULL;
}

static const dev_entry *find_match(const dev_entry *devs, int n, sel_text sel)
{
    for (int i = 0; i < n; i++)
        if (matches(&devs[i], sel))
            return &devs[i];
    return NULL;
}

/* The user's selector (trimmed; all blanks is no selector). */
static const dev_entry *find_selected(const dev_entry *devs, int n, sel_text sel)
{
    uint64_t pi, di;
    switch (parse_index(sel, &pi, &di)) {
    case SEL_INDEX:
        return find_index(devs, n, pi, di);
    case SEL_BAD_INDEX:
        return NULL;
    default:
        return find_match(devs, n, sel);
    }
}

/* No selector: the first GPU, else the first CPU, else the first device. */
static const dev_entry *find_default(const dev_entry *devs, int n)
{
    const dev_entry *e = find_match(devs, n, trim("gpu"));
    if (!e)
        e = find_match(devs, n, trim("cpu"));
    return e ? e : &devs[0];
}

clconv_status device_select(const char *selector, cl_platform_id *platform, cl_device_id *device)
{
    dev_entry devs[MAX_PLATFORMS * 4];
    int n = list_devices(devs, (int)(sizeof devs / sizeof devs[0]));
    if (n == 0)
        return CLCONV_NO_DEVICE;
    sel_text sel = trim(selector);
    if (sel.n == 0)
        sel = trim(getenv("CLCONV_DEVICE"));
    const dev_entry *e = sel.n ? find_selected(devs, n, sel) : find_default(devs, n);
    if (!e)
        return CLCONV_DEVICE_NOT_FOUND;
    *platform = e->platform;
    *device = e->device;
    return CLCONV_OK;
}
static void read_str(cl_device_id d, cl_device_info what, char *buf, size_t cap)
{
    buf[0] = 0;
    if (clGetDeviceInfo(d, what, cap, buf, NULL) != CL_SUCCESS)
        buf[0] = 0;
    buf[cap - 1] = 0;
}

void devinfo_read(cl_platform_id platform, cl_device_id d, clconv_devinfo *info)
{
    memset(info, 0, sizeof *info);
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof info->type, &info->type, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof info->max_alloc, &info->max_alloc, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof info->global_mem, &info->global_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof info->local_mem, &info->local_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof info->compute_units,
                    &info->compute_units, NULL);
    clGetDeviceInfo(d, CL_DEVICE_ADDRESS_BITS, sizeof info->address_bits, &info->address_bits, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof info->max_wg, &info->max_wg, NULL);
    read_str(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    read_str(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    read_str(d, CL_DRIVER_VERSION, info->driver, sizeof info->driver);
    if (!platform)
        clGetDeviceInfo(d, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL);
    if (platform) {
        clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL);
        clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof info->platform_version,
                          info->platform_version, NULL);
    }
    info->platform[sizeof info->platform - 1] = 0;
    info->platform_version[sizeof info->platform_version - 1] = 0;
    /* PoCL keeps each kernel's compiled forms in its own cache
     * (POCL_CACHE_DIR), and exporting a program's binary makes it compile
     * every kernel once more for any work-group size (program_cache.c) */
    info->driver_caches = strstr(info->platform, "Portable Computing Language") != NULL;
    /* PoCL: the prelude's own declarations instead of opencl-c.h (program.c) */
    info->own_builtins = info->driver_caches;
}
