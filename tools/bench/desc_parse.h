/* desc_parse.h - benchdnn convolution descriptors <-> clconv_desc.
 *
 * Syntax (benchdnn's, tests/benchdnn/doc/driver_conv.md):
 *     gXmbX_icXidXihXiwX_ocXodXohXowX_kdXkhXkwX_sdXshXswX_pdXphXpwX_ddXdhXdwX_nS
 * X a decimal integer, S the rest of the string (the name; one pair of
 * surrounding double quotes is removed).  '_' is ignored.  Dilation dX is
 * 0-based as in benchdnn (dh0 = dense filter = clconv dilation_h 1).
 * Defaults and inference follow benchdnn's conv::str2desc():
 *   - mb 2, g 1, strides 1;
 *   - a dimension with none of its values given copies the next larger one
 *     (w from h: iw=ih, ow=oh, kw=kh, sw=sh, pw=ph, dw=dh); a problem with
 *     only w values is 1-D (h = 1);
 *   - missing output: o = (i - ((k-1)*(d+1)+1) + 2p) / s + 1 with p = 0
 *     if missing;
 *   - given output, missing padding: p = ((o-1)*s - i + (k-1)*(d+1)+1) / 2.
 * Problems benchdnn runs but clconv cannot are BENCH_DESC_UNSUPPORTED:
 * 3-D ones, and those whose output implies asymmetric or negative padding
 * (a kernel wider than the input padded by p on both sides included).
 * Pure string processing: no I/O, no allocation, no library calls, so the
 * function can be fuzzed on its own. */
#ifndef BENCH_DESC_PARSE_H
#define BENCH_DESC_PARSE_H

#include <stddef.h>
#include "clconv.h"

typedef enum bench_desc_status {
    BENCH_DESC_OK = 0,
    BENCH_DESC_INVALID,     /* not a valid descriptor: a syntax error or an impossible shape */
    BENCH_DESC_UNSUPPORTED  /* valid for benchdnn, but clconv cannot run it (3-D,
                             * asymmetric or negative padding) */
} bench_desc_status;

/* Largest value accepted for any one number in a descriptor, given or
 * deduced: far above any layer a device holds (benchdnn's own inputs go past
 * 2^32, and those are the library's to refuse or run), and low enough that
 * the parser's sums of three values cannot overflow int64. */
#define BENCH_DESC_MAX_VALUE 1000000000000000000LL

/* Parse s into *d (and the name into name[name_cap], truncated, always
 * NUL-terminated when name_cap > 0); on success every field of *d is set,
 * struct_size as clconv_desc_init sets it.  On failure *d is untouched and err
 * (if err_cap > 0) holds a one-line reason.  name and err may be NULL when
 * their capacity is 0. */
bench_desc_status bench_parse_desc(const char *s, clconv_desc *d, char *name, size_t name_cap,
                                   char *err, size_t err_cap);

/* The shortest benchdnn string that parses back to *d (mb always
 * written; name, if non-empty, as n"name").  snprintf semantics: returns
 * the length the full string needs. */
int bench_format_desc(const clconv_desc *d, const char *name, char *buf, size_t cap);

#endif
