import pytest

import keras_bert
from keras_bert import PARAMETER_COUNTS, PRESETS


def expected_parameters(c):
    """BERT's parameter count from its architecture (encoder + pooler)."""
    h, i = c["hidden_dim"], c["intermediate_dim"]
    embeddings = (c["vocabulary_size"] + c["max_sequence_length"] + c["num_segments"]) * h + 2 * h
    block = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * 2 * h
    return embeddings + c["num_layers"] * block + h * h + h


@pytest.mark.parametrize("name", ["base", "large"])
def test_parameter_counts_equal_the_originals(name):
    model = keras_bert.build(name)
    assert model.count_params() == PARAMETER_COUNTS[name]
    assert expected_parameters(PRESETS[name]) == PARAMETER_COUNTS[name]


def test_every_preset_matches_its_architecture_formula():
    assert PARAMETER_COUNTS["base"] == 109_482_240
    assert PARAMETER_COUNTS["large"] == 335_141_888
    for name in ("tiny", "mini", "L-6_H-256"):
        assert keras_bert.build(name).count_params() == expected_parameters(PRESETS[name])


def test_small_bert_grid():
    for layers in (2, 4, 6, 8, 10, 12):
        for hidden in (128, 256, 512, 768):
            config = PRESETS[f"L-{layers}_H-{hidden}"]
            assert config["num_layers"] == layers and config["hidden_dim"] == hidden
            assert config["num_heads"] == hidden // 64
            assert config["intermediate_dim"] == 4 * hidden
    assert PRESETS["tiny"] == PRESETS["L-2_H-128"]
    assert PRESETS["mini"] == PRESETS["L-4_H-256"]
    assert PRESETS["small"] == PRESETS["L-4_H-512"]
    assert PRESETS["medium"] == PRESETS["L-8_H-512"]
    assert PRESETS["base"] == PRESETS["L-12_H-768"]
    assert (PRESETS["large"]["num_layers"], PRESETS["large"]["num_heads"]) == (24, 16)


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Valid presets:.*base.*large.*tiny"):
        keras_bert.build("bert-huge")


def test_unknown_task_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown task 'translation'"):
        keras_bert.build("tiny", task="translation")


def test_overrides_apply():
    model = keras_bert.build("tiny", dropout=0.0, max_sequence_length=64)
    assert model.dropout == 0.0 and model.max_sequence_length == 64
    assert model.get_config()["max_sequence_length"] == 64
