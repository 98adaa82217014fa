"""Training on several devices, machines or a TPU with tf.distribute: the strategy
choice (`auto`, in `strategy`), the training loop that runs under any strategy
(`DistributedTrainer`) and a multi-worker cluster's meeting (`cluster_wait`).
TensorFlow is imported only when a strategy is made."""

from keras_bert.distribute.distributed_trainer import DistributedTrainer
from keras_bert.distribute.strategy import (
    CHOICES,
    auto,
    is_chief,
    per_replica_batch,
    tf_config,
    worker_count,
)

__all__ = [
    "CHOICES",
    "DistributedTrainer",
    "auto",
    "is_chief",
    "per_replica_batch",
    "tf_config",
    "worker_count",
]
