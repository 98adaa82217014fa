import json
import os

import numpy as np
import pytest
import tensorflow as tf

import keras_bert
from keras_bert import checkpoints
from keras_bert.layers import MaskedLMHead, NextSentenceHead
from tests import numpy_bert
from tests.checkpoint_files import tf1_config, tiny_weights, write_hf, write_tf1
from tests.tiny import HEADS, HIDDEN, INTER, LAYERS

VOCAB = 11  # The TF1 checkpoints' vocabulary; the rest is the tiny encoder.
CONFIG = tf1_config(VOCAB, HIDDEN, LAYERS, HEADS, INTER)


def inputs(batch=2, seq=7):
    rng = np.random.default_rng(3)
    mask = np.ones((batch, seq), "int32")
    mask[1, 5:] = 0
    return {
        "token_ids": rng.integers(0, VOCAB, (batch, seq)).astype("int32"),
        "segment_ids": (np.arange(seq) > 3).astype("int32")[None].repeat(batch, 0),
        "padding_mask": mask,
    }


def assert_matches_reference(model, weights):
    x = inputs()
    out = model(x)
    seq, pooled, _ = numpy_bert.forward(
        weights, x["token_ids"], x["segment_ids"], x["padding_mask"], HEADS, LAYERS
    )
    real = x["padding_mask"][..., None].astype(bool)
    np.testing.assert_allclose(np.asarray(out["sequence_output"]) * real, seq * real, atol=2e-5)
    np.testing.assert_allclose(out["pooled_output"], pooled, atol=2e-5)


def heads_for(backbone):
    mlm = MaskedLMHead(token_embedding=backbone.token_embedding)
    nsp = NextSentenceHead()
    mlm.build((None, None, backbone.hidden_dim))
    nsp.build((None, backbone.hidden_dim))
    return mlm, nsp


@pytest.mark.parametrize("writer", [write_tf1, write_hf], ids=["tf1", "huggingface"])
def test_loaded_checkpoint_matches_numpy_reference(tmp_path, writer):
    weights = tiny_weights()
    directory = writer(str(tmp_path / "ckpt"), weights, CONFIG)
    model = keras_bert.build(directory)
    assert model.num_layers == LAYERS and model.hidden_dim == HIDDEN
    assert_matches_reference(model, weights)


@pytest.mark.parametrize("writer", [write_tf1, write_hf], ids=["tf1", "huggingface"])
def test_pretraining_heads_load_and_match_reference(tmp_path, writer):
    weights = tiny_weights()
    directory = writer(str(tmp_path / "ckpt"), weights, CONFIG)
    backbone = keras_bert.build(directory, weights=None)
    mlm, nsp = heads_for(backbone)
    heads = {"cls/predictions": mlm, "cls/seq_relationship": nsp}
    assert checkpoints.load_weights(backbone, directory, heads) in checkpoints.FORMATS
    x = inputs()
    out = backbone(x)
    positions = np.array([[1, 2, 4], [0, 3, 3]], "int32")
    seq, pooled, _ = numpy_bert.forward(
        weights, x["token_ids"], x["segment_ids"], x["padding_mask"], HEADS, LAYERS
    )
    mlm_ref, nsp_ref = numpy_bert.pretraining_heads(weights, seq, pooled, positions)
    np.testing.assert_allclose(
        mlm(out["sequence_output"], mask_positions=positions), mlm_ref, atol=5e-5
    )
    np.testing.assert_allclose(nsp(out["pooled_output"]), nsp_ref, atol=5e-5)


def test_tf1_optimizer_slots_are_skipped(tmp_path):
    directory = write_tf1(str(tmp_path / "ckpt"), tiny_weights(), CONFIG)
    _, weights = checkpoints.read_weights(directory)
    assert not any(n.endswith(("adam_m", "adam_v")) or n == "global_step" for n in weights)


def test_tf1_write_read_round_trip_is_exact(tmp_path):
    weights = tiny_weights()
    source = write_tf1(str(tmp_path / "source"), weights, CONFIG)
    backbone = keras_bert.build(source, weights=None)
    mlm, nsp = heads_for(backbone)
    heads = {"cls/predictions": mlm, "cls/seq_relationship": nsp}
    checkpoints.load_weights(backbone, source, heads)
    target = str(tmp_path / "target")
    checkpoints.write_tf1_checkpoint(target, backbone, heads, lowercase=True)
    fmt, written = checkpoints.read_weights(target)
    assert fmt == "google_tf1"
    assert set(written) == set(weights)
    for name, value in weights.items():
        np.testing.assert_array_equal(written[name], value, err_msg=name)
    # Google's readers see the original names, shapes and config keys.
    reader = tf.train.load_checkpoint(os.path.join(target, "bert_model.ckpt"))
    assert reader.get_variable_to_shape_map()["cls/seq_relationship/output_weights"] == [2, 6]
    with open(os.path.join(target, "bert_config.json")) as f:
        config = json.load(f)
    assert {k: config[k] for k in CONFIG} == CONFIG
    assert config["do_lower_case"] is True
    reloaded = keras_bert.build(target)
    assert_matches_reference(reloaded, weights)


def test_backbone_only_ignores_heads_but_not_other_extras(tmp_path):
    weights = tiny_weights()
    weights["bert/encoder/layer_9/output/dense/kernel"] = np.zeros((10, 6), np.float32)
    directory = write_tf1(str(tmp_path / "ckpt"), weights, CONFIG)
    with pytest.raises(ValueError, match="unexpected variable.*layer_9"):
        keras_bert.build(directory)


def test_missing_variable_is_named(tmp_path):
    weights = tiny_weights()
    del weights["bert/encoder/layer_1/attention/self/key/bias"]
    directory = write_tf1(str(tmp_path / "ckpt"), weights, CONFIG)
    with pytest.raises(ValueError, match="missing.*layer_1/attention/self/key/bias"):
        keras_bert.build(directory)


def test_config_disagreeing_with_weights_is_an_error(tmp_path):
    directory = write_tf1(
        str(tmp_path / "ckpt"), tiny_weights(), dict(CONFIG, intermediate_size=12)
    )
    with pytest.raises(ValueError, match="shape mismatch.*intermediate/dense/kernel"):
        keras_bert.build(directory)
    fewer_layers = write_tf1(
        str(tmp_path / "fewer"), tiny_weights(), dict(CONFIG, num_hidden_layers=1)
    )
    with pytest.raises(ValueError, match="unexpected.*layer_1"):
        keras_bert.build(fewer_layers)


def test_hf_unknown_tensor_is_an_error(tmp_path):
    from safetensors.numpy import save_file

    directory = write_hf(str(tmp_path / "hf"), tiny_weights(), CONFIG)
    path = os.path.join(directory, "model.safetensors")
    from safetensors.numpy import load_file

    tensors = load_file(path)
    tensors["bert.encoder.layer.0.attention.self.rotary.weight"] = np.zeros(3, np.float32)
    save_file(tensors, path)
    with pytest.raises(ValueError, match="rotary"):
        keras_bert.build(directory)


def test_pytorch_bin_only_folder_says_how_to_convert(tmp_path):
    directory = tmp_path / "pt"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps(dict(CONFIG, model_type="bert")))
    (directory / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(ValueError, match="safetensors"):
        keras_bert.build(str(directory))


def test_empty_folder_and_bad_config_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="bert_config.json"):
        keras_bert.build(str(tmp_path / "empty"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "bert_config.json").write_text('{"vocab_size": 3,\n "hidden_size": }')
    with pytest.raises(ValueError, match="bert_config.json: invalid JSON at line 2"):
        keras_bert.build(str(bad))
    (bad / "bert_config.json").write_text('{"vocab_size": 3}')
    with pytest.raises(ValueError, match="missing required key.*num_hidden_layers"):
        keras_bert.build(str(bad))


def test_preset_with_disagreeing_checkpoint_is_an_error(tmp_path):
    directory = write_tf1(str(tmp_path / "ckpt"), tiny_weights(), CONFIG)
    with pytest.raises(ValueError, match="disagree.*hidden_dim: 128 vs 6"):
        keras_bert.build("tiny", weights=directory)
    with pytest.raises(ValueError, match="Cannot override hidden_dim"):
        keras_bert.build(directory, hidden_dim=8)


def _truncate(path, keep=0.5):
    data = open(path, "rb").read()
    open(path, "wb").write(data[: int(len(data) * keep)])


def test_truncated_safetensors_error_names_the_file(tmp_path):
    directory = write_hf(str(tmp_path / "hf"), tiny_weights(), CONFIG)
    _truncate(os.path.join(directory, "model.safetensors"))
    with pytest.raises(ValueError, match=r"model\.safetensors: cannot read.*truncated"):
        keras_bert.build(directory)


@pytest.mark.parametrize("part", ["data-00000-of-00001", "index"])
def test_truncated_tf1_checkpoint_error_names_the_file(tmp_path, part):
    directory = write_tf1(str(tmp_path / "tf1"), tiny_weights(), CONFIG)
    _truncate(os.path.join(directory, f"bert_model.ckpt.{part}"))
    with pytest.raises(ValueError, match=r"bert_model\.ckpt: cannot read the checkpoint"):
        keras_bert.build(directory)


def test_tokenizer_json_without_vocab_txt_says_how_to_get_one(tmp_path):
    from pipelines import BertPreprocessor, BertTokenizer
    from pipelines.vocabulary import main as write_vocab

    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s"]
    tokenizer_json = {"model": {"type": "WordPiece", "vocab": {t: i for i, t in enumerate(tokens)}}}
    (tmp_path / "tokenizer.json").write_text(json.dumps(tokenizer_json))
    (tmp_path / "tokenizer_config.json").write_text('{"do_lower_case": true}')
    with pytest.raises(
        FileNotFoundError, match="tokenizer.json but no vocab.txt.*python -m pipelines.vocabulary"
    ):
        BertTokenizer.from_dir(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no vocab.txt"):
        BertPreprocessor.from_dir(str(tmp_path))
    assert write_vocab([str(tmp_path)]) == 0
    assert (tmp_path / "vocab.txt").read_text().split("\n")[:-1] == tokens
    tokenizer = BertTokenizer.from_dir(str(tmp_path))
    assert tokenizer.tokenize("Hello worlds").numpy().tolist() == [5, 6, 7]
