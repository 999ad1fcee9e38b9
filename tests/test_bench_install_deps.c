/* tools/install-deps.sh (what `make demo` and `make test` run first) with
 * stand-ins for apt-get, dpkg-query, fuser and id first on PATH, so that
 * nothing is installed: it must wait for the dpkg lock a bounded time
 * rather than fail at once, say what it waits for, and not call apt at all
 * when everything is installed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char stub_dir[] = "/tmp/clconv-deps-XXXXXX";

static void stub(const char *name, const char *body)
{
    char path[200];
    snprintf(path, sizeof path, "%s/%s", stub_dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    cr_assert_eq(chmod(path, 0755), 0);
}

static void make_stubs(void)
{
    cr_assert_not_null(mkdtemp(stub_dir));
    stub("dpkg-query", "[ \"$STUB_INSTALLED\" = 1 ] && printf 'install ok installed' ||"
                       " printf 'unknown ok not-installed'");
    stub("apt-get", "echo \"apt-get $*\" >> \"$STUB_LOG\"");
    stub("id", "echo 0");
    /* fuser prints the holders' pids on stdout when a lock is held */
    stub("fuser", "[ \"$STUB_LOCKED\" = 1 ] || exit 1; printf ' 4242'");
}

static void remove_stubs(void)
{
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", stub_dir);
    cr_expect_eq(system(cmd), 0);
}

static char *read_all(FILE *f)
{
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    return buf;
}

/* Runs the script from the repository root (make test's cwd) with env
 * settings; its output in *out (static), apt-get's calls in *apt. */
static int run_script(const char *env, char **out, char **apt)
{
    char log[200], cmd[800];
    snprintf(log, sizeof log, "%s/apt.log", stub_dir);
    remove(log);
    snprintf(cmd, sizeof cmd, "PATH='%s':/usr/bin:/bin STUB_LOG='%s' %s sh tools/install-deps.sh "
                              "gcc 2>&1", stub_dir, log, env);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    *out = strdup(read_all(p));
    int rc = pclose(p);
    FILE *f = fopen(log, "r");
    *apt = strdup(f ? read_all(f) : "");
    if (f)
        fclose(f);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TestSuite(bench_deps, .init = make_stubs, .fini = remove_stubs);

Test(bench_deps, waits_for_the_dpkg_lock_and_says_so)
{
    char *out, *apt;
    cr_assert_eq(run_script("STUB_LOCKED=1", &out, &apt), 0, "%s", out);
    cr_expect(strstr(out, "waiting up to 300 s for the dpkg lock"), "%s", out);
    cr_expect(strstr(out, "holds the dpkg lock (pid 4242)"), "%s", out);
    cr_expect(strstr(apt, "apt-get -o DPkg::Lock::Timeout=300 update"), "%s", apt);
    cr_expect(strstr(apt, "apt-get -o DPkg::Lock::Timeout=300 install -y -qq "
                          "--no-install-recommends gcc"), "%s", apt);
    free(out);
    free(apt);
    cr_assert_eq(run_script("CLCONV_DPKG_LOCK_TIMEOUT=7", &out, &apt), 0, "%s", out);
    cr_expect(strstr(out, "waiting up to 7 s"), "%s", out);
    cr_expect(!strstr(out, "holds the dpkg lock"), "no holder, yet: %s", out);
    cr_expect(strstr(apt, "-o DPkg::Lock::Timeout=7 update"), "%s", apt);
    cr_expect(strstr(apt, "-o DPkg::Lock::Timeout=7 install"), "%s", apt);
    free(out);
    free(apt);
    cr_expect_eq(run_script("CLCONV_DPKG_LOCK_TIMEOUT=soon", &out, &apt), 2, "%s", out);
    cr_expect_str_eq(apt, "");
    free(out);
    free(apt);
}

Test(bench_deps, nothing_missing_never_calls_apt)
{
    char *out, *apt;
    cr_assert_eq(run_script("STUB_INSTALLED=1 STUB_LOCKED=1", &out, &apt), 0, "%s", out);
    cr_expect_str_eq(out, "");
    cr_expect_str_eq(apt, "");
    free(out);
    free(apt);
}
