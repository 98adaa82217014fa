"""TokenLabeler: words with tags -> word-piece windows with labels, and back.

Each sentence's words are joined by spaces and tokenized in the graph with offsets, so
every piece knows its word. The label goes on the first piece of each word with sample
weight 1; the other pieces (and [CLS], [SEP], padding) get weight 0 and are ignored by
the loss, the metrics and decoding. A word the tokenizer drops entirely (e.g. only
control characters) becomes one [UNK] piece, so every word gets a prediction. A
sentence longer than `sequence_length - 2` pieces is split into windows at word
boundaries (never cut): every word lands in exactly one window.
"""

import numpy as np
import tensorflow as tf

from pipelines.plain_graphs import kept_function


class TokenLabeler:
    """Windows of word pieces for token classification.

    Args:
        tokenizer: pipelines.BertTokenizer.
        label_names: list of str, the tags by id.
        sequence_length: int, the window length including [CLS] and [SEP].

    Example:
    >>> from pipelines import BertTokenizer
    >>> labeler = TokenLabeler(BertTokenizer("tests/data/vocab.txt", lowercase=True),
    ...                        ["O", "B-LOC", "I-LOC"], sequence_length=8)
    >>> w = labeler.windows([["Istanbul", "unwanted", "news"]], [["B-LOC", "O", "O"]])
    >>> w["labels"][0].tolist(), w["sample_weight"][0].tolist()
    ([0, 1, 0, 0, 0, 0, 0, 0], [0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    """

    def __init__(self, tokenizer, label_names, sequence_length=128):
        if sequence_length < 3:
            raise ValueError(f"sequence_length {sequence_length} leaves no room for words.")
        self.tokenizer = tokenizer
        self.label_names = list(label_names)
        self.label_ids = {name: i for i, name in enumerate(self.label_names)}
        self.sequence_length = sequence_length
        # Traced once per tokenizer: each run of a process (an experiment's rows) makes
        # its own labeler over the process's one tokenizer.
        self._tokenize = kept_function(
            tokenizer,
            ("offsets",),
            lambda tokenizer: tokenizer.tokenize_with_offsets,
            input_signature=[tf.TensorSpec([None], tf.string)],
        )

    def pieces(self, sentences, chunk=512):
        """Per sentence: (piece ids, word index of each piece), as NumPy arrays."""
        out = []
        for first in range(0, len(sentences), chunk):
            batch = sentences[first : first + chunk]
            ids, starts, _ = self._tokenize(tf.constant([" ".join(w) for w in batch]))
            for n, words in enumerate(batch):
                word_starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
                piece_ids = ids[n].numpy()
                word_of = np.searchsorted(word_starts, starts[n].numpy(), side="right") - 1
                missing = np.setdiff1d(np.arange(len(words)), word_of)
                if missing.size:  # words with no pieces: one [UNK] each, in word order
                    piece_ids = np.concatenate(
                        [piece_ids, np.full(missing.size, self.tokenizer.unk_id)]
                    )
                    word_of = np.concatenate([word_of, missing])
                    order = np.argsort(word_of, kind="stable")
                    piece_ids, word_of = piece_ids[order], word_of[order]
                out.append((piece_ids.astype("int32"), word_of.astype("int32")))
        return out

    def _spans(self, word_of):
        """[start, end) piece ranges of the windows of one sentence."""
        budget, spans, start = self.sequence_length - 2, [], 0
        while True:
            end = min(start + budget, len(word_of))
            if end < len(word_of):
                boundary = end
                while boundary > start and word_of[boundary] == word_of[boundary - 1]:
                    boundary -= 1
                end = boundary if boundary > start else end
            spans.append((start, end))
            if end >= len(word_of):
                return spans
            start = end

    def windows(self, sentences, tags=None, where=None):
        """NumPy arrays `(windows, sequence_length)`: `token_ids`, `segment_ids`,
        `padding_mask`, `labels` (int32), `sample_weight` (float32; 1 on first pieces),
        `word_index` (-1 off first pieces) and `(windows,)` `sentence_index`.

        `where` (optional): a description per sentence (e.g. "file:line") for errors
        about tags outside `label_names`."""
        t, length = self.tokenizer, self.sequence_length
        rows = []
        for n, (piece_ids, word_of) in enumerate(self.pieces(sentences)):
            label_of = None
            if tags is not None:
                unknown = [g for g in tags[n] if g not in self.label_ids]
                if unknown:
                    place = where[n] if where else f"sentence {n}"
                    raise ValueError(
                        f"{place}: tag {unknown[0]!r} is not one of the model's "
                        f"tags ({', '.join(self.label_names)})."
                    )
                label_of = np.array([self.label_ids[g] for g in tags[n]], "int32")
            for start, end in self._spans(word_of):
                words = word_of[start:end]
                first = np.ones(len(words), bool)
                first[1:] = words[1:] != words[:-1]
                if start > 0 and word_of[start - 1] == words[0]:
                    first[0] = False  # a word split across windows: labelled once
                rows.append((n, piece_ids[start:end], words, first, label_of))
        size = (len(rows), length)
        out = {
            "token_ids": np.full(size, t.pad_id, "int32"),
            "segment_ids": np.zeros(size, "int32"),
            "padding_mask": np.zeros(size, "int32"),
            "labels": np.zeros(size, "int32"),
            "sample_weight": np.zeros(size, "float32"),
            "word_index": np.full(size, -1, "int32"),
            "sentence_index": np.array([r[0] for r in rows], "int32"),
        }
        for w, (_, ids, words, first, label_of) in enumerate(rows):
            k = len(ids)
            out["token_ids"][w, : k + 2] = [t.cls_id, *ids, t.sep_id]
            out["padding_mask"][w, : k + 2] = 1
            out["word_index"][w, 1 : k + 1] = np.where(first, words, -1)
            out["sample_weight"][w, 1 : k + 1] = first
            if label_of is not None:
                out["labels"][w, 1 : k + 1] = np.where(first, label_of[words], 0)
        return out

    def word_tags(self, windows, predicted, sentence_lengths):
        """Each sentence's predicted tag per word, from `(windows, seq)` predicted ids
        (the argmax of the logits)."""
        out = [[None] * n for n in sentence_lengths]
        rows, positions = np.nonzero(windows["word_index"] >= 0)
        for w, p in zip(rows, positions):
            sentence = windows["sentence_index"][w]
            out[sentence][windows["word_index"][w, p]] = self.label_names[predicted[w, p]]
        for n, tags in enumerate(out):
            if None in tags:
                raise ValueError(f"sentence {n}: word {tags.index(None)} got no prediction.")
        return out
