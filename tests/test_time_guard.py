"""The suite's time guard (tests/conftest.py): the slowest tests, ranked, over-budget
ones marked."""

import os

from tests.time_guard import slowest_lines


def test_slowest_tests_are_ranked_and_the_budget_marked():
    seconds = {f"t{i}": float(i) for i in range(20)} | {"slow": 61.0, "at_limit": 60.0}
    lines = slowest_lines(seconds, count=3, budget=60.0)
    assert [line.split()[2] for line in lines] == ["slow", "at_limit", "t19"]
    assert "(over the 60 s budget: NO REASON" in lines[0]
    reasoned = slowest_lines(seconds, count=3, budget=60.0, reasoned={"slow"})
    assert reasoned[0].endswith("(over the 60 s budget: its docstring says why)")
    assert not lines[1].endswith("budget)") and not lines[2].endswith("budget)")
    assert len(slowest_lines(seconds)) == 15


def test_a_reason_in_the_docstring_reaches_the_summary(pytester, monkeypatch):
    """In a pytest of its own, under xdist as the README runs it (the report crosses
    processes), with a budget of 10 ms: a slow test's "Over 60 s:" reason is seen
    where the summary is written."""
    # The guard's own file as the conftest (the suite's conftest takes its hooks from it;
    # without the suite's fixtures, the inner pytest does not start TensorFlow).
    pytester.makeconftest(open(os.path.join(os.path.dirname(__file__), "time_guard.py")).read())
    pytester.makepyfile(
        test_slow='''
import time

def test_with_reason():
    """Over 60 s: it sleeps."""
    time.sleep(0.05)

def test_without_reason():
    time.sleep(0.05)
'''
    )
    monkeypatch.setenv("KERAS_BERT_ONE_TEST_BUDGET_S", "0.01")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=2)
    for line in (  # In either order: they took about as long.
        "*test_with_reason*(over the 0.01 s budget: its docstring says why)",
        "*test_without_reason*(over the 0.01 s budget: NO REASON*",
    ):
        result.stdout.fnmatch_lines([line])
