"""Learning a WordPiece vocabulary from text files (tensorflow-text's learner).

Words are counted after the same cleaning, normalization and splitting that
BertTokenizer applies (BasicTokenizer), so the vocabulary fits the tokenizer exactly.
"""

import collections
import math
import os

import tensorflow as tf
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

from pipelines.basic_tokenizer import BasicTokenizer
from pipelines.documents import document_dataset
from pipelines.vocabulary import SPECIAL_TOKENS


def count_words(patterns, lowercase, format="sentences", batch_size=1024, encoding_errors="strict"):
    """collections.Counter of normalized words over a corpus."""
    basic = BasicTokenizer(lowercase)
    sentences = document_dataset(patterns, format, encoding_errors).unbatch().batch(batch_size)
    split = tf.function(
        lambda s: basic.split(s).flat_values,
        input_signature=[tf.TensorSpec([None], tf.string)],
        autograph=False,  # See pipelines.plain_graphs.
    )
    counts = collections.Counter()
    for batch in sentences:
        counts.update(split(batch).numpy().tolist())
    return counts


def build_vocabulary(
    patterns, vocabulary_size, lowercase, format="sentences", min_count=2, encoding_errors="strict"
):
    """A WordPiece vocabulary: the special tokens first, then the learned pieces."""
    counts = count_words(patterns, lowercase, format, encoding_errors=encoding_errors)
    if not counts:
        raise ValueError(f"No words found in {patterns!r}.")
    words = [(w.decode("utf-8"), c) for w, c in counts.items()]
    vocabulary = learn(words, vocabulary_size, min_count)
    # The learner always keeps every character (and its ## form), so that no word
    # becomes [UNK] for want of one; a size below that alphabet cannot be met.
    if len(vocabulary) > vocabulary_size:
        raise ValueError(
            f"A vocabulary of {vocabulary_size} tokens is too small for this "
            f"corpus: its characters alone need {len(vocabulary)}."
        )
    return vocabulary


def learn(words, vocabulary_size, min_count=2, slack=0.05, learn_at=None):
    """tensorflow-text's WordPiece learner (`learn_with_thresh`, its defaults) at a word
    piece frequency threshold whose vocabulary holds between `vocabulary_size` times
    (1 - `slack`) and `vocabulary_size` tokens, as the library's `learn` finds one.
    The threshold is searched on a log scale, each guess interpolated from the sizes
    already seen (vocabulary sizes fall about as a power of the threshold), where the
    library halves the count range: a few passes of the learner instead of a dozen, and
    each pass reads every word four times. Where no threshold fits (a small corpus),
    the largest vocabulary within `vocabulary_size`, else the smallest.

    Args:
        words: list of (word, count).
        vocabulary_size: int, the most tokens, the special ones included.
        min_count: int, the lowest threshold tried.
        slack: float, how far below `vocabulary_size` a vocabulary may end.
        learn_at: callable(threshold) -> vocabulary, instead of the learner (tests).
    """
    params = learner.Params(
        upper_thresh=None,
        lower_thresh=min_count,
        num_iterations=4,
        max_input_tokens=5_000_000,
        max_token_length=50,
        max_unique_chars=1000,
        vocab_size=vocabulary_size,
        slack_ratio=slack,
        include_joiner_token=True,
        joiner="##",
        reserved_tokens=list(SPECIAL_TOKENS),
    )
    upper, lower = learner.get_search_threshs(words, None, min_count)
    if learn_at is None:
        kept = learner.get_input_words(words, params.reserved_tokens, params.max_token_length)
        chars = learner.get_allowed_chars(kept, params.max_unique_chars)
        kept = learner.filter_input_words(kept, chars, params.max_input_tokens)

        def learn_at(threshold):
            return learner.learn_with_thresh(kept, threshold, params)

    return _search(learn_at, max(lower, 1), max(upper, 1), vocabulary_size, slack)


def _search(learn_at, lower, upper, size, slack):
    tried = {}  # threshold -> its vocabulary
    while lower <= upper:
        threshold = _guess(tried, lower, upper, size * (1 - slack / 2), interpolate=len(tried) % 2)
        vocabulary = tried[threshold] = learn_at(threshold)
        if size * (1 - slack) <= len(vocabulary) <= size:
            return vocabulary
        if len(vocabulary) > size:
            lower = threshold + 1
        else:
            upper = threshold - 1
    within = [v for v in tried.values() if len(v) <= size]
    return max(within, key=len) if within else min(tried.values(), key=len)


def _guess(tried, lower, upper, goal, interpolate):
    """The next threshold in [lower, upper]: interpolated in log-log between the closest
    thresholds tried on either side (every other guess), else their geometric mean.
    Alternating with bisection keeps the interpolation from creeping up on one side."""
    below = [(t, len(v)) for t, v in tried.items() if t < lower]  # Too many tokens.
    above = [(t, len(v)) for t, v in tried.items() if t > upper]  # Too few.
    guess = math.sqrt(lower * upper)
    if interpolate and below and above:
        (t0, n0), (t1, n1) = max(below), min(above)
        if n0 > n1:
            at = (math.log(n0) - math.log(goal)) / (math.log(n0) - math.log(n1))
            guess = math.exp(math.log(t0) + at * (math.log(t1) - math.log(t0)))
    return min(max(round(guess), lower), upper)


def write_vocabulary(vocabulary, path):
    """Writes vocab.txt atomically (a temporary file renamed), creating its folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(vocabulary) + "\n")
    os.replace(path + ".tmp", path)
    return path
