"""TaskKind: what every task family's fine-tuning run shares (checks, tokenizer, run
files), so that each family only says what differs."""

import os

from keras_bert.cli.common import UsageError


class TaskKind:
    """One task family behind `finetune` / `evaluate` / `predict` (see `kinds`).

    Args:
        args: the parsed `finetune` flags, or None for a kind loaded from a run folder.
    """

    task = None  # the keras_bert.build task
    family = None  # run.json's "family": a family of `keras_bert.tasks.registry`
    default_sequence_length = 128
    settings = ()  # extra flags a resumed run must keep
    metrics = ()
    # (logits (n, classes), label ids) of the latest validation, for fitting a
    # temperature (`keras_bert.metrics.calibration`); families that have none leave it.
    scored = None
    calibrated = False  # whether finetune fits a temperature for it
    best_scored = None  # `scored` of the best validation so far
    abstains = False  # whether predict and export take --min-confidence
    min_confidence = None  # predict's --min-confidence

    def __init__(self, args=None):
        self.args = args
        if args is not None and getattr(args, "seq_len", None) is None:
            args.seq_len = self.default_sequence_length
        self.validation = None

    # --- a training run ----------------------------------------------------------------
    def check_sequence_length(self, minimum):
        """The checkpoint's config, after checking --seq-len against the model."""
        from keras_bert.checkpoints import read_config

        config = read_config(self.args.weights)
        top = config.get("max_sequence_length", 512)
        if not minimum <= self.args.seq_len <= top:
            raise UsageError(
                f"--seq-len {self.args.seq_len} must be in [{minimum}, {top}] (the model's maximum)"
            )
        return config

    def load_tokenizer(self, config):
        from keras_bert.cli.tokenizers import folder_tokenizer

        tokenizer = folder_tokenizer(self.args.weights, self.args.lowercase)
        if tokenizer.vocabulary_size != config["vocabulary_size"]:
            raise UsageError(
                f"{self.args.weights}: vocab.txt has {tokenizer.vocabulary_size} "
                f"tokens but the model has {config['vocabulary_size']}"
            )
        return tokenizer

    @property
    def has_validation(self):
        return self.validation is not None

    def batching(self):
        return f"padded to {self.args.seq_len}"

    def summary(self):
        return (
            f"{self.train_size()} training examples, {self.steps_per_epoch} steps per "
            f"epoch ({self.batching()}), {self.args.epochs} epoch(s)"
        )

    def train_size(self):
        return len(self.train)

    def run_info(self):
        return {}

    def data_digest(self):
        """A short digest of the training and validation examples as read: a resumed
        run refuses data whose contents changed under the same file names."""
        import hashlib
        import json

        digest = hashlib.sha256()
        for examples in (self.train, self.validation):
            fields = vars(examples) if examples is not None else {}
            for name in sorted(set(fields) - {"source", "skipped", "problems"}):
                digest.update(name.encode("utf-8"))
                values = fields[name] if isinstance(fields[name], list) else [fields[name]]
                for value in values:  # Item by item: no copy of a large data set.
                    digest.update(json.dumps(value, default=str).encode("utf-8"))
        return digest.hexdigest()[:16]

    def results(self):
        return {}

    def calibration_data(self, model):
        """(logits, label ids) of `model` on the validation data, for a temperature;
        None for a family without class probabilities (regression, SQuAD)."""
        if not self.calibrated:
            return None
        self.validate(model)
        return self.scored

    # --- a run folder -------------------------------------------------------------------
    run_dir = None
    windows = None  # long documents as windows (`kinds.long_documents`): classification

    def use_windows(self, args):
        """Applies a command's `--long-documents` flags; only classification has them."""
        if getattr(args, "long_documents", None) == "windows":
            raise UsageError(
                "--long-documents windows applies to classification and regression runs"
            )

    def temperature(self):
        """The temperature finetune fitted (results.json's calibration), 1.0 without."""
        from keras_bert.cli.run_model import calibration

        return (calibration(self.run_dir) or {}).get("temperature", 1.0)

    def calibration_scores(self, logits, labels):
        """Expected calibration error (and likelihood) of `logits` against `labels`, with
        the run's temperature and without, for evaluate."""
        from keras_bert.metrics import calibration as c

        if len(labels) == 0:
            return None
        temperature = self.temperature()
        return {
            "temperature": temperature,
            "bins": c.BINS,
            "ece": c.expected_calibration_error(c.softmax(logits, temperature), labels),
            "ece_uncalibrated": c.expected_calibration_error(c.softmax(logits), labels),
            "nll": c.negative_log_likelihood(logits, labels, temperature),
        }

    def export_options(self, max_entities=None):
        """`saved_models.export` options for a run of this family."""
        return {}

    def data_path(self, data):
        """The file `evaluate --data` names: "validation" / "train" (the run's own
        files) or a path."""
        path = {"validation": self.spec["validation"], "train": self.spec["train"]}.get(data, data)
        if not path:
            raise UsageError("the run has no validation file: give --data FILE")
        return path

    @staticmethod
    def run_tokenizer(run_dir):
        from keras_bert.cli.tokenizers import folder_tokenizer

        return folder_tokenizer(os.path.join(run_dir, "vocab"))


def log_examples(name, examples):
    """One line per data file read (and the first reasons rows were skipped)."""
    from keras_bert.cli.common import log

    skipped = getattr(examples, "skipped", 0)
    log(
        f"{name} data: {len(examples)} examples from {examples.source}"
        + (f"; {skipped} bad rows skipped" if skipped else "")
    )
    for problem in getattr(examples, "problems", []):
        log(f"  {problem}")
