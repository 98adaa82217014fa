"""CoNLL-2003 named entities (fine-tuned, or feature-based with a BiLSTM tagger): column
files in, conlleval's entity precision / recall / F1 and its column file out."""

import math
import os

import numpy as np

from keras_bert.cli.common import UsageError, log
from keras_bert.cli.kinds.base import TaskKind, log_examples

METRICS = ("f1", "precision", "recall")


def split_words(texts):
    """Per raw sentence, [(word, start_char, end_char)]: the exported model's split."""
    from pipelines.word_windows import split_words as split

    words, starts, ends = split(texts)
    return [
        list(zip([w.decode("utf-8") for w in ws], ss, es))
        for ws, ss, es in zip(words.to_list(), starts.to_list(), ends.to_list())
    ]


class ConllKind(TaskKind):
    """`finetune conll --train FILE [--validation FILE] [--features ...]`."""

    family = "conll"
    settings = ("tag_scheme", "features", "lstm_units", "lstm_layers", "head_dropout")

    @property
    def task(self):
        return "feature_tagging" if self.spec.get("features") else "token_classification"

    def prepare(self):
        from pipelines import tag_schemes
        from pipelines.conll import read_conll

        args = self.args
        if not args.train:
            raise UsageError("finetune conll needs --train FILE (CoNLL column file)")
        self.spec = {
            "source": "conll",
            "train": os.path.abspath(args.train),
            "validation": args.validation and os.path.abspath(args.validation),
            "tag_scheme": args.tag_scheme,
            "features": args.features,
        }
        config = self.check_sequence_length(8)
        if args.features and getattr(args, "bilstm", False):
            raise UsageError("--features trains a BiLSTM tagger of its own; drop --bilstm")
        needed = {"second_to_last": 2, "sum_last_four": 4, "last_four": 4}.get(args.features, 1)
        if config.get("num_layers", 12) < needed:
            raise UsageError(
                f"--features {args.features} needs an encoder of {needed} or more layers"
            )
        self.train = read_conll(args.train, scheme=args.tag_scheme)
        log_examples("training", self.train)
        log(
            f"  tags: read as {tag_schemes.detect_scheme(self.train.tags)} after "
            f"conversion; the model learns {args.tag_scheme}"
        )
        if args.validation:
            self.validation = read_conll(args.validation, scheme=args.tag_scheme)
            log_examples("validation", self.validation)
        self.labels = tag_schemes.label_names(
            tag_schemes.entity_types(self.train.tags), args.tag_scheme
        )
        self.metrics = METRICS
        self.tokenizer = self.load_tokenizer(config)
        self.labeler = self._labeler(self.tokenizer, self.labels, args.seq_len)
        self.windows = self._windows(self.train)
        self.steps_per_epoch = math.ceil(len(self.windows["token_ids"]) / args.batch_size)
        # Now, not after the first epoch: a tag the training file lacks is an error here.
        self._validation_windows = self.validation and self._windows(self.validation)

    @staticmethod
    def _labeler(tokenizer, labels, sequence_length):
        from pipelines.token_labels import TokenLabeler

        return TokenLabeler(tokenizer, labels, sequence_length)

    def _windows(self, sentences):
        where = [f"{sentences.source}:{line}" for line in sentences.lines]
        return self.labeler.windows(sentences.words, sentences.tags, where)

    def summary(self):
        return super().summary().replace("training examples", "training sentences")

    def epoch_data(self, epoch):
        import tensorflow as tf

        w = self.windows
        features = {k: w[k] for k in ("token_ids", "segment_ids", "padding_mask")}
        data = tf.data.Dataset.from_tensor_slices((features, w["labels"], w["sample_weight"]))
        data = data.shuffle(len(w["labels"]), seed=self.args.seed * 1000 + epoch)
        return data.batch(self.args.batch_size).prefetch(tf.data.AUTOTUNE)

    def build_options(self):
        args = self.args
        options = dict(
            num_classes=len(self.labels), label_names=self.labels, head_dropout=args.head_dropout
        )
        if args.features:
            options.update(
                features=args.features, lstm_units=args.lstm_units, lstm_layers=args.lstm_layers
            )
        return options

    def describe(self):
        if self.args.features:
            return (
                f"building a BiLSTM tagger on frozen {self.args.weights} features "
                f"({self.args.features}; {len(self.labels)} tags)"
            )
        return f"building the token classifier on {self.args.weights} ({len(self.labels)} tags)"

    def run_info(self):
        return {"label_names": self.labels}

    calibrated = True

    def validate(self, model):
        scores, _ = self._score(
            model, self.validation, self._validation_windows, self.args.batch_size
        )
        return {k: scores[k] for k in METRICS}

    def results(self):
        return {
            "label_names": self.labels,
            "train_sentences": len(self.train),
            "validation_sentences": len(self.validation) if self.validation else 0,
        }

    # --- evaluation and prediction ------------------------------------------------------
    def _tags(self, model, sentences, windows, batch_size):
        from keras_bert.cli.run_model import model_inputs

        logits = np.asarray(model.predict(model_inputs(windows), batch_size=batch_size, verbose=0))
        labelled = windows["sample_weight"] > 0  # each word's first piece
        self.scored = (logits[labelled], windows["labels"][labelled])
        lengths = [len(words) for words in sentences]
        return self.labeler.word_tags(windows, np.asarray(logits).argmax(-1), lengths)

    def _score(self, model, sentences, windows, batch_size):
        from keras_bert.metrics.entity_scores import entity_scores
        from pipelines.tag_schemes import entities

        predicted = self._tags(model, sentences.words, windows, batch_size)
        scores = entity_scores(
            [entities(t) for t in sentences.tags], [entities(t) for t in predicted]
        )
        return scores, predicted

    @classmethod
    def from_run(cls, run, run_dir, preprocessor=None):
        kind = cls()
        kind.spec, kind.labels = run["data"], run["label_names"]
        kind.metrics = tuple(run["metrics"])
        kind.tokenizer = cls.run_tokenizer(run_dir)
        kind.labeler = cls._labeler(kind.tokenizer, kind.labels, run["sequence_length"])
        return kind

    def export_options(self, max_entities=None):
        return {} if max_entities is None else {"max_entities": max_entities}

    def evaluate(self, model, data, predictions=None, batch_size=32):
        from pipelines.conll import read_conll, write_conll

        path = self.data_path(data)
        sentences = read_conll(path, scheme=self.spec["tag_scheme"])
        scores, predicted = self._score(model, sentences, self._windows(sentences), batch_size)
        if predictions:
            write_conll(predictions, sentences.words, sentences.tags, predicted)
        return {
            "data": path,
            "sentences": len(sentences),
            "metrics": {k: scores[k] for k in METRICS},
            "support": scores["support"],
            "per_type": scores["per_type"],
            "calibration": self.calibration_scores(*self.scored),  # of each word's tag
        }

    def predict_file(self, model, data, out, batch_size=32):
        from pipelines.conll import read_conll, write_conll

        sentences = read_conll(data, scheme=self.spec["tag_scheme"])
        words = sentences.words
        windows = self.labeler.windows(words)
        write_conll(out, words, sentences.tags, self._tags(model, words, windows, batch_size))
        return len(words)

    segments = 1  # predict's raw text: a sentence

    def predict_rows(self, model, texts, batch_size=32):
        """[{"text", "entities": [{"type", "start_char", "end_char", "text", "first_word",
        "last_word"}], "words", "tags"}] for raw sentences."""
        from pipelines.tag_schemes import entities

        (sentences,) = texts
        split = split_words(list(sentences))
        words = [[w for w, _, _ in s] or ["."] for s in split]
        tags = self._tags(model, words, self.labeler.windows(words), batch_size)
        rows = []
        for text, spans, sentence_tags in zip(sentences, split, tags):
            found = [
                {
                    "type": kind,
                    "start_char": spans[a][1],
                    "end_char": spans[b][2],
                    "text": text[spans[a][1] : spans[b][2]],
                    "first_word": a,
                    "last_word": b,
                }
                for kind, a, b in entities(sentence_tags[: len(spans)])
            ]
            rows.append(
                {
                    "text": text,
                    "entities": found,
                    "words": [w for w, _, _ in spans],
                    "tags": sentence_tags[: len(spans)],
                }
            )
        return rows

    @staticmethod
    def format_row(row):
        return (
            "\n".join(
                f"{e['type']}\t{e['start_char']}\t{e['end_char']}\t{e['text']}"
                for e in row["entities"]
            )
            or "(no entities)"
        )
