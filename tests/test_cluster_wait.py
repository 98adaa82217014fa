"""A multi-worker cluster that does not form: the wait says whom it waits for, ends on
SIGTERM (TensorFlow's own handler would swallow it) and after `--cluster-timeout`."""

import signal
import threading
import time

import pytest

from keras_bert.distribute import cluster_wait
from tests.test_distributed_training import cluster, free_ports, pretrain_args  # noqa: F401


def _blocked():
    """A `make` that blocks like a strategy whose peers never come, and its release."""
    release = threading.Event()
    return (lambda: release.wait(60) and "strategy"), release


def test_peers_are_every_other_task_of_tf_config():
    config = {
        "cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"]},
        "task": {"type": "worker", "index": "0"},
    }
    assert cluster_wait.peers(config) == [("chief 0", "a:1"), ("worker 1", "c:3")]


def test_the_wait_reports_the_silent_peers_and_times_out():
    (port,) = free_ports(1)  # Nothing listens there.
    make, release = _blocked()
    lines = []
    started = time.monotonic()
    try:
        with pytest.raises(
            cluster_wait.ClusterTimeout,
            match=rf"did not form in 2 s; no answer from worker 1 at "
            rf"127\.0\.0\.1:{port}",
        ):
            cluster_wait.form(
                make,
                [("worker 1", f"127.0.0.1:{port}")],
                timeout=2,
                report=lines.append,
                report_every=0.5,
            )
    finally:
        release.set()
    assert 2 <= time.monotonic() - started < 10
    assert lines and "no answer from worker 1" in lines[0]


def test_the_wait_returns_the_strategy_and_passes_its_errors_on():
    make, release = _blocked()
    release.set()
    assert cluster_wait.form(make, [], timeout=5) == "strategy"

    def broken():
        raise RuntimeError("bad cluster spec")

    with pytest.raises(RuntimeError, match="bad cluster spec"):
        cluster_wait.form(broken, [])
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # TensorFlow's is not kept.


def _wait_for(workers, text, process, seconds=120):
    deadline = time.time() + seconds
    while text not in workers.log(0):
        assert process.poll() is None, workers.log(0)[-2000:]
        assert time.time() < deadline, workers.log(0)[-2000:]
        time.sleep(0.2)


def test_a_worker_that_never_comes_up_ends_the_wait(tmp_path, cluster):  # noqa: F811
    # Two lone chiefs at once (each mostly waits): one times out, one gets SIGTERM.
    timed = cluster(pretrain_args(tmp_path / "timed", 2, "--cluster-timeout", "6"))
    waiting = cluster(pretrain_args(tmp_path / "waiting", 2))
    alone, process = timed.start(0), waiting.start(0)  # Their worker 1 is never started.

    _wait_for(waiting, "waiting for every worker to connect", process)
    time.sleep(3)  # TensorFlow has installed its SIGTERM handler by now.
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 143
    assert "terminated (SIGTERM) while the cluster was forming" in waiting.log(0)

    assert alone.wait(timeout=180) == 2
    assert (
        f"the cluster did not form in 6 s; no answer from worker 1 at "
        f"{timed.addresses[1]} (--cluster-timeout)"
    ) in timed.log(0)
