"""The `keras-bert` command line: the one place that wires model code and pipelines.

Commands: `demo` (the main job: fine-tune MiniLM on BBC News), `finetune`
(classification/regression: GLUE, your files, class folders), `evaluate` and `predict`
(with a fine-tuned run), `export` (a run as a TF Serving SavedModel), `inspect` (an
export's model card), `glue` (the paper's GLUE recipe and table), `similarity`
(sentence-pair cosine similarity with a checkpoint), `vocab` (learn a WordPiece
vocabulary), `pretrain` (MLM + NSP, MLM alone or left-to-right pretraining) and
`experiment` (the paper's experiments on your data). Training commands resume after a kill.

A user error (a bad flag, file or folder) is one line on stderr and exit status 2;
anything else is a bug and keeps its traceback.
"""

import argparse
import atexit
import gc
import sys

from keras_bert.cli import (
    demo,
    evaluate,
    experiment,
    export,
    finetune,
    glue_table,
    inspect_export,
    predict,
    pretrain,
    similarity,
    vocab,
)
from keras_bert.cli.common import UsageError


def _parser():
    parser = argparse.ArgumentParser(
        prog="keras-bert", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (
        demo,
        finetune,
        evaluate,
        predict,
        export,
        inspect_export,
        glue_table,
        similarity,
        vocab,
        pretrain,
        experiment,
    ):
        module.add_parser(commands)
    return parser


def _parse(argv):
    """The flags; texts may come after flags (`predict RUN --jsonl "a text"`): words
    that no flag took join a command's `texts`."""
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if (
        rest
        and isinstance(getattr(args, "texts", None), list)
        and not any(word.startswith("-") for word in rest)
    ):
        args.texts += rest
        return args
    return parser.parse_args(argv)  # No such words: the usual parse (and its errors).


def main(argv=None):
    _exit_sooner()
    try:
        args = _parse(argv)
    except SystemExit as e:  # --help, or a bad flag (argparse printed why).
        return e.code
    try:
        return args.run(args)
    except UsageError as e:
        print(f"keras-bert {args.command}: error: {e}", file=sys.stderr)
        return 2


def _exit_sooner():
    """Skips the interpreter's cyclic garbage collections at exit, which walk every object
    TensorFlow and Keras made (about a second after a command's last line). Nothing is
    lost: every file a command writes is closed (and renamed into place) before it
    returns, and the operating system frees the memory."""
    atexit.unregister(gc.freeze)  # Registered once, however often main runs.
    atexit.register(gc.freeze)
