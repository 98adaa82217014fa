"""The dependency rules: model code never imports tensorflow_text or pipelines, pipelines
never imports model code, and only the CLI wires the two together; portable model code
(layers, ops, tasks, the backbone) never imports a backend, kernels never import model
code, everything else reaches a kernel through the one dispatch module, and only an
export and FrozenInference set the execution switches."""

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
    "keras_bert/distribute/strategy.py",  # tf.distribute strategies
    "keras_bert/distribute/distributed_trainer.py",  # the loop on strategy.run
    "keras_bert/inference/frozen_inference.py",  # tf.function on TensorFlow
    "keras_bert/weighted_cross_entropy.py",  # its all-reduce under tf.distribute
    "keras_bert/training.py",  # dense embedding gradients (TF only)
}
KERNELS = "keras_bert/kernels/"  # Every kernel module: oneDNN and XLA on TensorFlow.
# Portable model code: the math of BERT in keras.ops, on any backend.
PORTABLE = ("keras_bert/layers/", "keras_bert/ops/", "keras_bert/tasks/", "keras_bert/backbone.py")


def test_tensorflow_in_model_code_only_for_checkpoint_files_and_strategies():
    # Model code uses keras.ops; reading/writing TF checkpoint files, traced input checks,
    # tf.distribute strategies and their training loop need TensorFlow.
    users = {
        rel
        for rel, path in modules("keras_bert")
        if "tensorflow" in imported(path) and not rel.startswith(("keras_bert/cli/", KERNELS))
    }
    assert users <= TENSORFLOW_USERS, users


def test_portable_model_code_never_imports_a_backend():
    # Not even lazily: a backend's fast path lives in keras_bert/kernels.
    offenders = {
        rel: sorted(imported(path) & {"tensorflow", "jax", "torch"})
        for rel, path in modules("keras_bert")
        if rel.startswith(PORTABLE)
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_kernels_never_import_model_code():
    # Kernels are leaves: layers call them, never the reverse (no import circle).
    model_code = ("keras_bert.layers", "keras_bert.tasks", "keras_bert.backbone")
    model_code += ("keras_bert.inference", "keras_bert.builder", "keras_bert.cli")
    offenders = {}
    for rel, path in modules("keras_bert"):
        if rel.startswith(KERNELS):
            tree = ast.parse(open(path).read())
            names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
            names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            bad = sorted(n for n in names if n and n.startswith(model_code))
            if bad:
                offenders[rel] = bad
    assert not offenders


KERNEL_FILES = sorted(rel for rel, _ in modules("keras_bert") if rel.startswith(KERNELS))


@pytest.mark.parametrize("rel", sorted(TENSORFLOW_USERS) + KERNEL_FILES)
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


SWITCH_SETTERS = {"portable", "constant_weights"}
SWITCH_SETTING = {"saved_models/export.py", "keras_bert/inference/frozen_inference.py"}


def test_only_export_and_inference_set_the_switches():
    # Kernels read the switches; only an export and FrozenInference turn them on.
    setters = set()
    for package in ("keras_bert", "saved_models"):
        for rel, path in modules(package):
            tree = ast.parse(open(path).read())
            for node in ast.walk(tree):
                func = node.func if isinstance(node, ast.Call) else None
                name = getattr(func, "attr", None) or getattr(func, "id", None)
                if name in SWITCH_SETTERS and rel != "keras_bert/kernels/switches.py":
                    setters.add(rel)
    assert setters == SWITCH_SETTING


def kernel_imports(path):
    """The `keras_bert.kernels` modules a file imports, by their short names."""
    found = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom) and node.module == "keras_bert.kernels":
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(KERNEL_PACKAGE):
            found.add(node.module[len(KERNEL_PACKAGE) :])
        elif isinstance(node, ast.Import):
            found.update(
                a.name[len(KERNEL_PACKAGE) :]
                for a in node.names
                if a.name.startswith(KERNEL_PACKAGE)
            )
    return found


KERNEL_PACKAGE = "keras_bert.kernels."


def test_code_outside_the_kernels_calls_them_through_the_dispatch_alone():
    # One door: a layer (or the optimizer) asks `dispatch`; the switches are read by
    # kernels and set by the export and FrozenInference.
    offenders = {}
    for package in ("keras_bert", "saved_models"):
        for rel, path in modules(package):
            if rel.startswith(KERNELS):
                continue
            allowed = {"dispatch"} | ({"switches"} if rel in SWITCH_SETTING else set())
            extra = kernel_imports(path) - allowed
            if extra:
                offenders[rel] = sorted(extra)
    assert not offenders


def test_the_dispatch_rule_sees_every_import_form(tmp_path):
    path = tmp_path / "example.py"
    path.write_text(
        "from keras_bert.kernels import dispatch, switches\n"
        "from keras_bert.kernels.constant_matmul import dense\n"
        "import keras_bert.kernels.int8_matmul\n"
    )
    assert kernel_imports(path) == {"dispatch", "switches", "constant_matmul", "int8_matmul"}
