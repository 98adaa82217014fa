"""The command line's inputs: whatever a user types or pipes in gets a run or one line
naming the flag, file or line, before any training; never a traceback."""

import io
import json

import pytest

from keras_bert import cli
from tests.glue_files import write_glue
from tests.test_cli_errors import fails
from tests.test_cli_finetune import checkpoint, table_args  # noqa: F401
from tests.test_cli_squad_conll_swag import _common, _conll_file, _squad_file


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, checkpoint):  # noqa: F811
    folder = tmp_path_factory.mktemp("inputs")
    assert cli.main(table_args(folder, checkpoint, "run", "--epochs", "1")) == 0
    return str(folder / "run")


def _table(path, rows):
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in rows))
    return str(path)


def _argv(tmp_path, checkpoint, train, *extra):  # noqa: F811
    return [
        "finetune",
        "tsv",
        "--train",
        train,
        "--text-column",
        "text",
        "--label-column",
        "label",
        "--weights",
        checkpoint,
        "--out",
        str(tmp_path / "run"),
        "--seq-len",
        "16",
        "--batch-size",
        "8",
        "--epochs",
        "1",
        "--verbose",
        "0",
        *extra,
    ]


@pytest.mark.parametrize(
    "rows, extra, message",
    [
        (
            [("a dog", "x"), ("a cat", "x")],
            [],
            "every training label is 'x'; a classifier needs two or more classes",
        ),
        (
            [("a dog", "x"), ("a cat", "y")],
            ["--label-column", "text"],
            "--label-column 'text' is also a text column",
        ),
    ],
)
def test_labels_that_cannot_train_a_classifier(
    tmp_path,
    capsys,
    checkpoint,  # noqa: F811
    rows,
    extra,
    message,
):
    fails(capsys, _argv(tmp_path, checkpoint, _table(tmp_path / "t.tsv", rows), *extra), message)
    assert not (tmp_path / "run" / "checkpoints" / "state.json").exists()


def test_one_class_per_example_is_a_warning(tmp_path, capsys, checkpoint):  # noqa: F811
    rows = [(f"text number {i}", f"id{i}") for i in range(24)]
    assert cli.main(_argv(tmp_path, checkpoint, _table(tmp_path / "t.tsv", rows))) == 0
    assert (
        "warning: 24 classes for 24 training examples; is the label column (label) "
        "right?" in capsys.readouterr().err
    )


def test_a_file_named_as_another_format_is_refused(tmp_path, capsys, checkpoint):  # noqa: F811
    train = _table(tmp_path / "t.tsv", [("a dog", "x"), ("a cat", "y")])
    argv = _argv(tmp_path, checkpoint, train)
    argv[1] = "csv"
    fails(capsys, argv, f"--train {train} is named as TSV but `finetune csv` reads CSV")


def test_encoding_errors_replace_reads_a_table(tmp_path, capsys, checkpoint):  # noqa: F811
    path = tmp_path / "latin1.tsv"
    path.write_bytes(b"text\tlabel\ncaf\xe9 dog\tx\na cat\ty\n")
    fails(capsys, _argv(tmp_path, checkpoint, str(path)), f"{path}:2: not valid UTF-8")
    assert cli.main(_argv(tmp_path, checkpoint, str(path), "--encoding-errors", "replace")) == 0
    assert (
        f"{path}:2: not valid UTF-8 (invalid byte at offset 14); is it a text file?: "
        "bad bytes replaced by U+FFFD" in capsys.readouterr().err
    )


def test_predict_takes_texts_after_flags(run_dir, capsys):
    capsys.readouterr()
    assert cli.main(["predict", run_dir, "--jsonl", "the dog is good", "lazy dog"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == [["the dog is good"], ["lazy dog"]]


def test_predict_input_errors_name_their_source(run_dir, tmp_path, capsys, monkeypatch):
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"fine text\n\xff\xfe\x00\x01")
    fails(
        capsys,
        ["predict", run_dir, "--file", str(binary)],
        f"{binary}:2: not valid UTF-8 (invalid byte at offset 10)",
    )
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"\x00\x01\x02binary")))
    fails(capsys, ["predict", run_dir], "stdin: holds NUL bytes")
    text = tmp_path / "texts.txt"
    text.write_text("a dog\n")
    fails(
        capsys,
        ["predict", run_dir, "lazy dog", "--file", str(text)],
        "give texts as arguments or --file, not both",
    )


def test_glue_flags_and_files_are_checked_before_the_sweep(tmp_path, capsys, checkpoint):  # noqa: F811
    data = write_glue(str(tmp_path / "glue"), rows=8)
    argv = [
        "glue",
        "--data-dir",
        data,
        "--weights",
        checkpoint,
        "--out",
        str(tmp_path / "sweep"),
        "--tasks",
        "mrpc",
        "--epochs",
        "1",
    ]
    assert cli.main(argv + ["--learning-rates", "5e-5,abc"]) == 2
    assert (
        "argument --learning-rates: 'abc' in '5e-5,abc' is not a number" in capsys.readouterr().err
    )
    (tmp_path / "glue" / "MRPC" / "test.tsv").unlink()
    fails(capsys, argv, "MRPC/test.tsv: not found")
    assert not (tmp_path / "sweep").exists()


def test_a_conll_tag_only_in_validation_is_an_error_before_training(tmp_path, capsys, checkpoint):  # noqa: F811
    train = _conll_file(tmp_path / "train.txt", 20, 0)
    dev = tmp_path / "dev.txt"
    dev.write_text("paris NNP I-NP I-LOC\nsays VBZ I-VP O\n\nacme NNP I-NP I-ORG\n\n")
    fails(
        capsys,
        _common(tmp_path, checkpoint, "conll", train, str(dev), "--seq-len", "32"),
        f"{dev}:4: tag 'B-ORG' is not one of the model's tags",
    )
    assert not (tmp_path / "conll" / "checkpoints" / "state.json").exists()


def test_a_doc_stride_beyond_the_window_is_refused(tmp_path, capsys, checkpoint):  # noqa: F811
    train = _squad_file(tmp_path / "train.json", 6, 0)
    fails(
        capsys,
        _common(
            tmp_path,
            checkpoint,
            "squad",
            train,
            train,
            "--seq-len",
            "24",
            "--max-query-length",
            "8",
            "--doc-stride",
            "20",
        ),
        "--doc-stride 20 is more than the context a window holds after a question of "
        "--max-query-length 8 (24 - 8 - 3 = 13 pieces)",
    )


@pytest.mark.parametrize(
    "config, message",
    [
        ("{not json", "TF_CONFIG is not valid JSON"),
        (
            '{"cluster": {"worker": ["localhost:1", "localhost:2"]}, "task": {"type": "worker", '
            '"index": "one"}}',
            'TF_CONFIG task.index must be a whole number, not "one"',
        ),
        (
            '{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 3}}',
            "TF_CONFIG task.index 3 is outside its cluster's 1 worker task(s)",
        ),
        ('{"cluster": {"worker": "localhost:1"}}', "TF_CONFIG cluster.worker must be a list"),
    ],
)
def test_a_malformed_tf_config_is_one_line_with_any_strategy(
    tmp_path,
    capsys,
    monkeypatch,
    checkpoint,  # noqa: F811
    config,
    message,
):
    monkeypatch.setenv("TF_CONFIG", config)
    rows = [("a dog", "x"), ("a cat", "y")]
    fails(
        capsys,
        _argv(tmp_path, checkpoint, _table(tmp_path / "t.tsv", rows), "--strategy", "none"),
        message,
    )
