"""Reading pretraining corpora into a dataset of documents (each a 1-D tensor of sentences).

Formats:
- "sentences": Google BERT's format: one sentence per line, a blank line between documents.
- "lines": one document per line; sentences are found by `split_sentences`.
- "files": one document per file (e.g. a news article); lines and sentences both split.

`split_sentences` is a regex splitter: it breaks after `.`, `!` or `?` (and any closing
quotes or brackets right after them) when whitespace follows. It does not know
abbreviations ("Mr. Smith" becomes two sentences), which only shortens some sentences.

Text must be UTF-8: by default invalid bytes are an error naming the file, line and
byte offset (a binary file is never read as text); `errors="replace"` turns them
into U+FFFD instead. `check_utf8` finds the same errors in Python before any work.
"""

import codecs
import functools
import os

import tensorflow as tf

from pipelines.plain_graphs import plain

FORMATS = ("sentences", "lines", "files")
ENCODING_ERRORS = ("strict", "replace")
_SENTENCE_END = r"""([.!?]+["'\x{201D}\x{2019})\]]*)[ \t]+"""


def split_sentences(texts):
    """Ragged (batch, sentences) of the sentences (and lines) of each text, stripped."""
    texts = tf.strings.regex_replace(texts, "\r\n?", "\n")
    texts = tf.strings.regex_replace(texts, _SENTENCE_END, "\\1\n")
    sentences = tf.strings.strip(tf.strings.split(texts, "\n"))
    return tf.ragged.boolean_mask(sentences, tf.strings.length(sentences) > 0)


def _bert_format_documents(text):
    text = tf.strings.regex_replace(text, "\r\n?", "\n")
    text = tf.strings.regex_replace(text, "\n[ \t]*(\n[ \t]*)+", "\x00")  # Document breaks.
    documents = tf.strings.split(text, "\x00")
    sentences = tf.strings.strip(tf.strings.split(documents, "\n"))
    return tf.ragged.boolean_mask(sentences, tf.strings.length(sentences) > 0)


def _first_invalid_byte(text):
    """Byte offset of the first invalid UTF-8 sequence in a scalar string, or -1."""
    chars, offsets = tf.strings.unicode_decode_with_offsets(
        text, "UTF-8", errors="replace", replacement_char=0xFFFD
    )
    # A U+FFFD that the text really contains is valid; a replaced sequence is not.
    three = tf.fill(tf.shape(offsets), tf.constant(3, tf.int64))
    genuine = tf.equal(tf.strings.substr(text, offsets, three), "\ufffd".encode())
    bad = tf.where(tf.equal(chars, 0xFFFD) & tf.logical_not(genuine))[:, 0]
    return tf.cond(
        tf.size(bad) > 0, lambda: tf.gather(offsets, bad[0]), lambda: tf.constant(-1, tf.int64)
    )


def decode_checked(text, source, line=None, errors="strict"):
    """`text` as valid UTF-8: with "strict" an error naming `source` (and line, and the
    byte offset) when it is not; with "replace" invalid bytes become U+FFFD."""
    if errors == "replace":
        return tf.strings.unicode_transcode(
            text, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
        )
    offset = _first_invalid_byte(text)
    if line is None:  # Count the lines before the bad byte.
        prefix = tf.strings.substr(text, tf.constant(0, tf.int64), tf.maximum(offset, 0))
        newlines = tf.strings.length(prefix) - tf.strings.length(
            tf.strings.regex_replace(prefix, "\n", "")
        )
        line = tf.cast(newlines, tf.int64) + 1
    check = tf.debugging.Assert(
        offset < 0,
        [
            source,
            "line",
            line,
            "is not valid UTF-8 (invalid byte at offset",
            offset,
            "); pass errors='replace' (--encoding-errors replace) to replace bad bytes",
        ],
    )
    with tf.control_dependencies([check]):
        return tf.identity(text)


def check_utf8(files, chunk_bytes=1 << 24):
    """Raises ValueError naming the file, line and byte offset of the first invalid
    UTF-8 in `files` (read in Python, chunk by chunk, before a long job starts)."""
    for path in files:
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset, lines = 0, 1
        with tf.io.gfile.GFile(path, "rb") as f:
            while True:
                chunk = f.read(chunk_bytes)
                pending = len(decoder.getstate()[0])  # Bytes held from the last chunk.
                try:
                    decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as e:
                    at = offset - pending + e.start
                    line = lines + chunk[: max(at - offset, 0)].count(b"\n")
                    raise ValueError(
                        f"{path}:{line}: not valid UTF-8 (invalid byte at "
                        f"offset {at}); is it a text file?"
                    ) from None
                if not chunk:
                    break
                offset += len(chunk)
                lines += chunk.count(b"\n")


def list_files(patterns):
    """Sorted files matching one or more glob patterns; a clear error when none match."""
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    files = []
    for pattern in patterns:
        if tf.io.gfile.isdir(pattern):
            raise ValueError(
                f"{pattern} is a folder; give files or a glob such as "
                f"{os.path.join(pattern, '*.txt')!r}."
            )
        matched = [m for m in tf.io.gfile.glob(pattern) if not tf.io.gfile.isdir(m)]
        if not matched:
            raise FileNotFoundError(f"No files match {pattern!r}.")
        files.extend(matched)
    files = sorted(set(files))
    if all(tf.io.gfile.stat(f).length == 0 for f in files):
        raise ValueError(
            f"The corpus is empty: {len(files)} file(s), all empty ({', '.join(files[:3])})."
        )
    return files


@functools.cache
def _readers(errors):
    """The reading functions of a document dataset, traced once per process and
    `errors`: a pretraining run makes a document dataset for every checkpoint segment,
    whose maps then call them instead of tracing their bodies again."""
    text = tf.TensorSpec([], tf.string)

    def traced(function, *specs):
        return tf.function(function, input_signature=list(specs), autograph=False)

    return {
        "file": traced(
            lambda path: decode_checked(tf.io.read_file(path), path, errors=errors), text
        ),
        "line": traced(
            lambda line, path, number: decode_checked(line, path, number, errors),
            text,
            text,
            tf.TensorSpec([], tf.int64),
        ),
        "sentences": traced(lambda text: split_sentences(text[None])[0], text),
        "documents": traced(_bert_format_documents, text),
    }


def _lines(path, errors):
    numbered = tf.data.TextLineDataset(path).enumerate(start=1)
    line = _readers(errors)["line"]
    return numbered.map(plain(lambda number, text: line(text, path, number)))


def document_dataset(patterns, format="sentences", errors="strict"):
    """A dataset of documents, each a 1-D string tensor of its sentences (never empty).

    `errors`: "strict" (invalid UTF-8 is an error naming file, line and byte offset)
    or "replace" (invalid bytes become U+FFFD).
    """
    if format not in FORMATS:
        raise ValueError(f"Unknown corpus format {format!r}; expected one of {FORMATS}.")
    if errors not in ENCODING_ERRORS:
        raise ValueError(f"errors must be one of {ENCODING_ERRORS}, not {errors!r}.")
    readers = _readers(errors)
    files = tf.data.Dataset.from_tensor_slices(list_files(patterns))
    if format == "lines":
        lines = files.flat_map(plain(lambda path: _lines(path, errors)))
        documents = lines.map(readers["sentences"])
    else:
        texts = files.map(readers["file"])
        if format == "files":
            documents = texts.map(readers["sentences"])
        else:
            documents = texts.flat_map(
                plain(lambda text: tf.data.Dataset.from_tensor_slices(readers["documents"](text)))
            )
    return documents.filter(plain(lambda sentences: tf.size(sentences) > 0))
