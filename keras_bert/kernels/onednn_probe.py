"""The once-per-process check behind each oneDNN kernel module's `available()`.

Most kernels that cannot run raise a Python error, which `passes` turns into False.
Some do not: where the CPU lacks an instruction set a kernel needs (bfloat16 weights
on an AVX2-only CPU, say), oneDNN throws a C++ exception that TensorFlow does not
catch, and the process aborts. Such a probe runs only where `cpu_flags` shows the
instruction set, or in a child process (`passes_in_child`) where the flags cannot be
read.

TensorFlow is imported only when a probe runs (under Keras's TensorFlow backend `import
keras_bert` loads it anyway, through Keras; under the JAX backend it does not).
"""

import os
import subprocess
import sys


def passes(probe, cpu_only=True):
    """Whether `probe()` (a small case against the expected numbers) returns true, run
    eagerly even when first asked while tracing a function. False where it raises (no
    such op or kernel in this build) and, with `cpu_only`, where a GPU is visible.

    Example:
    >>> passes(lambda: 1 / 0, cpu_only=False)
    False
    """
    import tensorflow as tf

    try:
        with tf.init_scope():
            if cpu_only and tf.config.list_logical_devices("GPU"):
                return False
            return bool(probe())
    except Exception:  # noqa: BLE001 - no such op or kernel in this build.
        return False


def cpu_flags():
    """The feature flags Linux reports for this x86 CPU (`/proc/cpuinfo`), or None where
    they cannot be read (another OS, another architecture).

    Example:
    >>> flags = cpu_flags()
    >>> flags is None or "avx2" in flags or "sse2" in flags
    True
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return None


def passes_in_child(target, cpu_only=True, timeout=600):
    """`passes` on the probe `target` ("module:function"), run in a child Python
    process: a kernel that aborts ends the child only, and counts as not passing.

    Args:
        target: str, "package.module:function" of a probe importable here.
        cpu_only: bool, as in `passes`.
        timeout: float, seconds before the child is given up (not passing).
    """
    module, _, name = target.partition(":")
    code = (
        "import importlib, sys\n"
        "try:  # An abort writes no core file.\n"
        "    import resource\n"
        "    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
        "except (ImportError, ValueError, OSError):\n"
        "    pass\n"
        "from keras_bert.kernels import onednn_probe\n"
        f"probe = getattr(importlib.import_module({module!r}), {name!r})\n"
        f"sys.exit(0 if onednn_probe.passes(probe, cpu_only={cpu_only!r}) else 3)\n"
    )
    env = dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.pathsep.join(p for p in sys.path if p)
    )
    try:
        child = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return child.returncode == 0
