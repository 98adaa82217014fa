"""Runs one `keras-bert` command with the CPU split into N logical devices (MirroredStrategy
then has N replicas), or several commands one after another:

    python tests/distributed_run.py N -- ARGS... [-- ARGS...]

Logical devices must be set before TensorFlow starts, hence a process of its own.
"""

import sys

import tensorflow as tf


def main(argv):
    count, commands = int(argv[0]), []
    for word in argv[1:]:
        if word == "--":
            commands.append([])
        else:
            commands[-1].append(word)
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    )
    from keras_bert import cli

    for command in commands:
        status = cli.main(command)
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
