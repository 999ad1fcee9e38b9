/* Device selection: CLCONV_DEVICE or an explicit selector, else the first
 * GPU, else the first CPU, else the first device of any kind. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* case-insensitive strstr */
static int contains(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == nl)
            return 1;
    }
    return nl == 0;
}

static int matches(const dev_entry *e, const char *sel)
{
    unsigned pi, di;
    char tail;
    if (sscanf(sel, "%u:%u%c", &pi, &di, &tail) == 2)
        return e->pi == pi && e->di == di;
    cl_device_type type = 0;
    clGetDeviceInfo(e->device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    if (!strcasecmp(sel, "gpu"))
        return (type & CL_DEVICE_TYPE_GPU) != 0;
    if (!strcasecmp(sel, "cpu"))
        return (type & CL_DEVICE_TYPE_CPU) != 0;
    if (!strcasecmp(sel, "accelerator"))
        return (type & CL_DEVICE_TYPE_ACCELERATOR) != 0;
    /* names and vendors: PoCL's platform is "Portable Computing Language"
     * but its vendor is "The pocl project", which is what users type */
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

clconv_status device_select(const char *selector, cl_platform_id *platform, cl_device_id *device)
{
    dev_entry devs[MAX_PLATFORMS * 4];
    int n = list_devices(devs, (int)(sizeof devs / sizeof devs[0]));
    if (n == 0)
        return CLCONV_NO_DEVICE;
    if (!selector || !*selector)
        selector = getenv("CLCONV_DEVICE");
    const char *order[3] = {"gpu", "cpu", ""};
    int tries = 3;
    if (selector && *selector) {
        order[0] = selector;
        tries = 1;
    }
    for (int t = 0; t < tries; t++)
        for (int i = 0; i < n; i++)
            if (matches(&devs[i], order[t])) {
                *platform = devs[i].platform;
                *device = devs[i].device;
                return CLCONV_OK;
            }
    return tries == 1 ? CLCONV_DEVICE_NOT_FOUND : CLCONV_NO_DEVICE;
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
}
