"""The model code on Keras's JAX backend: `import keras_bert` and a Hugging Face load
without TensorFlow; Google TF1 and Hugging Face checkpoints equal the NumPy reference;
the real MiniLM equals PyTorch; `FrozenInference` (jax.jit) gives the same numbers;
every task model fits, predicts and round-trips.
Runs `tests/jax_backend_run.py` in a process with KERAS_BACKEND=jax."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests import numpy_bert
from tests.checkpoint_files import tf1_config, tiny_weights, write_hf, write_tf1
from tests.conftest import minilm_dir

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason="jax is not installed (the [test] extra installs it)",
)
HEADS, LAYERS = 2, 2
MINILM_TEXTS = (
    [
        "Short.",
        "A considerably longer sentence, with punctuation; and accents: café, naïve, Zürich.",
    ],
    ["What is it?", "Stocks fell sharply on Monday."],
)


def _minilm_reference(work):
    """Token ids of two padded pairs and PyTorch's outputs on them."""
    import torch
    import transformers

    from pipelines import BertPreprocessor

    os.symlink(minilm_dir(), os.path.join(work, "minilm"))
    features = {
        k: v.numpy()
        for k, v in BertPreprocessor.from_dir(minilm_dir(), sequence_length=24)(
            MINILM_TEXTS
        ).items()
    }
    reference = transformers.BertModel.from_pretrained(minilm_dir()).eval()
    with torch.no_grad():
        out = reference(
            input_ids=torch.tensor(features["token_ids"]).long(),
            token_type_ids=torch.tensor(features["segment_ids"]).long(),
            attention_mask=torch.tensor(features["padding_mask"]).long(),
        )
    return features, out.last_hidden_state.numpy(), out.pooler_output.numpy()


def _run_on_jax(work, *arguments):
    # XLA's LLVM passes at level 0: compiling the run's twenty-odd programs is most of its
    # time (measured 47 s -> 36 s for the run). The checks are of the model code's numbers
    # against NumPy and PyTorch, not of XLA's optimizations; they hold at this level too.
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        TF_CPP_MIN_LOG_LEVEL="3",
        JAX_PLATFORMS="cpu",
        XLA_FLAGS=(os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0"),
    )
    script = os.path.join(os.path.dirname(__file__), "jax_backend_run.py")
    done = subprocess.run(
        [sys.executable, script, work, *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=os.path.dirname(os.path.dirname(script)),
    )
    assert done.returncode == 0, done.stderr[-4000:]


def test_model_code_runs_on_jax(tmp_path):
    work = str(tmp_path)
    weights = tiny_weights()
    config = tf1_config(11, 6, LAYERS, HEADS, 10)
    write_hf(os.path.join(work, "hf"), weights, config)
    write_tf1(os.path.join(work, "tf1"), weights, config)
    rng = np.random.default_rng(3)
    mask = np.ones((2, 7), "int32")
    mask[1, 5:] = 0
    tiny = {
        "token_ids": rng.integers(0, 11, (2, 7)).astype("int32"),
        "segment_ids": (np.arange(7) > 3).astype("int32")[None].repeat(2, 0),
        "padding_mask": mask,
    }
    saved = dict(tiny)
    has_minilm = minilm_dir() is not None and importlib.util.find_spec("torch") is not None
    if has_minilm:
        features, minilm_sequence, minilm_pooled = _minilm_reference(work)
        saved.update({f"minilm_{k}": v for k, v in features.items()})
    np.savez(os.path.join(work, "inputs.npz"), **saved)

    _run_on_jax(work)
    with open(os.path.join(work, "jax_report.json")) as f:
        report = json.load(f)
    got = np.load(os.path.join(work, "jax_outputs.npz"))

    assert report["backend"] == "jax"
    assert not report["tensorflow_after_import"], "import keras_bert loaded TensorFlow"
    assert not report["tensorflow_after_hf_load"], "a safetensors load loaded TensorFlow"
    sequence, pooled, _ = numpy_bert.forward(
        weights, tiny["token_ids"], tiny["segment_ids"], mask, HEADS, LAYERS
    )
    real = mask[..., None].astype(bool)
    for source in ("hf", "tf1", "frozen"):
        np.testing.assert_allclose(got[f"{source}_sequence"] * real, sequence * real, atol=2e-5)
        np.testing.assert_allclose(got[f"{source}_pooled"], pooled, atol=2e-5)
    sequence_ltr, pooled_ltr, _ = numpy_bert.forward(
        weights, tiny["token_ids"], tiny["segment_ids"], mask, HEADS, LAYERS, causal=True
    )
    for source in ("causal", "causal_frozen"):
        np.testing.assert_allclose(got[f"{source}_sequence"] * real, sequence_ltr * real, atol=2e-5)
        np.testing.assert_allclose(got[f"{source}_pooled"], pooled_ltr, atol=2e-5)
    int8_error = np.abs((got["hf_int8_sequence"] - sequence) * real).max()
    assert 0 < int8_error < 0.05, int8_error  # int8's error on LayerNorm'd outputs
    if has_minilm:
        real = features["padding_mask"][..., None].astype(bool)
        assert np.abs((got["minilm_sequence"] - minilm_sequence) * real).max() <= 1e-5
        assert np.abs(got["minilm_pooled"] - minilm_pooled).max() <= 1e-5

    assert set(report["tasks"]) == {
        "classification",
        "token_classification",
        "feature_tagging",
        "multiple_choice",
        "question_answering",
        "embedding",
    }
    for task, result in report["tasks"].items():
        losses = result["losses"]
        assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], (task, losses)
        assert result["reloaded_equal"], task
        # Reloaded, the same weights train (the feature tagger's encoder stays frozen)
        # and the optimizer's state fits them.
        assert len(set(result["trainable"])) == 1 and len(set(result["optimizer"])) == 1, (
            task,
            result,
        )
    frozen = report["tasks"]["feature_tagging"]["trainable"][0]
    assert frozen < report["tasks"]["token_classification"]["trainable"][0]


def _attention_reference(query, key, value, keep):
    """float64 softmax attention over the kept keys; (batch, queries, heads, dim)."""
    query, key, value = (np.asarray(t, "float64") for t in (query, key, value))
    scores = np.einsum("bqnd,bknd->bnqk", query, key) / np.sqrt(query.shape[-1])
    scores = np.where(keep[:, None, None, :], scores, -np.inf)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    return np.einsum("bnqk,bknd->bqnd", probs / probs.sum(-1, keepdims=True), value)


def test_jax_attention_takes_key_lengths_only_for_prefix_masks(tmp_path):
    """On JAX, a batch whose masks are all non-empty prefixes is attended by key lengths
    (cuDNN's padding mode on GPUs); left padding, a hole or an empty row falls back to
    the mask tensor. Both equal the reference on every row with a real key."""
    work = str(tmp_path)
    rng = np.random.default_rng(5)
    query, key, value = (rng.normal(size=(4, 7, 2, 3)).astype("float32") for _ in range(3))
    full = [1] * 7
    masks = {
        "prefix": [full, [1] * 5 + [0] * 2, [1, 1] + [0] * 5, [1] + [0] * 6],
        "left_padding": [full, [0, 0] + [1] * 5, full, full],
        "hole": [full, [1, 1, 0, 1, 1, 0, 0], full, full],
        "empty_row": [full, [0] * 7, full, full],
    }
    masks = {name: np.array(rows, "int32") for name, rows in masks.items()}
    np.savez(os.path.join(work, "attention_inputs.npz"), query=query, key=key, value=value, **masks)
    _run_on_jax(work, "attention")
    got = np.load(os.path.join(work, "attention_outputs.npz"))
    for name, mask in masks.items():
        keep = mask.astype(bool)
        real = keep.any(-1)
        np.testing.assert_allclose(
            got[name][real],
            _attention_reference(query, key, value, keep)[real],
            atol=1e-6,
            err_msg=name,
        )
        # Without the mask-tensor path: a prefix batch is unchanged (lengths served it),
        # any other batch is zeros (the fallback served it).
        without = got[f"{name}_without_mask_path"]
        if name == "prefix":
            np.testing.assert_array_equal(without, got[name])
        else:
            assert not without.any(), name
