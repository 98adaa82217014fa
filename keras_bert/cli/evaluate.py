"""`keras-bert evaluate RUN_DIR --data FILE_OR_SPLIT [--predictions PATH]`: the official
metrics of a fine-tuned run on labelled data (its own validation data by default), as
JSON on stdout.

`--predictions` writes what each official scorer reads: SQuAD's `predictions.json`
(question id -> answer; v2.0 also `null_odds.json` and, as run_squad.py does,
`nbest_predictions.json` beside it), CoNLL's column file for conlleval (word, gold
tag, predicted tag; a blank line between sentences), SWAG's CSV of predicted labels,
and for classification `index<TAB>prediction` lines."""

import json

from keras_bert.cli import run_model
from keras_bert.cli.common import (
    HelpFormatter,
    positive_int,
    prepare_output_file,
    reading_inputs,
)
from keras_bert.cli.kinds.long_documents import add_window_flags


def evaluate(
    run_dir, data="validation", batch_size=32, predictions=None, int8=False, args=None, loaded=None
):
    """{"metrics": {...}, "examples": n, ...} for a run folder on `data`; `args` may
    hold `--long-documents` flags (else the run's setting); `loaded` is the folder's
    `run_model.load_run` where the caller has it already."""
    from keras_bert.cli import kinds

    with reading_inputs():
        if predictions:
            prepare_output_file(predictions, "--predictions")
        model, preprocessor, run = loaded or run_model.load_run(run_dir, int8=int8)
        kind = kinds.for_run(run, run_dir, preprocessor, args)
        # Its `predict` is the model's, on kept weights (`FrozenInference`).
        return kind.evaluate(run_model.frozen_inference(model), data, predictions, batch_size)


def run(args):
    print(
        json.dumps(
            evaluate(args.run_dir, args.data, args.batch_size, args.predictions, args.int8, args),
            indent=2,
        )
    )
    return 0


def add_parser(commands):
    parser = commands.add_parser(
        "evaluate",
        help="official metrics of a fine-tuned run",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("run_dir", help="a finetune --out folder")
    parser.add_argument(
        "--data",
        default="validation",
        help="validation, train, a file in the run's format, or a GLUE "
        "split (dev, dev_matched, dev_mismatched, ...)",
    )
    parser.add_argument(
        "--predictions", help="write the predictions in the official scorer's format here"
    )
    parser.add_argument("--batch-size", type=positive_int, default=32, help="examples per batch")
    parser.add_argument(
        "--int8",
        action="store_true",
        help="quantize the encoder to int8 first (CPU inference speed; "
        "compare its metrics with a run without it)",
    )
    add_window_flags(parser.add_argument, stride=True)
    parser.set_defaults(run=run)
