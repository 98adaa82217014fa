"""BertTokenClassifier: a label per word piece (named entities) from `sequence_output`."""

import keras

from keras_bert.backbone import BertBackbone  # noqa: F401  (the docstring example)
from keras_bert.layers.sequence_bilstm import SequenceBiLSTM
from keras_bert.tasks.bert_task import BertTask, head_initializer
from keras_bert.weighted_cross_entropy import WeightedCrossEntropy


def check_label_names(label_names, num_classes):
    if label_names is None:
        return None
    label_names = [str(name) for name in label_names]
    if len(label_names) != num_classes:
        raise ValueError(f"label_names {label_names} do not name the {num_classes} classes.")
    return label_names


@keras.saving.register_keras_serializable(package="keras_bert")
class BertTokenClassifier(BertTask):
    """Dropout and one dense layer on every token of `sequence_output` (BERT's NER).

    Inputs: the backbone's `token_ids`, `segment_ids`, `padding_mask`. Output: `logits`
    `(batch, seq, num_classes)`, float32. Train with a `(batch, seq)` sample weight that
    is 1 on the first piece of each word and 0 elsewhere (`pipelines.TokenLabeler`
    writes it), so only those pieces count in the loss and in accuracy.

    Args:
        backbone: BertBackbone, the encoder.
        num_classes: int, the number of tags.
        head_dropout: float, dropout before the dense layer.
        label_names: list of str or None, the tags in id order (travel with the model).
        bilstm: bool, a randomly initialised BiLSTM between the encoder and the head
            (`SequenceBiLSTM`; the paper's "+ BiLSTM" row).

    Example:
    >>> backbone = BertBackbone(vocabulary_size=11, num_layers=1, num_heads=2,
    ...                         hidden_dim=6, intermediate_dim=10)
    >>> model = BertTokenClassifier(backbone, num_classes=5)
    >>> x = {"token_ids": keras.ops.ones((2, 7), "int32"),
    ...      "segment_ids": keras.ops.zeros((2, 7), "int32"),
    ...      "padding_mask": keras.ops.ones((2, 7), "int32")}
    >>> tuple(model(x).shape)
    (2, 7, 5)
    """

    def __init__(
        self, backbone, num_classes, head_dropout=0.1, label_names=None, bilstm=False, **kwargs
    ):
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, not {num_classes!r}.")
        label_names = check_label_names(label_names, num_classes)
        # === Layers ===
        self.backbone = backbone
        self.head_dropout_layer = keras.layers.Dropout(
            head_dropout, dtype=backbone.dtype_policy, name="head_dropout"
        )
        self.output_dense = keras.layers.Dense(
            num_classes,
            kernel_initializer=head_initializer(backbone),
            dtype=backbone.dtype_policy,
            name="token_logits",
        )

        self.bilstm_layer = SequenceBiLSTM(name="bilstm") if bilstm else None

        # === Functional Model ===
        inputs = dict(backbone.input)
        sequence = backbone(inputs)["sequence_output"]  # (batch, seq, hidden)
        if self.bilstm_layer is not None:
            sequence = self.bilstm_layer(sequence, inputs["padding_mask"])
        logits = self.output_dense(self.head_dropout_layer(sequence))  # (batch, seq, classes)
        outputs = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.head_dropout = head_dropout
        self.label_names = label_names
        self.bilstm = bilstm

    def compile_arguments(self):
        # The mean over labelled pieces, not over every position (padding included).
        return dict(
            loss=WeightedCrossEntropy(name="token_loss"),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy("accuracy")],
        )

    def checkpoint_heads(self):
        return {"": self.output_dense}  # output_weights [num_classes, hidden], output_bias.
