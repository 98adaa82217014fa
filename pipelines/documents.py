"""Reading pretraining corpora into a dataset of documents (each a 1-D tensor of sentences).

Formats:
- "sentences": Google BERT's format: one sentence per line, a blank line between documents.
- "lines": one document per line; sentences are found by `split_sentences`.
- "files": one document per file (e.g. a news article); lines and sentences both split.

`split_sentences` is a regex splitter: it breaks after `.`, `!` or `?` (and any closing
quotes or brackets right after them) when whitespace follows. It does not know
abbreviations ("Mr. Smith" becomes two sentences), which only shortens some sentences.
"""

import tensorflow as tf

FORMATS = ("sentences", "lines", "files")
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


def list_files(patterns):
    """Sorted files matching one or more glob patterns; a clear error when none match."""
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    files = []
    for pattern in patterns:
        matched = tf.io.gfile.glob(pattern)
        if not matched:
            raise FileNotFoundError(f"No files match {pattern!r}.")
        files.extend(matched)
    files = sorted(set(files))
    if all(tf.io.gfile.stat(f).length == 0 for f in files):
        raise ValueError(f"The corpus is empty: {len(files)} file(s), all empty "
                         f"({', '.join(files[:3])}).")
    return files


def document_dataset(patterns, format="sentences"):
    """A dataset of documents, each a 1-D string tensor of its sentences (never empty)."""
    if format not in FORMATS:
        raise ValueError(f"Unknown corpus format {format!r}; expected one of {FORMATS}.")
    files = tf.data.Dataset.from_tensor_slices(list_files(patterns))
    if format == "lines":
        lines = files.flat_map(tf.data.TextLineDataset)
        documents = lines.map(lambda line: split_sentences(line[None])[0])
    else:
        texts = files.map(tf.io.read_file)
        if format == "files":
            documents = texts.map(lambda text: split_sentences(text[None])[0])
        else:
            documents = texts.flat_map(
                lambda text: tf.data.Dataset.from_tensor_slices(_bert_format_documents(text)))
    return documents.filter(lambda sentences: tf.size(sentences) > 0)
