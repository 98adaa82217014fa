"""Choosing a tf.distribute strategy: one call for CPU, several GPUs, several machines
and TPU. TensorFlow is imported only when a strategy is asked for (the model code runs
without it on other backends).

>>> import keras_bert
>>> strategy = keras_bert.distribute.auto(verbose=False)  # no TPU, TF_CONFIG or 2 GPUs
>>> strategy.num_replicas_in_sync
1
"""

import glob
import json
import os

CHOICES = ("auto", "none", "mirrored", "multi_worker", "tpu")
_MADE = {}


def tf_config():
    """The parsed `TF_CONFIG` environment variable ({} when unset)."""
    raw = os.environ.get("TF_CONFIG", "")
    if not raw.strip():
        return {}
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"TF_CONFIG is not valid JSON ({e}): {raw[:200]!r}") from None
    if not isinstance(config, dict) or not isinstance(config.get("cluster", {}), dict):
        raise ValueError(f"TF_CONFIG must be an object with a 'cluster' object: {raw[:200]!r}")
    _check_cluster(config.get("cluster", {}))
    _check_task(config.get("task", {}), config.get("cluster", {}))
    return config


def _check_cluster(cluster):
    for kind, addresses in cluster.items():
        if not isinstance(addresses, list) or not all(
            isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses
        ):
            raise ValueError(
                f'TF_CONFIG cluster.{kind} must be a list of "host:port" '
                f"strings, not {json.dumps(addresses)[:200]}"
            )


def _check_task(task, cluster):
    if not task:
        return
    if not isinstance(task, dict):
        raise ValueError(
            f"TF_CONFIG task must be an object with type and index, not {json.dumps(task)[:200]}"
        )
    kind, index = task.get("type"), task.get("index", 0)
    if kind not in cluster:
        raise ValueError(
            f"TF_CONFIG task.type {kind!r} is not a role of its cluster "
            f"({', '.join(cluster) or 'none'})"
        )
    if isinstance(index, bool) or not (
        isinstance(index, int) or (isinstance(index, str) and index.isdigit())
    ):
        raise ValueError(f"TF_CONFIG task.index must be a whole number, not {json.dumps(index)}")
    if not 0 <= int(index) < len(cluster[kind]):
        raise ValueError(
            f"TF_CONFIG task.index {index} is outside its cluster's "
            f"{len(cluster[kind])} {kind} task(s)"
        )


def worker_count(config=None):
    """How many training processes TF_CONFIG's cluster names (chief and workers)."""
    cluster = (tf_config() if config is None else config).get("cluster", {})
    return sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))


def is_chief(config=None):
    """Whether this process writes checkpoints, logs and exports: the `chief` task, or
    worker 0 when the cluster has no chief, or the only process without TF_CONFIG."""
    config = tf_config() if config is None else config
    task = config.get("task", {})
    if not task:
        return True
    kind, index = task.get("type"), int(task.get("index", 0))
    if kind == "chief":
        return True
    return kind == "worker" and index == 0 and not config.get("cluster", {}).get("chief")


def _tpu_requested(tpu):
    """A TPU is named (`tpu`, TPU_NAME) or this is a Cloud TPU VM (its /dev/accel* or
    /dev/vfio devices); asking the GCE metadata server is avoided, it hangs off GCP."""
    return bool(
        tpu
        or os.environ.get("TPU_NAME")
        or glob.glob("/dev/accel*")
        or os.path.exists("/dev/vfio/0")
    )


def _local_devices():
    """Every local GPU, or the logical CPU devices when there is no GPU."""
    import tensorflow as tf

    return tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")


def _choose(choice, tpu):
    if choice != "auto":
        return choice
    if _tpu_requested(tpu):
        return "tpu"
    if worker_count() > 1:
        return "multi_worker"
    return "mirrored" if len(_local_devices()) > 1 else "none"


def _make(choice, tpu, waiting):
    import tensorflow as tf

    from keras_bert.distribute import cluster_wait

    if choice == "none":
        return tf.distribute.get_strategy()
    if choice == "mirrored":
        return tf.distribute.MirroredStrategy([d.name for d in _local_devices()])
    if choice == "multi_worker":
        if worker_count() < 1:
            raise ValueError(
                "multi_worker needs TF_CONFIG naming the cluster's workers "
                "(see the README's 'Several machines' section)."
            )
        config = tf_config()
        return cluster_wait.form(
            tf.distribute.MultiWorkerMirroredStrategy,
            cluster_wait.peers(config),
            cluster_wait.own_address(config),
            **waiting,
        )
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError, RuntimeError) as e:
        raise ValueError(
            f"No TPU could be reached ({type(e).__name__}: {e}); pass the "
            "TPU's name (tpu=... / --tpu) or run on a Cloud TPU VM."
        ) from None
    return tf.distribute.TPUStrategy(resolver)


def auto(choice="auto", tpu=None, verbose=True, cluster_timeout=None, report=None):
    """A tf.distribute strategy; build models (and optimizers) inside its `scope()`.

    `"auto"` picks TPUStrategy when a TPU is named or this is a TPU VM,
    MultiWorkerMirroredStrategy when TF_CONFIG names several workers,
    MirroredStrategy with several local GPUs (or logical CPU devices), else the default
    strategy (one device). An explicit choice overrides. A process gets one strategy of
    each kind: asked again, `auto` returns the one it made.

    Args:
        choice: str, one of "auto", "none", "mirrored", "multi_worker", "tpu".
        tpu: str or None, the TPU's name or grpc address (TPUClusterResolver's `tpu`).
        verbose: bool, print the strategy and its replica count.
        cluster_timeout: seconds a multi-worker strategy may wait for its cluster to
            form (`keras_bert.distribute.cluster_wait.ClusterTimeout` after), or None for no limit;
            the wait ends on Ctrl-C or SIGTERM either way.
        report: callable(str) for the lines that say what the cluster waits for;
            None prints them when `verbose`.

    Returns:
        tf.distribute.Strategy.
    """
    if choice not in CHOICES:
        raise ValueError(f"Unknown strategy {choice!r}; expected one of: {', '.join(CHOICES)}.")
    chosen = _choose(choice, tpu)
    key = (chosen, tpu)
    if key not in _MADE:  # One per process: strategies made anew clash in their collectives.
        report = report or (print if verbose else None)
        _MADE[key] = _make(chosen, tpu, dict(timeout=cluster_timeout, report=report))
    strategy = _MADE[key]
    if verbose:
        print(
            f"strategy: {type(strategy).__name__} ({chosen}), "
            f"{strategy.num_replicas_in_sync} replica(s)",
            flush=True,
        )
    return strategy


def per_replica_batch(global_batch, strategy):
    """The batch each replica gets for a global batch; an error when it does not divide.

    >>> class Two: num_replicas_in_sync = 2
    >>> per_replica_batch(32, Two())
    16
    """
    replicas = strategy.num_replicas_in_sync
    if global_batch < replicas or global_batch % replicas:
        raise ValueError(
            f"The global batch size {global_batch} must be a multiple of the "
            f"{replicas} replicas (each replica gets batch / replicas)."
        )
    return global_batch // replicas
