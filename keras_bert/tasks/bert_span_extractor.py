"""BertSpanExtractor: extractive question answering (SQuAD) from `sequence_output`."""

import keras

from keras_bert.backbone import BertBackbone  # noqa: F401  (the docstring example)
from keras_bert.layers.sequence_bilstm import SequenceBiLSTM
from keras_bert.tasks.bert_task import BertTask, head_initializer


@keras.saving.register_keras_serializable(package="keras_bert")
class BertSpanExtractor(BertTask):
    """One dense layer of two units on every token: answer start and end logits.

    Inputs: the backbone's `token_ids`, `segment_ids`, `padding_mask` (`[CLS] question
    [SEP] context [SEP]`, see `pipelines.SquadWindower`). Outputs: `start_logits` and
    `end_logits`, each `(batch, seq)` float32. `compile_recipe` trains them with
    cross-entropy against `start_positions` / `end_positions` (labels named by the
    outputs), averaged as in run_squad.py. The head is stored in Google checkpoints
    as run_squad.py does: `cls/squad/output_weights` `[2, hidden]` and `output_bias`.

    Args:
        backbone: BertBackbone, the encoder.
        bilstm: bool, a randomly initialised BiLSTM between the encoder and the head
            (`SequenceBiLSTM`; the paper's "+ BiLSTM" row).

    Example:
    >>> backbone = BertBackbone(vocabulary_size=11, num_layers=1, num_heads=2,
    ...                         hidden_dim=6, intermediate_dim=10)
    >>> model = BertSpanExtractor(backbone)
    >>> x = {"token_ids": keras.ops.ones((2, 7), "int32"),
    ...      "segment_ids": keras.ops.zeros((2, 7), "int32"),
    ...      "padding_mask": keras.ops.ones((2, 7), "int32")}
    >>> {k: tuple(v.shape) for k, v in model(x).items()}
    {'start_logits': (2, 7), 'end_logits': (2, 7)}
    """

    def __init__(self, backbone, bilstm=False, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.span_dense = keras.layers.Dense(
            2,
            kernel_initializer=head_initializer(backbone),
            dtype=backbone.dtype_policy,
            name="span_logits",
        )

        self.bilstm_layer = SequenceBiLSTM(name="bilstm") if bilstm else None

        # === Functional Model ===
        inputs = dict(backbone.input)
        sequence = backbone(inputs)["sequence_output"]  # (batch, seq, hidden)
        if self.bilstm_layer is not None:
            sequence = self.bilstm_layer(sequence, inputs["padding_mask"])
        logits = self.span_dense(sequence)  # (batch, seq, 2)
        start, end = SplitLast(2, name="split_span")(logits)
        outputs = {
            "start_logits": keras.layers.Activation("linear", dtype="float32", name="start_logits")(
                start
            ),  # (batch, seq)
            "end_logits": keras.layers.Activation("linear", dtype="float32", name="end_logits")(
                end
            ),
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.bilstm = bilstm

    def compile_arguments(self):
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        accuracy = keras.metrics.SparseCategoricalAccuracy
        return dict(
            loss={"start_logits": loss, "end_logits": loss},
            loss_weights={"start_logits": 0.5, "end_logits": 0.5},
            metrics={"start_logits": [accuracy("accuracy")], "end_logits": [accuracy("accuracy")]},
        )

    def checkpoint_heads(self):
        return {"cls/squad": self.span_dense}


@keras.saving.register_keras_serializable(package="keras_bert")
class SplitLast(keras.layers.Layer):
    """Splits the last axis (of size `parts`) into `parts` tensors without it."""

    def __init__(self, parts, **kwargs):
        super().__init__(**kwargs)
        self.parts = parts

    def call(self, x):
        return [x[..., i] for i in range(self.parts)]

    def compute_output_shape(self, shape):
        return [tuple(shape[:-1])] * self.parts

    def get_config(self):
        return dict(super().get_config(), parts=self.parts)
