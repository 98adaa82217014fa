"""Masked-LM masking of packed token ids, in-graph, with stateless (seeded) randomness."""

import tensorflow as tf


class MaskedLMMasker(tf.Module):
    """Chooses tokens to predict and corrupts them, as BERT's pretraining does.

    Of the tokens that are not special ([CLS], [SEP], [PAD], ...), `selection_rate`
    (15%) are chosen, `num = min(max_predictions, max(1, round(n * rate)))` per sequence;
    of those, `mask_token_rate` (80%) become [MASK], `random_token_rate` (10%) a random
    vocabulary id and the rest stay unchanged. With `whole_word=True` every piece of a
    word (a token and the `##` pieces after it) is chosen together: words are taken in
    random order while they fit in `num`.

    Example:
    >>> masker = MaskedLMMasker(vocabulary_size=9, mask_id=4, special_ids=[0, 2, 3],
    ...                         max_predictions=3, selection_rate=1.0, mask_token_rate=1.0,
    ...                         random_token_rate=0.0)
    >>> out = masker(tf.constant([[2, 5, 6, 3, 0]]), seed=tf.constant([1, 2]))
    >>> out["token_ids"].numpy().tolist(), out["mask_positions"].numpy().tolist()
    ([[2, 4, 4, 3, 0]], [[1, 2, 0]])
    """

    def __init__(
        self,
        vocabulary_size,
        mask_id,
        special_ids,
        max_predictions=20,
        selection_rate=0.15,
        mask_token_rate=0.8,
        random_token_rate=0.1,
        continuation_ids=None,
        name=None,
    ):
        super().__init__(name=name)
        if not 0 <= mask_token_rate + random_token_rate <= 1:
            raise ValueError("mask_token_rate + random_token_rate must be in [0, 1].")
        self.vocabulary_size = vocabulary_size
        self.mask_id = mask_id
        self.special_ids = tf.constant(sorted(special_ids), tf.int32)
        self.max_predictions = max_predictions
        self.selection_rate = selection_rate
        self.mask_token_rate = mask_token_rate
        self.random_token_rate = random_token_rate
        self.whole_word = continuation_ids is not None
        if self.whole_word:
            table = [False] * vocabulary_size
            for i in continuation_ids:
                table[i] = True
            self.is_continuation = tf.constant(table, tf.bool)

    @classmethod
    def for_tokenizer(cls, tokenizer, whole_word=False, **kwargs):
        """A masker using a BertTokenizer's vocabulary and special tokens."""
        # [UNK] stays a candidate, as in the original; only structure tokens are skipped.
        special = [tokenizer.pad_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id]
        continuation = None
        if whole_word:
            continuation = [i for i, t in enumerate(tokenizer.tokens) if t.startswith("##")]
        return cls(
            tokenizer.vocabulary_size,
            tokenizer.mask_id,
            special,
            continuation_ids=continuation,
            **kwargs,
        )

    def _scores(self, token_ids, candidate, seed, batch, length):
        """A random score per token; whole words share their first piece's score."""
        scores = tf.random.stateless_uniform(tf.shape(token_ids), seed)
        if not self.whole_word:
            return scores, None
        previous = tf.pad(candidate[:, :-1], [[0, 0], [1, 0]])
        piece = tf.gather(self.is_continuation, token_ids) & previous
        starts = candidate & tf.logical_not(piece)
        word = tf.maximum(tf.cumsum(tf.cast(starts, tf.int32), axis=1) - 1, 0)
        segment = word + tf.range(batch)[:, None] * length
        word_scores = tf.math.unsorted_segment_max(
            tf.where(starts, scores, -1.0), segment, batch * length
        )
        word_scores = tf.reshape(word_scores, [batch, length])
        return tf.gather(word_scores, word, batch_dims=1), word

    def __call__(self, token_ids, seed):
        """Masks a (batch, seq) int tensor; returns the corrupted `token_ids` and
        `mask_positions`, `mask_ids` (the originals), `mask_weights`, each
        (batch, max_predictions) and padded with zeros."""
        token_ids = tf.convert_to_tensor(token_ids, tf.int32)
        seeds = tf.unstack(tf.random.experimental.stateless_split(seed, 4))
        batch, length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
        special = tf.reduce_any(tf.equal(token_ids[..., None], self.special_ids), axis=-1)
        candidate = tf.logical_not(special)
        count = tf.reduce_sum(tf.cast(candidate, tf.int32), axis=1)
        wanted = tf.cast(tf.round(tf.cast(count, tf.float32) * self.selection_rate), tf.int32)
        num = tf.minimum(tf.minimum(tf.maximum(wanted, 1), self.max_predictions), count)

        scores, word = self._scores(token_ids, candidate, seeds[0], batch, length)
        scores = tf.where(candidate, scores, -1.0)
        order = tf.argsort(scores, axis=1, direction="DESCENDING", stable=True)
        rank = tf.argsort(order, axis=1, stable=True)  # Each token's place in the order.
        if word is None:
            chosen = candidate & (rank < num[:, None])
        else:  # A word is chosen when its last piece is within the first `num`.
            segment = word + tf.range(batch)[:, None] * length
            last = tf.math.unsorted_segment_max(
                tf.where(candidate, rank, -1), segment, batch * length
            )
            word_rank = tf.gather(tf.reshape(last, [batch, length]), word, batch_dims=1)
            chosen = candidate & (word_rank < num[:, None])

        positions = tf.ragged.boolean_mask(
            tf.broadcast_to(tf.range(length)[None], tf.shape(token_ids)), chosen
        )
        shape = [None, self.max_predictions]
        mask_positions = positions.to_tensor(0, shape=shape)
        mask_weights = tf.ones_like(positions, tf.float32).to_tensor(0.0, shape=shape)
        mask_ids = tf.gather(token_ids, mask_positions, batch_dims=1) * tf.cast(
            mask_weights > 0, tf.int32
        )

        draw = tf.random.stateless_uniform(tf.shape(token_ids), seeds[1])
        to_mask = chosen & (draw < self.mask_token_rate)
        to_random = (
            chosen
            & (draw >= self.mask_token_rate)
            & (draw < self.mask_token_rate + self.random_token_rate)
        )
        random_ids = tf.random.stateless_uniform(
            tf.shape(token_ids), seeds[2], 0, self.vocabulary_size, tf.int32
        )
        corrupted = tf.where(to_mask, self.mask_id, tf.where(to_random, random_ids, token_ids))
        return {
            "token_ids": corrupted,
            "mask_positions": mask_positions,
            "mask_ids": mask_ids,
            "mask_weights": mask_weights,
        }
