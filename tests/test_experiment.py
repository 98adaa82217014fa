"""`keras-bert experiment objectives` end to end on the tiny preset: killed during its
second pretraining and re-run, it reuses the finished run, resumes the interrupted one,
and gives the paper's table, results.json, the picture and run folders the other
commands take."""

import json
import os

import pytest

from keras_bert import cli
from keras_bert.cli.experiment import ROWS, _tasks
from keras_bert.cli.experiment_report import text_table
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
        assert row["tasks"]["words"] == {
            "metric": "accuracy",
            "value": written["validation"]["accuracy"],
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


def test_task_names_and_the_table():
    assert _tasks(["glue/mrpc --data-dir d", "sst=glue/sst2 --data-dir 'a b'"]) == [
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
        _tasks(["name=  "])
