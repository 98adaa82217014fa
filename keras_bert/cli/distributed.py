"""The training commands under tf.distribute: `--strategy`, the training loop each
strategy gets, and the restart after a lost worker.

One replica (the default strategy) trains with `fit`. Several replicas (Mirrored,
MultiWorkerMirrored, TPU) train with `DistributedTrainer`, Keras 3's `fit` being broken
under MultiWorkerMirrored: one loop for every distributed strategy.

When a worker of a multi-worker run dies, the others' collective ops fail. Each one then
restarts itself in place (the same command, `os.execv`) and waits for the cluster to
form again; once the dead worker is restarted, all of them go on from the chief's last
checkpoint. `KERAS_BERT_MAX_RESTARTS` (default 10) bounds the restarts of one process.
"""

import os
import sys

from keras_bert.cli.common import UsageError, log, non_negative_float

RESTARTS = "KERAS_BERT_RESTARTS"
MAX_RESTARTS = "KERAS_BERT_MAX_RESTARTS"


def add_strategy_flags(add):
    from keras_bert.distribute import CHOICES

    add(
        "--strategy",
        default="auto",
        choices=CHOICES,
        help="auto: TPU when one is named or on a TPU VM, multi_worker when TF_CONFIG names "
        "several workers, mirrored with several GPUs, else none (one device)",
    )
    add("--tpu", default=None, help="the TPU's name or grpc:// address (--strategy tpu)")
    add(
        "--cluster-timeout",
        type=non_negative_float,
        default=0,
        help="multi-worker: seconds to wait for every worker of TF_CONFIG to connect "
        "before giving up (0: no limit; the wait says whom it waits for)",
    )


class Setup:
    """The strategy of a training command, made before any other TensorFlow work (a
    multi-worker strategy must be), and what follows from it.

    Args:
        args: the parsed flags (`strategy`, `tpu`, `batch_size`).
        even: bool, the global batch must split evenly over the replicas (static shapes,
            or a loss averaged over the whole batch's masked positions).
    """

    def __init__(self, args, even=False):
        from keras_bert import distribute

        try:
            workers = distribute.worker_count()
            self.strategy = _strategy(args)
        except ValueError as e:
            raise UsageError(str(e)) from None
        self.replicas = self.strategy.num_replicas_in_sync
        self.multi_worker = workers > 1 and args.strategy in ("auto", "multi_worker")
        self.chief = distribute.is_chief() if self.multi_worker else True
        self.distributed = self.replicas > 1 or self.multi_worker
        self.tpu = type(self.strategy).__name__.startswith("TPU")
        if args.batch_size < self.replicas:
            raise UsageError(
                f"--batch-size {args.batch_size} (the global batch) is below the "
                f"{self.replicas} replicas"
            )
        if (self.tpu or even) and args.batch_size % self.replicas:
            raise UsageError(
                f"--batch-size {args.batch_size} (the global batch) must be a "
                f"multiple of the {self.replicas} replicas"
            )
        role = "" if not self.multi_worker else (" (chief)" if self.chief else " (worker)")
        log(
            f"strategy {type(self.strategy).__name__}: {self.replicas} replica(s){role}, "
            f"global batch {args.batch_size}"
        )

    def trainer(self, model):
        """DistributedTrainer for several replicas; None to train with `fit`."""
        if not self.distributed:
            return None
        from keras_bert.distribute.distributed_trainer import DistributedTrainer

        return DistributedTrainer(model, self.strategy)


def _strategy(args):
    """The strategy; a cluster that does not form (a timeout, Ctrl-C, SIGTERM) ends the
    process at once with one line: TensorFlow's wait cannot be stopped otherwise."""
    from keras_bert import distribute
    from keras_bert.distribute import cluster_wait

    if distribute.worker_count() > 1 and args.strategy in ("auto", "multi_worker"):
        task = distribute.tf_config().get("task", {})
        log(
            f"joining TF_CONFIG's cluster of {distribute.worker_count()} as "
            f"{task.get('type')} {task.get('index', 0)}: waiting for every worker to connect"
            + (f" (at most {args.cluster_timeout:g} s)" if args.cluster_timeout else "")
        )
    try:
        return distribute.auto(
            args.strategy,
            tpu=args.tpu,
            verbose=False,
            cluster_timeout=args.cluster_timeout or None,
            report=log,
        )
    except cluster_wait.ClusterTimeout as e:
        _end(f"keras-bert: error: {e} (--cluster-timeout)", 2)
    except KeyboardInterrupt:
        _end("keras-bert: interrupted while the cluster was forming", 130)
    except cluster_wait.Terminated:
        _end("keras-bert: terminated (SIGTERM) while the cluster was forming", 143)


def _end(message, status):
    print(message, file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(status)


def run_under_strategy(args, train, even=False):
    """`train(args, setup)` under the strategy the flags ask for, made first (a
    multi-worker strategy must come before any other TensorFlow work); a multi-worker
    run that loses a worker restarts in place."""
    setup = Setup(args, even=even)
    try:
        return train(args, setup)
    except Exception as e:
        if setup.multi_worker and is_lost_worker(e):
            restart(e)
        raise


def is_lost_worker(error):
    """Whether `error` is a collective op failing because a peer went away."""
    import tensorflow as tf

    return isinstance(
        error,
        (
            tf.errors.UnavailableError,
            tf.errors.AbortedError,
            tf.errors.DeadlineExceededError,
            tf.errors.CancelledError,
        ),
    )


def restart(error):
    """Re-runs this very command in this process (after a lost worker); raises the
    error when the restarts are used up."""
    count = int(os.environ.get(RESTARTS, "0")) + 1
    limit = int(os.environ.get(MAX_RESTARTS, "10"))
    first_line = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    if count > limit:
        log(f"a worker was lost ({type(error).__name__}) and the {limit} restarts are used up")
        raise error
    log(
        f"a worker was lost ({type(error).__name__}: {first_line}); restarting "
        f"({count}/{limit}) to go on from the last checkpoint once every worker is back"
    )
    os.environ[RESTARTS] = str(count)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, list(sys.orig_argv))
