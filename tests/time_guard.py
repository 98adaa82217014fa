"""The suite's time guard: every run ends with its 15 slowest tests (setup, call and
teardown together), those over the one-test budget marked, saying whether their
docstring gives the reason ("Over 60 s: ..."). tests/conftest.py takes these hooks;
tests/test_time_guard.py runs this file as the conftest of a pytest of its own."""

import os

import pytest

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
