"""Training with real replicas and real worker processes: MirroredStrategy over 2 logical
CPU devices, MultiWorkerMirroredStrategy with 2 processes on 127.0.0.1, and a worker
killed with SIGKILL and restarted. Every run is compared with a one-device run of the
same global batch and seed (dropout off), weight by weight."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from tests.test_cli_finetune import checkpoint, write_table  # noqa: F401  (fixture)
from tests.test_cli_squad_conll_swag import _conll_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)


def pretrain_args(out, steps=4, *extra):
    return [
        "pretrain",
        "--train",
        os.path.join(DATA, "corpus.txt"),
        "--vocab",
        os.path.join(DATA, "vocab.txt"),
        "--lowercase",
        "--preset",
        "tiny",
        "--seq-len",
        "32",
        "--batch-size",
        "4",
        "--steps",
        str(steps),
        "--checkpoint-every",
        "2",
        "--dropout",
        "0",
        "--verbose",
        "2",
        "--out",
        str(out),
        *extra,
    ]


def classify_args(tmp_path, checkpoint, out, *extra):  # noqa: F811
    # 37 rows in batches of 8: the last batch of an epoch (5 rows) splits 2 + 3.
    return [
        "finetune",
        "tsv",
        "--train",
        write_table(tmp_path / "train.tsv", 37),
        "--validation",
        write_table(tmp_path / "dev.tsv", 12, seed=1),
        "--text-column",
        "text",
        "--label-column",
        "label",
        "--weights",
        checkpoint,
        "--seq-len",
        "16",
        "--batch-size",
        "8",
        "--epochs",
        "2",
        "--learning-rate",
        "3e-3",
        "--head-dropout",
        "0",
        "--verbose",
        "2",
        "--out",
        str(out),
        *extra,
    ]


def conll_args(tmp_path, checkpoint, out, *extra):  # noqa: F811
    return [
        "finetune",
        "conll",
        "--train",
        _conll_file(tmp_path / "train.txt", 20, 0),
        "--validation",
        _conll_file(tmp_path / "dev.txt", 6, 1),
        "--weights",
        checkpoint,
        "--seq-len",
        "16",
        "--batch-size",
        "6",
        "--epochs",
        "1",
        "--learning-rate",
        "5e-3",
        "--head-dropout",
        "0",
        "--verbose",
        "2",
        "--out",
        str(out),
        *extra,
    ]


def run_with_cpus(count, commands, timeout=900):
    """The commands, one after another, in one process with `count` logical CPUs."""
    argv = [sys.executable, os.path.join(ROOT, "tests", "distributed_run.py"), str(count)]
    for command in commands:
        argv += ["--"] + command
    result = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def weights(path):
    import keras_bert  # noqa: F401  (registers the classes)

    return [np.asarray(w) for w in keras.saving.load_model(str(path)).weights]


def assert_same_weights(a, b, atol=1e-6):
    first, second = weights(a), weights(b)
    assert len(first) == len(second)
    for x, y in zip(first, second):
        np.testing.assert_allclose(x, y, atol=atol, rtol=0)


@pytest.fixture(scope="module")
def one_device(tmp_path_factory, checkpoint):  # noqa: F811
    """The reference runs on one device, in this process, made once for the file's tests:
    classification, CoNLL and pretraining (8 steps), as folder name -> run folder."""
    import contextlib
    import io

    from keras_bert import cli

    tmp, none = tmp_path_factory.mktemp("one_device"), ("--strategy", "none")
    runs = {
        "classify": classify_args(tmp, checkpoint, tmp / "classify", *none),
        "conll": conll_args(tmp, checkpoint, tmp / "conll", *none),
        "pretrain": pretrain_args(tmp / "pretrain", 8, *none),
    }
    for argv in runs.values():
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            assert cli.main(argv) == 0
        assert "strategy _DefaultDistributionStrategy: 1 replica(s)" in err.getvalue()
    return {name: tmp / name for name in runs}


def test_mirrored_two_replicas_train_like_one_device(tmp_path, checkpoint, one_device):  # noqa: F811
    """Over 60 s: three training commands (classification, CoNLL, pretraining) on two
    replicas, in one process with two logical CPUs, against the one-device runs."""
    strategy = ("--strategy", "mirrored")
    commands = [
        classify_args(tmp_path, checkpoint, tmp_path / "classify", *strategy),
        conll_args(tmp_path, checkpoint, tmp_path / "conll", *strategy),
        pretrain_args(tmp_path / "pretrain", 8, *strategy),
    ]
    err = run_with_cpus(2, commands).stderr
    assert err.count("strategy MirroredStrategy: 2 replica(s)") == 3
    for name in ("classify", "conll", "pretrain"):
        # Embeddings included: every weight of the real model, after every step.
        assert_same_weights(tmp_path / name / "model.keras", one_device[name] / "model.keras")
    for name in ("classify", "conll"):
        one, two = (
            json.loads((d / "results.json").read_text())
            for d in (one_device[name], tmp_path / name)
        )
        for key, value in one["validation"].items():
            assert two["validation"][key] == pytest.approx(value, abs=1e-6)
    one, two = (
        json.loads((d / "metrics.json").read_text())
        for d in (one_device["pretrain"], tmp_path / "pretrain")
    )
    for key in ("loss", "mlm_loss", "nsp_loss", "mlm_accuracy", "nsp_accuracy"):
        assert two[key] == pytest.approx(one[key], rel=1e-5)  # Reduced over the replicas.


# --- several processes ----------------------------------------------------------------

_TAKEN = set()  # Ports given to a cluster of this session: never handed out twice.


def free_ports(count):
    ports = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in _TAKEN:
            _TAKEN.add(port)
            ports.append(port)
    return ports


class Cluster:
    """Worker processes of one `keras-bert` command, one TF_CONFIG each; every process is
    killed when the test ends, however it ends."""

    def __init__(self, argv, count, folder):
        self.argv, self.folder = argv, folder
        self.addresses = [f"127.0.0.1:{port}" for port in free_ports(count)]
        self.processes = {}

    def start(self, index):
        config = {"cluster": {"worker": self.addresses}, "task": {"type": "worker", "index": index}}
        env = dict(ENV, TF_CONFIG=json.dumps(config), TMPDIR=str(self.tmp(index)))
        log = open(self.folder / f"worker{index}.log", "a")
        self.processes[index] = subprocess.Popen(
            [sys.executable, "-m", "keras_bert.cli"] + self.argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        return self.processes[index]

    def tmp(self, index):
        path = self.folder / f"tmp{index}"
        path.mkdir(exist_ok=True)
        return path

    def log(self, index):
        return (self.folder / f"worker{index}.log").read_text()

    def wait(self, timeout=600):
        deadline = time.time() + timeout
        for index, process in self.processes.items():
            process.wait(timeout=max(1, deadline - time.time()))
            assert process.returncode == 0, self.log(index)[-3000:]

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def cluster(tmp_path):
    made = []

    def make(argv, count=2):
        # A folder per cluster: two clusters of one test must not share workers' logs
        # (whichever finished last would own "the last fingerprint" of a shared log).
        folder = tmp_path / f"cluster{len(made)}"
        folder.mkdir()
        made.append(Cluster(argv, count, folder))
        return made[-1]

    yield make
    for each in made:
        each.stop()


def fingerprint(log):
    lines = [line for line in log.splitlines() if "weights fingerprint" in line]
    assert lines, log[-2000:]
    return lines[-1].split()[-1]


def only_the_chief_wrote(cluster, out, worker_cleaned_up=True):
    assert {"checkpoints", "logs", "model.keras"} <= set(os.listdir(out))
    assert os.listdir(out / "logs" / "train")  # TensorBoard, from the chief.
    # The worker wrote into a temporary folder under its TMPDIR, removed at the end (a
    # worker killed with SIGKILL leaves its own behind).
    assert "not the chief: writing to" in cluster.log(1)
    if worker_cleaned_up:
        assert os.listdir(cluster.tmp(1)) == []
    assert "checkpoint at step" in cluster.log(0) and "checkpoint at step" not in cluster.log(1)


def test_two_worker_processes_finetune_like_one(
    tmp_path,
    checkpoint,  # noqa: F811
    cluster,
    one_device,
):
    """A cluster of two worker processes fine-tuning a classifier, against the one-device
    run. (Pretraining on two workers: the next test.)"""
    workers = cluster(classify_args(tmp_path, checkpoint, tmp_path / "classify"))
    for index in (0, 1):
        workers.start(index)
    workers.wait()
    assert "CollectiveAllReduceStrategy: 2 replica(s) (chief)" in workers.log(0)
    assert fingerprint(workers.log(0)) == fingerprint(workers.log(1))  # Bit for bit.
    only_the_chief_wrote(workers, tmp_path / "classify")
    assert_same_weights(
        tmp_path / "classify" / "model.keras", one_device["classify"] / "model.keras"
    )
    assert (tmp_path / "classify" / "best.keras").exists()


def test_a_killed_worker_restarted_resumes_the_cluster(tmp_path, cluster, one_device):
    """Over 60 s: a cluster of two workers pretraining, one killed at a checkpoint and
    started again (the chief restarts itself); the weights equal the one-device run's."""
    out = tmp_path / "run"
    workers = cluster(pretrain_args(out, 8))
    chief, worker = workers.start(0), workers.start(1)
    state, deadline = out / "checkpoints" / "state.json", time.time() + 300
    while not (state.exists() and json.loads(state.read_text())["step"] >= 4):
        assert chief.poll() is None and worker.poll() is None, workers.log(0)[-2000:]
        assert time.time() < deadline, "no checkpoint at step 4"
        time.sleep(0.1)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    workers.start(1)  # The same command again.
    workers.wait()
    assert "a worker was lost" in workers.log(0)  # The chief restarted itself...
    killed_at = json.loads(state.read_text())["step"]
    assert killed_at == 8
    resumed = [line for line in workers.log(1).splitlines() if "resuming from step" in line]
    assert resumed and resumed[0].split("resuming from step ")[1].split()[0] in ("4", "6")
    assert "CollectiveAllReduceStrategy: 2 replica(s) (chief)" in workers.log(0)
    assert fingerprint(workers.log(0)) == fingerprint(workers.log(1))  # Bit for bit.
    only_the_chief_wrote(workers, out, worker_cleaned_up=False)
    assert (out / "tf1" / "bert_config.json").exists()
    # No step trained twice or lost: the same weights as one device's run, never
    # interrupted.
    assert_same_weights(out / "model.keras", one_device["pretrain"] / "model.keras")


def test_clipping_sees_the_embeddings_true_gradient():
    """TF gives an embedding's gradient as IndexedSlices, a row per token; Keras would
    clip by the norm of those rows (a repeated token counted apart). BERT's optimizer
    clips by the norm of the summed, dense gradient, as PyTorch's clip_grad_norm_ does."""
    import tensorflow as tf

    from keras_bert.training import make_optimizer

    rows, epsilon = {}, 1e3  # A large epsilon: Adam's step follows the clipped gradient.
    for dense in (False, True):
        variable = keras.Variable(np.zeros((5, 2), "float32"))
        optimizer = make_optimizer(
            learning_rate=1.0, total_steps=1, warmup_steps=0, weight_decay=0.0, epsilon=epsilon
        )
        optimizer.build([variable])
        # Token 1 three times, token 2 once; each row of the gradient (3, 4).
        sliced = tf.IndexedSlices(
            tf.constant([[3.0, 4.0]] * 4), tf.constant([1, 1, 1, 2]), tf.constant([5, 2])
        )
        optimizer.apply_gradients([(tf.convert_to_tensor(sliced) if dense else sliced, variable)])
        rows[dense] = np.asarray(variable)
    np.testing.assert_array_equal(rows[False], rows[True])
    gradient = np.zeros((5, 2))
    gradient[1], gradient[2] = [9.0, 12.0], [3.0, 4.0]
    gradient /= np.linalg.norm(gradient)  # Clipped to norm 1 (the rows' norm would be 10).
    # Adam's first step (Algorithm 1, as PyTorch's AdamW): m_hat = g, sqrt(v_hat) = |g|.
    expected = -gradient / (np.abs(gradient) + epsilon)
    np.testing.assert_allclose(rows[True], expected, rtol=1e-5, atol=1e-12)


def test_the_trainer_leaves_the_optimizer_as_fit_needs_it():
    """The trainer sums gradients itself, during its steps only: `fit` afterwards (under
    Mirrored) must still find Keras's own all-reduce."""
    import tensorflow as tf

    import keras_bert
    from keras_bert.distribute.distributed_trainer import DistributedTrainer

    model = keras_bert.build(
        "tiny",
        task="classification",
        num_classes=2,
        num_layers=1,
        vocabulary_size=30,
        total_steps=2,
    )
    x = {
        "token_ids": np.ones((4, 5), "int32"),
        "segment_ids": np.zeros((4, 5), "int32"),
        "padding_mask": np.ones((4, 5), "int32"),
    }
    data = tf.data.Dataset.from_tensors((x, np.array([0, 1, 0, 1]))).repeat()
    before = model.optimizer._all_reduce_sum_gradients.__func__
    DistributedTrainer(model, tf.distribute.get_strategy()).fit(lambda c: data, 1, verbose=0)
    assert "_all_reduce_sum_gradients" not in vars(model.optimizer)
    assert model.optimizer._all_reduce_sum_gradients.__func__ is before
    assert int(model.optimizer.iterations) == 1
