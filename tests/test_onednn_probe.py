"""The kernels' once-per-process checks: a kernel that would abort the process (oneDNN
on a CPU without the instruction set it needs) is never tried in it; where the CPU's
flags are unknown it is tried in a child process."""

import os

from keras_bert.kernels import constant_matmul, onednn_probe

HERE = "tests.test_onednn_probe"


def aborting_probe():
    os.abort()  # What oneDNN's uncaught C++ exception does to the process.


def passing_probe():
    return True


def failing_probe():
    return False


def test_a_probe_that_aborts_ends_only_its_child():
    assert onednn_probe.passes_in_child(f"{HERE}:aborting_probe", cpu_only=False) is False
    assert onednn_probe.passes_in_child(f"{HERE}:passing_probe", cpu_only=False) is True
    assert onednn_probe.passes_in_child(f"{HERE}:failing_probe", cpu_only=False) is False


def test_the_bfloat16_kernel_is_not_tried_on_a_cpu_without_bfloat16(monkeypatch):
    monkeypatch.setattr(constant_matmul, "_AVAILABLE", None)
    monkeypatch.setattr(onednn_probe, "cpu_flags", lambda: frozenset({"sse2", "avx2", "fma"}))
    monkeypatch.setattr(constant_matmul, "_probe", aborting_probe)  # Would end pytest.
    assert constant_matmul.available() is False


def test_an_unknown_cpu_checks_the_bfloat16_kernel_in_a_child(monkeypatch):
    monkeypatch.setattr(constant_matmul, "_AVAILABLE", None)
    monkeypatch.setattr(onednn_probe, "cpu_flags", lambda: None)
    asked = []
    monkeypatch.setattr(
        onednn_probe, "passes_in_child", lambda target, **options: asked.append(target) or True
    )
    assert constant_matmul.available() is True
    assert asked == ["keras_bert.kernels.constant_matmul:_probe"]


def test_the_real_kernel_checked_in_a_child_agrees_with_the_cpu_flags():
    # On an AVX2-only CPU the kernel aborts the child; with AVX-512 BF16 it passes.
    flags = onednn_probe.cpu_flags()
    in_child = onednn_probe.passes_in_child("keras_bert.kernels.constant_matmul:_probe")
    if flags is not None:
        assert in_child == bool(flags & constant_matmul.BF16_CPU_FLAGS)
    assert constant_matmul.available() == in_child
