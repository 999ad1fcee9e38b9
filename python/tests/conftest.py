"""Shared fixtures: the run's random seed, a context, clconv.torch's logged context, and the rule that a
skipped test fails the suite (make test must not pass on tests that did not run)."""
import os
import zlib

import numpy as np
import pytest

import clconv

# Fresh inputs every run, and any run repeatable: CLCONV_TEST_SEED=<seed>.
SEED = int(os.environ.get("CLCONV_TEST_SEED") or np.random.SeedSequence().entropy % 2**32)


def pytest_report_header(config):
    return ["clconv: %s, %s" % (clconv.library_path(), clconv.Context().device_name),
            "clconv: random seed %d (CLCONV_TEST_SEED=%d repeats this run)" % (SEED, SEED)]


@pytest.fixture
def rng(request):
    """A generator of its own for each test, from the run's seed and the test's id."""
    return np.random.default_rng([SEED, zlib.crc32(request.node.nodeid.encode())])


@pytest.fixture(scope="session")
def ctx():
    with clconv.Context() as c:
        yield c


@pytest.fixture
def torch_ctx():
    """A context of its own as clconv.torch's context, for one test."""
    import clconv.torch as ct  # torch only for the tests that use it
    previous = ct.context()
    with clconv.Context() as c:
        ct.set_context(c)
        try:
            yield c
        finally:
            ct.set_context(previous)


@pytest.fixture
def calls(torch_ctx):
    """The calls torch_ctx makes of the C library (helpers.CallLog)."""
    from helpers import CallLog
    return CallLog(torch_ctx)


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.write_line("clconv: %d test(s) skipped (see the summary, -rs): the suite fails"
                            % skipped, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
