"""Reading and writing CoNLL-2003-style column files (one word per line).

The format: a word per line with whitespace-separated columns (CoNLL-2003: word, POS,
chunk, NER tag); the tag is the last column, the word the first, other columns are
ignored. A blank line ends a sentence (a file of over 200 words with none is an error:
its sentence breaks are missing); `-DOCSTART-` lines separate documents. Every
line of a file must have the same number of columns, and every tag must be O or
B-/I-/E-/S-<TYPE>; otherwise the error names the file and line. The file's scheme
(IOB1 in the original CoNLL-2003 files, IOB2 or IOBES) is detected and can be
converted (`pipelines.tag_schemes`).
"""

import dataclasses
import json
import os

from pipelines import tag_schemes
from pipelines.documents import check_utf8

# A whole file of more words than this without a blank line is a file whose sentence
# breaks are missing (CoNLL-2003's longest sentence has 124 words), not one sentence.
_ONE_SENTENCE_LIMIT = 200


@dataclasses.dataclass
class TaggedSentences:
    """Sentences of words with one tag per word.

    Args:
        words: list of lists of str.
        tags: list of lists of str (None for unlabelled text).
        scheme: str, the tags' scheme ("iob1", "iob2", "iobes").
        lines: list of int, the file line of each sentence's first word.
        source: str, the file read.
    """

    words: list
    tags: list
    scheme: str = "iob2"
    lines: list = dataclasses.field(default_factory=list)
    source: str = ""

    def __len__(self):
        return len(self.words)

    def converted(self, scheme):
        """The same sentences with tags in another scheme."""
        tags = [tag_schemes.convert(t, scheme) for t in self.tags]
        return dataclasses.replace(self, tags=tags, scheme=scheme)


def read_conll(path, scheme=None):
    """Reads a CoNLL column file (or JSONL with "words" and "ner" lists per line).

    Args:
        path: str.
        scheme: None to detect the file's scheme, or the scheme to convert to.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".txt")
    >>> _ = open(path, "w").write("-DOCSTART- -X- O O\\n\\nEU NNP I-NP I-ORG\\n"
    ...                           "rejects VBZ I-VP O\\nGerman JJ I-NP I-MISC\\n\\n")
    >>> data = read_conll(path)
    >>> data.words, data.tags, data.scheme
    ([['EU', 'rejects', 'German']], [['I-ORG', 'O', 'I-MISC']], 'iob1')
    >>> read_conll(path, scheme="iob2").tags
    [['B-ORG', 'O', 'B-MISC']]
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file.")
    check_utf8([path])
    if path.endswith(".jsonl"):
        return _finish(_read_jsonl(path), scheme)
    out = TaggedSentences([], [], source=path)
    words, tags, columns = [], [], None

    def flush():
        if words:
            out.words.append(list(words))
            out.tags.append(list(tags))
            words.clear()
            tags.clear()

    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields or fields[0] == "-DOCSTART-":
                flush()
                continue
            if columns is None:
                columns = len(fields)
                if columns < 2:
                    raise ValueError(
                        f"{path}:{number}: one column; expected a word and "
                        "its tag (the tag in the last column)."
                    )
            elif len(fields) != columns:
                raise ValueError(
                    f"{path}:{number}: {len(fields)} columns where the file has {columns}."
                )
            try:
                tag_schemes.split_tag(fields[-1])
            except ValueError as error:
                raise ValueError(f"{path}:{number}: {error}.") from None
            if not words:
                out.lines.append(number)
            words.append(fields[0])
            tags.append(fields[-1])
    flush()
    if len(out.words) == 1 and len(out.words[0]) > _ONE_SENTENCE_LIMIT:
        raise ValueError(
            f"{path}: {len(out.words[0])} words and no blank line, so one "
            "sentence; in the CoNLL format a blank line ends each sentence."
        )
    return _finish(out, scheme)


def _finish(out, scheme):
    if not out.words:
        raise ValueError(f"{out.source}: no sentences.")
    if scheme is not None and scheme not in tag_schemes.SCHEMES:
        raise ValueError(f"scheme must be one of {tag_schemes.SCHEMES}, not {scheme!r}.")
    out.scheme = tag_schemes.detect_scheme(out.tags)
    return out.converted(scheme) if scheme and scheme != out.scheme else out


def _read_jsonl(path):
    """One sentence per line: {"words" (or "tokens"): [...], "ner" (or "tags"): [...]}."""
    out = TaggedSentences([], [], source=path)
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON ({error}).") from None
            words = record.get("words", record.get("tokens"))
            tags = record.get("ner", record.get("tags"))
            if not isinstance(words, list) or not isinstance(tags, list):
                raise ValueError(f"{path}:{number}: needs lists 'words' and 'ner'.")
            if len(words) != len(tags):
                raise ValueError(f"{path}:{number}: {len(words)} words but {len(tags)} tags.")
            for tag in tags:
                try:
                    tag_schemes.split_tag(str(tag))
                except ValueError as error:
                    raise ValueError(f"{path}:{number}: {error}.") from None
            if words:
                out.words.append([str(w) for w in words])
                out.tags.append([str(t) for t in tags])
                out.lines.append(number)
    return out


def write_conll(path, words, gold, predicted):
    """The file conlleval reads: `word gold predicted` per line, a blank line between
    sentences. Returns `path`."""
    with open(path, "w", encoding="utf-8") as f:
        for sentence, g, p in zip(words, gold, predicted):
            for word, a, b in zip(sentence, g, p):
                f.write(f"{word} {a} {b}\n")
            f.write("\n")
    return path
