"""Run folders you can trust: one run per folder (a lock naming the holder), a resume
that refuses any changed data or recipe setting by name, no diverged or half-written
model kept, and evaluate/predict that name a damaged file and fall back."""

import errno
import json
import os
import shutil

import keras
import numpy as np
import pytest

from keras_bert import cli
from keras_bert.cli.common import UsageError, save_atomically
from keras_bert.cli.run_folder import RunFolder
from tests.test_cli_errors import fails
from tests.test_cli_finetune import (  # noqa: F401
    checkpoint,
    folders_args,
    run_args,
    table_args,
    write_table,
)


@pytest.fixture(scope="module")
def one_epoch_run(tmp_path_factory, checkpoint):  # noqa: F811
    """A finished one-epoch run (5 steps of 8), with validation."""
    folder = tmp_path_factory.mktemp("one_epoch")
    assert cli.main(table_args(folder, checkpoint, "run", "--epochs", "1")) == 0
    return folder


def _copy(one_epoch_run, tmp_path):
    shutil.copytree(one_epoch_run, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _argv(folder, checkpoint, *extra):  # noqa: F811
    """The run's own command line (its files are already in `folder`)."""
    train, dev = folder / "train.tsv", folder / "dev.tsv"
    return run_args(
        train, dev, checkpoint, folder / "run", "--verbose", "0", "--epochs", "1", *extra
    )


@pytest.fixture
def run_files(one_epoch_run):
    """The finished run's folder; its data files are put back as they were after the test
    (a refused resume writes nothing, so the run itself needs no copy)."""
    saved = {name: (one_epoch_run / name).read_text() for name in ("train.tsv", "dev.tsv")}
    yield one_epoch_run
    for name, text in saved.items():
        (one_epoch_run / name).write_text(text)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a, f: _set(a, "--warmup-ratio", "0.3"), "--warmup-ratio 0.1 -> 0.3"),
        (lambda a, f: _set(a, "--weight-decay", "0"), "--weight-decay 0.01 -> 0.0"),
        (
            lambda a, f: _set(a, "--validation", write_table(f / "other.tsv", 12, seed=5)),
            "--validation",
        ),
        (lambda a, f: _set(a, "--train", write_table(f / "more.tsv", 60, seed=9)), "--train"),
        (
            lambda a, f: _set(_with_column(a, f), "--label-column", "text2"),
            "--label-column 'label' -> 'text2'",
        ),
    ],
)
def test_resume_refuses_a_changed_setting_by_name(
    run_files,
    capsys,
    checkpoint,  # noqa: F811
    change,
    message,
):
    err = fails(capsys, change(_argv(run_files, checkpoint), run_files), message)
    assert "holds a run with other settings" in err


def _set(argv, flag, value):
    """`argv` with `flag` set to `value` (replaced, or added)."""
    argv = list(argv)
    if flag not in argv:
        return argv + [flag, value]
    argv[argv.index(flag) + 1] = value
    return argv


def _with_column(argv, folder):
    """Gives both files a second column, so --label-column can name it."""
    for name in ("train.tsv", "dev.tsv"):
        lines = (folder / name).read_text().splitlines()
        rows = ["text\tlabel\ttext2"] + [f"{line}\t{line.split(chr(9))[1]}" for line in lines[1:]]
        (folder / name).write_text("\n".join(rows) + "\n")
    return argv


def test_resume_refuses_data_changed_under_the_same_name(run_files, capsys, checkpoint):  # noqa: F811
    lines = (run_files / "train.tsv").read_text().splitlines()
    swapped = [lines[0]] + [
        line.replace("\tgood", "\tXX").replace("\tbad", "\tgood").replace("\tXX", "\tbad")
        for line in lines[1:]
    ]
    (run_files / "train.tsv").write_text("\n".join(swapped) + "\n")
    fails(capsys, _argv(run_files, checkpoint), "the data's contents")


def test_resume_takes_the_weights_folder_by_any_path(
    run_files,
    capsys,
    checkpoint,  # noqa: F811
    monkeypatch,
):
    monkeypatch.chdir(os.path.dirname(checkpoint))
    assert cli.main(_argv(run_files, os.path.basename(checkpoint))) == 0
    assert "resuming from step 5 of 5" in capsys.readouterr().err


def test_a_second_run_into_a_busy_folder_is_refused_naming_the_holder(tmp_path, capsys, checkpoint):  # noqa: F811
    holder = RunFolder(str(tmp_path / "run"))
    try:
        err = fails(capsys, table_args(tmp_path, checkpoint), f"is in use by pid {os.getpid()} on ")
        assert "give another folder" in err
        assert not (tmp_path / "run" / "checkpoints" / "state.json").exists()
    finally:
        holder.close()
    assert cli.main(table_args(tmp_path, checkpoint, "run", "--epochs", "1")) == 0


def test_a_one_epoch_run_numbers_its_one_segment(one_epoch_run, tmp_path, capfd, checkpoint):  # noqa: F811
    argv = _set(table_args(tmp_path, checkpoint, "run", "--epochs", "1"), "--verbose", "1")
    assert cli.main(argv) == 0
    out = capfd.readouterr().out
    assert "Epoch 1/1" in out and "Epoch 1/2" not in out


def test_a_diverged_loss_ends_the_run_before_its_checkpoint(tmp_path):
    import tensorflow as tf

    from keras_bert.cli.training_loop import train_in_segments

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.array([[1.0, 2.0, np.inf]] * 8, "float32")  # The loss becomes NaN at once.
    folder = RunFolder(str(tmp_path / "run"))
    try:
        with pytest.raises(
            UsageError,
            match=r"training diverged by step 2 \(loss (nan|inf)\); "
            r"nothing of it was saved \(no checkpoint",
        ):
            train_in_segments(
                model,
                folder,
                0,
                4,
                lambda at: at + 2,
                lambda at, count, context: (
                    tf.data.Dataset.from_tensor_slices((x, np.ones((8, 1), "float32")))
                    .batch(4)
                    .repeat()
                ),
                verbose=0,
            )
    finally:
        folder.close()
    assert not (tmp_path / "run" / "checkpoints" / "state.json").exists()


def test_a_full_disk_leaves_no_temporary_file_and_names_the_folder(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text("the previous version")

    def write(path):
        with open(path, "w") as f:
            f.write("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(
        UsageError,
        match=rf"cannot write {target} \(No space left on "
        rf"device\); free space in \(or fix\) {tmp_path}",
    ):
        save_atomically(write, str(target))
    assert os.listdir(tmp_path) == ["model.keras"]
    assert target.read_text() == "the previous version"


def test_a_model_no_step_changed_is_copied_and_a_trained_one_saved_again(tmp_path, monkeypatch):
    from keras_bert.cli.common import save_model

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("adam", "mse")
    serialized = []
    save = model.save
    monkeypatch.setattr(model, "save", lambda path: serialized.append(path) or save(path))
    first, again, trained = (str(tmp_path / f"{name}.keras") for name in ("a", "b", "c"))
    save_model(model, first)
    save_model(model, again)  # No step since: the same file's bytes.
    assert len(serialized) == 1 and open(first, "rb").read() == open(again, "rb").read()
    model.fit(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    os.remove(again)
    save_model(model, trained)
    assert len(serialized) == 2  # A step changed the weights: serialized again.
    for path, weights in ((first, None), (trained, model.get_weights())):
        loaded = keras.saving.load_model(path).get_weights()
        if weights is not None:
            assert all(np.array_equal(x, y) for x, y in zip(loaded, weights))
        else:
            assert not np.array_equal(loaded[0], model.get_weights()[0])
    os.remove(trained)  # The last save's file is gone: serialized, not copied.
    save_model(model, str(tmp_path / "d.keras"))
    assert len(serialized) == 3 and sorted(os.listdir(tmp_path)) == ["a.keras", "d.keras"]


def test_results_json_holds_null_for_nan(tmp_path):
    from keras_bert.cli.run_model import write_json

    write_json(str(tmp_path / "r.json"), {"spearman": float("nan"), "x": [1.5, float("inf")]})
    assert json.loads((tmp_path / "r.json").read_text()) == {"spearman": None, "x": [1.5, None]}


def test_evaluate_names_a_damaged_run_file_and_falls_back(one_epoch_run, tmp_path, capsys):
    run = _copy(one_epoch_run, tmp_path) / "run"
    best = run / "best.keras"
    best.write_bytes(best.read_bytes()[:500])
    capsys.readouterr()
    assert cli.main(["evaluate", str(run)]) == 0
    captured = capsys.readouterr()
    assert f"{best} cannot be loaded" in captured.err
    assert f"loaded {run / 'model.keras'}" in captured.err
    assert json.loads(captured.out)["examples"] == 12
    (run / "run.json").write_text('{"data": ')
    fails(capsys, ["evaluate", str(run)], f"{run / 'run.json'}: unreadable")


def test_folders_without_validation_train_and_keep_the_last_model(tmp_path, capsys, checkpoint):  # noqa: F811
    for label, text in (("good", "the dog is good"), ("bad", "lazy dog")):
        os.makedirs(tmp_path / "data" / label)
        for i in range(2):  # 2 x 0.2 rounds to no file held out.
            (tmp_path / "data" / label / f"{i}.txt").write_text(text)
    argv = folders_args(tmp_path / "data", checkpoint, tmp_path / "run")
    fails(capsys, argv, "validation_split 0.2 holds out no file")
    assert not (tmp_path / "run" / "checkpoints" / "state.json").exists()
    assert cli.main(argv + ["--validation-split", "0"]) == 0
    assert "no validation data" in capsys.readouterr().err
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["validation"] is None and results["validation_examples"] == 0
    assert (tmp_path / "run" / "model.keras").exists()
    assert not (tmp_path / "run" / "best.keras").exists()
    fails(
        capsys,
        ["evaluate", str(tmp_path / "run")],
        "the run has no validation data: give --data FILE",
    )
