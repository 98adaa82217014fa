"""`keras-bert vocab`: learn a WordPiece vocabulary from text files."""

import argparse

from keras_bert.cli.common import log


def run(args):
    from pipelines.documents import FORMATS, list_files
    from pipelines.vocab_builder import build_vocabulary, write_vocabulary

    if args.format not in FORMATS:
        raise ValueError(f"--format must be one of {FORMATS}")
    files = list_files(args.train)
    log(f"counting words in {len(files)} file(s) ({'uncased' if args.lowercase else 'cased'})")
    vocabulary = build_vocabulary(files, args.size, args.lowercase, args.format,
                                  min_count=args.min_count)
    write_vocabulary(vocabulary, args.out)
    log(f"wrote {len(vocabulary)} tokens to {args.out}")
    return 0


def add_parser(commands):
    parser = commands.add_parser("vocab", help="learn a WordPiece vocabulary from text files")
    parser.add_argument("--train", required=True, nargs="+", help="text files or globs")
    parser.add_argument("--out", required=True, help="vocab.txt to write")
    parser.add_argument("--size", type=int, default=30522, help="target vocabulary size")
    parser.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=True,
                        help="uncased (default) or --no-lowercase for a cased vocabulary")
    parser.add_argument("--format", default="sentences",
                        help="sentences (one per line, blank line between documents), "
                             "lines (one document per line) or files (one per file)")
    parser.add_argument("--min-count", type=int, default=2,
                        help="ignore words seen fewer times")
    parser.set_defaults(run=run)
