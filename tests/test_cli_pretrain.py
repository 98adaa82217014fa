import json
import os

import keras
import pytest

from keras_bert import cli
from pipelines import BertTokenizer
from tests.kill_and_rerun import kill_then_rerun

DATA = os.path.join(os.path.dirname(__file__), "data")
CORPUS, VOCAB = os.path.join(DATA, "corpus.txt"), os.path.join(DATA, "vocab.txt")


def args(out, *extra, steps=4, every=2):
    return [
        "pretrain",
        "--train",
        CORPUS,
        "--vocab",
        VOCAB,
        "--lowercase",
        "--seq-len",
        "32",
        "--batch-size",
        "4",
        "--steps",
        str(steps),
        "--checkpoint-every",
        str(every),
        "--out",
        str(out),
        "--verbose",
        "2",
        *extra,
    ]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a, t: a.__setitem__(a.index(CORPUS), str(t / "missing*.txt")), "No files match"),
        (
            lambda a, t: a.__setitem__(a.index(CORPUS), _write(t / "blank.txt", "\n \n\n")),
            "the corpus has no text",
        ),
        (
            lambda a, t: a.__setitem__(a.index(VOCAB), _write(t / "v.txt", "hello\nworld\n")),
            "missing special token",
        ),
        (lambda a, t: a.__setitem__(a.index("32"), "600"), "--seq-len 600 must be in"),
        (lambda a, t: a.__setitem__(a.index("4"), "0"), "argument --batch-size: 0 must be > 0"),
    ],
)
def test_bad_input_fails_before_training(tmp_path, capsys, change, message):
    argv = args(tmp_path / "run")
    change(argv, tmp_path)
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "run")  # Nothing was started.


def _write(path, text):
    path.write_text(text)
    return str(path)


def test_pretrain_writes_tf1_and_keras_checkpoints(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(args(out)) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"mlm_accuracy", "nsp_accuracy", "mlm_loss", "nsp_loss"} <= set(metrics)
    assert 0 < metrics["unigram_baseline_mlm_accuracy"] < 1
    model = keras.saving.load_model(str(out / "model.keras"))
    assert int(model.optimizer.iterations) == 4
    assert {
        "epoch_mlm_accuracy",
        "epoch_nsp_accuracy",
        "epoch_mlm_loss",
        "epoch_nsp_loss",
    } <= tensorboard_tags(out / "logs" / "train")
    config = json.loads((out / "tf1" / "bert_config.json").read_text())
    assert config["do_lower_case"] is True and config["vocab_size"] == 71
    assert BertTokenizer.from_dir(str(out / "tf1")).vocabulary_size == 71
    err = capsys.readouterr().err
    assert "checkpoint at step 2" in err and "checkpoint at step 4" in err


def tensorboard_tags(folder):
    import tensorflow as tf

    tags = set()
    for name in os.listdir(folder):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name)):
            tags.update(value.tag for value in event.summary.value)
    return tags


def test_init_checkpoint_continues_a_pretrained_model(tmp_path, capsys):
    first = tmp_path / "first"
    assert cli.main(args(first, steps=2)) == 0
    second = tmp_path / "second"
    assert cli.main(args(second, "--init-checkpoint", str(first / "tf1"), steps=2)) == 0
    assert f"starting from checkpoint {first / 'tf1'}" in capsys.readouterr().err
    assert json.loads((second / "tf1" / "bert_config.json").read_text())["vocab_size"] == 71


def test_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    out = tmp_path / "run"
    state = out / "checkpoints" / "state.json"
    killed_at, rerun = kill_then_rerun(args(out, steps=12, every=2), state, at_least=4)
    assert 4 <= killed_at < 12, "the run ended before it could be killed"
    assert f"resuming from step {killed_at}" in rerun.stderr
    assert f"steps {killed_at + 1}..{killed_at + 2} of 12" in rerun.stderr
    assert "steps 1..2 of 12" not in rerun.stderr
    model = keras.saving.load_model(str(out / "model.keras"))
    assert int(model.optimizer.iterations) == 12  # The step counter went on.


def test_rerun_with_other_settings_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(args(out, steps=2)) == 0
    assert cli.main(args(out, steps=2)[:-2] + ["--seq-len", "16", "--verbose", "2"]) == 2
    assert "holds a run with other settings" in capsys.readouterr().err


def test_vocab_command(tmp_path):
    out = tmp_path / "vocab.txt"
    assert (
        cli.main(
            ["vocab", "--train", CORPUS, "--out", str(out), "--size", "100", "--min-count", "1"]
        )
        == 0
    )
    tokens = out.read_text().split("\n")[:-1]
    assert tokens[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert "the" in tokens and len(tokens) <= 100
    tokenizer = BertTokenizer(str(out), lowercase=True)
    ids = tokenizer.tokenize("The lazy dog and the cat.").numpy()
    assert tokenizer.unk_id not in ids
    assert tokenizer.detokenize(ids).numpy() == b"the lazy dog and the cat ."


def test_vocab_size_below_the_alphabet_is_an_error(tmp_path, capsys):
    assert (
        cli.main(["vocab", "--train", CORPUS, "--out", str(tmp_path / "v.txt"), "--size", "40"])
        == 2
    )
    assert "too small" in capsys.readouterr().err
