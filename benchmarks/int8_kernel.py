"""Is int8 worth it on this CPU? oneDNN's int8 matmul (the kernel `keras_bert.quantize_int8`
uses) against TensorFlow's float32 matmul, at the dense-layer shapes of BERT-base and
MiniLM, batch 8, sequence 128; and whether the kernel's arithmetic is exact here.

For each shape it prints the float32 matmul with its bias, the int8 path as
`Int8Dense` runs it (quantize the input, then the int8 kernel with the scales and
bias inside), the same with the kernel keeping its prepared weights (as under
`keras_bert.FrozenInference`), their ratios, and the kernel's largest error against
the scheme computed in NumPy (float64) from the kernel's own input codes, as a share
of the output's largest value: with the weights coded in [-127, 127] (ours) and in
[-63, 63]. Calls are interleaved round by round; medians.

On CPUs with AVX-512 VNNI (or AMX) the kernel multiplies bytes in one instruction and
both errors are float rounding. On AVX2-only CPUs oneDNN adds pairs of byte products
in 16 bits: full-range codes saturate (a few percent of the output), 7-bit weight
codes do not; the ratio columns show what int8 could gain there at best.
`keras_bert.kernels.int8_matmul.available()` answers for this process.

    python benchmarks/int8_kernel.py [--rounds 20]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from keras_bert.layers.int8_dense import kernel_codes  # noqa: E402

ROWS = 8 * 128
SHAPES = {
    "base": ((768, 768), (768, 3072), (3072, 768)),
    "minilm": ((384, 384), (384, 1536), (1536, 384)),
}


def kernel_error(x, weights, bias, largest):
    """The int8 kernel against the scheme computed in NumPy (float64) on the kernel's
    own input codes, as a share of the output's largest value: its arithmetic alone."""
    import tensorflow as tf

    from keras_bert.kernels import int8_matmul

    codes, scale = kernel_codes(weights, largest)
    quantized = int8_matmul.quantize(x)
    got = int8_matmul.matmul(
        quantized,
        tf.constant(codes),
        tf.constant(scale),
        bias,
        tf.constant(codes.astype("float32").sum(axis=0)),
    ).numpy()
    inputs, lo, hi = (np.asarray(t.numpy(), "float64") for t in quantized)
    inputs = inputs * (hi - lo) / 255.0 + lo
    want = inputs @ (codes.astype("float64") * scale) + bias.numpy()
    return float(np.abs(got - want).max() / np.abs(want).max())


def paths(features, units, rng):
    """(float32 call, int8 call, int8 call with kept weights, input) for a shape, and
    the kernel's error with 8-bit and with 7-bit weight codes."""
    import tensorflow as tf

    from keras_bert.kernels import int8_matmul, switches

    weights = (rng.normal(size=(features, units)) * 0.05).astype("float32")
    bias = tf.constant(rng.normal(size=units).astype("float32"))
    codes, scale = kernel_codes(weights, 127)
    args = (
        tf.constant(codes),
        tf.constant(scale),
        bias,
        tf.constant(codes.astype("float32").sum(axis=0)),
    )
    kernel = tf.constant(weights)
    as_float = tf.function(lambda x: tf.nn.bias_add(tf.matmul(x, kernel), bias))
    as_int8 = tf.function(lambda x: int8_matmul.matmul(int8_matmul.quantize(x), *args))
    x = tf.constant(rng.normal(size=(ROWS, features)).astype("float32"))
    with switches.constant_weights():
        kept = tf.function(lambda x: int8_matmul.matmul(int8_matmul.quantize(x), *args))
        kept(x)  # Traced while the weights are declared constant.
    errors = [kernel_error(x, weights, bias, largest) for largest in (127, 63)]
    return (as_float, as_int8, kept, x), errors


def median_times(calls, x, rounds):
    for call in calls:
        call(x).numpy()
    times = [[] for _ in calls]
    for _ in range(rounds):
        for index, call in enumerate(calls):
            start = time.perf_counter()
            call(x).numpy()
            times[index].append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def cpu_line():
    from keras_bert.kernels import onednn_probe

    flags = onednn_probe.cpu_flags() or set()
    shown = sorted(f for f in flags if f.startswith(("avx512", "amx", "avx_vnni", "avx2")))
    return " ".join(shown) or "unknown"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    from keras_bert.kernels import int8_matmul

    print(f"CPU flags: {cpu_line()}")
    print(f"keras_bert.kernels.int8_matmul.available(): {int8_matmul.available()}")
    print(
        f"{'model':<7}{'shape (rows x in x out)':<24}{'float32 ms':>11}{'int8 ms':>9}"
        f"{'kept ms':>9}{'fp32/int8':>10}{'fp32/kept':>10}{'error w8':>11}{'error w7':>11}"
    )
    rng = np.random.default_rng(0)
    for model, shapes in SHAPES.items():
        for features, units in shapes:
            (as_float, as_int8, kept, x), errors = paths(features, units, rng)
            t_float, t_int8, t_kept = median_times((as_float, as_int8, kept), x, args.rounds)
            print(
                f"{model:<7}{f'{ROWS} x {features} x {units}':<24}{t_float * 1e3:>11.2f}"
                f"{t_int8 * 1e3:>9.2f}{t_kept * 1e3:>9.2f}{t_float / t_int8:>9.2f}x"
                f"{t_float / t_kept:>9.2f}x{errors[0]:>11.1e}{errors[1]:>11.1e}"
            )


if __name__ == "__main__":
    main()
