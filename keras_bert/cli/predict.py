"""`keras-bert predict RUN_DIR`: answers for raw text with a fine-tuned run.

Texts come from the arguments (before or after the flags), or one per line from
`--file` or stdin, in UTF-8; one source at a time. A pair task takes two texts per line,
separated by a tab; SQuAD `question<TAB>context`, SWAG `context<TAB>ending0<TAB>ending1...`,
CoNLL a sentence. SQuAD prints the answer and its character span, NER each entity's
type, character span and text, SWAG the chosen ending. Output: a label name (or score)
per line, or with `--jsonl` one JSON object per text with every class's probability.
`--data SPLIT_OR_FILE --out FILE` predicts a whole file; for a GLUE test split it
writes the leaderboard's TSV (`index<TAB>prediction`).
"""

import json
import sys

from keras_bert.cli import run_model
from keras_bert.cli.common import (
    HelpFormatter,
    UsageError,
    positive_int,
    prepare_output_file,
    probability,
    reading_inputs,
)
from keras_bert.cli.kinds.long_documents import add_window_flags


def _texts(args, segments):
    if args.texts and args.file:
        raise UsageError("give texts as arguments or --file, not both")
    lines = list(args.texts)
    if args.file:
        with open(args.file, "rb") as f:
            lines = _decoded_lines(f.read(), args.file)
    elif not lines:  # Bytes, so that invalid UTF-8 is named (a text stream raises).
        stdin = getattr(sys.stdin, "buffer", None)
        lines = _decoded_lines(stdin.read() if stdin else sys.stdin.read().encode(), "stdin")
    if not lines:
        raise UsageError("no text given (arguments, --file or stdin)")
    rows = [line.split("\t") for line in lines]
    for number, row in enumerate(rows, start=1):
        if len(row) != segments:
            raise UsageError(
                f"text {number}: expected {segments} tab-separated text(s), found {len(row)}"
            )
    return [list(column) for column in zip(*rows)]


def _decoded_lines(data, name):
    """The non-blank lines of UTF-8 bytes; invalid UTF-8 names `name` and the line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise UsageError(
            f"{name}:{line}: not valid UTF-8 (invalid byte at offset "
            f"{e.start}); give text, one per line"
        ) from None
    if "\x00" in text:
        raise UsageError(f"{name}: holds NUL bytes: binary data, not text one per line")
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def predict_file(run_dir, data, out, batch_size=32):
    """Predicts a whole split or file into `out` (the family's scorer format; GLUE's
    leaderboard TSV for classification)."""
    from keras_bert.cli import kinds

    with reading_inputs():
        prepare_output_file(out)
        model, preprocessor, run_info = run_model.load_run(run_dir)
        kind = kinds.for_run(run_info, run_dir, preprocessor)
        count = kind.predict_file(run_model.frozen_inference(model), data, out, batch_size)
    print(f"wrote {count} predictions to {out}", file=sys.stderr)
    return count


def run(args):
    from keras_bert.cli import kinds

    if args.data and not args.out:
        raise UsageError("--data needs --out FILE for the predictions")
    with reading_inputs():
        if args.out:
            prepare_output_file(args.out)
        model, preprocessor, run_info = run_model.load_run(args.run_dir, int8=args.int8)
        kind = kinds.for_run(run_info, args.run_dir, preprocessor, args)
        if args.min_confidence is not None:
            if not kind.abstains:
                raise UsageError(
                    "--min-confidence applies to classification and multiple choice runs, "
                    f"not {run_info.get('task')}"
                )
            if args.data:
                raise UsageError("--min-confidence applies to raw text, not --data files")
            kind.min_confidence = args.min_confidence
    model = run_model.frozen_inference(model)  # Its `predict` on kept weights.
    if args.data:
        with reading_inputs():
            count = kind.predict_file(model, args.data, args.out, args.batch_size)
        print(f"wrote {count} predictions to {args.out}", file=sys.stderr)
        return 0
    with reading_inputs():
        texts = _texts(args, kind.segments)
    for row in kind.predict_rows(model, texts, args.batch_size):
        print(json.dumps(row, ensure_ascii=False) if args.jsonl else kind.format_row(row))
    return 0


def add_parser(commands):
    parser = commands.add_parser(
        "predict",
        help="labels for raw text with a fine-tuned run",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("run_dir", help="a finetune --out folder")
    parser.add_argument("texts", nargs="*", help="texts (pairs: 'first<TAB>second')")
    parser.add_argument("--file", help="a file with one text (or tab-separated pair) a line")
    parser.add_argument(
        "--jsonl",
        action="store_true",
        help="one JSON object per text, with every class's probability",
    )
    parser.add_argument("--data", help="predict a whole split or file (needs --out)")
    parser.add_argument(
        "--out",
        help="predictions file (GLUE leaderboard TSV; SQuAD "
        "predictions.json; CoNLL column file; SWAG CSV)",
    )
    parser.add_argument("--batch-size", type=positive_int, default=32, help="examples per batch")
    parser.add_argument(
        "--min-confidence",
        type=probability,
        default=None,
        metavar="P",
        help='classification, multiple choice: no answer (label ""; SWAG -1) where the '
        "top probability (after the run's temperature) is below P",
    )
    parser.add_argument(
        "--int8",
        action="store_true",
        help="quantize the encoder to int8 first (CPU inference speed)",
    )
    add_window_flags(parser.add_argument, stride=True)
    parser.set_defaults(run=run)
