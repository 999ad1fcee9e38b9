/* demo_shapes.c - tools/shapes/demo.txt as a static list (keep identical;
 * tests/test_bench_parse.c compares the two). */
#include "demo_shapes.h"

const char *const bench_demo_shapes[] = {
    "mb2ic16ih14oc32oh14kh3ph1n\"demo:3x3\"",
    "mb2ic32ih14oc16oh14kh1ph0n\"demo:1x1\"",
    "mb2ic8ih15oc16oh8kh3sh2ph1n\"demo:3x3s2\"",
    "mb2ic3ih32oc8oh16kh7sh2ph3n\"demo:7x7s2\"",
    "mb2ic5ih7oc7oh11kh1ph2n\"demo:1x1_pad2\"",
    "g16mb2ic16ih12oc16oh12kh3ph1n\"demo:depthwise\"",
    "g2mb2ic8ih9oc12oh9kh3ph1n\"demo:grouped\"",
    "mb2ic4ih17iw13oc6oh15ow7kh3kw5sh1sw2ph1pw2dh1dw0n\"demo:dilated_rect\"",
    "mb2ic6ih11oc5oh4kh2sh3ph0n\"demo:stride_gt_kernel\"",
};

const size_t bench_demo_count = sizeof bench_demo_shapes / sizeof bench_demo_shapes[0];
