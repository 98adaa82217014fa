"""`keras-bert finetune / evaluate / predict` end to end on tiny data written here."""

import json
import os
import random

import keras
import numpy as np
import pytest

import keras_bert
from keras_bert import cli
from keras_bert.checkpoints import write_tf1_checkpoint
from keras_bert.metrics import scores
from pipelines import read_vocabulary
from tests.glue_files import write_glue
from tests.kill_and_rerun import kill_then_rerun
from tests.serving_checks import call_in_fresh_process, parse_batching_parameters

VOCAB = os.path.join(os.path.dirname(__file__), "data", "vocab.txt")
GOOD, BAD = ["the dog is good", "a quick fox", "the cat jump over"], ["lazy dog", "brown cat"]


def tiny_checkpoint(folder, dropout):
    """A tiny encoder in Google's layout with this dropout (hidden and attention)."""
    keras.utils.set_random_seed(0)
    model = keras_bert.build(
        "tiny",
        vocabulary_size=len(read_vocabulary(VOCAB)),
        num_layers=1,
        hidden_dim=12,
        num_heads=2,
        intermediate_dim=20,
        max_sequence_length=64,
        dropout=dropout,
    )
    return write_tf1_checkpoint(str(folder), model, vocabulary=VOCAB, lowercase=True)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """The tiny encoder without dropout (so runs are deterministic)."""
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt"), dropout=0.0)


def write_table(path, rows, seed=0):
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for _ in range(rows):
            label = rng.choice(["good", "bad"])
            f.write(f"{rng.choice(GOOD if label == 'good' else BAD)}\t{label}\n")
    return str(path)


def table_args(tmp_path, checkpoint, out="run", *extra, rows=40):
    """A tsv run on fresh files in `tmp_path` (40 training and 12 validation rows)."""
    train = write_table(tmp_path / "train.tsv", rows)
    dev = write_table(tmp_path / "dev.tsv", 12, seed=1)
    return run_args(train, dev, checkpoint, tmp_path / out, "--verbose", "2", *extra)


def folders_args(data, checkpoint, out, *extra):
    """A one-epoch `finetune folders` run of the tiny encoder on `data`."""
    recipe = "--epochs 1 --seq-len 16 --batch-size 4 --verbose 0".split()
    places = ("--train", str(data), "--weights", checkpoint, "--out", str(out))
    return ["finetune", "folders", *places, *recipe, *extra]


def run_args(train, dev, checkpoint, out, *extra):
    """The tiny tsv run's command line on the given files."""
    recipe = "--seq-len 16 --batch-size 8 --learning-rate 3e-3 --head-dropout 0".split()
    columns = ["--text-column", "text", "--label-column", "label"]
    return [
        *("finetune", "tsv", "--train", str(train), "--validation", str(dev), *columns),
        *("--weights", checkpoint, "--out", str(out), *recipe, *extra),
    ]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, checkpoint):
    """A run that learns its task: the words decide the label."""
    folder = tmp_path_factory.mktemp("trained")
    assert cli.main(table_args(folder, checkpoint, "run", "--epochs", "8", rows=80)) == 0
    return folder


def test_finetune_learns_and_evaluate_reproduces_its_metrics(trained_run, capsys):
    run = trained_run / "run"
    results = json.loads((run / "results.json").read_text())
    assert results["label_names"] == ["bad", "good"] and results["metrics"] == ["accuracy", "f1"]
    assert len(results["epochs"]) == 8 and results["validation_examples"] == 12
    assert keras.saving.load_model(str(run / "best.keras")).label_names == ["bad", "good"]
    assert results["validation"]["accuracy"] >= 0.9  # The words decide the label.
    assert {"epoch_loss", "epoch_accuracy"} <= tensorboard_tags(run / "logs" / "train")
    capsys.readouterr()
    assert cli.main(["evaluate", str(run)]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["metrics"] == pytest.approx(results["validation"])
    matrix = np.array(evaluated["confusion_matrix"])
    assert matrix.sum() == 12 and np.trace(matrix) / 12 == pytest.approx(
        evaluated["metrics"]["accuracy"]
    )


def test_evaluate_and_predict_int8(trained_run, capsys):
    run = str(trained_run / "run")
    capsys.readouterr()
    assert cli.main(["evaluate", run, "--int8"]) == 0
    captured = capsys.readouterr()
    assert "quantized to int8" in captured.err
    assert json.loads(captured.out)["metrics"]["accuracy"] >= 0.9  # As the float run.
    assert cli.main(["predict", run, "the dog is good", "lazy dog", "--int8"]) == 0
    assert capsys.readouterr().out.split() == ["good", "bad"]


def tensorboard_tags(folder):
    import tensorflow as tf

    return {
        value.tag
        for name in os.listdir(folder)
        for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name))
        for value in event.summary.value
    }


def test_predict_raw_text_stdin_and_files(trained_run, tmp_path, capsys, monkeypatch):
    run = str(trained_run / "run")
    capsys.readouterr()
    assert cli.main(["predict", run, "the dog is good", "lazy dog"]) == 0
    assert capsys.readouterr().out.split() == ["good", "bad"]
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("a quick fox\nbrown cat\n"))
    assert cli.main(["predict", run, "--jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in rows] == ["good", "bad"]
    assert sum(rows[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    out = tmp_path / "preds" / "p.tsv"
    assert (
        cli.main(["predict", run, "--data", str(trained_run / "dev.tsv"), "--out", str(out)]) == 0
    )
    lines = out.read_text().splitlines()
    assert lines[0] == "index\tprediction" and len(lines) == 13


def test_glue_classification_and_regression_with_leaderboard_files(tmp_path, checkpoint, capsys):
    data = write_glue(str(tmp_path / "glue"), rows=8)
    for task, metrics in (("mrpc", ["f1", "accuracy"]), ("stsb", ["spearman", "pearson"])):
        out = tmp_path / task
        assert (
            cli.main(
                [
                    "finetune",
                    f"glue/{task}",
                    "--data-dir",
                    data,
                    "--weights",
                    checkpoint,
                    "--out",
                    str(out),
                    "--epochs",
                    "1",
                    "--seq-len",
                    "32",
                    "--batch-size",
                    "4",
                    "--verbose",
                    "0",
                ]
            )
            == 0
        )
        results = json.loads((out / "results.json").read_text())
        assert results["metrics"] == metrics and set(results["validation"]) == set(metrics)
        capsys.readouterr()
        assert cli.main(["evaluate", str(out), "--data", "dev"]) == 0
        assert json.loads(capsys.readouterr().out)["examples"] == 8
        board = tmp_path / "board" / f"{task}.tsv"
        assert cli.main(["predict", str(out), "--data", "test", "--out", str(board)]) == 0
        rows = [line.split("\t") for line in board.read_text().splitlines()]
        assert rows[0] == ["index", "prediction"] and [r[0] for r in rows[1:]] == [
            str(i) for i in range(8)
        ]
        if task == "stsb":
            assert all(float(r[1]) == pytest.approx(float(r[1])) for r in rows[1:])
        else:
            assert {r[1] for r in rows[1:]} <= {"0", "1"}


def test_class_folders_with_a_seeded_split(tmp_path, checkpoint):
    for label, texts in (("good", GOOD), ("bad", BAD)):
        os.makedirs(tmp_path / "data" / label)
        for i in range(10):
            (tmp_path / "data" / label / f"{i:03d}.txt").write_text(texts[i % len(texts)])
    out = tmp_path / "run"
    assert cli.main(folders_args(tmp_path / "data", checkpoint, out)) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["train_examples"] == 16 and results["validation_examples"] == 4


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda a: a[: a.index("--text-column")] + a[a.index("--label-column") :],
            "needs --text-column",
        ),
        (lambda a: a + ["--seq-len", "600"], "--seq-len 600 must be in [8, 64]"),
        (lambda a: ["finetune", "glue/mrpc"] + a[2:], "needs --data-dir"),
        (lambda a: ["finetune", "glue/sst-2"] + a[2:], "Unknown GLUE task 'sst-2'"),
        (lambda a: ["finetune", "xml"] + a[2:], "unknown data source 'xml'"),
    ],
)
def test_bad_input_is_one_line_before_training(tmp_path, checkpoint, capsys, change, message):
    assert cli.main(change(table_args(tmp_path, checkpoint))) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_bad_validation_row_names_file_and_line(tmp_path, checkpoint, capsys):
    argv = table_args(tmp_path, checkpoint)
    with open(tmp_path / "dev.tsv", "a") as f:
        f.write("odd text\tmaybe\n")
    assert cli.main(argv) == 2
    assert "dev.tsv:14: label 'maybe' is not one of bad, good" in capsys.readouterr().err


def _final_weights(path):
    return [np.asarray(w) for w in keras.saving.load_model(str(path)).weights]


@pytest.fixture(scope="module")
def dropout_checkpoint(tmp_path_factory):
    """The tiny encoder with BERT's dropout (0.1 on hidden states and attention)."""
    return tiny_checkpoint(tmp_path_factory.mktemp("dropout_ckpt"), dropout=0.1)


def test_killed_run_resumes_at_the_same_batch_and_dropout_masks(tmp_path, dropout_checkpoint):
    """Dropout on (encoder and head): the resumed run draws the masks the uninterrupted
    one drew, because the random generators' states are checkpointed.

    Over 60 s: three command processes (the run killed by SIGKILL, its resumption, the
    straight run), each starting TensorFlow and tracing its train step."""
    argv = table_args(
        tmp_path,
        dropout_checkpoint,
        "killed",
        "--epochs",
        "3",
        "--checkpoint-every",
        "2",
        "--seed",
        "4",
        "--head-dropout",
        "0.1",
    )
    state = tmp_path / "killed" / "checkpoints" / "state.json"
    killed_at, rerun = kill_then_rerun(argv, state, at_least=4)
    assert 4 <= killed_at < 15
    assert f"resuming from step {killed_at} of 15" in rerun.stderr
    straight = table_args(
        tmp_path,
        dropout_checkpoint,
        "straight",
        "--epochs",
        "3",
        "--checkpoint-every",
        "2",
        "--seed",
        "4",
        "--head-dropout",
        "0.1",
    )
    assert cli.main(straight) == 0
    resumed, uninterrupted = (
        _final_weights(tmp_path / name / "model.keras") for name in ("killed", "straight")
    )
    for a, b in zip(resumed, uninterrupted):
        np.testing.assert_allclose(a, b, atol=1e-6)  # No batch trained twice or skipped.
    history = json.loads((tmp_path / "killed" / "results.json").read_text())["epochs"]
    assert [e["epoch"] for e in history] == [1, 2, 3]


def test_scores_used_by_the_cli_are_the_official_ones():
    from keras_bert.cli import task_data

    values = task_data.score(("accuracy", "f1", "mcc"), [1, 0, 1, 1], [1, 1, 1, 0])
    assert values == {
        "accuracy": 0.5,
        "f1": scores.f1([1, 0, 1, 1], [1, 1, 1, 0]),
        "mcc": scores.matthews_corrcoef([1, 0, 1, 1], [1, 1, 1, 0]),
    }


def test_glue_sweep_picks_the_best_rate_and_prints_the_paper_table(tmp_path, checkpoint, capsys):
    data = write_glue(str(tmp_path / "glue"), rows=8)
    out = tmp_path / "sweep"
    argv = [
        "glue",
        "--data-dir",
        data,
        "--weights",
        checkpoint,
        "--out",
        str(out),
        "--tasks",
        "mrpc",
        "--learning-rates",
        "3e-3,1e-5",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--seq-len",
        "32",
        "--verbose",
        "0",
    ]
    assert cli.main(argv) == 0
    table = capsys.readouterr().out
    assert "MNLI-m" in table and "BERT-base (paper, test)" in table and "79.6" in table
    summary = json.loads((out / "glue.json").read_text())
    for task, metric in (("mrpc", "f1"),):
        scores_by_rate = {
            rate: json.loads((out / task / f"lr-{rate}" / "results.json").read_text())[
                "validation"
            ][metric]
            for rate in ("0.003", "1e-05")
        }
        best_rate = max(scores_by_rate, key=scores_by_rate.get)
        assert summary["best_runs"][task].endswith(f"lr-{best_rate}")
    assert summary["dev"]["MRPC"] is not None and summary["dev"]["QQP"] is None
    assert (out / "submission" / "MRPC.tsv").read_text().startswith("index\tprediction\n0\t")
    assert not (out / "rte").exists()  # Only the tasks asked for.
    assert cli.main(argv) == 0  # Finished runs are reused, not trained again.
    assert "GLUE mrpc: learning rate" not in capsys.readouterr().err


def test_export_serves_the_runs_answers(trained_run, tmp_path, capsys):
    import tensorflow as tf
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    run = str(trained_run / "run")
    config = str(tmp_path / "models.config")
    capsys.readouterr()
    assert (
        cli.main(
            [
                "export",
                run,
                "--out",
                str(tmp_path / "topics"),
                "--serving-config",
                config,
                "--name",
                "topics",
            ]
        )
        == 0
    )
    path = capsys.readouterr().out.strip()
    assert path == str(tmp_path / "topics" / "1")
    served = tf.saved_model.load(path).signatures["serving_default"]
    texts = ["the dog is good", "lazy dog", "a quick fox", "brown cat"]
    answers = served(text=tf.constant(texts))
    assert cli.main(["predict", run, *texts]) == 0
    assert [b.decode() for b in answers["label"].numpy()] == capsys.readouterr().out.split()
    parsed = text_format.Parse(open(config).read(), model_server_config_pb2.ModelServerConfig())
    assert [m.name for m in parsed.model_config_list.config] == ["topics"]
    batching = parse_batching_parameters(open(tmp_path / "batching_parameters.txt").read())
    assert batching.max_batch_size.value == 32 and batching.pad_variable_length_inputs
    assert batching.num_batch_threads.value == os.cpu_count()
    assert cli.main(["export", run, "--out", str(tmp_path / "topics")]) == 0
    assert capsys.readouterr().out.strip().endswith("2")  # the next version, never over 1
    _check_model_card(path, run, capsys)


def _check_model_card(path, run, capsys):
    """The export describes itself: assets.extra/model_card.json, and `inspect`."""
    import hashlib

    import tensorflow as tf

    card = json.loads(open(os.path.join(path, "assets.extra", "model_card.json")).read())
    run_json = json.loads(open(os.path.join(run, "run.json")).read())
    results = json.loads(open(os.path.join(run, "results.json")).read())
    assert card["task"] == run_json["task"] == "classification"
    assert card["label_names"] == run_json["label_names"]
    assert card["sequence_length"] == run_json["sequence_length"] and card["lowercase"]
    vocab = open(os.path.join(run, "vocab", "vocab.txt"), "rb").read()
    assert card["vocabulary"]["sha256"] == hashlib.sha256(vocab).hexdigest()
    assert card["weights"] == run_json["weights"]
    assert card["validation"] == results["validation"] and card["metrics"] == ["accuracy", "f1"]
    assert card["versions"]["tensorflow"] == tf.__version__
    loaded = tf.saved_model.load(path).signatures
    assert sorted(card["signatures"]) == sorted(loaded)
    for name, signature in loaded.items():
        inputs = signature.structured_input_signature[1]
        assert sorted(card["signatures"][name]["inputs"]) == sorted(inputs)
        assert card["signatures"][name]["outputs"] == sorted(signature.structured_outputs)
    capsys.readouterr()
    assert cli.main(["inspect", path]) == 0
    assert json.loads(capsys.readouterr().out) == card
    assert cli.main(["inspect", os.path.dirname(path)]) == 0  # The base path: its newest.
    newest = json.loads(capsys.readouterr().out)
    assert newest["created"] >= card["created"] and newest["task"] == card["task"]
    assert cli.main(["inspect", run]) == 2  # A folder that is no export.
    assert "no assets.extra/model_card.json" in capsys.readouterr().err


def _run_logits(run, texts):
    """The run's best model on `texts`, in this process (its own preprocessing)."""
    from pipelines import BertPreprocessor

    sequence_length = json.loads(open(os.path.join(run, "run.json")).read())["sequence_length"]
    pre = BertPreprocessor.from_dir(os.path.join(run, "vocab"), sequence_length=sequence_length)
    model = keras.saving.load_model(os.path.join(run, "best.keras"))
    return np.asarray(model.predict(pre(texts), verbose=0), np.float64)


def test_calibration_is_fitted_reported_and_applied(trained_run, tmp_path, capsys):
    import torch
    from scipy.optimize import minimize_scalar

    from tests.test_calibration import _reference_ece

    run = str(trained_run / "run")
    rows = [line.split("\t") for line in (trained_run / "dev.tsv").read_text().splitlines()[1:]]
    logits = _run_logits(run, [text for text, _ in rows])
    labels = np.array([["bad", "good"].index(label) for _, label in rows])
    calibration = json.loads(open(os.path.join(run, "results.json")).read())["calibration"]

    def nll(t):
        return float(
            torch.nn.functional.cross_entropy(torch.tensor(logits / t), torch.tensor(labels))
        )

    best = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded", options={"xatol": 1e-9}).x
    temperature = calibration["temperature"]
    assert temperature == pytest.approx(best, rel=1e-3) and calibration["bins"] == 15
    assert calibration["nll_after"] == pytest.approx(nll(best), rel=1e-4)
    assert calibration["nll_after"] <= calibration["nll_before"] + 1e-9
    probabilities = torch.softmax(torch.tensor(logits / temperature), -1).numpy()
    assert calibration["ece_after"] == pytest.approx(_reference_ece(probabilities, labels, 15))
    capsys.readouterr()
    assert cli.main(["evaluate", run]) == 0
    evaluated = json.loads(capsys.readouterr().out)["calibration"]
    assert evaluated["temperature"] == temperature
    assert evaluated["ece"] == pytest.approx(calibration["ece_after"], abs=1e-5)
    assert evaluated["ece_uncalibrated"] == pytest.approx(calibration["ece_before"], abs=1e-5)

    # predict and the export apply the temperature; --min-confidence abstains below P.
    texts = ["the dog is good", "lazy dog cat", "a quick fox"]
    want = torch.softmax(torch.tensor(_run_logits(run, texts) / temperature), -1).numpy()
    floor = float(np.sort(want.max(-1))[1])  # the middle confidence: one text abstains
    assert cli.main(["predict", run, *texts, "--jsonl", "--min-confidence", str(floor)]) == 0
    answered = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    got = np.array([[row["probabilities"][n] for n in ("bad", "good")] for row in answered])
    np.testing.assert_allclose(got, want, atol=1e-5)
    unsure = want.max(-1) < floor
    assert unsure.sum() == 1
    assert [r["label"] == "" for r in answered] == unsure.tolist()
    export = str(tmp_path / "calibrated")
    assert cli.main(["export", run, "--out", export, "--min-confidence", str(floor)]) == 0
    path = capsys.readouterr().out.strip()
    reply = call_in_fresh_process(path, {"serving_default": {"text": texts}}, str(tmp_path))
    reply = reply["serving_default"]
    np.testing.assert_allclose(reply["probabilities"], want, atol=1e-5)
    assert reply["label_id"] == np.where(unsure, -1, want.argmax(-1)).tolist()
    assert reply["label"] == [r["label"] for r in answered]
    card = json.loads(open(os.path.join(path, "assets.extra", "model_card.json")).read())
    assert card["temperature"] == temperature and card["min_confidence"] == floor
    assert card["calibration"] == calibration
    assert cli.main(["predict", run, "x", "--min-confidence", "1.5"]) == 2
    assert "in [0, 1]" in capsys.readouterr().err
