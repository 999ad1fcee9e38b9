/* A 64-bit FNV-1a hash: small, dependency-free and good enough to name
 * cache entries and to checksum them (corruption, not attacks). */
#include "internal.h"

uint64_t hash64_update(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

uint64_t hash64(const void *data, size_t len)
{
    return hash64_update(HASH64_SEED, data, len);
}
