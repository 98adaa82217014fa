"""SWAG multiple choice: the reader (its CSV, or JSONL with the same fields) and batches
of `(batch, choices, seq)` inputs.

A SWAG row has a context sentence `sent1`, the start of the next sentence `sent2`,
four endings `ending0..3` and the `label` of the right one (absent in the test file).
As in the BERT paper, each choice is the pair (`sent1`, `sent2` + " " + ending), packed
by the same `BertPreprocessor` as every other pair task.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from pipelines.classification import ordered
from pipelines.packed_examples import PackedExamples, packed_arrays, padding_values
from pipelines.plain_graphs import plain
from pipelines.replica_batches import replica_batches
from pipelines.text_table import _field, _records, _RowError, file_format

ON_ERROR = ("raise", "skip")


@dataclasses.dataclass
class ChoiceExamples:
    """Contexts with candidate endings.

    Args:
        contexts: list of str (first segments).
        endings: list of lists of str (second segments), `num_choices` per example.
        labels: list of int (the right ending) or None.
        ids: list of str (the file line of each example).
        source: str, the file read.
        skipped: int, rows skipped with on_error="skip".
        problems: list of str, the first reasons rows were skipped.
    """

    contexts: list
    endings: list
    labels: list
    ids: list
    source: str = ""
    skipped: int = 0
    problems: list = dataclasses.field(default_factory=list)

    def __len__(self):
        return len(self.contexts)

    @property
    def num_choices(self):
        return len(self.endings[0])


def read_swag(path, num_choices=4, labelled=None, on_error="raise", format=None):
    """Reads SWAG's train/val/test CSV (or a .jsonl with the same fields).

    Args:
        path: str.
        num_choices: int, endings per row (`ending0` ...).
        labelled: True / False, or None to read labels when the file has them.
        on_error: "raise" (a bad row names file and line) or "skip".
        format: "csv" or "jsonl"; None for the file name's.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".csv")
    >>> _ = open(path, "w").write(
    ...     "sent1,sent2,ending0,ending1,ending2,ending3,label\\n"
    ...     "A man sits.,He,stands.,flies.,melts.,sings.,0\\n")
    >>> data = read_swag(path)
    >>> data.contexts, data.endings, data.labels
    (['A man sits.'], [['He stands.', 'He flies.', 'He melts.', 'He sings.']], [0])
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, not {on_error!r}.")
    format = file_format(path, format)
    out = ChoiceExamples([], [], [], [], path)
    for number, row in _records(path, format, header=True):
        try:
            if isinstance(row, _RowError):
                raise row
            context = str(_field(path, number, row, "sent1")).strip()
            start = str(_field(path, number, row, "sent2")).strip()
            endings = [
                str(_field(path, number, row, f"ending{i}")).strip() for i in range(num_choices)
            ]
            if not context or not all(endings):
                raise _RowError(f"{path}:{number}: empty sent1 or ending")
            if labelled is None:
                labelled = "label" in row and str(row["label"]).strip() != ""
            label = None
            if labelled:
                value = str(_field(path, number, row, "label")).strip()
                if value not in {str(i) for i in range(num_choices)}:
                    raise _RowError(f"{path}:{number}: label {value!r} is not 0..{num_choices - 1}")
                label = int(value)
        except _RowError as error:
            if on_error == "raise":
                raise ValueError(str(error)) from None
            out.skipped += 1
            if len(out.problems) < 5:
                out.problems.append(str(error))
            continue
        out.contexts.append(context)
        out.endings.append([f"{start} {e}".strip() for e in endings])
        out.labels.append(label)
        out.ids.append(str(number))
    if not out.contexts:
        raise ValueError(f"{path}: no examples.")
    if not labelled:
        out.labels = None
    return out


def _pairs(examples):
    """The (context, ending) segments of every choice, example by example."""
    choices = examples.num_choices
    contexts = [c for c in examples.contexts for _ in range(choices)]
    return [contexts, [e for endings in examples.endings for e in endings]]


def pack_choices(examples, preprocessor, chunk=1024):
    """`ChoiceExamples` packed once, each choice a row (example by example):
    `PackedExamples` for `choice_dataset`'s every epoch."""
    from pipelines.text_table import TextExamples

    pairs = PackedExamples.pack(
        TextExamples(_pairs(examples), None, [], None, examples.source), preprocessor, chunk
    )
    return PackedExamples(pairs.features, examples.labels, None, pairs.sequence_length)


def choice_arrays(examples, preprocessor, chunk=1024):
    """The features of `ChoiceExamples` as NumPy arrays, each (examples, choices,
    sequence_length), in their order ({} for none)."""
    if not len(examples):
        return {}
    choices, length = examples.num_choices, preprocessor.sequence_length
    rows = packed_arrays(preprocessor, _pairs(examples), chunk * choices)
    return {k: v.reshape(-1, choices, length) for k, v in rows.items()}


def choice_dataset(
    examples,
    preprocessor,
    batch_size,
    shuffle=False,
    seed=None,
    repeat=False,
    drop_remainder=False,
    input_context=None,
    packed=None,
):
    """Batches of `(features, label)` with features `(batch, choices, seq)` (no label
    for unlabelled examples), global; with `input_context` this pipeline's per-replica
    slices of them. `packed`: the examples' `pack_choices`, made once for every epoch
    (the same batches, without tokenizing again)."""
    choices = examples.num_choices
    length = preprocessor.sequence_length
    if packed is not None:
        data = _packed_source(packed, choices, length, preprocessor.tokenizer.pad_id)
        data = ordered(data, len(examples), shuffle, seed, repeat)
        data = data.batch(batch_size, drop_remainder=drop_remainder)
        return replica_batches(data, input_context).prefetch(tf.data.AUTOTUNE)
    texts = (tf.constant(examples.contexts), tf.constant(np.array(examples.endings, object)))
    parts = texts if examples.labels is None else texts + (tf.constant(examples.labels),)
    data = ordered(tf.data.Dataset.from_tensor_slices(parts), len(examples), shuffle, seed, repeat)

    def pack(context, endings, *label):
        pairs = preprocessor.traced((tf.repeat(context, choices), tf.reshape(endings, [-1])))
        features = {k: tf.reshape(v, [-1, choices, length]) for k, v in pairs.items()}
        return (features,) + label

    data = data.batch(batch_size, drop_remainder=drop_remainder)
    data = data.map(plain(pack), num_parallel_calls=tf.data.AUTOTUNE)
    return replica_batches(data, input_context).prefetch(tf.data.AUTOTUNE)


def _packed_source(packed, choices, length, pad):
    """One example's `(features, label)` per element, each feature (choices, length)."""
    if packed.sequence_length != length:
        raise ValueError(
            f"The choices were packed for sequence length {packed.sequence_length}, not {length}."
        )
    grouped = {
        k: tf.RaggedTensor.from_uniform_row_length(v, choices) for k, v in packed.features.items()
    }
    parts = (grouped,) if packed.labels is None else (grouped, tf.constant(packed.labels))
    padding = padding_values(pad)

    def padded(features, *label):
        return (
            {k: v.to_tensor(padding[k], shape=[choices, length]) for k, v in features.items()},
        ) + label

    return tf.data.Dataset.from_tensor_slices(parts).map(plain(padded))
