"""SWAG multiple choice: (context, endings) in, accuracy and a CSV of predicted labels out."""

import math
import os

import numpy as np

from keras_bert.cli.common import UsageError
from keras_bert.cli.kinds.base import TaskKind, log_examples


class SwagKind(TaskKind):
    """`finetune swag --train FILE [--validation FILE]`."""

    task = "multiple_choice"
    family = "swag"
    settings = ("num_choices", "head_dropout")
    metrics = ("accuracy",)

    def prepare(self):
        from pipelines import BertPreprocessor
        from pipelines.swag import pack_choices

        args = self.args
        if not args.train:
            raise UsageError("finetune swag needs --train FILE (SWAG CSV or JSONL)")
        self.spec = {
            "source": "swag",
            "train": os.path.abspath(args.train),
            "validation": args.validation and os.path.abspath(args.validation),
            "num_choices": args.num_choices,
            "on_error": args.on_error,
        }
        config = self.check_sequence_length(8)
        self.train = self._read(args.train, True)
        log_examples("training", self.train)
        if args.validation:
            self.validation = self._read(args.validation, True)
            log_examples("validation", self.validation)
        self.tokenizer = self.load_tokenizer(config)
        self.preprocessor = BertPreprocessor(
            self.tokenizer, args.seq_len, config.get("num_segments", 2)
        )
        self.steps_per_epoch = math.ceil(len(self.train) / args.batch_size)
        self.packed = pack_choices(self.train, self.preprocessor)  # once, for every epoch

    def _read(self, path, labelled):
        from pipelines.swag import read_swag

        return read_swag(
            path, self.spec["num_choices"], labelled=labelled, on_error=self.spec["on_error"]
        )

    def epoch_data(self, epoch):
        from pipelines.swag import choice_dataset

        return choice_dataset(
            self.train,
            self.preprocessor,
            self.args.batch_size,
            shuffle=True,
            seed=self.args.seed * 1000 + epoch,
            packed=self.packed,
        )

    def build_options(self):
        return dict(num_choices=self.args.num_choices, head_dropout=self.args.head_dropout)

    def describe(self):
        return (
            f"building the multiple-choice model on {self.args.weights} "
            f"({self.args.num_choices} choices)"
        )

    calibrated = True
    abstains = True

    def validate(self, model):
        accuracy, _, logits = self._accuracy(model, self.validation, self.args.batch_size)
        self.scored = (logits, np.asarray(self.validation.labels))
        return {"accuracy": accuracy}

    def results(self):
        return {
            "train_examples": len(self.train),
            "validation_examples": len(self.validation) if self.validation else 0,
            "skipped_rows": self.train.skipped
            + (self.validation.skipped if self.validation else 0),
        }

    # --- evaluation and prediction ------------------------------------------------------
    def _predicted(self, model, examples, batch_size):
        from pipelines.swag import choice_arrays

        features = choice_arrays(examples, self.preprocessor, max(batch_size, 256))
        logits = np.asarray(model.predict(features, batch_size=batch_size, verbose=0))
        return logits.argmax(-1), logits

    def _accuracy(self, model, examples, batch_size):
        from keras_bert.metrics import scores

        predicted, logits = self._predicted(model, examples, batch_size)
        return scores.accuracy(examples.labels, predicted), predicted, logits

    @classmethod
    def from_run(cls, run, run_dir, preprocessor=None):
        from pipelines import BertPreprocessor

        kind = cls()
        kind.spec = run["data"]
        kind.tokenizer = cls.run_tokenizer(run_dir)
        kind.preprocessor = BertPreprocessor(kind.tokenizer, run["sequence_length"])
        return kind

    def _write(self, path, examples, predicted):
        from keras_bert.cli.common import save_atomically

        def write(tmp):
            with open(tmp, "w", encoding="utf-8") as f:
                f.write("id,label\n")
                for example_id, label in zip(examples.ids, predicted):
                    f.write(f"{example_id},{int(label)}\n")

        save_atomically(write, path)

    def evaluate(self, model, data, predictions=None, batch_size=32):
        path = self.data_path(data)
        examples = self._read(path, True)
        accuracy, predicted, logits = self._accuracy(model, examples, batch_size)
        if predictions:
            self._write(predictions, examples, predicted)
        return {
            "data": path,
            "examples": len(examples),
            "skipped_rows": examples.skipped,
            "metrics": {"accuracy": accuracy},
            "calibration": self.calibration_scores(logits, np.asarray(examples.labels)),
        }

    def predict_file(self, model, data, out, batch_size=32):
        examples = self._read(data, False)
        self._write(out, examples, self._predicted(model, examples, batch_size)[0])
        return len(examples)

    @property
    def segments(self):
        return 1 + self.spec["num_choices"]  # predict's raw text: context<TAB>endings...

    def predict_rows(self, model, texts, batch_size=32):
        from pipelines.swag import ChoiceExamples

        contexts, endings = texts[0], [list(e) for e in zip(*texts[1:])]
        examples = ChoiceExamples(
            contexts, endings, None, [str(i) for i in range(len(contexts))], "input"
        )
        from keras_bert.metrics.calibration import softmax

        predicted, logits = self._predicted(model, examples, batch_size)
        probabilities = softmax(logits, self.temperature())
        floor = self.min_confidence or 0.0  # below it: no ending (label -1, ending "")
        return [
            {
                "context": c,
                "label": int(p) if probs.max() >= floor else -1,
                "ending": e[int(p)] if probs.max() >= floor else "",
                "probabilities": [float(x) for x in probs],
            }
            for c, e, p, probs in zip(contexts, endings, predicted, probabilities)
        ]

    @staticmethod
    def format_row(row):
        return f"{row['label']}\t{row['ending']}"
