"""Runs a `keras-bert` training command in a subprocess, SIGKILLs it once its checkpoint
state reaches a step, and re-runs it to completion (the resume tests' shared part). The
re-run is the same command in this process (`keras_bert.cli.main`): all it shares with
the killed run is the run folder, as a re-run by hand; TensorFlow is not started again."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time


def kill_then_rerun(argv, state_path, at_least, timeout=240):
    """(step the killed run had checkpointed, the completed re-run's CompletedProcess:
    its return code and stderr)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "keras_bert.cli"] + list(argv)
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + timeout
    while time.time() < deadline and not (
        state_path.exists() and json.loads(state_path.read_text())["step"] >= at_least
    ):
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = json.loads(state_path.read_text())["step"]
    from keras_bert import cli

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = cli.main(list(argv))
    rerun = subprocess.CompletedProcess(command, code, stderr=stderr.getvalue())
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    return killed_at, rerun
