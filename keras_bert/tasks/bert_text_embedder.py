"""BertTextEmbedder: one vector per text (mean of the tokens, or [CLS]), for similarity."""

import keras

from keras_bert.backbone import BertBackbone  # noqa: F401  (the docstring example)
from keras_bert.layers.mean_pooling import MeanPooling
from keras_bert.tasks.bert_task import BertTask

POOLINGS = ("mean", "cls")


@keras.saving.register_keras_serializable(package="keras_bert")
class BertTextEmbedder(BertTask):
    """Sentence embeddings: `embedding` `(batch, hidden)`, float32.

    `pooling="mean"` averages `sequence_output` over real tokens (sentence-transformers
    models such as all-MiniLM-L6-v2 are trained so); `"cls"` takes the [CLS] vector.
    With `normalize`, embeddings have unit length, so a dot product is the cosine.

    Args:
        backbone: BertBackbone, the encoder.
        pooling: str, "mean" or "cls".
        normalize: bool, L2-normalize the embeddings.

    Example:
    >>> backbone = BertBackbone(vocabulary_size=11, num_layers=1, num_heads=2,
    ...                         hidden_dim=6, intermediate_dim=10)
    >>> embedder = BertTextEmbedder(backbone)
    >>> x = {"token_ids": keras.ops.ones((2, 7), "int32"),
    ...      "segment_ids": keras.ops.zeros((2, 7), "int32"),
    ...      "padding_mask": keras.ops.ones((2, 7), "int32")}
    >>> tuple(embedder(x).shape)
    (2, 6)
    """

    def __init__(self, backbone, pooling="mean", normalize=True, **kwargs):
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}.")
        # === Layers ===
        self.backbone = backbone
        self.pooling_layer = MeanPooling(dtype=backbone.dtype_policy, name="mean_pooling")

        # === Functional Model ===
        inputs = dict(backbone.input)
        sequence_output = backbone(inputs)["sequence_output"]  # (batch, seq, hidden)
        if pooling == "mean":
            pooled = self.pooling_layer(sequence_output, padding_mask=inputs["padding_mask"])
        else:
            pooled = sequence_output[:, 0, :]
        pooled = keras.layers.Activation("linear", dtype="float32", name="float32")(pooled)
        if normalize:
            pooled = keras.layers.UnitNormalization(axis=-1, name="normalize")(pooled)
        outputs = keras.layers.Activation("linear", dtype="float32", name="embedding")(pooled)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.pooling = pooling
        self.normalize = normalize
