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
 *   - given output, missing padding: p = ((o-1)*s - i + (k-1)*(d+1)+1) / 2;
 *   - the end (bottom / right) padding is what the output needs, as
 *     benchdnn's pad_end = (o-1)*s - i + (k-1)*(d+1)+1 - p, so a given
 *     output may imply unequal padding (ResNet's conv1 at oh112, a kernel
 *     wider than the input): such problems parse into pad_asymmetric = 1
 *     descriptors.  A convolution's output stays the same for up to s-1
 *     more end rows; of those the parse takes the one nearest p (equal
 *     padding, pad_asymmetric 0, where the output allows it).
 * A deconvolution (benchdnn's deconv driver, --deconv) reads the same
 * syntax with its own roles: ic, ih its input, oc, oh its output, and
 *   o = (i-1)*s + (k-1)*(d+1)+1 - 2p, p = ((i-1)*s - o + (k-1)*(d+1)+1) / 2,
 *   pad_end = (i-1)*s - o + (k-1)*(d+1)+1 - p,
 * into clconv's transposed-convolution descriptor (host/clconv.h): c, h,
 * w its input, k its output channels; a negative pad_end is output
 * padding (out_pad_h / out_pad_w), which must stay below the stride.
 * Problems benchdnn runs but clconv cannot are BENCH_DESC_UNSUPPORTED:
 * 3-D ones, negative padding (a deduced begin padding below 0, or an
 * output that leaves input rows unread), and deconvolution output padding
 * of a stride or more.
 * Pure string processing: no I/O, no allocation, no library calls, so the
 * functions can be fuzzed on their own. */
#ifndef BENCH_DESC_PARSE_H
#define BENCH_DESC_PARSE_H

#include <stddef.h>
#include "clconv.h"

typedef enum bench_desc_status {
    BENCH_DESC_OK = 0,
    BENCH_DESC_INVALID,     /* not a valid descriptor: a syntax error or an impossible shape */
    BENCH_DESC_UNSUPPORTED  /* valid for benchdnn, but clconv cannot run it (3-D,
                             * negative padding, output padding >= stride) */
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
/* The same for a deconvolution problem: *d is the transposed
 * convolution's descriptor. */
bench_desc_status bench_parse_deconv_desc(const char *s, clconv_desc *d, char *name,
                                          size_t name_cap, char *err, size_t err_cap);

/* The shortest benchdnn string that parses back to *d (mb always
 * written; the output always, so that unequal padding reads back; name, if
 * non-empty, as n"name").  snprintf semantics: returns the length the full
 * string needs. */
int bench_format_desc(const clconv_desc *d, const char *name, char *buf, size_t cap);
/* The same for a transposed convolution's descriptor, in deconv syntax
 * (oh, ow its output). */
int bench_format_deconv_desc(const clconv_desc *d, const char *name, char *buf, size_t cap);

#endif
