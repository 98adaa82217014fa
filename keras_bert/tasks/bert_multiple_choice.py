"""BertMultipleChoice: pick one of several endings (SWAG) from the pooled output."""

import keras

from keras_bert.backbone import BertBackbone  # noqa: F401  (the docstring example)
from keras_bert.layers.choice_reshape import ChoiceReshape
from keras_bert.layers.sequence_bilstm import SequenceBiLSTM
from keras_bert.tasks.bert_task import BertTask, head_initializer


@keras.saving.register_keras_serializable(package="keras_bert")
class BertMultipleChoice(BertTask):
    """One score per (context, ending) pair; softmax across the choices (BERT's SWAG).

    Inputs: `token_ids`, `segment_ids`, `padding_mask` shaped `(batch, choices, seq)`.
    Each pair runs through the encoder as its own sequence; dropout and a dense layer
    of one unit on its pooled output give its score. Output: `logits`
    `(batch, num_choices)`, float32; cross-entropy over the choices and accuracy.

    Args:
        backbone: BertBackbone, the encoder.
        num_choices: int, choices per example (4 for SWAG).
        head_dropout: float, dropout on the pooled output.
        bilstm: bool, a randomly initialised BiLSTM between the encoder and the head
            (`SequenceBiLSTM`; the paper's "+ BiLSTM" row).

    Example:
    >>> backbone = BertBackbone(vocabulary_size=11, num_layers=1, num_heads=2,
    ...                         hidden_dim=6, intermediate_dim=10)
    >>> model = BertMultipleChoice(backbone, num_choices=3)
    >>> x = {"token_ids": keras.ops.ones((2, 3, 7), "int32"),
    ...      "segment_ids": keras.ops.zeros((2, 3, 7), "int32"),
    ...      "padding_mask": keras.ops.ones((2, 3, 7), "int32")}
    >>> tuple(model(x).shape)
    (2, 3)
    """

    POOLED_OUTPUT_ONLY = True

    def __init__(self, backbone, num_choices=4, head_dropout=0.1, bilstm=False, **kwargs):
        if not isinstance(num_choices, int) or num_choices < 2:
            raise ValueError(f"num_choices must be an integer >= 2, not {num_choices!r}.")
        # === Layers ===
        self.backbone = backbone
        self.fold = ChoiceReshape(num_choices, name="fold_choices")
        self.unfold = ChoiceReshape(num_choices, fold=False, name="unfold_choices")
        self.head_dropout_layer = keras.layers.Dropout(
            head_dropout, dtype=backbone.dtype_policy, name="head_dropout"
        )
        self.output_dense = keras.layers.Dense(
            1,
            kernel_initializer=head_initializer(backbone),
            dtype=backbone.dtype_policy,
            name="choice_score",
        )

        self.bilstm_layer = SequenceBiLSTM(False, name="bilstm") if bilstm else None

        # === Functional Model ===
        inputs = {
            name: keras.Input(shape=(num_choices, None), dtype="int32", name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")
        }
        folded = {name: self.fold(x) for name, x in inputs.items()}  # (batch * choices, seq)
        encoded = backbone(folded)
        pooled = encoded["pooled_output"]  # (batch * choices, hidden)
        if self.bilstm_layer is not None:
            pooled = self.bilstm_layer(encoded["sequence_output"], folded["padding_mask"])
        scores = self.output_dense(self.head_dropout_layer(pooled))  # (batch * choices, 1)
        logits = self.unfold(scores)  # (batch, choices)
        outputs = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_choices = num_choices
        self.head_dropout = head_dropout
        self.bilstm = bilstm

    def compile_arguments(self):
        return dict(
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy("accuracy")],
        )

    def checkpoint_heads(self):
        return {"": self.output_dense}  # output_weights [1, hidden], output_bias.
