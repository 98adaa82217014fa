"""Sentence (pair) classification and regression: GLUE, your files, class folders."""

import numpy as np

from keras_bert.cli import run_model, task_data
from keras_bert.cli.common import UsageError, log
from keras_bert.cli.kinds import long_documents
from keras_bert.cli.kinds.base import TaskKind, log_examples


class ClassificationKind(TaskKind):
    """`finetune glue/<task> | tsv | csv | jsonl | folders`."""

    task = "classification"
    family = "classification"
    default_sequence_length = 128
    settings = ("buckets", "head_dropout", "long_documents", "doc_stride", "train_windows")
    packed = None  # the training examples packed once (`pipelines.PackedExamples`)
    validation_features = None  # the validation texts packed once (`example_features`)
    validation_windows = None  # or cut into windows once (`window_arrays`)

    def prepare(self):
        from pipelines import BertPreprocessor

        args = self.args
        self.spec = task_data.source_spec(args)
        config = self.check_sequence_length(8)
        self.train = task_data.read(self.spec, "train")
        self.validation = task_data.read(self.spec, "validation", self.train.label_names)
        for name, examples in (("training", self.train), ("validation", self.validation)):
            if examples is not None:
                log_examples(name, examples)
        self.labels = self.train.label_names
        self._check_labels()
        self.windows = long_documents.settings(args, args.seq_len, len(self.train.texts))
        self.tokenizer = self.load_tokenizer(config)
        self.preprocessor = BertPreprocessor(
            self.tokenizer, args.seq_len, config.get("num_segments", 2)
        )
        self.metrics = task_data.metric_names(self.spec, self.labels)
        if self._training_windows():  # Windows are cut from the texts in every epoch.
            self.steps_per_epoch = sum(1 for _ in self.epoch_data(0))
        else:
            self.steps_per_epoch = self._pack_training_data()

    def _pack_training_data(self):
        """Tokenizes and packs the training texts once, for every epoch's batches; the
        batches per epoch."""
        from pipelines.classification import batch_count
        from pipelines.packed_examples import PackedExamples

        args = self.args
        self.packed = PackedExamples.pack(self.train, self.preprocessor)
        return batch_count(self.packed.lengths, args.batch_size, args.seq_len, args.buckets)

    def _check_labels(self):
        """One class is an error; about one class per example, a warning (a wrong
        --label-column, such as an id or a text column)."""
        labels, count = self.labels, len(self.train)
        if labels is None:
            return
        if len(labels) < 2:
            raise UsageError(
                f"{self.train.source}: every training label is {labels[0]!r}; a "
                "classifier needs two or more classes (--regression for "
                "scores)"
            )
        if len(labels) > max(20, count // 2):
            log(
                f"warning: {len(labels)} classes for {count} training examples; is the "
                f"label column ({self.spec.get('label_column', 'label')}) right?"
            )

    def epoch_data(self, epoch):
        from pipelines.classification import classification_dataset

        args = self.args
        return classification_dataset(
            self.train if self.packed is None else self.packed,
            self.preprocessor,
            args.batch_size,
            shuffle=True,
            seed=args.seed * 1000 + epoch,
            bucket_lengths=args.buckets and not self._training_windows(),
            windows_stride=self._training_windows() or None,
        )

    def build_options(self):
        labels = self.labels
        return dict(
            num_classes=len(labels) if labels else 1,
            label_names=labels,
            head_dropout=self.args.head_dropout,
        )

    def describe(self):
        if self.labels:
            return f"building the classifier on {self.args.weights} ({len(self.labels)} classes)"
        return f"building a regressor on {self.args.weights}"

    def _training_windows(self):
        return self.windows and self.windows["train"] == "all" and self.windows["stride"]

    def batching(self):
        if self._training_windows():
            return f"every window of each text, padded to {self.args.seq_len}"
        return "length buckets" if self.args.buckets else f"padded to {self.args.seq_len}"

    def summary(self):
        return super().summary() + "; " + long_documents.describe(self.windows)

    def run_info(self):
        return {"label_names": self.labels, "long_documents": self.windows}

    def use_windows(self, args):
        self.windows = long_documents.settings(
            args, self.preprocessor.sequence_length, self.segments, base=self.windows
        )

    @property
    def abstains(self):
        return bool(self.labels)  # --min-confidence: a classifier's, not a regressor's

    @property
    def calibrated(self):
        return bool(self.labels)  # a regressor has no class probabilities

    def validate(self, model):
        if self.windows:  # The validation texts are cut into windows once.
            if self.validation_windows is None:
                from pipelines.document_windows import window_arrays

                texts, stride = self.validation.texts[0], self.windows["stride"]
                self.validation_windows = window_arrays(self.preprocessor, texts, stride)
            outputs = self._outputs(
                model, self.validation, self.args.batch_size, self.validation_windows
            )
        else:  # The validation texts are packed once, for every epoch's validation.
            if self.validation_features is None:
                self.validation_features = run_model.example_features(
                    self.preprocessor, self.validation, self.args.batch_size
                )
            outputs = run_model.predict(
                model,
                self.preprocessor,
                self.validation,
                self.args.batch_size,
                features=self.validation_features,
            )
        if self.labels:
            self.scored = (outputs, np.asarray(self.validation.labels))
        return task_data.score(
            self.metrics,
            self.validation.labels,
            run_model.decide(outputs, self.validation.label_names),
        )

    def results(self):
        return {
            "label_names": self.labels,
            "train_examples": len(self.train),
            "validation_examples": len(self.validation) if self.validation else 0,
            "skipped_rows": self.train.skipped
            + (self.validation.skipped if self.validation else 0),
        }

    # --- a run folder -------------------------------------------------------------------
    @classmethod
    def from_run(cls, run, run_dir, preprocessor=None):
        kind = cls()
        kind.spec, kind.labels, kind.metrics = run["data"], run["label_names"], run["metrics"]
        kind.run_dir, kind.preprocessor = run_dir, preprocessor
        kind.windows = run.get("long_documents")
        return kind

    def _outputs(self, model, examples, batch_size, prepared=None):
        """Logits (or scores) per example; with windows, each text's windows' combined
        (`prepared`: the texts' windows, when already cut)."""
        if not self.windows:
            return run_model.predict(model, self.preprocessor, examples, batch_size)
        outputs, count = long_documents.document_outputs(
            model, self.preprocessor, examples.texts[0], self.windows, batch_size, prepared
        )
        log(f"{len(examples)} texts read as {count} windows")
        return outputs

    def _named(self, decided):
        return [float(v) if self.labels is None else self.labels[int(v)] for v in decided]

    def evaluate(self, model, data, predictions=None, batch_size=32):
        from keras_bert.metrics import scores

        examples = task_data.read(self.spec, data, self.labels)
        if examples is None:
            raise UsageError(f"{self.run_dir}: the run has no {data} data: give --data FILE")
        if examples.labels is None:
            raise UsageError(f"{data}: no labels to evaluate against (use predict)")
        outputs = self._outputs(model, examples, batch_size)
        predicted = run_model.decide(outputs, self.labels)
        if predictions:
            from pipelines import glue

            glue.write_submission(predictions, examples.ids, self._named(predicted))
        result = {
            "data": data,
            "examples": len(examples),
            "skipped_rows": examples.skipped,
            "metrics": task_data.score(self.metrics, examples.labels, predicted),
        }
        if self.labels is not None:
            result["calibration"] = self.calibration_scores(outputs, np.asarray(examples.labels))
            matrix = scores.confusion_matrix(examples.labels, predicted, len(self.labels))
            result["label_names"] = list(self.labels)
            result["confusion_matrix"] = matrix.tolist()  # Rows: labels; columns: predictions.
        return result

    def predict_file(self, model, data, out, batch_size=32):
        """Predictions of a split or file in GLUE's leaderboard TSV (`index<TAB>label`)."""
        from pipelines import glue

        if self.spec["source"] == "table":
            examples = task_data.read_unlabelled(self.spec, data)
        else:
            examples = task_data.read(self.spec, data, self.labels)
        decided = run_model.decide(self._outputs(model, examples, batch_size), self.labels)
        glue.write_submission(out, examples.ids, self._named(decided))
        return len(examples)

    @property
    def segments(self):
        return task_data.segment_count(self.spec)  # predict's raw text: pairs tab-separated

    def predict_rows(self, model, texts, batch_size=32):
        from pipelines.text_table import TextExamples

        ids = [str(i) for i in range(len(texts[0]))]
        outputs = self._outputs(model, TextExamples(texts, None, ids, None, "input"), batch_size)
        named = self._named(run_model.decide(outputs, self.labels))
        rows = [{"text": list(text)} for text in zip(*texts)]
        if self.labels is None:
            return [dict(row, score=value) for row, value in zip(rows, named)]
        probabilities = run_model.probabilities(outputs / self.temperature())
        floor = self.min_confidence or 0.0  # below it: no label ("")
        return [
            dict(
                row,
                label=value if p.max() >= floor else "",
                probabilities=dict(zip(self.labels, map(float, p))),
            )
            for row, value, p in zip(rows, named, probabilities)
        ]

    @staticmethod
    def format_row(row):
        return f"{row['score']:.4f}" if "score" in row else row["label"]

    def export_options(self, max_entities=None):
        return {"segments": self.segments, "long_documents": self.windows}
