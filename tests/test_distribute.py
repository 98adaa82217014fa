"""keras_bert.distribute: which strategy `auto()` picks, TF_CONFIG roles, batch split.
Strategies with several replicas run in a fresh process (logical devices must be set
before TensorFlow starts)."""

import json
import os
import subprocess
import sys

import pytest

from keras_bert.distribute import strategy as distribute

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTER = {"chief": ["127.0.0.1:2222"], "worker": ["127.0.0.1:2223", "127.0.0.1:2224"]}


def test_default_strategy_without_tpu_cluster_or_devices(monkeypatch, capsys):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("TPU_NAME", raising=False)
    strategy = distribute.auto()
    assert strategy.num_replicas_in_sync == 1
    assert "1 replica" in capsys.readouterr().out


def test_tf_config_roles_and_counts():
    assert distribute.worker_count({"cluster": CLUSTER}) == 3
    assert distribute.is_chief({"cluster": CLUSTER, "task": {"type": "chief", "index": 0}})
    assert not distribute.is_chief({"cluster": CLUSTER, "task": {"type": "worker", "index": 0}})
    no_chief = {"worker": CLUSTER["worker"]}
    assert distribute.is_chief({"cluster": no_chief, "task": {"type": "worker", "index": 0}})
    assert not distribute.is_chief({"cluster": no_chief, "task": {"type": "worker", "index": 1}})
    assert distribute.is_chief({})  # a single process


def test_bad_tf_config_choice_and_batch_are_named(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        distribute.worker_count()
    monkeypatch.delenv("TF_CONFIG")
    with pytest.raises(ValueError, match="expected one of: auto, none, mirrored"):
        distribute.auto("horovod")
    with pytest.raises(ValueError, match="multi_worker needs TF_CONFIG"):
        distribute.auto("multi_worker", verbose=False)

    class Three:
        num_replicas_in_sync = 3

    with pytest.raises(ValueError, match="global batch size 32 must be a multiple of the 3"):
        distribute.per_replica_batch(32, Three())
    assert distribute.per_replica_batch(33, Three()) == 11


_TWO_CPUS = r"""
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from keras_bert.distribute import strategy as distribute
strategy = distribute.auto(sys.argv[1], verbose=False)
print(json.dumps({"name": type(strategy).__name__,
                  "replicas": strategy.num_replicas_in_sync}))
"""


@pytest.mark.parametrize("choice", ["auto", "mirrored", "none"])
def test_two_logical_cpus_give_a_two_replica_mirrored_strategy(choice):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    env.pop("TPU_NAME", None)
    done = subprocess.run(
        [sys.executable, "-c", _TWO_CPUS, choice],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    if choice == "none":
        assert got["replicas"] == 1
    else:
        assert got == {"name": "MirroredStrategy", "replicas": 2}


def test_auto_picks_tpu_then_multi_worker_then_devices(monkeypatch):
    # The choice only: making a TPU or multi-worker strategy connects to the cluster.
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("TPU_NAME", raising=False)
    assert distribute._choose("auto", None) == "none"  # one CPU device, no GPU
    assert distribute._choose("auto", "my-tpu") == "tpu"
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": 1}})
    )
    assert distribute._choose("auto", None) == "multi_worker"
    monkeypatch.setenv("TPU_NAME", "my-tpu")
    assert distribute._choose("auto", None) == "tpu"
    assert distribute._choose("mirrored", None) == "mirrored"  # explicit wins
