import keras
import numpy as np
import pytest

import keras_bert
from keras_bert import BertBackbone, BertPretrainer, checkpoints
from keras_bert.training import BertAdamW, WarmupLinearDecay, make_optimizer
from tests.model_checks import run_model_checks
from tests.tiny import tiny

VOCAB = 13


def backbone(**kwargs):
    return BertBackbone(**tiny(vocabulary_size=VOCAB, **kwargs))


def batch(size=4, seq=7, predictions=3, seed=0):
    rng = np.random.default_rng(seed)
    mask = np.ones((size, seq), "int32")
    mask[1, 5:] = 0
    weights = np.ones((size, predictions), "float32")
    weights[0, 2] = weights[2, 1:] = 0  # Padded prediction slots.
    x = {
        "token_ids": rng.integers(5, VOCAB, (size, seq)).astype("int32") * mask,
        "segment_ids": (np.arange(seq) > 3).astype("int32")[None].repeat(size, 0),
        "padding_mask": mask,
        "mask_positions": rng.integers(1, 5, (size, predictions)).astype("int32"),
    }
    y = {
        "mlm": rng.integers(0, VOCAB, (size, predictions)).astype("int32"),
        "nsp": rng.integers(0, 2, size).astype("int32"),
    }
    w = {"mlm": weights, "nsp": np.ones(size, "float32")}
    return x, y, w


def cross_entropy(logits, labels):
    logits = logits - logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return -np.take_along_axis(log_probs, labels[..., None], -1)[..., 0]


def test_generic_model_checks(tmp_path):
    x, _, _ = batch()
    run_model_checks(BertPretrainer(backbone()), x, tmp_path)


def test_losses_and_metrics_are_berts():
    model = BertPretrainer(backbone()).compile_recipe(total_steps=10)
    x, y, w = batch()
    out = model.predict(x, verbose=0)
    mlm = cross_entropy(out["mlm"], y["mlm"])
    expected_mlm = (mlm * w["mlm"]).sum() / w["mlm"].sum()  # Mean over real predictions.
    expected_nsp = cross_entropy(out["nsp"], y["nsp"]).mean()
    result = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert result["mlm_loss"] == pytest.approx(expected_mlm, rel=1e-5)
    assert result["nsp_loss"] == pytest.approx(expected_nsp, rel=1e-5)
    assert result["loss"] == pytest.approx(expected_mlm + expected_nsp, rel=1e-5)
    hits = (out["mlm"].argmax(-1) == y["mlm"]) * w["mlm"]
    assert result["mlm_accuracy"] == pytest.approx(hits.sum() / w["mlm"].sum(), abs=1e-6)
    assert result["nsp_accuracy"] == pytest.approx((out["nsp"].argmax(-1) == y["nsp"]).mean())


def test_fit_lowers_the_loss_and_reports_every_metric():
    model = BertPretrainer(backbone(dropout=0.0)).compile_recipe(
        learning_rate=1e-2, total_steps=40, warmup_steps=2
    )
    x, y, w = batch()
    before = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)["loss"]
    history = model.fit(x, y, sample_weight=w, epochs=40, verbose=0).history
    assert {"loss", "mlm_loss", "nsp_loss", "mlm_accuracy", "nsp_accuracy"} <= set(history)
    assert history["loss"][-1] < 0.7 * before


def test_schedule_and_weight_decay_exclusions():
    schedule = WarmupLinearDecay(2e-5, warmup_steps=10, total_steps=100)
    values = [float(schedule(s)) for s in (0, 5, 10, 55, 100, 150)]
    np.testing.assert_allclose(values, [0, 1e-5, 2e-5, 1e-5, 0, 0], atol=1e-12)
    optimizer = make_optimizer(total_steps=100)
    assert isinstance(optimizer, BertAdamW)
    assert optimizer.epsilon == 1e-6 and optimizer.global_clipnorm == 1.0
    assert optimizer.weight_decay == 0.01
    model = BertPretrainer(backbone())
    decayed = {v.path for v in model.trainable_variables if optimizer._use_weight_decay(v)}
    assert any(p.endswith("kernel") for p in decayed)
    assert any(p.endswith("word_embeddings/embeddings") for p in decayed)
    assert not any(p.endswith(("gamma", "beta", "bias")) for p in decayed)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert restored.no_decay == ["gamma", "beta", "bias"]


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "lamb"},
        {"gradient_accumulation_steps": 2},
        {"jit_compile": True},
    ],
)
def test_recipe_options_train(options):
    model = keras_bert.build(
        "tiny", task="pretraining", vocabulary_size=VOCAB, num_layers=1, total_steps=4, **options
    )
    x, y, w = batch()
    history = model.fit(x, y, sample_weight=w, epochs=2, verbose=0).history
    assert np.isfinite(history["loss"]).all()


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains(policy):
    model = keras_bert.build(
        "tiny", task="pretraining", vocabulary_size=VOCAB, num_layers=1, total_steps=4, dtype=policy
    )
    x, y, w = batch()
    history = model.fit(x, y, sample_weight=w, epochs=2, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    assert model.predict(x, verbose=0)["mlm"].dtype == np.float32
    if policy == "mixed_float16":
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_unknown_recipe_option_is_an_error():
    with pytest.raises(ValueError, match="Unknown option.*for task 'pretraining': learning_rat"):
        keras_bert.build("tiny", task="pretraining", learning_rat=1e-4)
    with pytest.raises(ValueError, match="Unknown BertBackbone argument"):
        keras_bert.build("tiny", learning_rate=1e-4)


def test_continuing_from_tf1_checkpoint_starts_where_training_stopped(tmp_path):
    model = BertPretrainer(backbone(dropout=0.0)).compile_recipe(
        learning_rate=1e-2, total_steps=20, warmup_steps=1
    )
    x, y, w = batch()
    model.fit(x, y, sample_weight=w, epochs=20, verbose=0)
    trained = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    folder = str(tmp_path / "tf1")
    checkpoints.write_tf1_checkpoint(folder, model)  # Heads from checkpoint_heads().
    _, weights = checkpoints.read_weights(folder)
    assert "cls/predictions/output_bias" in weights
    assert weights["cls/seq_relationship/output_weights"].shape == (2, 6)
    resumed = keras_bert.build(folder, task="pretraining", dropout=0.0, total_steps=5)
    again = resumed.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    fresh = keras_bert.build(folder, task="pretraining", weights=None, total_steps=5)
    random_loss = fresh.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)["loss"]
    assert again["loss"] == pytest.approx(trained["loss"], abs=1e-5)
    assert abs(random_loss - trained["loss"]) > 0.5
