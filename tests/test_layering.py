"""The dependency rules: model code never imports tensorflow_text or pipelines, pipelines
never imports model code, and only the CLI wires the two together."""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def modules(package):
    for folder, _, files in os.walk(os.path.join(ROOT, package)):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                yield os.path.relpath(path, ROOT), path


def imported(path):
    tree = ast.parse(open(path).read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "package, forbidden, exempt",
    [
        ("keras_bert", {"pipelines", "tensorflow_text", "saved_models"}, "keras_bert/cli/"),
        ("pipelines", {"keras_bert", "saved_models", "keras"}, None),
    ],
)
def test_dependencies_flow_one_way(package, forbidden, exempt):
    offenders = {
        rel: sorted(imported(path) & forbidden)
        for rel, path in modules(package)
        if not (exempt and rel.startswith(exempt))
    }
    assert not {k: v for k, v in offenders.items() if v}


TENSORFLOW_USERS = {
    "keras_bert/checkpoints/google_tf1.py",
    "keras_bert/checkpoints/model_garden.py",
    "keras_bert/input_checks.py",
    "keras_bert/distribute.py",
    "keras_bert/distributed_trainer.py",  # the loop on strategy.run
    "keras_bert/dropout_mask.py",  # 16-bit dropout decisions (TF only)
    "keras_bert/fused_adam.py",  # AdamW on TF's fused kernels (TF only)
    "keras_bert/frozen_inference.py",  # tf.function on TensorFlow
    "keras_bert/frozen_matmul.py",  # oneDNN's kept-weights dense kernel
    "keras_bert/gelu_xla.py",  # The training GELU in XLA (TF only)
    "keras_bert/int8_matmul.py",  # oneDNN's int8 kernels (CPU inference)
    "keras_bert/layer_norm_onednn.py",  # oneDNN's LayerNorm (CPU inference)
    "keras_bert/onednn_probe.py",  # their once-per-process check
    "keras_bert/softmax_onednn.py",  # oneDNN's bf16 softmax (CPU inference)
    "keras_bert/weighted_cross_entropy.py",  # its all-reduce under tf.distribute
    "keras_bert/training.py",
}  # dense embedding gradients (TF only)


def test_tensorflow_in_model_code_only_for_checkpoint_files_and_strategies():
    # Model code uses keras.ops; reading/writing TF checkpoint files, traced input checks,
    # tf.distribute strategies and their training loop need TensorFlow.
    users = {
        rel
        for rel, path in modules("keras_bert")
        if "tensorflow" in imported(path) and not rel.startswith("keras_bert/cli/")
    }
    assert users <= TENSORFLOW_USERS, users


@pytest.mark.parametrize("rel", sorted(TENSORFLOW_USERS))
def test_model_code_imports_tensorflow_only_lazily(rel):
    # `import keras_bert` must not import TensorFlow (the JAX backend runs without it).
    tree = ast.parse(open(os.path.join(ROOT, rel)).read())
    top_level = {
        alias.name.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    top_level |= {
        node.module.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "tensorflow" not in top_level
