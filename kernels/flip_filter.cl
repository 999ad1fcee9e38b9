/*
 * flip_filter.cl - the seed's second primitive: turn each filter 180 degrees
 * in space and swap its K and C roles, so that backward-data becomes a
 * forward convolution.
 *
 * CONTRACT flip_filter
 * With M an fmap (the host's flip_map, field for field): w is
 * K x Cg x R x S (Cg = C/groups, Kg = K/groups), wf is C x Kg x R x S:
 *   wf[c][kl][r][s] = w[g*Kg + kl][c - g*Cg][R-1-r][S-1-s],  g = c / Cg,
 * each tensor addressed through its element strides (ws over k, c, r, s;
 * ds over c, kl, r, s), so either may be KCRS or KRSC (the host gives wf
 * the layer's filter layout).
 * Arguments: tensors of the storage type dt_t (DT), offsets in elements;
 * values are copied exactly.  Global size: at least C*Kg*R*S work-items
 * (C = groups*Cg) in dimension 0; every wf element is written; w is only
 * read.
 */
typedef struct fmap {
    long C, Cg, Kg, R, S;
    long ws[4];                 /* w strides of k, c (in the group), r, s */
    long ds[4];                 /* wf strides of c, kl, r, s */
} fmap;

__kernel void flip_filter(__global const dt_t *w, long w_off,
                          __global dt_t *wf, long wf_off, fmap M)
{
    const idx id = get_global_id(0);
    if (id >= (idx)(M.C * M.Kg * M.R * M.S))
        return;
    idx c, kl, r, s;
    split4(id, M.Kg, M.R, M.S, &c, &kl, &r, &s);
    const idx g = c / (idx)M.Cg;
    const idx k = g * (idx)M.Kg + kl;
    const idx wi = k * (idx)M.ws[0] + (c - g * (idx)M.Cg) * (idx)M.ws[1] +
                   ((idx)M.R - 1 - r) * (idx)M.ws[2] + ((idx)M.S - 1 - s) * (idx)M.ws[3];
    const idx fi = c * (idx)M.ds[0] + kl * (idx)M.ds[1] + r * (idx)M.ds[2] + s * (idx)M.ds[3];
    store_el(wf, wf_off + fi, load_el(w + w_off, wi));
}
