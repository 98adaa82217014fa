"""ServingModule: a task model, its preprocessing and its decoding as one tf.Module whose
signatures TF Serving calls."""

import types

import tensorflow as tf

from pipelines.packing import row_ends, trim_padding
from saved_models import text_tasks

MODEL_INPUTS = ("token_ids", "segment_ids", "padding_mask")
GROUP_ROWS = 16  # rows a raw-text request runs at a time, shortest first


def checked_inputs(inputs, specs, same_shape=0):
    """`inputs` with their shapes checked when the signature runs (a server may feed
    any shape): each must have its spec's rank and fixed sizes, every input the same
    batch size, and the first `same_shape` inputs one shape. The failing check's name
    says what was expected ("text_must_be_a_1D_batch"), and its message what came."""
    checked = []
    for value, spec in zip(inputs, specs):
        sizes = "_by_".join("batch" if d is None else str(d) for d in spec.shape)
        checked.append(
            tf.ensure_shape(
                value, spec.shape, name=f"{spec.name}_must_be_{spec.shape.rank}D_{sizes}"
            )
        )
    first, asserts = specs[0].name, []
    for index, (value, spec) in enumerate(zip(checked[1:], specs[1:]), start=1):
        same = index < same_shape
        pair = (
            (tf.shape(checked[0]), tf.shape(value))
            if same
            else (tf.shape(checked[0])[0], tf.shape(value)[0])
        )
        what = "shape" if same else "batch size"
        asserts.append(
            tf.debugging.assert_equal(
                *pair, message=f"{first} and {spec.name} must have one {what}"
            )
        )
    with tf.control_dependencies(asserts):  # Checked before the model sees them.
        return [tf.identity(value) for value in checked]


class ServingModule(tf.Module):
    """Holds the model (inference mode), the preprocessor (its vocabulary becomes a
    SavedModel asset) and the task's decoding; `signatures()` gives:

    - `serving_default`: raw text in, the task's answer out (see `text_tasks`);
    - `serve_token_ids`: int32 `token_ids`, `segment_ids`, `padding_mask` in, the
      model's raw outputs out (core TF ops only);
    - `serve_examples`: serialized `tf.Example`s whose string features are the text
      inputs (TF Serving's classic input), the same outputs as `serving_default`.

    Args:
        model: a keras_bert task model or BertBackbone.
        preprocessor: pipelines.BertPreprocessor (its tokenizer serves the SQuAD
            windower too).
        segments: int, text inputs of a classifier or encoder (2 for pairs).
        windower: pipelines.SquadWindower for a span extractor (else None).
        n_best_size, max_answer_length, null_threshold: SQuAD decoding (threshold None
            for v1.1: always a span).
        max_entities: int, the width of a NER reply's entity fields (more only when a
            text has more entities; `entity_count` says how many are real).
        temperature: float > 0, classification and multiple choice probabilities are
            the softmax of the logits over it (fitted on validation by finetune).
        min_confidence: float or None, classification and multiple choice answer no
            label (`label` "", `label_id` -1) where the top probability is below it.
        long_documents: None, or {"stride", "aggregate"}: a classifier reads every
            window of a long text and answers with their logits' mean or max
            (`pipelines.document_windows`; one text input).
        pad_to_longest: bool, the raw-text signatures pad each request batch only to
            its longest row (rounded up to a multiple of 8, at most the sequence
            length), not always to the sequence length: short requests cost what their
            tokens cost. A classifier's, regressor's or embedder's request also runs
            its rows shortest first, `GROUP_ROWS` at a time, each group padded to its
            own longest row. The replies are the same (an encoder's `sequence_output` keeps
            the sequence length, zeros past the batch's longest row).
    """

    def __init__(
        self,
        model,
        preprocessor,
        segments=1,
        windower=None,
        n_best_size=20,
        max_answer_length=30,
        null_threshold=None,
        max_entities=16,
        temperature=1.0,
        min_confidence=None,
        long_documents=None,
        pad_to_longest=True,
    ):
        super().__init__(name="keras_bert_serving")
        # The Keras model itself is not saved (its layers' object graph is seconds of
        # save and load time): the signatures and the variables are the export.
        self._held = types.SimpleNamespace(model=model)
        # Every variable's tf.Variable, tracked directly: session-based loaders (TF
        # Serving's C++ loader, saved_model_cli run) restore only those, and without
        # this they find the Keras variables uninitialized. The seed generators' states
        # (e.g. an LSTM's dropout) are among them, so no function captures an
        # untracked resource.
        self.model_variables = [v.value for v in model.variables]
        self.preprocessor = preprocessor
        self.windower = windower
        self.n_best_size = n_best_size
        self.max_answer_length = max_answer_length
        self.null_threshold = null_threshold
        self.max_entities = max_entities
        self.pad_to_longest = pad_to_longest
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, not {temperature!r}.")
        if min_confidence is not None and not 0 <= min_confidence <= 1:
            raise ValueError(f"min_confidence must be in [0, 1], not {min_confidence!r}.")
        self.long_documents = long_documents
        if long_documents and segments != 1:
            raise ValueError("Windows of long documents need one text input, not pairs.")
        self.temperature = float(temperature)
        self.min_confidence = min_confidence
        self._step = text_tasks.step_for(model, segments)

    @property
    def model(self):
        return self._held.model

    def grouped(self, features):
        """The model's output (one tensor per row: logits, scores, an embedding) for
        packed `features`: with `pad_to_longest`, the rows sorted by length and run
        `GROUP_ROWS` at a time, each group padded only to its own longest row, then put
        back in order; a request's short rows then stop paying for its longest one."""
        if not self.pad_to_longest:
            return self.model(features, training=False)
        ends = row_ends(features["padding_mask"])
        order = tf.argsort(ends, stable=True)
        rows = {k: tf.gather(v, order) for k, v in features.items()}
        count = tf.shape(order)[0]
        groups = (count + GROUP_ROWS - 1) // GROUP_ROWS
        shape = tf.TensorShape([None]).concatenate(self.model.output.shape[1:])
        dtype = tf.as_dtype(self.model.output.dtype)
        parts = tf.TensorArray(dtype, size=groups, element_shape=shape)

        def one(i, parts):
            group = {k: v[i * GROUP_ROWS : (i + 1) * GROUP_ROWS] for k, v in rows.items()}
            return i + 1, parts.write(i, self.model(trim_padding(group), training=False))

        _, parts = tf.while_loop(lambda i, _: i < groups, one, (tf.constant(0), parts))
        outputs = parts.concat()
        return tf.scatter_nd(order[:, None], outputs, tf.shape(outputs))  # input order

    def padded(self, features):
        """Packed `features` as the model gets them: cut to the batch's longest row
        (`pipelines.packing.trim_padding`) unless `pad_to_longest` is off."""
        return trim_padding(features) if self.pad_to_longest else features

    def _input_names(self):
        """The model's int inputs: the backbone's three, then any others (the
        pretrainer's `mask_positions`)."""
        return list(MODEL_INPUTS) + [k for k in self.model.input if k not in MODEL_INPUTS]

    def _token_id_specs(self):
        return [
            tf.TensorSpec([None, *self.model.input[name].shape[1:]], tf.int32, name=name)
            for name in self._input_names()
        ]

    def signatures(self):
        id_specs = self._token_id_specs()
        out = {
            "serve_token_ids": tf.function(
                lambda *ids: self._serve_token_ids(
                    dict(
                        zip(
                            self._input_names(),
                            checked_inputs(ids, id_specs, same_shape=len(MODEL_INPUTS)),
                        )
                    )
                ),
                input_signature=id_specs,
                autograph=False,  # Written in graph ops (pipelines.plain_graphs).
            )
        }
        if self._step is not None:
            specs, run = self._step
            # One function from texts to answers: tf.Example requests call it too, so
            # the tokenizer, the model and the decoding are traced and saved once.
            out["serving_default"] = tf.function(
                lambda *texts: run(self, *checked_inputs(texts, specs)),
                input_signature=specs,
                autograph=False,
            )
            out["serve_examples"] = tf.function(
                self._examples_function(specs, out["serving_default"]),
                input_signature=[tf.TensorSpec([None], tf.string, name="examples")],
                autograph=False,
            )
        return {name: f.get_concrete_function() for name, f in out.items()}

    def example_requests(self):
        """[(signature, inputs)]: a couple of real requests per signature (warm-up)."""
        samples = ["The quick brown fox jumps over the lazy dog.", "Shares rose 5% today."]
        out = []
        if self._step is not None:
            specs, _ = self._step
            texts = {}
            for spec in specs:
                if len(spec.shape) == 2:
                    texts[spec.name] = [[s] * spec.shape[1] for s in samples]
                else:
                    texts[spec.name] = list(samples)
            out.append(("serving_default", texts))
            examples = [
                tf.train.Example(
                    features=tf.train.Features(
                        feature={
                            name: tf.train.Feature(
                                bytes_list=tf.train.BytesList(
                                    value=[
                                        t.encode("utf-8")
                                        for t in (v[i] if isinstance(v[i], list) else [v[i]])
                                    ]
                                )
                            )
                            for name, v in texts.items()
                        }
                    )
                ).SerializeToString()
                for i in range(2)
            ]
            out.append(("serve_examples", {"examples": examples}))
        features = self.preprocessor(tuple([samples] * min(2, self._segments())))
        shape = self._token_id_specs()[0].shape
        if shape.rank == 3:
            features = {k: tf.tile(v[:, None], [1, shape[1], 1]) for k, v in features.items()}
        requests = {k: v.numpy() for k, v in features.items()}
        for name in self._input_names()[len(MODEL_INPUTS) :]:
            requests[name] = tf.zeros([2, 1], tf.int32).numpy()  # e.g. mask position 0
        out.append(("serve_token_ids", requests))
        return out

    def _segments(self):
        if self._step is None or self.windower is not None:
            return 1
        return len([s for s in self._step[0] if s.name.startswith("text")]) or 1

    def _serve_token_ids(self, inputs):
        outputs = self.model(inputs, training=False)
        if not isinstance(outputs, dict):
            outputs = {self.model.output_names[0]: outputs}
        outputs.pop("encoder_outputs", None)
        return {k: tf.convert_to_tensor(v) for k, v in outputs.items()}

    def _examples_function(self, specs, serve_texts):
        features = {
            spec.name: tf.io.FixedLenFeature(spec.shape[1:], tf.string, default_value=None)
            for spec in specs
        }

        def from_examples(examples):
            parsed = tf.io.parse_example(examples, features)
            return serve_texts(*[parsed[spec.name] for spec in specs])

        return from_examples
