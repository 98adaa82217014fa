"""Forming a multi-worker cluster without hanging silently.

`tf.distribute.MultiWorkerMirroredStrategy()` blocks until every worker of `TF_CONFIG`
has connected, with no message, and the wait sits in C++: Ctrl-C is never seen, and
TensorFlow's own SIGTERM handler (its preemption notice) swallows `kill`. Here the
strategy is made on a helper thread while the calling thread waits, so that the wait

- says what it waits for: every `report_every` seconds, which peers do not answer at
  their TF_CONFIG address (a TCP connect), or that all answer and the cluster is
  still forming;
- ends on Ctrl-C (`KeyboardInterrupt`) or SIGTERM (`Terminated`), raised in the
  calling thread;
- ends after `timeout` seconds when one is given (`ClusterTimeout`, naming the
  missing peers).

The helper thread cannot be stopped once TensorFlow blocks in it: a caller that gets
one of these errors should end the process (`os._exit`), as the command line does.
"""

import signal
import socket
import threading
import time


class ClusterTimeout(Exception):
    """The cluster did not form within the timeout."""


class Terminated(BaseException):
    """SIGTERM arrived while the cluster was forming."""


def _raise_terminated(signum, frame):
    raise Terminated("SIGTERM")


def peers(config):
    """[(role, "host:port")] of every task of TF_CONFIG's cluster but this one."""
    task = config.get("task", {})
    mine = (task.get("type"), int(task.get("index", 0)))
    return [(f"{kind} {index}", address)
            for kind, addresses in config.get("cluster", {}).items()
            for index, address in enumerate(addresses) if (kind, index) != mine]


def silent(tasks, wait=1.0):
    """The `peers` that refuse or ignore a TCP connection."""
    missing = []
    for role, address in tasks:
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=wait):
                pass
        except (OSError, ValueError):
            missing.append(f"{role} at {address}")
    return missing


def form(make, tasks, timeout=None, report=None, report_every=15.0):
    """`make()` (a strategy that waits for its cluster), waited for as the module says.

    Args:
        make: callable with no arguments, returning the strategy.
        tasks: list of (role, "host:port"), the peers (`peers(tf_config)`).
        timeout: seconds, or None to wait as long as it takes.
        report: callable(str) for the progress lines, or None for none.
        report_every: seconds between progress lines (the first after this long).

    >>> form(lambda: "made", [], timeout=5)
    'made'
    """
    done = {}

    def target():
        try:
            done["value"] = make()
        except BaseException as error:  # Raised again in the caller's thread.
            done["error"] = error

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if in_main else None
    helper = threading.Thread(target=target, name="keras-bert-cluster", daemon=True)
    started = time.monotonic()
    helper.start()
    next_report = report_every
    try:
        while helper.is_alive():
            if in_main:  # TensorFlow installs its SIGTERM handler while it connects.
                signal.signal(signal.SIGTERM, _raise_terminated)
            helper.join(0.25)
            waited = time.monotonic() - started
            if not helper.is_alive():
                break
            if timeout is not None and waited >= timeout:
                raise ClusterTimeout(f"the cluster did not form in {timeout:g} s; "
                                     f"{_waiting_for(tasks)}")
            if report is not None and waited >= next_report:
                report(f"waiting {waited:.0f} s for the cluster to form; "
                       f"{_waiting_for(tasks)}")
                next_report += report_every
    finally:
        if in_main:  # TensorFlow's handler would swallow SIGTERM for the whole run.
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous in (
                None, _raise_terminated) else previous)
    if "error" in done:
        raise done["error"]
    return done["value"]


def _waiting_for(tasks):
    missing = silent(tasks)
    if missing:
        return "no answer from " + ", ".join(missing)
    return "every peer answers; waiting for them all to join"
