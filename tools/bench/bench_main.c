/* clconv-bench - benchmark and check clconv's convolution passes on
 * problems in benchdnn's descriptor syntax (see --help and README.md). */
#include "demo.h"
#include "options.h"
#include "run.h"

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_opts_parse(&o, argc, argv);
    if (rc == BENCH_EXIT_OK)
        rc = o.demo ? bench_demo(&o) : bench_run(&o);
    else if (rc == BENCH_EXIT_DONE)
        rc = BENCH_EXIT_OK;
    bench_opts_free(&o);
    return rc;
}
