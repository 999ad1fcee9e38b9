/*
 * flip_filter.cl - the seed's second primitive: turn each filter 180 degrees
 * in space and swap its K and C roles, so that backward-data becomes a
 * forward convolution.
 *
 * CONTRACT
 * w is K x Cg x R x S (Cg = C/groups, Kg = K/groups); wf is C x Kg x R x S:
 *   wf[c][kl][r][s] = w[g*Kg + kl][c - g*Cg][R-1-r][S-1-s],  g = c / Cg.
 * Arguments: offsets in floats, sizes as long.  Global size: at least
 * C*Kg*R*S work-items (C = groups*Cg) in dimension 0; every wf element is
 * written; w is only read.
 */
__kernel void flip_filter(__global const float *w, long w_off,
                          __global float *wf, long wf_off,
                          long C, long Cg, long Kg, long R, long S)
{
    long id = get_global_id(0);
    if (id >= C * Kg * R * S)
        return;
    long s = id % S;
    long t = id / S;
    long r = t % R;
    t /= R;
    long kl = t % Kg;
    long c = t / Kg;
    long g = c / Cg;
    long k = g * Kg + kl;
    wf[wf_off + id] = w[w_off + ((k * Cg + (c - g * Cg)) * R + (R - 1 - r)) * S + (S - 1 - s)];
}
