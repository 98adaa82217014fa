"""The reference side of `finetune_parity.py`: transformers' BERT heads (PyTorch) trained
on exactly the batches `keras-bert finetune` trains on, and scored by exactly its
validation code.

A task kind of the command line (`keras_bert.cli.kinds`, prepared from the same flags)
gives both: `kind.epoch_data(epoch)` is the epoch's batches in the run's order (the
same seed, so the same shuffle and the same length buckets), and `kind.validate(model)`
scores any object with a Keras-like `predict`, here `TorchPredictor`. So the two sides
differ only in what is compared: the model, its head's initialization, dropout, the
loss and the optimizer. The reference follows transformers' usual recipe: AdamW
(eps 1e-6, weight decay 0.01 except biases and LayerNorm), linear warmup then decay
(`get_linear_schedule_with_warmup`), global-norm clipping at 1.0, the token loss
averaged over labelled pieces (`ignore_index=-100`), SQuAD's (start + end) / 2.
"""

import numpy as np

HEADS = {
    "classification": "BertForSequenceClassification",
    "token_classification": "BertForTokenClassification",
    "question_answering": "BertForQuestionAnswering",
    "multiple_choice": "BertForMultipleChoice",
}


def _torch_inputs(features):
    import torch

    return {
        "input_ids": torch.as_tensor(np.asarray(features["token_ids"]), dtype=torch.long),
        "token_type_ids": torch.as_tensor(np.asarray(features["segment_ids"]), dtype=torch.long),
        "attention_mask": torch.as_tensor(np.asarray(features["padding_mask"]), dtype=torch.long),
    }


class TorchPredictor:
    """`predict` as a Keras model answers it (arrays, or a dataset of feature dicts), for
    a transformers model: logits as NumPy, SQuAD's as a dict."""

    def __init__(self, model, task):
        self.model, self.task = model, task

    def _logits(self, features):
        import torch

        with torch.no_grad():
            out = self.model(**_torch_inputs(features))
        if self.task == "question_answering":
            return {"start_logits": out.start_logits.numpy(), "end_logits": out.end_logits.numpy()}
        return out.logits.numpy()

    def predict(self, x, batch_size=32, verbose=0):
        self.model.eval()
        if isinstance(x, dict):
            size = len(x["token_ids"])
            parts = [
                self._logits({k: v[i : i + batch_size] for k, v in x.items()})
                for i in range(0, size, batch_size)
            ]
        else:  # A tf.data dataset of feature dicts (or 1-tuples of them).
            parts = [
                self._logits(element[0] if isinstance(element, tuple) else element)
                for element in x.as_numpy_iterator()
            ]
        if parts and isinstance(parts[0], dict):
            return {k: _concat([p[k] for p in parts]) for k in parts[0]}
        return _concat(parts)


def _concat(parts):
    """Batches of possibly different padded lengths, padded to the longest (with a very
    negative logit: padded positions never win)."""
    width = max(p.shape[1] for p in parts) if parts[0].ndim > 1 else None
    if width is None or all(p.shape[1] == width for p in parts):
        return np.concatenate(parts)
    padded = []
    for p in parts:
        pad = [(0, 0), (0, width - p.shape[1])] + [(0, 0)] * (p.ndim - 2)
        padded.append(np.pad(p, pad, constant_values=-1e4))
    return np.concatenate(padded)


def load_model(weights, task, kind):
    import transformers

    head = getattr(transformers, HEADS[task])
    options = {}
    if task in ("classification", "token_classification"):
        options["num_labels"] = len(kind.labels) if kind.labels else 1
    return head.from_pretrained(weights, **options)


def _loss(model, task, batch):
    """The transformers head's own loss on one of the kind's batches."""
    import torch

    features, labels = batch[0], batch[1]
    inputs = _torch_inputs(features)
    if task == "question_answering":
        start, end = (
            torch.as_tensor(labels[name], dtype=torch.long)
            for name in ("start_logits", "end_logits")
        )
        return model(**inputs, start_positions=start, end_positions=end).loss
    labels = np.asarray(labels)
    if task == "token_classification":  # Unlabelled pieces: transformers' ignore_index.
        labels = np.where(np.asarray(batch[2]) > 0, labels, -100)
    return model(**inputs, labels=torch.as_tensor(labels, dtype=torch.long)).loss


def train(kind, weights, args, seed, log=print):
    """Trains the reference on the kind's batches; [{"epoch", metric: value, ...}]."""
    import torch
    import transformers

    torch.manual_seed(seed)
    model = load_model(weights, kind.task, kind)
    decay = [p for n, p in model.named_parameters() if not _no_decay(n)]
    rest = [p for n, p in model.named_parameters() if _no_decay(n)]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": args.weight_decay},
            {"params": rest, "weight_decay": 0.0},
        ],
        lr=args.learning_rate,
        eps=1e-6,
    )
    total = args.epochs * kind.steps_per_epoch
    schedule = transformers.get_linear_schedule_with_warmup(
        optimizer, round(args.warmup_ratio * total), total
    )
    history = []
    for epoch in range(args.epochs):
        model.train()
        losses = []
        for batch in kind.epoch_data(epoch).as_numpy_iterator():
            loss = _loss(model, kind.task, batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(float(loss))
        values = kind.validate(TorchPredictor(model, kind.task))
        log(
            f"  transformers seed {seed} epoch {epoch + 1}: loss {np.mean(losses):.4f}, "
            + ", ".join(f"{k} {v:.4f}" for k, v in values.items())
        )
        history.append({"epoch": epoch + 1, **values})
    return history


def _no_decay(name):
    return name.endswith("bias") or "LayerNorm" in name
