"""`keras-bert export RUN_DIR --out EXPORT_DIR`: a fine-tuned run as a TF Serving model.

Writes `EXPORT_DIR/<version>/` (the next free version unless `--version`): a SavedModel
whose `serving_default` signature takes raw text (the run's own preprocessing inside)
and returns the task's answer, `serve_token_ids` (token ids in, raw outputs out) and
`serve_examples` (serialized tf.Example in), the vocabulary as an asset and warm-up
requests. `--serving-config FILE --name NAME` adds the model to a TF Serving
`models.config` (created, or updated keeping the other models) and writes
`batching_parameters.txt` beside it (TF Serving's `--batching_parameters_file`).
"""

import os

from keras_bert.cli import run_model
from keras_bert.cli.common import (
    HelpFormatter,
    UsageError,
    log,
    positive_int,
    prepare_output_folder,
    probability,
    reading_inputs,
)
from keras_bert.cli.kinds.long_documents import add_window_flags


def export_run(
    run_dir,
    out,
    version=None,
    config=None,
    name=None,
    max_entities=None,
    min_confidence=None,
    args=None,
    loaded=None,
):
    """Exports a run folder; returns the version folder. A classification or multiple
    choice run's probabilities use the temperature finetune fitted (results.json).
    `loaded` is the folder's `run_model.load_run` where the caller has it already."""
    from keras_bert.cli import kinds
    from saved_models import export
    from saved_models.serving_files import update_models_config, write_batching_parameters

    name = name or os.path.basename(os.path.normpath(run_dir))
    with reading_inputs():
        prepare_output_folder(out)
        model, preprocessor, run = loaded or run_model.load_run(run_dir)
        kind = kinds.for_run(run, run_dir, preprocessor, args)
        options = kind.export_options(max_entities)
        if min_confidence is not None and not kind.abstains:
            raise UsageError(
                "--min-confidence applies to classification and multiple choice runs, "
                f"not {run['task']}"
            )
        if kind.calibrated:
            options.update(temperature=kind.temperature(), min_confidence=min_confidence)
        log(f"exporting {run['task']} model to {out}")
        card = _card(run_dir, run)
        path = export(
            model, preprocessor, out, version=version, model_name=name, card=card, **options
        )
        if config:
            names = update_models_config(config, name, out)
            log(f"{config}: serves {', '.join(names)}")
            batching = write_batching_parameters(os.path.dirname(os.path.abspath(config)))
            log(f"{batching}: for tensorflow_model_server --enable_batching")
    return path


def _card(run_dir, run):
    """What the run folder adds to the export's model card."""
    import json

    results = {}
    path = os.path.join(run_dir, "results.json")
    if os.path.isfile(path):
        with open(path) as f:
            results = json.load(f)
    return {
        "run": os.path.abspath(run_dir),
        "weights": run.get("weights"),
        "data": run.get("data"),
        "metrics": run.get("metrics"),
        "validation": results.get("validation"),
        "calibration": results.get("calibration"),
    }


def run(args):
    if args.name and not args.serving_config:
        raise UsageError("--name needs --serving-config")
    print(
        export_run(
            args.run_dir,
            args.out,
            args.version,
            args.serving_config,
            args.name,
            args.max_entities,
            args.min_confidence,
            args,
        )
    )
    return 0


def add_parser(commands):
    parser = commands.add_parser(
        "export",
        help="a fine-tuned run as a TF Serving SavedModel",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("run_dir", help="a finetune --out folder")
    parser.add_argument(
        "--out", required=True, help="the model's base path (version folders go inside)"
    )
    parser.add_argument(
        "--version",
        type=positive_int,
        default=None,
        help="version number; default: the next free one (never overwrites)",
    )
    parser.add_argument("--serving-config", help="a models.config to create or update")
    parser.add_argument("--name", help="the model's name there (default: the run folder's)")
    parser.add_argument(
        "--max-entities",
        type=positive_int,
        default=None,
        help="NER: entity columns in a reply (default: ServingModule's, "
        "16; widened, never cut, for a text with more; "
        "entity_count says how many are real)",
    )
    parser.add_argument(
        "--min-confidence",
        type=probability,
        default=None,
        metavar="P",
        help='classification, multiple choice: answer no label (label "", label_id -1) '
        "where the top probability (after the run's temperature) is below P",
    )
    add_window_flags(parser.add_argument, stride=True)
    parser.set_defaults(run=run)
