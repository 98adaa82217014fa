"""BertPretrainer: BERT's masked-LM and next-sentence heads on a backbone."""

import keras

from keras_bert.backbone import BertBackbone  # noqa: F401  (the docstring example)
from keras_bert.layers.masked_lm_head import MaskedLMHead
from keras_bert.layers.next_sentence_head import NextSentenceHead
from keras_bert.masked_lm_loss import MaskedLmLoss
from keras_bert.tasks.bert_task import PRETRAINING, BertTask


@keras.saving.register_keras_serializable(package="keras_bert")
class BertPretrainer(BertTask):
    """MLM (tied to the word embeddings) on masked positions + NSP on the pooled output.

    Inputs: the backbone's `token_ids`, `segment_ids`, `padding_mask` plus
    `mask_positions` `(batch, predictions)`. Outputs: `mlm` logits
    `(batch, predictions, vocab)` and `nsp` logits `(batch, 2)` (0 = IsNext).
    `compile_recipe` sets BERT's pretraining optimizer, losses (MLM cross-entropy
    averaged over real predictions via `mask_weights`, NSP cross-entropy) and metrics.

    Args:
        backbone: BertBackbone, the encoder (its word embeddings are tied to the MLM head).

    Example:
    >>> backbone = BertBackbone(vocabulary_size=11, num_layers=1, num_heads=2,
    ...                         hidden_dim=6, intermediate_dim=10)
    >>> pretrainer = BertPretrainer(backbone)
    >>> out = pretrainer({"token_ids": keras.ops.ones((2, 7), "int32"),
    ...                   "segment_ids": keras.ops.zeros((2, 7), "int32"),
    ...                   "padding_mask": keras.ops.ones((2, 7), "int32"),
    ...                   "mask_positions": keras.ops.ones((2, 3), "int32")})
    >>> tuple(out["mlm"].shape), tuple(out["nsp"].shape)
    ((2, 3, 11), (2, 2))
    """

    RECIPE = PRETRAINING

    def __init__(self, backbone, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.mlm_head = MaskedLMHead(
            token_embedding=backbone.token_embedding,
            activation=backbone.activation,
            layer_norm_epsilon=backbone.layer_norm_epsilon,
            initializer_range=backbone.initializer_range,
            dtype=backbone.dtype_policy,
            name="mlm_head",
        )
        self.nsp_head = NextSentenceHead(
            initializer_range=backbone.initializer_range,
            dtype=backbone.dtype_policy,
            name="nsp_head",
        )

        # === Functional Model ===
        inputs = dict(backbone.input)
        inputs["mask_positions"] = keras.Input(shape=(None,), dtype="int32", name="mask_positions")
        encoded = backbone({k: inputs[k] for k in backbone.input})
        mlm = self.mlm_head(encoded["sequence_output"], mask_positions=inputs["mask_positions"])
        nsp = self.nsp_head(encoded["pooled_output"])
        # Logits in float32 so that the losses are computed in full precision.
        outputs = {
            "mlm": keras.layers.Activation("linear", dtype="float32", name="mlm")(mlm),
            "nsp": keras.layers.Activation("linear", dtype="float32", name="nsp")(nsp),
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def compile_arguments(self):
        return dict(
            loss={
                "mlm": MaskedLmLoss(),
                "nsp": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            },
            weighted_metrics={"mlm": [keras.metrics.SparseCategoricalAccuracy("accuracy")]},
            metrics={"nsp": [keras.metrics.SparseCategoricalAccuracy("accuracy")]},
        )

    def checkpoint_heads(self):
        return {"cls/predictions": self.mlm_head, "cls/seq_relationship": self.nsp_head}
