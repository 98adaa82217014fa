"""The suite's time guard (tests/conftest.py): the slowest tests, ranked, over-budget
ones marked."""

from tests.conftest import slowest_lines


def test_slowest_tests_are_ranked_and_the_budget_marked():
    seconds = {f"t{i}": float(i) for i in range(20)} | {"slow": 61.0, "at_limit": 60.0}
    lines = slowest_lines(seconds, count=3)
    assert [line.split()[2] for line in lines] == ["slow", "at_limit", "t19"]
    assert lines[0].endswith("(over the 60 s budget)")
    assert not lines[1].endswith("budget)") and not lines[2].endswith("budget)")
    assert len(slowest_lines(seconds)) == 15
