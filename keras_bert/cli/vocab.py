"""`keras-bert vocab`: learn a WordPiece vocabulary from text files."""

import argparse

from keras_bert.cli.common import (
    HelpFormatter,
    log,
    positive_int,
    prepare_output_file,
    reading_inputs,
)


def run(args):
    from pipelines.documents import check_utf8, list_files
    from pipelines.vocab_builder import build_vocabulary, write_vocabulary

    with reading_inputs():
        prepare_output_file(args.out)  # Before the long count, not after it.
        files = list_files(args.train)
        if args.encoding_errors == "strict":
            check_utf8(files)
        log(f"counting words in {len(files)} file(s) ({'uncased' if args.lowercase else 'cased'})")
        vocabulary = build_vocabulary(
            files,
            args.size,
            args.lowercase,
            args.format,
            min_count=args.min_count,
            encoding_errors=args.encoding_errors,
        )
    write_vocabulary(vocabulary, args.out)
    log(f"wrote {len(vocabulary)} tokens to {args.out}")
    return 0


def add_parser(commands):
    from pipelines.documents import ENCODING_ERRORS, FORMATS

    parser = commands.add_parser(
        "vocab", help="learn a WordPiece vocabulary from text files", formatter_class=HelpFormatter
    )
    parser.add_argument("--train", required=True, nargs="+", help="text files or globs")
    parser.add_argument("--out", required=True, help="vocab.txt to write (its folder is created)")
    parser.add_argument("--size", type=positive_int, default=30522, help="target vocabulary size")
    parser.add_argument(
        "--lowercase",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="uncased, or --no-lowercase for a cased vocabulary",
    )
    parser.add_argument(
        "--format",
        default="sentences",
        choices=FORMATS,
        help="sentences: one per line, blank line between documents; "
        "lines: one document per line; files: one document per file",
    )
    parser.add_argument(
        "--encoding-errors",
        default="strict",
        choices=ENCODING_ERRORS,
        help="invalid UTF-8: an error naming the file, or replaced by U+FFFD",
    )
    parser.add_argument(
        "--min-count", type=positive_int, default=2, help="ignore words seen fewer times"
    )
    parser.set_defaults(run=run)
