"""Each task's raw-text serving step: the text inputs it takes and what it returns.

A step is `(input_specs, function)`: `function(module, *texts)` runs the module's
preprocessing and model in the graph and returns the task's answer as named tensors.
The decoding is the one evaluation uses (`pipelines.span_decoding` for SQuAD), so a
served answer is the evaluated one.
"""

import tensorflow as tf

from keras_bert import BertBackbone
from keras_bert.tasks.registry import REGISTRY, task_name
from pipelines import document_windows, entity_decoding, span_decoding, word_windows


def _strings(*names):
    return [tf.TensorSpec([None], tf.string, name=name) for name in names]


def _decided(module, logits, labels=None):
    """Probabilities (softmax of `logits` over the module's temperature) and label_id
    (the argmax; -1 where the top probability is below `min_confidence`), and with
    `labels` the label (\"\" there)."""
    probabilities = tf.nn.softmax(logits / module.temperature, axis=-1)
    label_id = tf.argmax(logits, axis=-1, output_type=tf.int32)
    sure = tf.reduce_max(probabilities, axis=-1) >= (module.min_confidence or 0.0)
    out = {"probabilities": probabilities, "label_id": tf.where(sure, label_id, -1)}
    if labels is not None:
        out["label"] = tf.where(sure, tf.gather(tf.constant(labels), label_id), "")
    return out


def _windowed(module, text):
    """Each text's logits (or scores) from all its windows (`pipelines.document_windows`):
    their mean or max, as `module.long_documents` says."""
    windows = module.long_documents
    features, owner = document_windows.text_windows(module.preprocessor, text, windows["stride"])
    outputs = module.grouped(features)
    return document_windows.aggregate(outputs, owner, tf.size(text), windows["aggregate"])


def classification(model, segments):
    """Probabilities, label and label_id (classification) or score (regression)."""
    names = ("text", "text_pair", "text_third")[:segments]
    labels = model.label_names or [str(i) for i in range(model.num_classes)]

    def run(module, *texts):
        if module.long_documents:
            outputs = _windowed(module, texts[0])
        else:
            outputs = module.grouped(module.preprocessor(tuple(texts)))
        if model.num_classes == 1:
            return {"score": outputs}  # (batch,): the head squeezes it
        return _decided(module, outputs, labels)

    return _strings(*names), run


def embedding(model, segments):
    def run(module, text):
        return {"embedding": module.grouped(module.preprocessor(text))}

    return _strings("text"), run


def encoder(model, segments):
    names = ("text", "text_pair")[:segments]

    def run(module, *texts):
        outputs = module.model(module.padded(module.preprocessor(tuple(texts))), training=False)
        sequence = outputs["sequence_output"]  # past the batch's longest row: zeros
        missing = module.preprocessor.sequence_length - tf.shape(sequence)[1]
        return {
            "sequence_output": tf.pad(sequence, [[0, 0], [0, missing], [0, 0]]),
            "pooled_output": outputs["pooled_output"],
        }

    return _strings(*names), run


def multiple_choice(model, segments):
    choices = model.num_choices
    specs = [
        tf.TensorSpec([None], tf.string, name="context"),
        tf.TensorSpec([None, choices], tf.string, name="endings"),
    ]

    def run(module, context, endings):
        length = module.preprocessor.sequence_length
        pairs = module.preprocessor((tf.repeat(context, choices), tf.reshape(endings, [-1])))
        features = {k: tf.reshape(v, [-1, choices, length]) for k, v in pairs.items()}
        return _decided(module, module.model(module.padded(features), training=False))

    return specs, run


def span_extraction(model, segments):
    """SQuAD: every window of each (question, context), the best span over them."""

    def run(module, question, context):  # One batch size: checked by the signature.
        windower = module.windower
        length = windower.sequence_length
        keys = (
            "token_ids",
            "segment_ids",
            "padding_mask",
            "token_starts",
            "token_ends",
            "max_context",
        )
        dtypes = {"max_context": tf.bool}

        def one(pair):
            out = windower(pair[0], pair[1])
            return {k: out[k] for k in keys}

        spec = {
            k: tf.RaggedTensorSpec([None, length], dtypes.get(k, tf.int32), ragged_rank=0)
            for k in keys
        }
        windows = tf.map_fn(one, (question, context), fn_output_signature=spec)
        owner = windows["token_ids"].value_rowids()
        flat = module.padded({k: tf.reshape(v.values, [-1, length]) for k, v in windows.items()})
        logits = module.model({k: flat[k] for k in keys[:3]}, training=False)
        spans = span_decoding.best_spans(
            logits["start_logits"],
            logits["end_logits"],
            flat["token_starts"],
            flat["token_ends"],
            flat["max_context"],
            owner,
            tf.size(question),
            module.n_best_size,
            module.max_answer_length,
        )
        start, end, diffs = span_decoding.choose_answers(spans, module.null_threshold)
        found = start >= 0
        text = tf.strings.substr(
            context, tf.maximum(start, 0), tf.maximum(end - start, 0), unit="UTF8_CHAR"
        )
        return {
            "answer_text": tf.where(found, text, ""),
            "start_char": start,
            "end_char": end,
            "score": spans["scores"][:, 0],
            "null_odds": diffs,
        }

    return _strings("question", "context"), run


def token_classification(model, segments):
    """NER: words and a tag per word (padded to the batch's longest, with `word_count`),
    and the entities with character spans: `module.max_entities` columns, so replies
    have one shape whatever the batch, widened (never cut) for a text with more, with
    `entity_count`."""
    if not model.label_names:
        raise ValueError(
            "A token classifier needs its label_names (its tags, e.g. O, "
            "B-PER, I-PER) to be exported: entities are decoded from them."
        )
    names = model.label_names

    def run(module, text):
        tokenizer = module.preprocessor.tokenizer
        (words, starts, ends), windows = word_windows.sentence_windows(
            tokenizer, text, module.preprocessor.sequence_length
        )
        windows = module.padded(windows)
        logits = module.model(
            {k: windows[k] for k in ("token_ids", "segment_ids", "padding_mask")}, training=False
        )
        predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
        labelled = windows["word_index"] >= 0
        word_tags = tf.scatter_nd(  # each word's tag, from its first piece's window
            tf.cast(tf.boolean_mask(windows["word_index"], labelled), tf.int64)[:, None],
            tf.boolean_mask(predicted, labelled),
            tf.shape(words.flat_values, tf.int64),
        )
        tag_ids = words.with_flat_values(word_tags)
        types, first, last, kinds = (
            x.with_row_splits_dtype(tf.int64) if isinstance(x, tf.RaggedTensor) else x
            for x in entity_decoding.entity_spans(tag_ids, names)
        )
        sentence_starts = tf.gather(starts, first, batch_dims=1)
        sentence_ends = tf.gather(ends, last, batch_dims=1)
        rows = first.value_rowids()
        width = tf.maximum(
            tf.cast(module.max_entities, tf.int64), tf.reduce_max(types.row_lengths())
        )  # empty batch: int min

        def fixed(ragged, default):
            return ragged.to_tensor(default, shape=tf.stack([types.nrows(), width]))

        entity_text = tf.strings.substr(
            tf.gather(text, rows),
            sentence_starts.flat_values,
            (sentence_ends - sentence_starts).flat_values,
            unit="UTF8_CHAR",
        )
        return {
            "words": words.to_tensor(""),
            "tags": tag_ids.with_flat_values(tf.gather(tf.constant(names), word_tags)).to_tensor(
                ""
            ),
            "word_count": tf.cast(words.row_lengths(), tf.int32),
            "entity_count": tf.cast(types.row_lengths(), tf.int32),
            "entity_type": fixed(
                types.with_flat_values(tf.gather(tf.constant(kinds or [""]), types.flat_values)), ""
            ),
            "entity_start_char": fixed(sentence_starts, -1),
            "entity_end_char": fixed(sentence_ends, -1),
            "entity_text": fixed(first.with_flat_values(entity_text), ""),
        }

    return _strings("text"), run


def serving_step(model):
    """The function that makes a model's raw-text step: the registry's `serving` name
    for a task model (`keras_bert.tasks.registry`), `encoder` for a bare backbone,
    None for a model without one."""
    if isinstance(model, BertBackbone):
        return encoder
    task = REGISTRY.get(task_name(model))
    return globals()[task.serving] if task is not None and task.serving else None


def step_for(model, segments=1):
    """The raw-text step of a task model (None where it has none)."""
    make = serving_step(model)
    return None if make is None else make(model, segments)
