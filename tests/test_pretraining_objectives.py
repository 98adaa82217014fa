"""The objectives of the paper's ablation (`--objective mlm_nsp|mlm|ltr`): the data each
trains on, and the command from pretraining with held-out scores to fine-tuning a
classifier on a left-to-right checkpoint."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert import cli
from pipelines import BertTokenizer
from pipelines.pretraining import pretraining_dataset
from pipelines.text_chunks import chunk_documents
from tests.serving_checks import call_in_fresh_process
from tests.test_cli_pretrain import CORPUS, VOCAB, args

TOKENIZER = BertTokenizer(VOCAB, lowercase=True)


def _corpus_tokens():
    """Every document of the corpus as one stream of token ids (documents are separated
    by blank lines, one sentence per line)."""
    documents = open(CORPUS, encoding="utf-8").read().strip().split("\n\n")
    return [
        [int(t) for line in doc.splitlines() for t in TOKENIZER.tokenize(line).numpy()]
        for doc in documents
    ]


def _batches(objective, batches=6):
    data = pretraining_dataset(
        CORPUS, TOKENIZER, 24, 4, seed=2, for_fit=False, objective=objective, repeat=False
    )
    return [{k: v.numpy() for k, v in b.items()} for b in data.take(batches)]


def _is_run_of(chunk, streams):
    for stream in streams:
        for start in range(len(stream) - len(chunk) + 1):
            if stream[start : start + len(chunk)] == chunk:
                return True
    return False


@pytest.mark.parametrize("objective", ["mlm", "ltr"])
def test_without_nsp_a_row_is_one_run_of_one_documents_text(objective):
    streams = _corpus_tokens()
    cls, sep = TOKENIZER.cls_id, TOKENIZER.sep_id
    for batch in _batches(objective):
        assert "next_sentence_label" not in batch
        assert not batch["segment_ids"].any()  # One segment.
        for ids, mask in zip(batch["token_ids"], batch["padding_mask"]):
            real = ids[mask == 1].tolist()
            assert real[0] == cls and real[-1] == sep and real.count(sep) == 1
            if objective == "ltr":  # Unmasked: the document's own tokens, in order.
                assert _is_run_of(real[1:-1], streams)


def test_masked_lm_without_nsp_masks_its_single_segments():
    for batch in _batches("mlm"):
        chosen = batch["mask_weights"] > 0
        assert chosen.any(axis=1).all()
        rows = np.nonzero(chosen)[0]
        positions = batch["mask_positions"][chosen]
        assert batch["padding_mask"][rows, positions].all()  # Real tokens only.


def test_left_to_right_labels_are_the_next_tokens():
    for batch in _batches("ltr"):
        ids, mask = batch["token_ids"], batch["padding_mask"]
        np.testing.assert_array_equal(batch["next_ids"][:, :-1], ids[:, 1:])
        np.testing.assert_array_equal(batch["next_weights"][:, :-1], mask[:, 1:])
        assert not batch["next_weights"][:, -1].any()
        assert TOKENIZER.mask_id not in ids[mask == 1]  # Nothing is masked.


def test_chunks_cover_every_token_once_in_order():
    docs = tf.ragged.constant([[[1, 2, 3], [4]], [[5]], [[6, 7], [8, 9], [10]]])
    chunks = chunk_documents(docs, 3).to_list()
    assert chunks == [[1, 2, 3], [4], [5], [6, 7, 8], [9, 10]]
    with pytest.raises(ValueError, match="at least 1"):
        chunk_documents(docs, 0)


def test_ltr_pretraining_scores_held_out_text_and_finetunes_a_classifier(tmp_path, capsys):
    """The left-to-right row end to end: pretraining with --validation (the held-out
    scores agree with Keras's own evaluation of the same batches), resume refusing
    another objective, then a classifier with a BiLSTM fine-tuned from its TF1
    checkpoint, exported and served."""
    from keras_bert.cli.pretrain_validation import held_out_scores
    from tests.test_cli_finetune import table_args

    out = tmp_path / "ltr"
    assert cli.main(args(out, "--objective", "ltr", "--validation", CORPUS, steps=4)) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    held_out = metrics["validation"]
    # Scored after every checkpoint segment (every 2 steps): the learning curve.
    assert [point["step"] for point in metrics["validation_curve"]] == [2, 4]
    assert {**metrics["validation_curve"][-1], "step": None} == {**held_out, "step": None}
    assert metrics["objective"] == "ltr" and "unigram_baseline_lm_accuracy" in metrics
    assert held_out["perplexity"] == pytest.approx(math.exp(held_out["lm_loss"]), rel=1e-6)
    assert 0 <= held_out["lm_accuracy"] <= 1 and held_out["predictions"] > 0

    model = keras.saving.load_model(out / "model.keras")
    assert model.objective == "ltr" and model.backbone.causal
    data = pretraining_dataset(CORPUS, TOKENIZER, 32, 4, seed=5, objective="ltr")
    batch = tf.data.Dataset.from_tensors(next(iter(data)))  # One batch, read twice.
    ours = held_out_scores(model, batch, "ltr", [CORPUS])
    keras_scores = model.evaluate(batch, verbose=0, return_dict=True)
    assert ours["lm_loss"] == pytest.approx(keras_scores["loss"], rel=1e-4)
    assert ours["lm_accuracy"] == pytest.approx(keras_scores["accuracy"], abs=1e-6)

    capsys.readouterr()
    assert cli.main(args(out, "--objective", "mlm", steps=6)) == 2
    assert "--objective 'ltr' -> 'mlm'" in capsys.readouterr().err
    assert cli.main(args(tmp_path / "x", "--objective", "mlm", "--sentence-order")) == 2
    assert "--sentence-order replaces NSP" in capsys.readouterr().err

    # Fine-tuning reads the TF1 checkpoint's is_decoder flag: a causal classifier.
    # The paper's "LTR & No NSP + BiLSTM" row: a BiLSTM between encoder and head.
    flags = ("--epochs", "1", "--bilstm")
    assert cli.main(table_args(tmp_path, str(out / "tf1"), "classify", *flags)) == 0
    run = tmp_path / "classify"
    classifier = keras.saving.load_model(run / "model.keras")
    assert classifier.backbone.causal and not classifier.backbone.cls_row_alone
    assert classifier.bilstm
    # Its raw-text export, in a process without our code, answers as `predict` does.
    texts = ["the dog is good", "a lazy dog and the quick brown fox"]
    capsys.readouterr()
    assert cli.main(["export", str(run), "--out", str(tmp_path / "export")]) == 0
    path = capsys.readouterr().out.strip()
    assert cli.main(["predict", str(run), "--jsonl", *texts]) == 0
    predicted = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    served = call_in_fresh_process(path, {"serving_default": {"text": texts}}, str(tmp_path))
    np.testing.assert_allclose(
        served["serving_default"]["probabilities"],
        [list(p["probabilities"].values()) for p in predicted],
        atol=1e-5,
    )
