"""`keras-bert finetune squad|conll|swag`, `evaluate --predictions` and `predict` end to
end on tiny learnable data written here; the prediction files, scored again from disk
by the official rules (SQuAD scripts' logic, seqeval for conlleval files), give the
numbers evaluate printed."""

import csv
import json
import os
import random

import pytest
from seqeval.metrics import f1_score, precision_score, recall_score

from keras_bert import cli
from keras_bert.metrics import squad_scores
from tests.test_cli_finetune import checkpoint  # noqa: F401  (the tiny encoder fixture)

FILLER = "the a quick brown fox jump over lazy cat news day good bad stock price".split()


def _common(tmp_path, weights, kind, train, validation, *extra):
    return [
        "finetune",
        kind,
        "--train",
        train,
        "--validation",
        validation,
        "--weights",
        weights,
        "--out",
        str(tmp_path / kind),
        "--batch-size",
        "8",
        "--learning-rate",
        "5e-3",
        "--verbose",
        "0",
        *extra,
    ]


# --- SQuAD --------------------------------------------------------------------------


def _squad_file(path, count, seed):
    """Questions "where is the dog?" over filler text; the answer is "dog" when present,
    else the question is impossible (SQuAD v2.0)."""
    rng = random.Random(seed)
    paragraphs = []
    for n in range(count):
        words = [rng.choice(FILLER) for _ in range(rng.randint(8, 30))]
        answerable = n % 3 != 0
        if answerable:
            words.insert(rng.randint(0, len(words)), "dog")
        context = " ".join(words)
        answers = []
        if answerable:
            start = context.index("dog") if context.startswith("dog") else context.index(" dog") + 1
            answers = [{"text": "dog", "answer_start": start}]
        paragraphs.append(
            {
                "context": context,
                "qas": [
                    {
                        "id": f"q{seed}-{n}",
                        "question": "where is the dog?",
                        "answers": answers,
                        "is_impossible": not answerable,
                    }
                ],
            }
        )
    path.write_text(
        json.dumps({"version": "v2.0", "data": [{"title": "t", "paragraphs": paragraphs}]})
    )
    return str(path)


def test_squad_finetune_evaluate_predict(tmp_path, checkpoint, capsys):  # noqa: F811
    train = _squad_file(tmp_path / "train.json", 60, 0)
    dev = _squad_file(tmp_path / "dev.json", 18, 1)
    args = _common(
        tmp_path,
        checkpoint,
        "squad",
        train,
        dev,
        "--epochs",
        "6",
        "--seq-len",
        "24",
        "--doc-stride",
        "6",
        "--max-query-length",
        "8",
    )
    assert cli.main(args) == 0
    run = tmp_path / "squad"
    results = json.loads((run / "results.json").read_text())
    assert results["version2"] and results["train_windows"] > results["train_questions"]
    assert results["calibration"] is None  # SQuAD keeps its own null threshold
    assert (run / "best.keras").exists()
    capsys.readouterr()

    predictions = tmp_path / "out" / "predictions.json"
    assert cli.main(["evaluate", str(run), "--predictions", str(predictions)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["metrics"]["f1"] > 80, printed  # it learned where the dog is
    # The files, scored again by the official v2.0 rules, give the printed numbers.
    from pipelines.squad import read_squad

    gold = read_squad(dev).gold_answers()
    null_odds = json.loads((tmp_path / "out" / "null_odds.json").read_text())
    again = squad_scores.squad_v2(gold, json.loads(predictions.read_text()), null_odds)
    for name, value in printed["metrics"].items():
        assert again[name] == pytest.approx(value), name
    assert set(json.loads((tmp_path / "out" / "nbest_predictions.json").read_text())) == set(gold)

    # A whole file: predictions.json for every question.
    out = tmp_path / "file" / "predictions.json"
    assert cli.main(["predict", str(run), "--data", dev, "--out", str(out)]) == 0
    assert set(json.loads(out.read_text())) == set(gold)

    # Raw text: the answer and its character span.
    context = "the quick brown fox saw a dog over the lazy cat"
    assert cli.main(["predict", str(run), f"where is the dog?\t{context}"]) == 0
    answer, start, end = capsys.readouterr().out.strip().split("\t")
    assert answer == "dog" and context[int(start) : int(end)] == "dog"

    # Exported for TF Serving, it gives the same answer from raw text.
    import tensorflow as tf

    assert cli.main(["export", str(run), "--out", str(tmp_path / "served")]) == 0
    served = tf.saved_model.load(capsys.readouterr().out.strip()).signatures["serving_default"]
    reply = served(question=tf.constant(["where is the dog?"]), context=tf.constant([context]))
    assert reply["answer_text"].numpy()[0].decode() == "dog"
    assert (int(reply["start_char"][0]), int(reply["end_char"][0])) == (int(start), int(end))


# --- CoNLL --------------------------------------------------------------------------


def _conll_file(path, count, seed):
    """IOB1 column file: 'istanbul' is a LOC, 'bert token' a PER, filler words O."""
    rng = random.Random(seed)
    lines = ["-DOCSTART- -X- -X- O", ""]
    for _ in range(count):
        for _ in range(rng.randint(3, 9)):
            r = rng.random()
            if r < 0.15:
                lines.append("istanbul NNP I-NP I-LOC")
            elif r < 0.3:
                lines += ["bert NNP I-NP I-PER", "token NNP I-NP I-PER"]
            lines.append(f"{rng.choice(FILLER)} NN I-NP O")  # entities never touch
        lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _read_columns(path):
    gold, predicted, g, p = [], [], [], []
    for line in open(path, encoding="utf-8"):
        if not line.strip():
            if g:
                gold.append(g)
                predicted.append(p)
            g, p = [], []
            continue
        _, a, b = line.split()
        g.append(a)
        p.append(b)
    return gold, predicted


@pytest.mark.parametrize(
    "extra",
    [
        [],
        [
            "--features",
            "scalar_mix",
            "--lstm-units",
            "16",
            "--tag-scheme",
            "iobes",
            "--learning-rate",
            "3e-2",
            "--epochs",
            "10",
        ],
    ],
)
def test_conll_finetune_evaluate_predict(tmp_path, checkpoint, capsys, extra):  # noqa: F811
    train = _conll_file(tmp_path / "train.txt", 60, 0)
    dev = _conll_file(tmp_path / "dev.txt", 15, 1)
    args = _common(
        tmp_path, checkpoint, "conll", train, dev, "--epochs", "6", "--seq-len", "16", *extra
    )  # later flags win
    assert cli.main(args) == 0
    run = tmp_path / "conll"
    capsys.readouterr()
    columns = tmp_path / "conlleval.txt"
    assert cli.main(["evaluate", str(run), "--predictions", str(columns)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["metrics"]["f1"] > 0.8, printed
    assert set(printed["per_type"]) <= {"LOC", "PER"}
    gold, predicted = _read_columns(columns)
    assert printed["metrics"]["f1"] == pytest.approx(f1_score(gold, predicted))
    # A temperature for the tag of every word (its first piece), from the validation data.
    calibration = json.loads((run / "results.json").read_text())["calibration"]
    assert calibration["examples"] == sum(len(tags) for tags in gold)
    assert printed["calibration"]["ece"] == pytest.approx(calibration["ece_after"], abs=1e-5)
    assert printed["metrics"]["precision"] == pytest.approx(precision_score(gold, predicted))
    assert printed["metrics"]["recall"] == pytest.approx(recall_score(gold, predicted))

    text = "The quick bert token jump over istanbul."
    assert cli.main(["predict", str(run), text, "--jsonl"]) == 0
    row = json.loads(capsys.readouterr().out)
    found = {(e["type"], e["text"]) for e in row["entities"]}
    if extra:  # the small frozen-feature tagger may miss one; it finds no wrong entity
        assert found and found <= {("PER", "bert token"), ("LOC", "istanbul")}, found
    else:
        assert found == {("PER", "bert token"), ("LOC", "istanbul")}
    assert row["words"] == ["The", "quick", "bert", "token", "jump", "over", "istanbul", "."]
    for e in row["entities"]:
        assert text[e["start_char"] : e["end_char"]] == e["text"]
    if extra:
        return

    # Exported for TF Serving, it finds the same entities in raw text, 3 columns wide.
    import tensorflow as tf

    assert (
        cli.main(["export", str(run), "--out", str(tmp_path / "served"), "--max-entities", "3"])
        == 0
    )
    served = tf.saved_model.load(capsys.readouterr().out.strip()).signatures["serving_default"]
    reply = {k: v.numpy().tolist() for k, v in served(text=tf.constant([text])).items()}
    count = reply["entity_count"][0]
    assert reply["entity_type"][0][count:] == [b""] * (3 - count)
    assert [
        (kind.decode(), span.decode(), start, end)
        for kind, span, start, end in zip(
            reply["entity_type"][0],
            reply["entity_text"][0],
            reply["entity_start_char"][0],
            reply["entity_end_char"][0],
        )
    ][:count] == [(e["type"], e["text"], e["start_char"], e["end_char"]) for e in row["entities"]]


# --- SWAG ---------------------------------------------------------------------------


def _swag_file(path, count, seed):
    """The right ending is the one with 'good'."""
    rng = random.Random(seed)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "",
                "video-id",
                "fold-ind",
                "startphrase",
                "sent1",
                "sent2",
                "gold-source",
                "ending0",
                "ending1",
                "ending2",
                "ending3",
                "label",
            ]
        )
        for n in range(count):
            label = rng.randrange(4)
            endings = [" ".join(rng.choice(FILLER[:8]) for _ in range(3)) for _ in range(4)]
            endings[label] = "good " + endings[label]
            sent1 = " ".join(rng.choice(FILLER) for _ in range(5))
            writer.writerow([n, "v", 0, sent1 + " the", sent1, "the", "gold", *endings, label])
    return str(path)


def test_swag_finetune_evaluate_predict(tmp_path, checkpoint, capsys):  # noqa: F811
    train = _swag_file(tmp_path / "train.csv", 64, 0)
    dev = _swag_file(tmp_path / "val.csv", 16, 1)
    args = _common(tmp_path, checkpoint, "swag", train, dev, "--epochs", "3", "--seq-len", "24")
    assert cli.main(args) == 0
    run = tmp_path / "swag"
    capsys.readouterr()
    out = tmp_path / "swag.csv"
    assert cli.main(["evaluate", str(run), "--predictions", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    rows = list(csv.DictReader(open(out)))
    labels = [int(r["label"]) for r in csv.DictReader(open(dev))]
    assert printed["metrics"]["accuracy"] == pytest.approx(
        sum(int(r["label"]) == g for r, g in zip(rows, labels)) / len(labels)
    )
    assert printed["metrics"]["accuracy"] > 0.7, printed
    calibration = json.loads((run / "results.json").read_text())["calibration"]
    assert calibration["examples"] == 16 and calibration["temperature"] > 0
    assert printed["calibration"]["ece"] == pytest.approx(calibration["ece_after"], abs=1e-5)
    endings = ["the quick fox jump", "the good brown fox", "the lazy a over", "the fox fox a"]
    assert cli.main(["predict", str(run), "\t".join(["a cat the dog day"] + endings)]) == 0
    assert capsys.readouterr().out.strip() == "1\tthe good brown fox"
    line = "\t".join(["a cat the dog day"] + endings)
    assert cli.main(["predict", str(run), line, "--jsonl", "--min-confidence", "1"]) == 0
    row = json.loads(capsys.readouterr().out)  # no choice is certain: no answer
    assert max(row["probabilities"]) < 1 and (row["label"], row["ending"]) == (-1, "")


def test_squad_conll_swag_usage_errors(tmp_path, checkpoint, capsys):  # noqa: F811
    assert (
        cli.main(["finetune", "squad", "--weights", checkpoint, "--out", str(tmp_path / "x")]) == 2
    )
    assert "finetune squad needs --train" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("EU NNP I-ORG\nrejects VBZ\n")
    assert (
        cli.main(_common(tmp_path, checkpoint, "conll", str(bad), str(bad), "--seq-len", "16")) == 2
    )
    assert f"{bad}:2: 2 columns where the file has 3" in capsys.readouterr().err
    assert os.path.exists(checkpoint)


def test_killed_squad_run_resumes_exactly(tmp_path, checkpoint):  # noqa: F811
    import numpy as np

    from tests.kill_and_rerun import kill_then_rerun
    from tests.test_cli_finetune import _final_weights

    train = _squad_file(tmp_path / "train.json", 40, 0)
    flags = [
        "--epochs",
        "2",
        "--seq-len",
        "24",
        "--doc-stride",
        "6",
        "--max-query-length",
        "8",
        "--checkpoint-every",
        "3",
        "--seed",
        "3",
    ]

    def argv(out):
        return [
            "finetune",
            "squad",
            "--train",
            train,
            "--weights",
            checkpoint,
            "--out",
            str(tmp_path / out),
            "--batch-size",
            "8",
            *flags,
        ]

    state = tmp_path / "killed" / "checkpoints" / "state.json"
    killed_at, rerun = kill_then_rerun(argv("killed"), state, at_least=6)
    assert f"resuming from step {killed_at} of" in rerun.stderr
    assert cli.main(argv("straight")) == 0
    for a, b in zip(
        *(_final_weights(tmp_path / name / "model.keras") for name in ("killed", "straight"))
    ):
        np.testing.assert_allclose(a, b, atol=1e-6)  # no window trained twice or skipped
