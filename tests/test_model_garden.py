"""Model Garden BertEncoder checkpoints (needs the `tfm` extra)."""

import importlib.util
import json
import os

import numpy as np
import pytest

import keras_bert

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("official") is None,
    reason="tf-models-official (the tfm extra) not installed",
)


@pytest.mark.parametrize("root", ["encoder", "model/encoder"])
def test_model_garden_checkpoint_matches_its_encoder(tmp_path, root):
    import tensorflow as tf
    from official.nlp.modeling import networks

    def gelu(x):
        return tf.keras.activations.gelu(x, approximate=False)

    encoder = networks.BertEncoder(
        vocab_size=11,
        hidden_size=6,
        num_layers=2,
        num_attention_heads=2,
        max_sequence_length=16,
        type_vocab_size=2,
        inner_dim=10,
        inner_activation=gelu,
        dict_outputs=True,
    )
    rng = np.random.default_rng(0)
    mask = np.ones((2, 7), "int32")
    mask[1, 5:] = 0
    inputs = dict(
        input_word_ids=rng.integers(0, 11, (2, 7)).astype("int32"),
        input_mask=mask,
        input_type_ids=(np.arange(7) > 3).astype("int32")[None].repeat(2, 0),
    )
    encoder(inputs)
    for variable in encoder.weights:  # Non-trivial weights everywhere, biases included.
        variable.assign(
            rng.standard_normal(variable.shape).astype("float32") * 0.5
            + (1.0 if "gamma" in variable.name else 0.0)
        )
    expected = encoder(inputs)
    parts = root.split("/")
    checkpoint = encoder
    for part in reversed(parts):
        checkpoint = tf.train.Checkpoint(**{part: checkpoint})
    folder = tmp_path / "mg"
    checkpoint.write(str(folder / "bert_model.ckpt"))
    (folder / "bert_config.json").write_text(
        json.dumps(
            {
                "vocab_size": 11,
                "hidden_size": 6,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "intermediate_size": 10,
                "max_position_embeddings": 16,
                "type_vocab_size": 2,
                "hidden_act": "gelu",
            }
        )
    )

    assert keras_bert.checkpoints.detect_format(str(folder)) == "model_garden"
    model = keras_bert.build(str(folder))
    out = model(
        {
            "token_ids": inputs["input_word_ids"],
            "segment_ids": inputs["input_type_ids"],
            "padding_mask": mask,
        }
    )
    real = mask[..., None].astype(bool)
    np.testing.assert_allclose(
        np.asarray(out["sequence_output"]) * real,
        expected["sequence_output"].numpy() * real,
        atol=2e-5,
    )
    np.testing.assert_allclose(out["pooled_output"], expected["pooled_output"], atol=2e-5)


def test_model_garden_config_mismatch_is_an_error(tmp_path):
    import tensorflow as tf
    from official.nlp.modeling import networks

    encoder = networks.BertEncoder(
        vocab_size=11,
        hidden_size=6,
        num_layers=2,
        num_attention_heads=2,
        max_sequence_length=16,
        type_vocab_size=2,
        inner_dim=10,
    )
    ids = np.zeros((1, 3), "int32")
    encoder(dict(input_word_ids=ids, input_mask=ids, input_type_ids=ids))
    folder = tmp_path / "mg"
    tf.train.Checkpoint(encoder=encoder).write(str(folder / "bert_model.ckpt"))
    (folder / "bert_config.json").write_text(
        json.dumps(
            {
                "vocab_size": 11,
                "hidden_size": 6,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "intermediate_size": 12,
                "max_position_embeddings": 16,
            }
        )
    )
    with pytest.raises(ValueError, match="does not match"):
        keras_bert.build(str(folder))
    assert os.path.exists(str(folder / "bert_model.ckpt.index"))
