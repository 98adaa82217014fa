"""`keras-bert experiment objectives` end to end on the tiny preset: killed during its
second pretraining and re-run, it reuses the finished run, resumes the interrupted one,
and gives the paper's table, results.json, the picture and run folders the other
commands take."""

import json
import math
import os

import keras
import pytest

from keras_bert import cli
from keras_bert.cli.experiment import task_specs
from keras_bert.cli.experiment_objectives import ROWS
from keras_bert.cli.experiment_report import text_table
from keras_bert.tasks.bert_feature_tagger import FEATURES
from tests.kill_and_rerun import kill_then_rerun
from tests.test_cli_finetune import write_table
from tests.test_cli_pretrain import CORPUS, VOCAB


def experiment_args(tmp_path, *tasks):
    return [
        *("experiment", "objectives", "--train", CORPUS, "--validation", CORPUS),
        *("--vocab", VOCAB, "--lowercase", "--seq-len", "32", "--batch-size", "4"),
        *("--steps", "2", "--checkpoint-every", "1", "--verbose", "0"),
        *("--finetune-flags", "--epochs 1 --seq-len 16 --batch-size 20"),
        *(arg for task in tasks for arg in ("--task", task)),
        *("--out", str(tmp_path / "exp")),
    ]


def test_a_killed_experiment_resumes_and_reports_the_papers_table(tmp_path, capsys):
    """Over 60 s: three pretraining runs and four fine-tuning runs of the tiny model
    (each run builds and traces its own), a fourth of them twice (killed, resumed)."""
    train, dev = write_table(tmp_path / "train.tsv", 40), write_table(tmp_path / "dev.tsv", 12, 1)
    task = f"words=tsv --train {train} --validation {dev} --text-column text --label-column label"
    argv = experiment_args(tmp_path, task)
    out = tmp_path / "exp"
    state = out / "pretrain-mlm" / "checkpoints" / "state.json"
    _, rerun = kill_then_rerun(argv, state, at_least=1)
    assert f"reusing {out / 'pretrain-mlm_nsp'}" in rerun.stderr
    assert "resuming from step 1" in rerun.stderr  # The interrupted pretraining.
    assert "[7/7] fine-tuning + BiLSTM on words" in rerun.stderr
    results = json.loads((out / "results.json").read_text())
    rows = results["rows"]
    assert [r["row"] for r in rows] == [name.strip() for name, *_ in ROWS]
    assert [(r["objective"], r["bilstm"]) for r in rows] == [(o, b) for *_, o, b in ROWS]
    for row in rows:
        written = json.loads((out / row["folder"] / "words" / "results.json").read_text())
        value = written["validation"]["accuracy"]
        assert row["tasks"]["words"] == {
            "metric": "accuracy",
            "value": value,
            "percent": 100 * value,
        }
    table = capsys.readouterr().out
    assert "held-out LM acc" in table and "words (accuracy)" in table
    assert results["table"] in table
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(results["curves"]) == [
        "LTR (next-token accuracy)",
        "MLM (masked-token accuracy)",
        "MLM + NSP (masked-token accuracy)",
    ]
    assert all([p[0] for p in c] == [1, 2] for c in results["curves"].values())
    # Each objective's pretraining: its heads, its held-out scores.
    for objective, heads in (("mlm_nsp", ["mlm", "nsp"]), ("mlm", ["mlm"]), ("ltr", ["lm"])):
        model = keras.saving.load_model(out / f"pretrain-{objective}" / "model.keras")
        assert sorted(model.output) == heads and model.backbone.causal == (objective == "ltr")
        metrics = json.loads((out / f"pretrain-{objective}" / "metrics.json").read_text())
        held_out = metrics["validation"]
        assert ("nsp_accuracy" in held_out) == (objective == "mlm_nsp")
        assert held_out["perplexity"] == pytest.approx(math.exp(held_out["lm_loss"]), rel=1e-6)
    # The row folders are finetune runs: evaluate takes them.
    assert cli.main(["evaluate", str(out / "ltr-bilstm" / "words")]) == 0
    # Everything finished: a re-run only reads (and rewrites the same table).
    capsys.readouterr()
    assert cli.main(argv) == 0
    assert json.loads((out / "results.json").read_text())["rows"] == rows


def test_bad_task_specs_are_named_before_any_training(tmp_path, capsys):
    assert cli.main(experiment_args(tmp_path, "nonsense --train x")) == 2
    err = capsys.readouterr().err
    assert "--task nonsense: unknown data source 'nonsense'" in err
    assert not os.path.exists(tmp_path / "exp")
    assert cli.main(experiment_args(tmp_path, "a=csv --train x", "a=tsv --train y")) == 2
    assert "two tasks named 'a'" in capsys.readouterr().err
    assert cli.main(experiment_args(tmp_path, "squad --epochs 1")) == 2
    assert "--task squad: finetune squad needs --train" in capsys.readouterr().err
    assert cli.main(experiment_args(tmp_path, "csv --train x --bogus")) == 2
    assert "--task csv is not a valid command" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "exp")


def test_table_cells_are_percentages_whatever_scale_the_task_reports(tmp_path):
    """SQuAD's scores are percentages (the official script's); the other tasks report
    fractions. The tables show both on one scale, and results.json keeps the run's value."""
    from keras_bert.cli.experiment import finetuned

    cells = {}
    for task, metric, value in (
        ("question_answering", "f1", 33.3),
        ("token_classification", "f1", 0.333),
        ("classification", "accuracy", 0.5),
    ):
        out = tmp_path / task
        out.mkdir()
        run = {"task": task, "data": {}, "sequence_length": 16}  # what read_run requires
        (out / "run.json").write_text(json.dumps(run))
        results = {"metrics": [metric, "other"], "validation": {metric: value, "other": 1.0}}
        (out / "results.json").write_text(json.dumps(results))
        cells[task] = finetuned(["finetune"], str(out), "phase")  # finished: only read
    assert cells["question_answering"] == {"metric": "f1", "value": 33.3, "percent": 33.3}
    assert cells["token_classification"]["percent"] == pytest.approx(33.3)
    assert cells["classification"] == {"metric": "accuracy", "value": 0.5, "percent": 50.0}


def test_task_names_and_the_table():
    assert task_specs(["glue/mrpc --data-dir d", "sst=glue/sst2 --data-dir 'a b'"]) == [
        ("glue-mrpc", ["glue/mrpc", "--data-dir", "d"]),
        ("sst", ["glue/sst2", "--data-dir", "a b"]),
    ]
    table = text_table("Rows", ["x (f1)", "y"], [("A", [12.345, None]), ("B", [1.0, 2.0])])
    assert table.splitlines() == [
        "Rows                      x (f1)       y",
        "A                           12.3       -",
        "B                            1.0     2.0",
    ]
    with pytest.raises(Exception, match="names no finetune task"):
        task_specs(["name=  "])


def test_sizes_reports_perplexity_and_dev_scores_per_size(tmp_path, capsys):
    """Two sizes of two pretraining steps, one task each: the paper's table 6 layout.
    Over 60 s: two pretraining and two fine-tuning runs, each building and tracing its
    own model."""
    train, dev = write_table(tmp_path / "train.tsv", 40), write_table(tmp_path / "dev.tsv", 12, 1)
    task = f"words=tsv --train {train} --validation {dev} --text-column text --label-column label"
    argv = experiment_args(tmp_path, task)
    argv[1] = "sizes"
    assert cli.main(argv + ["--grid", "1x12x2,2x12x2"]) == 0
    out = tmp_path / "exp"
    results = json.loads((out / "results.json").read_text())
    assert [row["size"] for row in results["rows"]] == [[1, 12, 2], [2, 12, 2]]
    small, large = results["rows"]
    assert small["parameters"] < large["parameters"]
    for row in results["rows"]:
        name = "x".join(map(str, row["size"]))
        metrics = json.loads((out / name / "pretrain" / "metrics.json").read_text())
        assert row["held_out"]["perplexity"] == metrics["validation"]["perplexity"]
        config = json.loads((out / name / "pretrain" / "tf1" / "bert_config.json").read_text())
        assert [config[k] for k in ("num_hidden_layers", "hidden_size", "num_attention_heads")] \
            == row["size"]  # fmt: skip
        assert config["intermediate_size"] == 4 * row["size"][1]
        assert (out / name / "words" / "results.json").exists()
    printed = capsys.readouterr().out
    assert results["table"] in printed and "LM (ppl)" in printed and "24  1024  16" in printed
    assert (out / "perplexity.png").read_bytes()[:4] == b"\x89PNG"


def test_features_gives_the_six_feature_rows_and_fine_tuning(tmp_path, capsys):
    """Seven CoNLL runs of a 4-layer tiny encoder (the last-four rows need four).
    Over 60 s: seven fine-tuning runs, each building and tracing its own model."""
    import keras

    import keras_bert
    from keras_bert.checkpoints import write_tf1_checkpoint
    from pipelines.vocabulary import read_vocabulary
    from tests.test_cli_squad_conll_swag import _conll_file

    keras.utils.set_random_seed(0)
    encoder = keras_bert.build(
        "tiny", vocabulary_size=len(read_vocabulary(VOCAB)), num_layers=4, hidden_dim=12,
        num_heads=2, intermediate_dim=20, max_sequence_length=64,
    )  # fmt: skip
    weights = write_tf1_checkpoint(
        str(tmp_path / "ckpt"), encoder, vocabulary=VOCAB, lowercase=True
    )
    train, dev = _conll_file(tmp_path / "train.txt", 12, 0), _conll_file(tmp_path / "dev.txt", 4, 1)
    argv = [
        *("experiment", "features", "--weights", weights, "--out", str(tmp_path / "exp")),
        *("--task", f"conll --train {train} --validation {dev}", "--verbose", "0"),
        *("--finetune-flags", "--epochs 1 --seq-len 16 --batch-size 6"),
        *("--feature-flags", "--lstm-units 4 --lstm-layers 1"),
    ]
    assert cli.main(argv) == 0
    results = json.loads((tmp_path / "exp" / "results.json").read_text())
    rows = results["rows"]
    assert [r["features"] for r in rows] == [*FEATURES, None]
    for row in rows:
        run = json.loads((tmp_path / "exp" / row["folder"] / "run.json").read_text())
        assert run["data"]["features"] == row["features"]
        assert run["task"] == ("feature_tagging" if row["features"] else "token_classification")
        assert row["metric"] == "f1"
    assert results["table"] in capsys.readouterr().out
    bad = argv[:]
    bad[bad.index("--task") + 1] = f"csv --train {train}"
    assert cli.main(bad) == 2
