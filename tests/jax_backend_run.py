"""Runs under KERAS_BACKEND=jax in its own process (tests/test_jax_backend.py starts it):
`python tests/jax_backend_run.py WORK_DIR`. WORK_DIR holds the checkpoints and inputs
the test wrote; this writes `jax_outputs.npz` and `jax_report.json` there.

It builds and loads the model without TensorFlow (Hugging Face safetensors), then reads
a Google TF1 checkpoint (TensorFlow's checkpoint reader is imported only for that), and
runs every task model: call, predict, a few `fit` steps, a .keras round trip. The
Hugging Face model also runs under `FrozenInference`, as a causal (left-to-right)
model, and quantized to int8 (`quantize_int8`, in keras.ops here).
"""

import json
import os
import sys

import numpy as np
from tiny import tiny  # tests/ is this script's first path entry.


def main(work):
    assert os.environ.get("KERAS_BACKEND") == "jax"
    import keras

    import keras_bert

    report = {
        "backend": keras.backend.backend(),
        "tensorflow_after_import": "tensorflow" in sys.modules,
    }
    inputs = dict(np.load(os.path.join(work, "inputs.npz")))
    tiny = {k: inputs[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    minilm = {k[len("minilm_") :]: v for k, v in inputs.items() if k.startswith("minilm_")}
    out = {}

    model = keras_bert.build(os.path.join(work, "hf"))
    result = model(tiny)
    out["hf_sequence"], out["hf_pooled"] = (
        np.asarray(result[k]) for k in ("sequence_output", "pooled_output")
    )
    frozen = keras_bert.FrozenInference(model)(tiny)  # jax.jit over a copy of the weights
    out["frozen_sequence"] = np.asarray(frozen["sequence_output"])
    out["frozen_pooled"] = np.asarray(frozen["pooled_output"])
    causal = keras_bert.build(os.path.join(work, "hf"), causal=True)  # Left-to-right.
    for name, result in (("causal", causal(tiny)), ("causal_frozen", None)):
        result = result or keras_bert.FrozenInference(causal)(tiny)  # The fused kernel.
        out[f"{name}_sequence"] = np.asarray(result["sequence_output"])
        out[f"{name}_pooled"] = np.asarray(result["pooled_output"])
    if minilm:
        real = keras_bert.build(os.path.join(work, "minilm"))
        result = real.predict(minilm, verbose=0)
        out["minilm_sequence"] = np.asarray(result["sequence_output"])
        out["minilm_pooled"] = np.asarray(result["pooled_output"])
    keras_bert.quantize_int8(model)  # Int8Dense's keras.ops path (no TensorFlow)
    out["hf_int8_sequence"] = np.asarray(model.predict(tiny, verbose=0)["sequence_output"])
    report["tensorflow_after_hf_load"] = "tensorflow" in sys.modules

    model = keras_bert.build(os.path.join(work, "tf1"))  # TF's checkpoint reader
    result = model(tiny)
    out["tf1_sequence"], out["tf1_pooled"] = (
        np.asarray(result[k]) for k in ("sequence_output", "pooled_output")
    )

    report["tasks"] = run_tasks(keras, keras_bert, work)
    np.savez(os.path.join(work, "jax_outputs.npz"), **out)
    with open(os.path.join(work, "jax_report.json"), "w") as f:
        json.dump(report, f)


TINY = tiny(vocabulary_size=11, num_layers=1, max_sequence_length=16)


def task_data(task, rng, batch=8, seq=7):
    """Inputs and targets of a task at batch 8, sequence 7."""
    ids = {
        "token_ids": rng.integers(1, 11, (batch, seq)).astype("int32"),
        "segment_ids": np.zeros((batch, seq), "int32"),
        "padding_mask": np.ones((batch, seq), "int32"),
    }
    if task == "multiple_choice":
        ids = {k: np.stack([v, v[::-1]], axis=1) for k, v in ids.items()}
        return ids, rng.integers(0, 2, batch)
    if task == "question_answering":
        return ids, {
            "start_logits": rng.integers(0, seq, batch),
            "end_logits": rng.integers(0, seq, batch),
        }
    if task in ("token_classification", "feature_tagging"):
        return ids, rng.integers(0, 3, (batch, seq))
    if task == "embedding":
        return ids, rng.normal(size=(batch, 6)).astype("float32")
    return ids, rng.integers(0, 3, batch)


def run_tasks(keras, keras_bert, work):
    """Each task: 10 fit steps (finite, falling loss), predict, saved and reloaded."""
    keras.utils.set_random_seed(0)
    options = {
        "classification": {"num_classes": 3},
        "token_classification": {"num_classes": 3},
        "feature_tagging": {"num_classes": 3, "lstm_units": 3},
        "multiple_choice": {"num_choices": 2},
        "question_answering": {},
        "embedding": {},
    }
    rng = np.random.default_rng(0)
    report = {}
    for task, extra in options.items():
        model = keras_bert.build("tiny", task=task, **TINY, **extra, dropout=0.0)
        x, y = task_data(task, rng)
        arguments = {"loss": "mse"} if task == "embedding" else model.compile_arguments()
        model.compile(optimizer=keras.optimizers.Adam(1e-2), **arguments)
        losses = model.fit(x, y, epochs=10, batch_size=8, verbose=0).history["loss"]
        before = keras.tree.map_structure(np.asarray, model.predict(x, verbose=0))
        path = os.path.join(work, f"{task}.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path)
        after = keras.tree.map_structure(np.asarray, reloaded.predict(x, verbose=0))
        same = all(
            np.allclose(a, b, atol=1e-6)
            for a, b in zip(keras.tree.flatten(before), keras.tree.flatten(after))
        )
        report[task] = {
            "losses": [float(v) for v in losses],
            "reloaded_equal": bool(same),
            "trainable": [len(model.trainable_variables), len(reloaded.trainable_variables)],
            "optimizer": [len(model.optimizer.variables), len(reloaded.optimizer.variables)],
        }
    return report


def attention(work):
    """`fused_attention` on the saved query, key, value and masks, as the product runs
    it and with the mask-tensor path replaced by zeros (which shows the branch taken);
    writes `attention_outputs.npz`."""
    assert os.environ.get("KERAS_BACKEND") == "jax"
    import jax

    from keras_bert.kernels import fused_attention as module

    inputs = dict(np.load(os.path.join(work, "attention_inputs.npz")))
    q, k, v = inputs.pop("query"), inputs.pop("key"), inputs.pop("value")
    scale = 1.0 / np.sqrt(q.shape[-1])

    def outputs():  # A new function each time: jax.jit caches traces per function.
        run = jax.jit(lambda mask: module.fused_attention(q, k, v, mask[:, None, None, :], scale))
        return {name: np.asarray(run(mask.astype(bool))) for name, mask in inputs.items()}

    out = outputs()
    module._masked_attention = lambda query, *args: query * 0
    out.update({f"{name}_without_mask_path": value for name, value in outputs().items()})
    np.savez(os.path.join(work, "attention_outputs.npz"), **out)


if __name__ == "__main__":
    (attention if sys.argv[2:] == ["attention"] else main)(sys.argv[1])
