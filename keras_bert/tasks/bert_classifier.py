"""BertClassifier: sentence (pair) classification or regression on the pooled output."""

import keras

from keras_bert.backbone import BertBackbone  # noqa: F401  (the docstring example)
from keras_bert.layers.sequence_bilstm import SequenceBiLSTM
from keras_bert.tasks.bert_task import BertTask, head_initializer


@keras.saving.register_keras_serializable(package="keras_bert")
class BertClassifier(BertTask):
    """Dropout and one dense layer on `pooled_output`, as in BERT's GLUE fine-tuning.

    Inputs: the backbone's `token_ids`, `segment_ids`, `padding_mask`. Output: `logits`
    `(batch, num_classes)`, or with `num_classes=1` a regression `score` `(batch,)`
    (STS-B); float32 under mixed precision. `compile_recipe` uses cross-entropy and
    accuracy (regression: mean squared error and mean absolute error). The head is
    stored in Google checkpoints as run_classifier.py does: top-level `output_weights`
    `[num_classes, hidden]` and `output_bias`.

    Args:
        backbone: BertBackbone, the encoder.
        num_classes: int, the number of labels; 1 for regression.
        head_dropout: float, dropout on the pooled output before the dense layer.
        label_names: list of str or None, the classes' names in id order; they travel
            with the model (its config and `.keras` files). None for regression.
        bilstm: bool, a randomly initialised BiLSTM between the encoder and the head
            (`SequenceBiLSTM`; the paper's "+ BiLSTM" row).

    Example:
    >>> backbone = BertBackbone(vocabulary_size=11, num_layers=1, num_heads=2,
    ...                         hidden_dim=6, intermediate_dim=10)
    >>> model = BertClassifier(backbone, num_classes=3)
    >>> x = {"token_ids": keras.ops.ones((2, 7), "int32"),
    ...      "segment_ids": keras.ops.zeros((2, 7), "int32"),
    ...      "padding_mask": keras.ops.ones((2, 7), "int32")}
    >>> tuple(model(x).shape), tuple(BertClassifier(backbone, num_classes=1)(x).shape)
    ((2, 3), (2,))
    """

    POOLED_OUTPUT_ONLY = True

    def __init__(
        self, backbone, num_classes, head_dropout=0.1, label_names=None, bilstm=False, **kwargs
    ):
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive integer, not {num_classes!r}.")
        if label_names is not None:
            label_names = [str(name) for name in label_names]
            if len(label_names) != num_classes or num_classes == 1:
                raise ValueError(
                    f"label_names {label_names} do not name the {num_classes} "
                    "classes (regression has none)."
                )
        # === Layers ===
        self.backbone = backbone
        self.head_dropout_layer = keras.layers.Dropout(
            head_dropout, dtype=backbone.dtype_policy, name="head_dropout"
        )
        self.output_dense = keras.layers.Dense(
            num_classes,
            kernel_initializer=head_initializer(backbone),
            dtype=backbone.dtype_policy,
            name="classifier",
        )

        self.bilstm_layer = SequenceBiLSTM(False, name="bilstm") if bilstm else None

        # === Functional Model ===
        inputs = dict(backbone.input)
        encoded = backbone(inputs)
        pooled = encoded["pooled_output"]  # (batch, hidden)
        if self.bilstm_layer is not None:
            pooled = self.bilstm_layer(encoded["sequence_output"], inputs["padding_mask"])
        logits = self.output_dense(self.head_dropout_layer(pooled))  # (batch, classes)
        if num_classes == 1:
            logits = keras.layers.Reshape((), name="squeeze")(logits)  # (batch,)
        name = "score" if num_classes == 1 else "logits"
        outputs = keras.layers.Activation("linear", dtype="float32", name=name)(logits)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.head_dropout = head_dropout
        self.label_names = label_names
        self.bilstm = bilstm

    def compile_arguments(self):
        if self.num_classes == 1:
            return dict(
                loss=keras.losses.MeanSquaredError(),
                metrics=[keras.metrics.MeanAbsoluteError("mae")],
            )
        return dict(
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy("accuracy")],
        )

    def checkpoint_heads(self):
        return {"": self.output_dense}  # run_classifier.py: output_weights, output_bias.
