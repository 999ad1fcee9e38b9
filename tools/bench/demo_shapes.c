/* demo_shapes.c - the demo's problems, built in so that --demo runs from
 * any directory: tools/shapes/edge.txt (checked) and tools/shapes/anchors.txt
 * (timed).  Keep them identical to the files; tests/test_bench_parse.c
 * compares them. */
#include "demo_shapes.h"

const char *const bench_demo_check_shapes[] = {
    "ic3ih7oc5oh7kh3ph1n\"edge:tail_c3k5\"",
    "mb3ic19ih13oc33oh13kh3ph1n\"edge:tail_c19k33\"",
    "ic29ih13oc65oh11kh3ph0n\"edge:tail_c29k65\"",
    "mb1ic7ih9oc1oh9kh3ph1n\"edge:single_output_channel\"",
    "mb1ic1ih1oc1oh1kh1ph0n\"edge:1x1x1\"",
    "ic16ih7oc8oh9kh1ph1n\"edge:1x1_pad1\"",
    "ic32ih7oc16oh7kh1sh2ph3n\"edge:1x1s2_pad3\"",
    "ic4ih5oc8oh13kh3ph5n\"edge:pad5_k3\"",
    "ic3ih6iw4oc4oh12ow3kh1kw3sh1sw2ph3pw2n\"edge:pad_rect\"",
    "ic16ih20oc16oh16kh3ph0dh1n\"edge:dil2\"",
    "ic8ih15oc8oh15kh3ph2dh1n\"edge:dil2_same\"",
    "ic8ih17oc8oh8kh3sh2ph2dh2n\"edge:dil3_s2\"",
    "ic4ih11iw13oc6oh7ow9kh3kw2sh1sw1ph0pw0dh1dw3n\"edge:dil_rect\"",
    "g32ic32ih28oc32oh28kh3ph1n\"edge:depthwise_3x3\"",
    "g64ic64ih14oc64oh7kh3sh2ph1n\"edge:depthwise_3x3s2\"",
    "g16ic16ih10oc32oh10kh5ph2n\"edge:depthwise_x2\"",
    "g4ic16ih10oc32oh10kh3ph1n\"edge:grouped_g4\"",
    "g3ic9ih8oc6oh4kh1sh2ph0n\"edge:grouped_1x1s2\"",
    "ic8ih15oc8oh5kh1sh3ph0n\"edge:1x1s3\"",
    "ic4ih16oc4oh4kh2sh4ph0n\"edge:2x2s4\"",
    "ic3ih17oc5oh4kh3sh5ph1n\"edge:3x3s5\"",
    "ic16ih7oc16oh1kh7ph0n\"edge:full_kernel\"",
    "ic8ih9iw17oc8oh9ow9kh3kw5sh1sw2ph1pw2n\"edge:rect\"",
    "ic8ih1iw32oc8oh1ow32kh1kw5sh1sw1ph0pw2n\"edge:1d\"",
};

const size_t bench_demo_check_count =
    sizeof bench_demo_check_shapes / sizeof bench_demo_check_shapes[0];

const char *const bench_demo_timed_shapes[] = {
    "mb32ic3ih224oc64oh112kh7sh2ph3n\"r50_conv1_7x7s2\"",
    "mb32ic64ih56oc64oh56kh3ph1n\"r50_3x3_c64_56\"",
    "mb32ic128ih56oc128oh28kh3sh2ph1n\"r50_3x3s2_c128_56\"",
    "mb32ic256ih56oc64oh56kh1n\"r50_1x1_c256_56\"",
    "mb32ic256ih14oc256oh14kh3ph1n\"r50_3x3_c256_14\"",
    "mb32ic512ih7oc512oh7kh3ph1n\"r50_3x3_c512_7\"",
};

const size_t bench_demo_timed_count =
    sizeof bench_demo_timed_shapes / sizeof bench_demo_timed_shapes[0];
