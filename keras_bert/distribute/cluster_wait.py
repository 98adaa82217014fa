"""Forming a multi-worker cluster without hanging silently.

`tf.distribute.MultiWorkerMirroredStrategy()` blocks until every worker of `TF_CONFIG`
has connected, with no message, in C++ that holds the interpreter: Ctrl-C is never seen,
and TensorFlow's own SIGTERM handler (its preemption notice) swallows `kill`. So the
workers first meet in Python: each listens on its own TF_CONFIG port and waits until
every peer answers at its address (a TCP connect: the peer's listener, or its TensorFlow
server once it has moved on), and only then makes the strategy, whose own wait is then
short. The wait in Python

- says what it waits for: every `report_every` seconds, which peers do not answer;
- ends on Ctrl-C (`KeyboardInterrupt`) or SIGTERM (`Terminated`);
- ends after `timeout` seconds when one is given (`ClusterTimeout`, naming the silent
  peers).

Once the strategy is made SIGTERM ends the process again (TensorFlow's handler would
keep a `kill`ed training running).
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
    return [
        (f"{kind} {index}", address)
        for kind, addresses in config.get("cluster", {}).items()
        for index, address in enumerate(addresses)
        if (kind, index) != mine
    ]


def own_address(config):
    """This task's "host:port" in TF_CONFIG, or None without a task."""
    task = config.get("task", {})
    if not task:
        return None
    return config["cluster"][task["type"]][int(task.get("index", 0))]


def silent(tasks, wait=1.0):
    """The `peers` that refuse or ignore a TCP connection, as "role at host:port"."""
    missing = []
    for role, address in tasks:
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=wait):
                pass
        except (OSError, ValueError):
            missing.append(f"{role} at {address}")
    return missing


def _listen(address):
    """A listening socket on this task's port (so its peers see it has come), or None
    when the port cannot be taken here (TensorFlow will say why when it binds)."""
    if address is None:
        return None
    try:
        listener = socket.create_server(("", int(address.rpartition(":")[2])))
    except (OSError, ValueError):
        return None
    listener.setblocking(False)
    return listener


def _drain(listener):
    """Accepts and closes the peers' probes, so its queue never fills."""
    while listener is not None:
        try:
            connection, _ = listener.accept()
        except OSError:  # BlockingIOError: none waiting.
            return
        connection.close()


def form(make, tasks, own=None, timeout=None, report=None, report_every=15.0):
    """`make()` (a strategy that waits for its cluster), once every peer answers.

    Args:
        make: callable with no arguments, returning the strategy.
        tasks: list of (role, "host:port"), the peers (`peers(tf_config)`).
        own: "host:port" of this task (`own_address(tf_config)`), listened on while
            waiting; None to only wait.
        timeout: seconds, or None to wait as long as it takes.
        report: callable(str) for the progress lines, or None for none.
        report_every: seconds between progress lines (the first after this long).

    >>> form(lambda: "made", [], timeout=5)
    'made'
    """
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main else None
    listener = _listen(own)
    try:
        try:
            _wait(tasks, listener, timeout, report, report_every)
        finally:
            if listener is not None:
                listener.close()
        return make()
    finally:
        if in_main:  # Not TensorFlow's handler, which would swallow a kill.
            signal.signal(
                signal.SIGTERM,
                signal.SIG_DFL if previous in (None, _raise_terminated) else previous,
            )


def _wait(tasks, listener, timeout, report, report_every):
    started = time.monotonic()
    next_report = report_every
    while True:
        _drain(listener)
        missing = silent(tasks)
        if not missing:
            return
        waited = time.monotonic() - started
        if timeout is not None and waited >= timeout:
            raise ClusterTimeout(
                f"the cluster did not form in {timeout:g} s; no answer from {', '.join(missing)}"
            )
        if report is not None and waited >= next_report:
            report(
                f"waiting {waited:.0f} s for the cluster to form; no answer from "
                f"{', '.join(missing)}"
            )
            next_report += report_every
        time.sleep(0.5)
