"""SQuAD v1.1 / v2.0 question answering: windows in, official EM/F1 and
predictions.json (+ v2.0's null_odds.json) out."""

import math
import os

from keras_bert.cli.common import UsageError, log
from keras_bert.cli.kinds.base import TaskKind, log_examples

V1_METRICS = ("f1", "exact_match")
V2_METRICS = (
    "f1",
    "exact",
    "HasAns_f1",
    "HasAns_exact",
    "NoAns_f1",
    "NoAns_exact",
    "best_f1",
    "best_f1_thresh",
    "best_exact",
    "best_exact_thresh",
)
DECODING = (
    "doc_stride",
    "max_query_length",
    "n_best_size",
    "max_answer_length",
    "null_score_diff_threshold",
)


class SquadKind(TaskKind):
    """`finetune squad --train FILE [--validation FILE]` (v2.0 when a file has
    impossible questions)."""

    task = "question_answering"
    family = "squad"
    default_sequence_length = 384
    settings = ("doc_stride", "max_query_length")

    def prepare(self):
        from pipelines.squad import read_squad
        from pipelines.squad_data import squad_windows

        args = self.args
        if not args.train:
            raise UsageError("finetune squad needs --train FILE (SQuAD JSON)")
        if args.doc_stride is None:
            args.doc_stride = 128
        self.spec = {
            "source": "squad",
            "train": os.path.abspath(args.train),
            "validation": args.validation and os.path.abspath(args.validation),
            "on_error": args.on_error,
            **{k: getattr(args, k) for k in DECODING},
        }
        config = self.check_sequence_length(args.max_query_length + 4)
        room = args.seq_len - args.max_query_length - 3  # [CLS] question [SEP] ... [SEP]
        if args.doc_stride > room:
            raise UsageError(
                f"--doc-stride {args.doc_stride} is more than the context a "
                f"window holds after a question of --max-query-length "
                f"{args.max_query_length} ({args.seq_len} - "
                f"{args.max_query_length} - 3 = {room} pieces): windows would "
                f"leave text out between them; use at most {room}"
            )
        self.train = read_squad(args.train, on_error=args.on_error)
        log_examples("training", self.train)
        if args.validation:
            self.validation = read_squad(args.validation, on_error=args.on_error)
            log_examples("validation", self.validation)
        self.version2 = self.train.has_impossible or bool(
            self.validation and self.validation.has_impossible
        )
        self.metrics = V2_METRICS if self.version2 else V1_METRICS
        self.tokenizer = self.load_tokenizer(config)
        self.windower = self._windower(self.tokenizer, args.seq_len, self.spec)
        log(f"splitting {len(self.train)} training questions into windows of {args.seq_len}")
        self.windows = squad_windows(self.train, self.windower)
        self.steps_per_epoch = math.ceil(len(self.windows["token_ids"]) / args.batch_size)
        self._validation_windows = None

    @staticmethod
    def _windower(tokenizer, sequence_length, spec):
        from pipelines.squad_windows import SquadWindower

        return SquadWindower(
            tokenizer, sequence_length, spec["max_query_length"], spec["doc_stride"]
        )

    def train_size(self):
        return f"{len(self.train)} questions in {len(self.windows['token_ids'])}"

    def summary(self):
        version = "SQuAD v2.0" if self.version2 else "SQuAD v1.1"
        return f"{version}: " + super().summary().replace(" training examples", " windows")

    def epoch_data(self, epoch):
        from pipelines.squad_data import training_dataset

        return training_dataset(
            self.windows, self.args.batch_size, shuffle=True, seed=self.args.seed * 1000 + epoch
        )

    def build_options(self):
        return {}

    def describe(self):
        return f"building the span extractor on {self.args.weights}"

    def run_info(self):
        return {"version2": self.version2}

    def validate(self, model):
        from pipelines.squad_data import squad_windows

        if self._validation_windows is None:
            self._validation_windows = squad_windows(self.validation, self.windower)
        metrics, _ = self._score(
            model, self.validation, self._validation_windows, self.args.batch_size
        )
        return metrics

    def results(self):
        return {
            "version2": self.version2,
            "train_questions": len(self.train),
            "train_windows": len(self.windows["token_ids"]),
            "validation_questions": len(self.validation) if self.validation else 0,
            "skipped_questions": self.train.skipped
            + (self.validation.skipped if self.validation else 0),
        }

    # --- evaluation and prediction ------------------------------------------------------
    def _answers(self, model, examples, windows, batch_size):
        from keras_bert import FrozenInference
        from keras_bert.cli.run_model import model_inputs
        from pipelines.squad_data import decode_answers

        # Grouped by length (FrozenInference), logits past a batch's longest window come
        # back far below any real one: never among the n best, as in the export.
        grouped = {"fill_value": -1e9} if isinstance(model, FrozenInference) else {}
        outputs = model.predict(model_inputs(windows), batch_size=batch_size, verbose=0, **grouped)
        threshold = self.spec["null_score_diff_threshold"] if self.version2 else None
        return decode_answers(
            examples,
            windows,
            outputs["start_logits"],
            outputs["end_logits"],
            self.spec["n_best_size"],
            self.spec["max_answer_length"],
            threshold,
        )

    def _score(self, model, examples, windows, batch_size):
        from keras_bert.metrics import squad_scores

        answers = self._answers(model, examples, windows, batch_size)
        predictions, null_odds, _ = answers
        gold = examples.gold_answers()
        if not self.version2:
            return squad_scores.squad_v1(gold, predictions), answers
        scores = squad_scores.squad_v2(gold, predictions, null_odds)
        return {k: float(scores[k]) for k in self.metrics if k in scores}, answers

    @classmethod
    def from_run(cls, run, run_dir, preprocessor=None):
        kind = cls()
        kind.spec, kind.version2 = run["data"], run["version2"]
        kind.metrics = tuple(run["metrics"])
        kind.tokenizer = cls.run_tokenizer(run_dir)
        kind.windower = cls._windower(kind.tokenizer, run["sequence_length"], kind.spec)
        return kind

    def export_options(self, max_entities=None):
        spec = self.spec
        return {
            "windower": self.windower,
            "n_best_size": spec["n_best_size"],
            "max_answer_length": spec["max_answer_length"],
            "null_threshold": spec["null_score_diff_threshold"] if self.version2 else None,
        }

    def evaluate(self, model, data, predictions=None, batch_size=32):
        from pipelines.squad import read_squad
        from pipelines.squad_data import squad_windows

        path = self.data_path(data)
        examples = read_squad(path, on_error=self.spec["on_error"])
        windows = squad_windows(examples, self.windower)
        metrics, answers = self._score(model, examples, windows, batch_size)
        if predictions:
            self.write_predictions(predictions, *answers)
        return {
            "data": path,
            "examples": len(examples),
            "skipped_questions": examples.skipped,
            "metrics": metrics,
        }

    def write_predictions(self, path, predictions, null_odds, nbest):
        """predictions.json (id -> answer text), and beside it nbest_predictions.json
        and, for v2.0, null_odds.json, as run_squad.py writes them."""
        from keras_bert.cli.run_model import write_json

        folder = os.path.dirname(os.path.abspath(path))
        write_json(path, predictions)
        write_json(os.path.join(folder, "nbest_predictions.json"), nbest)
        if self.version2:
            write_json(os.path.join(folder, "null_odds.json"), null_odds)

    def predict_file(self, model, data, out, batch_size=32):
        from pipelines.squad import read_squad
        from pipelines.squad_data import squad_windows

        examples = read_squad(data, on_error=self.spec["on_error"], labelled=False)
        answers = self._answers(model, examples, squad_windows(examples, self.windower), batch_size)
        self.write_predictions(out, *answers)
        return len(examples)

    segments = 2  # predict's raw text: question<TAB>context

    def predict_rows(self, model, texts, batch_size=32):
        """[{"question", "context", "answer", "start_char", "end_char", "null_odds"}]."""
        from pipelines.squad import SquadExamples
        from pipelines.squad_data import squad_windows

        questions, contexts = texts
        ids = [str(i) for i in range(len(questions))]
        examples = SquadExamples(
            ids, questions, contexts, [[] for _ in ids], [False] * len(ids), source="input"
        )
        predictions, null_odds, nbest = self._answers(
            model, examples, squad_windows(examples, self.windower), batch_size
        )
        rows = []
        for i in ids:
            answer = predictions[i]
            best = nbest[i][0] if answer and nbest[i] else {"start_char": -1, "end_char": -1}
            rows.append(
                {
                    "question": questions[int(i)],
                    "answer": answer,
                    "start_char": best["start_char"],
                    "end_char": best["end_char"],
                    "null_odds": null_odds[i],
                }
            )
        return rows

    @staticmethod
    def format_row(row):
        return f"{row['answer']}\t{row['start_char']}\t{row['end_char']}"
