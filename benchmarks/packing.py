"""Packing token segments into BERT inputs: tracing and running, ours against tf-text.

Packing is traced into every input pipeline and export signature, so its graph's build
time is paid at the start of every run. Measures, in one run on this machine, for one
and two segments:
- ours: `pipelines.packing.pack_segments` (longest-first truncation, dense ops),
- tf-text: `RoundRobinTrimmer` + `combine_segments` + `pad_model_inputs`, the
  tensorflow-text packing path (keras-hub's `MultiSegmentPacker` is built on it),
the seconds to trace each into a new `tf.function` (median of `--rounds`) and the
milliseconds to pack a batch of 256 rows of 40 ids each to length 128.

    python benchmarks/packing.py [--rounds 5]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_text as tf_text  # noqa: E402

from pipelines.packing import pack_segments  # noqa: E402

LENGTH, CLS, SEP, PAD = 128, 101, 102, 0


def ours(*segments):
    return pack_segments(list(segments), LENGTH, CLS, SEP, PAD)


def tf_text_packing(*segments):
    trimmed = tf_text.RoundRobinTrimmer(LENGTH - 1 - len(segments)).trim(list(segments))
    ids, segment_ids = tf_text.combine_segments(trimmed, CLS, SEP)
    token_ids, padding_mask = tf_text.pad_model_inputs(ids, LENGTH, PAD)
    segment_ids, _ = tf_text.pad_model_inputs(segment_ids, LENGTH, 0)
    return {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}


def trace_seconds(pack, count, rounds):
    spec = tf.RaggedTensorSpec([None, None], tf.int32)
    times = []
    for _ in range(rounds):
        function = tf.function(pack, autograph=False)
        start = time.perf_counter()
        function.get_concrete_function(*[spec] * count)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run_ms(pack, count, calls=50):
    rng = np.random.default_rng(0)
    segments = [
        tf.RaggedTensor.from_row_lengths(
            rng.integers(1000, 2000, 256 * 40).astype("int32"), np.full(256, 40, "int64")
        )
        for _ in range(count)
    ]
    function = tf.function(pack, autograph=False)
    function(*segments)  # traced and warmed up
    start = time.perf_counter()
    for _ in range(calls):
        function(*segments)
    return (time.perf_counter() - start) / calls * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"sequence length {LENGTH}, {os.cpu_count()} CPUs\n")
    print(
        f"{'what':<10} {'segments':>8} {'trace s':>8} {'vs ours':>8} {'run ms':>8} {'vs ours':>8}"
    )
    for count in (1, 2):
        base = None
        for name, pack in (("ours", ours), ("tf-text", tf_text_packing)):
            row = trace_seconds(pack, count, args.rounds), run_ms(pack, count)
            base = base or row
            print(
                f"{name:<10} {count:>8} {row[0]:>8.3f} {row[0] / base[0]:>7.2f}x "
                f"{row[1]:>8.2f} {row[1] / base[1]:>7.2f}x"
            )


if __name__ == "__main__":
    main()
