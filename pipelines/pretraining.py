"""The pretraining dataset: text files -> NSP/SOP pairs -> packed -> MLM-masked, all in tf.data.

Three objectives (the paper's ablation, table 5): "mlm_nsp" (BERT: sentence pairs, masked
LM and next sentence), "mlm" (no NSP: single segments of consecutive text, masked LM)
and "ltr" (no NSP, left-to-right: the same single segments, unmasked, each position's
label the next token).

Nothing is precomputed on disk: every pass over the corpus draws new pairs and masks
(unlike google-research/bert's static `dupe_factor` copies). With a `seed` the stream
is reproducible; `start_step` re-seeds it when training resumes, so a resumed run goes
on with fresh examples instead of replaying the ones already seen.
"""

import random

import tensorflow as tf

from pipelines.documents import document_dataset, list_files
from pipelines.masking import MaskedLMMasker
from pipelines.next_sentence import make_pairs
from pipelines.packing import pack_segments
from pipelines.plain_graphs import kept_function, plain
from pipelines.replica_batches import replica_batches
from pipelines.text_chunks import chunk_documents, next_token_labels

OBJECTIVES = ("mlm_nsp", "mlm", "ltr")
MODEL_INPUTS = ("token_ids", "segment_ids", "padding_mask", "mask_positions")


def default_max_predictions(sequence_length):
    """BERT's max_predictions_per_seq: 20 at 128, 76 at 512, else 15% of the length."""
    return {128: 20, 512: 76}.get(sequence_length, max(1, round(0.15 * sequence_length)))


def _seeds(seed):
    """An endless stream of shape-[2] int64 seeds."""
    return tf.data.Dataset.random(seed=seed).batch(2)


def example_builder(
    tokenizer, sequence_length, short_seq_prob=0.1, sentence_order=False, objective="mlm_nsp"
):
    """fn(documents (ragged docs x sentences strings), seed) -> packed features: sentence
    pairs with their NSP label ("mlm_nsp"), or single chunks of each document ("mlm",
    "ltr"). One traced function per tokenizer and settings, kept for the tokenizer's life
    (`plain_graphs.kept_function`): a run builds its dataset again for every segment
    and held-out pass."""
    settings = (sequence_length, short_seq_prob, sentence_order, objective)
    return kept_function(tokenizer, ("examples",) + settings, lambda t: _builder(t, *settings))


def _builder(tokenizer, sequence_length, short_seq_prob, sentence_order, objective):
    def build(documents, seed):
        ids = tokenizer.tokenize(documents.flat_values)  # (sentences, tokens)
        nested = tf.RaggedTensor.from_row_splits(ids, documents.row_splits, validate=False)
        nested = tf.ragged.boolean_mask(nested, nested.row_lengths(axis=2) > 0)
        nested = tf.ragged.boolean_mask(nested, nested.row_lengths() > 0)
        if objective != "mlm_nsp":
            chunks = chunk_documents(nested, sequence_length - 2)
            ids = (tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id)
            return pack_segments([chunks], sequence_length, *ids)
        first, second, labels = make_pairs(
            nested, sequence_length - 3, seed, short_seq_prob, sentence_order
        )
        features = pack_segments(
            [first, second], sequence_length, tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id
        )
        features["next_sentence_label"] = labels
        return features

    return build


def masking_step(masker):
    def mask(features, seed):
        masked = masker(features["token_ids"], seed)
        return dict(features, **masked)

    return mask


def next_token_step(features, seed):
    """A left-to-right LM's batch: the tokens as they are, and the next one as label."""
    del seed  # Nothing is drawn.
    next_ids, next_weights = next_token_labels(features["token_ids"], features["padding_mask"])
    return dict(features, next_ids=next_ids, next_weights=next_weights)


def to_fit_inputs(features):
    """(x, y, sample_weight) for `BertPretrainer.fit` from a flat feature dict (of any
    objective: the keys it holds say which)."""
    if "next_ids" in features:  # "ltr"
        x = {key: features[key] for key in MODEL_INPUTS[:3]}
        return x, {"lm": features["next_ids"]}, {"lm": features["next_weights"]}
    x = {key: features[key] for key in MODEL_INPUTS}
    y, weights = {"mlm": features["mask_ids"]}, {"mlm": features["mask_weights"]}
    if "next_sentence_label" in features:  # "mlm_nsp"
        y["nsp"] = features["next_sentence_label"]
        weights["nsp"] = tf.ones_like(features["next_sentence_label"], tf.float32)
    return x, y, weights


def pretraining_dataset(
    patterns,
    tokenizer,
    sequence_length=128,
    batch_size=32,
    *,
    format="sentences",
    max_predictions=None,
    short_seq_prob=0.1,
    sentence_order=False,
    whole_word_masking=False,
    selection_rate=0.15,
    mask_token_rate=0.8,
    random_token_rate=0.1,
    seed=None,
    start_step=0,
    documents_per_batch=256,
    shuffle_buffer=10_000,
    repeat=True,
    for_fit=True,
    encoding_errors="strict",
    input_context=None,
    objective="mlm_nsp",
):
    """An endless (or, with repeat=False, one-pass) dataset of pretraining batches.

    Elements are `(x, y, sample_weight)` for `fit` (or, with for_fit=False, flat dicts
    with token_ids, segment_ids, padding_mask and the objective's labels: mask_positions,
    mask_ids, mask_weights and next_sentence_label for "mlm_nsp"; the same without
    next_sentence_label for "mlm"; next_ids and next_weights for "ltr"), each
    `(batch_size, ...)`. `short_seq_prob` and `sentence_order` shape NSP pairs only.
    Invalid UTF-8 in the corpus is an error naming the file unless
    `encoding_errors="replace"` (see `documents`).

    With a tf.distribute `input_context`, `batch_size` is the global batch and the
    dataset yields this input pipeline's per-replica batches. With at least as many
    files as pipelines, each pipeline reads its own files (sharding by file: every
    worker tokenizes a share of the corpus, and each draws its own pairs and masks);
    otherwise every pipeline makes the same global batches and keeps its replicas'
    slices (sharding by data: the same steps as one device).

    Example:
    >>> from pipelines import BertTokenizer
    >>> tokenizer = BertTokenizer("tests/data/vocab.txt", lowercase=True)
    >>> data = pretraining_dataset("tests/data/corpus.txt", tokenizer, sequence_length=16,
    ...                            batch_size=2, seed=1, for_fit=False)
    >>> sorted(next(iter(data)))[:3]
    ['mask_ids', 'mask_positions', 'mask_weights']
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}.")
    seed = random.randrange(2**31) if seed is None else seed
    max_predictions = max_predictions or default_max_predictions(sequence_length)
    masking = dict(
        whole_word=whole_word_masking,
        max_predictions=max_predictions,
        selection_rate=selection_rate,
        mask_token_rate=mask_token_rate,
        random_token_rate=random_token_rate,
    )
    masker = MaskedLMMasker.for_tokenizer(tokenizer, **masking)  # Checks the rates now.
    pipelines = input_context.num_input_pipelines if input_context else 1
    files = list_files(patterns)
    by_file = pipelines > 1 and len(files) >= pipelines
    if by_file:
        if batch_size % pipelines:
            raise ValueError(
                f"The global batch {batch_size} must be a multiple of the "
                f"{pipelines} input pipelines."
            )
        files = files[input_context.input_pipeline_id :: pipelines]
        batch_size //= pipelines
        seed += 7_919 * input_context.input_pipeline_id  # Each worker its own draws.
    seed = seed * 1_000_003 + start_step
    documents = document_dataset(files, format, encoding_errors)
    documents = documents.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        documents = documents.repeat()
    examples = tf.data.Dataset.zip(documents.ragged_batch(documents_per_batch), _seeds(seed + 1))
    examples = examples.map(
        example_builder(tokenizer, sequence_length, short_seq_prob, sentence_order, objective),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    examples = examples.unbatch().shuffle(4 * documents_per_batch, seed=seed + 2)
    batches = tf.data.Dataset.zip(examples.batch(batch_size, drop_remainder=True), _seeds(seed + 3))
    if objective == "ltr":
        label = next_token_step
    else:
        key = ("masking",) + tuple(sorted(masking.items()))
        label = kept_function(tokenizer, key, lambda _: masking_step(masker))
    batches = batches.map(plain(label), num_parallel_calls=tf.data.AUTOTUNE)
    if for_fit:
        batches = batches.map(plain(to_fit_inputs))
    if by_file:  # This pipeline's batch, cut for its local replicas.
        local = input_context.num_replicas_in_sync // pipelines
        batches = replica_batches(batches, tf.distribute.InputContext(1, 0, local))
    else:
        batches = replica_batches(batches, input_context)
    return batches.prefetch(tf.data.AUTOTUNE)
