"""BertFeatureTagger: BERT as frozen features for a small BiLSTM tagger (feature-based NER)."""

import keras

from keras_bert.backbone import BertBackbone  # noqa: F401  (the docstring example)
from keras_bert.layers.frozen_features import FrozenFeatures
from keras_bert.layers.scalar_mix import ScalarMix
from keras_bert.tasks.bert_task import BertTask
from keras_bert.tasks.bert_token_classifier import check_label_names
from keras_bert.weighted_cross_entropy import WeightedCrossEntropy

# The rows of the paper's feature-based table (Devlin et al., 2019, table 7), in its order.
FEATURES = (
    "embeddings",
    "second_to_last",
    "last",
    "sum_last_four",
    "last_four",
    "scalar_mix",
)
_LAYERS_NEEDED = {"second_to_last": 2, "sum_last_four": 4, "last_four": 4}


@keras.saving.register_keras_serializable(package="keras_bert")
class BertFeatureTagger(BertTask):
    """The BERT paper's feature-based NER: the encoder frozen and run in inference mode,
    token features from some of its layers, then a trainable BiLSTM tagger.

    `features`, the paper's rows: "embeddings" (the embedding layer's output),
    "second_to_last" (the second-to-last layer), "last" (the last layer),
    "sum_last_four" (a learned weighted sum of the last four layers), "last_four" (the
    last four layers concatenated, the paper's best feature-based choice) or
    "scalar_mix" (a learned weighted sum of every layer; weighted sums are ELMo's:
    softmax-normalised weights times a learned scale). Output `logits`
    `(batch, seq, num_classes)`; trained like `BertTokenClassifier` (weight 1 on each
    word's first piece). Only the tagger (and the mix) train.

    Args:
        backbone: BertBackbone, the encoder (frozen here).
        num_classes: int, the number of tags.
        features: str, one of `FEATURES`.
        lstm_units: int, units per direction of each BiLSTM layer.
        lstm_layers: int, stacked BiLSTM layers (2 in the paper).
        head_dropout: float, dropout on the features and between layers.
        label_names: list of str or None, the tags in id order.

    Example:
    >>> backbone = BertBackbone(vocabulary_size=11, num_layers=2, num_heads=2,
    ...                         hidden_dim=6, intermediate_dim=10)
    >>> model = BertFeatureTagger(backbone, num_classes=5, lstm_units=4)
    >>> x = {"token_ids": keras.ops.ones((2, 7), "int32"),
    ...      "segment_ids": keras.ops.zeros((2, 7), "int32"),
    ...      "padding_mask": keras.ops.ones((2, 7), "int32")}
    >>> tuple(model(x).shape), len(model.trainable_weights) < len(model.weights)
    ((2, 7, 5), True)
    """

    def __init__(
        self,
        backbone,
        num_classes,
        features="scalar_mix",
        lstm_units=256,
        lstm_layers=2,
        head_dropout=0.1,
        label_names=None,
        **kwargs,
    ):
        if features not in FEATURES:
            raise ValueError(f"features must be one of {FEATURES}, not {features!r}.")
        if backbone.num_layers < _LAYERS_NEEDED.get(features, 1):
            raise ValueError(
                f"features={features!r} needs {_LAYERS_NEEDED[features]} layers; the "
                f"encoder has {backbone.num_layers}."
            )
        label_names = check_label_names(label_names, num_classes)
        # === Layers ===
        self.backbone = backbone
        self.frozen_features = FrozenFeatures(
            backbone, with_embeddings=features == "embeddings", name="frozen_features"
        )
        policy = backbone.dtype_policy
        mixes = features in ("scalar_mix", "sum_last_four")
        self.scalar_mix = ScalarMix(dtype=policy, name="scalar_mix") if mixes else None
        self.feature_dropout = keras.layers.Dropout(
            head_dropout, dtype=policy, name="feature_dropout"
        )
        self.lstms = [
            keras.layers.Bidirectional(
                keras.layers.LSTM(lstm_units, return_sequences=True, dropout=head_dropout),
                dtype=policy,
                name=f"bilstm_{i}",
            )
            for i in range(lstm_layers)
        ]
        self.output_dense = keras.layers.Dense(num_classes, dtype=policy, name="token_logits")

        # === Functional Model ===
        inputs = dict(backbone.input)
        layers = self.frozen_features(inputs)  # [(batch, seq, hidden)] per encoder layer
        x = {
            "embeddings": lambda: layers[0],
            "second_to_last": lambda: layers[-2],
            "last": lambda: layers[-1],
            "sum_last_four": lambda: self.scalar_mix(layers[-4:]),
            "last_four": lambda: keras.layers.Concatenate(axis=-1, name="last_four")(layers[-4:]),
            "scalar_mix": lambda: self.scalar_mix(layers),
        }[features]()
        x = self.feature_dropout(x)
        mask = keras.ops.cast(inputs["padding_mask"], "bool")
        for lstm in self.lstms:
            x = lstm(x, mask=mask)  # (batch, seq, 2 * units)
        logits = self.output_dense(x)  # (batch, seq, classes)
        outputs = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.features = features
        self.lstm_units = lstm_units
        self.lstm_layers = lstm_layers
        self.head_dropout = head_dropout
        self.label_names = label_names

    def compile_arguments(self):
        # The mean over labelled pieces, not over every position (padding included).
        return dict(
            loss=WeightedCrossEntropy(name="token_loss"),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy("accuracy")],
        )
