"""Learning a WordPiece vocabulary from text files (tensorflow-text's learner).

Words are counted after the same cleaning, normalization and splitting that
BertTokenizer applies (BasicTokenizer), so the vocabulary fits the tokenizer exactly.
"""

import collections
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
    vocabulary = learner.learn(words, vocabulary_size, list(SPECIAL_TOKENS), lower_thresh=min_count)
    # The learner always keeps every character (and its ## form), so that no word
    # becomes [UNK] for want of one; a size below that alphabet cannot be met.
    if len(vocabulary) > vocabulary_size:
        raise ValueError(
            f"A vocabulary of {vocabulary_size} tokens is too small for this "
            f"corpus: its characters alone need {len(vocabulary)}."
        )
    return vocabulary


def write_vocabulary(vocabulary, path):
    """Writes vocab.txt atomically (a temporary file renamed), creating its folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(vocabulary) + "\n")
    os.replace(path + ".tmp", path)
    return path
