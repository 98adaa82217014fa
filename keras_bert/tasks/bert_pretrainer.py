"""BertPretrainer: BERT's pretraining heads on a backbone, for one of three objectives."""

import keras

from keras_bert.backbone import BertBackbone  # noqa: F401  (the docstring example)
from keras_bert.layers.masked_lm_head import MaskedLMHead
from keras_bert.layers.next_sentence_head import NextSentenceHead
from keras_bert.masked_lm_loss import MaskedLmLoss
from keras_bert.tasks.bert_task import PRETRAINING, BertTask

# The paper's pretraining-task ablation (Devlin et al., 2019, table 5): BERT, "No NSP",
# and "LTR & No NSP" (a left-to-right LM, as OpenAI GPT).
OBJECTIVES = ("mlm_nsp", "mlm", "ltr")


@keras.saving.register_keras_serializable(package="keras_bert")
class BertPretrainer(BertTask):
    """A pretraining model: masked LM + next sentence, masked LM alone, or left-to-right.

    - `objective="mlm_nsp"` (BERT): inputs the backbone's `token_ids`, `segment_ids`,
      `padding_mask` plus `mask_positions` `(batch, predictions)`; outputs `mlm` logits
      `(batch, predictions, vocab)` and `nsp` logits `(batch, 2)` (0 = IsNext).
    - `objective="mlm"` (the paper's "No NSP"): the same without the NSP head.
    - `objective="ltr"` (a left-to-right LM; the backbone must be `causal=True`): the
      backbone's inputs; outputs `lm` logits `(batch, seq, vocab)`, position `t`
      predicting token `t + 1`.

    The LM head is tied to the word embeddings in all three. `compile_recipe` sets
    BERT's pretraining optimizer, the losses (LM cross-entropy averaged over the real
    predictions of the global batch, through the sample weights; NSP cross-entropy) and
    accuracies.

    Args:
        backbone: BertBackbone, the encoder (its word embeddings are tied to the LM head).
        objective: str, one of "mlm_nsp", "mlm", "ltr".

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

    def __init__(self, backbone, objective="mlm_nsp", **kwargs):
        check_objective(objective, backbone.causal)
        self.objective = objective
        # === Layers ===
        self.backbone = backbone
        self.mlm_head = MaskedLMHead(
            token_embedding=backbone.token_embedding,
            activation=backbone.activation,
            layer_norm_epsilon=backbone.layer_norm_epsilon,
            initializer_range=backbone.initializer_range,
            dtype=backbone.dtype_policy,
            name="lm_head" if objective == "ltr" else "mlm_head",
        )
        self.nsp_head = None
        if objective == "mlm_nsp":
            self.nsp_head = NextSentenceHead(
                initializer_range=backbone.initializer_range,
                dtype=backbone.dtype_policy,
                name="nsp_head",
            )

        # === Functional Model ===
        inputs = dict(backbone.input)
        if objective != "ltr":
            inputs["mask_positions"] = keras.Input(
                shape=(None,), dtype="int32", name="mask_positions"
            )
        encoded = backbone({k: inputs[k] for k in backbone.input})
        logits = {}
        if objective == "ltr":
            logits["lm"] = self.mlm_head(encoded["sequence_output"])
        else:
            positions = inputs["mask_positions"]
            logits["mlm"] = self.mlm_head(encoded["sequence_output"], mask_positions=positions)
        if self.nsp_head is not None:
            logits["nsp"] = self.nsp_head(encoded["pooled_output"])
        # Logits in float32 so that the losses are computed in full precision.
        outputs = {
            name: keras.layers.Activation("linear", dtype="float32", name=name)(value)
            for name, value in logits.items()
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def compile_arguments(self):
        lm = "lm" if self.objective == "ltr" else "mlm"
        accuracy = keras.metrics.SparseCategoricalAccuracy("accuracy")
        arguments = dict(
            loss={lm: MaskedLmLoss()},
            weighted_metrics={lm: [accuracy]},
        )
        if self.nsp_head is not None:
            arguments["loss"]["nsp"] = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            arguments["metrics"] = {"nsp": [keras.metrics.SparseCategoricalAccuracy("accuracy")]}
        return arguments

    def checkpoint_heads(self):
        heads = {"cls/predictions": self.mlm_head}
        if self.nsp_head is not None:
            heads["cls/seq_relationship"] = self.nsp_head
        return heads


def check_objective(objective, causal):
    """Raises unless `objective` is known and fits a backbone that is (or not) causal."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}.")
    if (objective == "ltr") != bool(causal):
        raise ValueError(
            f"objective {objective!r} needs a backbone with causal={objective == 'ltr'} "
            "(a left-to-right LM attends only to earlier tokens; a masked LM to all)."
        )
