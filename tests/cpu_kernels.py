"""Which of TensorFlow's oneDNN kernels this CPU should run, from Linux's CPU flags.

Tests that check a kernel's own numbers run where the kernel is used; the checks of
`available()` state what it must say on CPUs whose answer is known: AVX-512 BF16 or AMX
run the bfloat16 kernels, VNNI gives int8's exact numbers, and an AVX2-only CPU has
neither (oneDNN's int8 there saturates 16-bit sums; TensorFlow's bfloat16 softmax is
Eigen's, not the float32 one rounded).
"""

from keras_bert.kernels import constant_matmul, onednn_probe

FLAGS = onednn_probe.cpu_flags() or frozenset()
BF16 = bool(FLAGS & constant_matmul.BF16_CPU_FLAGS)
VNNI = bool(FLAGS & {"avx512_vnni", "avx_vnni", "amx_int8"})
AVX2_ONLY = "avx2" in FLAGS and "avx512f" not in FLAGS and not VNNI


def expected(kind):
    """True or False where this CPU's answer for `kind` ("bf16", "int8") is known, else
    None."""
    has = BF16 if kind == "bf16" else VNNI
    if has:
        return True
    return False if AVX2_ONLY else None
