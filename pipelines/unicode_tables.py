"""Per-code-point tables for BERT's text normalization, built from Python's unicodedata.

The reference (Google's tokenization.py, and the BertNormalizer/BertPreTokenizer that
transformers uses) cleans, splits and normalizes text character by character. We
precompute, for every code point, what that reference does to it, so the in-graph
tokenizer is a table lookup: exact, fast and independent of ICU's Unicode version.

Flags (bits of one uint8 per code point):
- WHITESPACE: splits words (space, tab, newlines, Zs, U+2028/U+2029).
- DELETE: removed before anything else, joining its neighbours (NUL, U+FFFD and the
  "other" categories Cc, Cf, Co, Cs, except tab and newlines).
- ISOLATE: a token on its own: punctuation (ASCII punctuation or any P* category,
  judged on the normalized character) and CJK ideographs.
- CHANGED: the uncased normalization (NFD, drop Mn marks, lowercase) changes it into
  the code points in the replacement table. A character it removes entirely (a
  combining mark) is flagged DELETE instead: like a control character, it vanishes.

Building the tables walks every code point (about 3 s of Python), so they are kept in
a cache folder (`$KERAS_BERT_CACHE`, else `$XDG_CACHE_HOME/keras_bert`, else
`~/.cache/keras_bert`), one file per Unicode version and casing; a process that finds
its file loads it in milliseconds. A damaged or unwritable cache is rebuilt or skipped.
"""

import functools
import os
import tempfile
import unicodedata
import zipfile

import numpy as np

WHITESPACE, DELETE, ISOLATE, CHANGED = 1, 2, 4, 8
NUM_CODE_POINTS = 0x110000

_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)
_DELETED_CATEGORIES = ("Cc", "Cf", "Co", "Cs")


def is_punctuation(char):
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def normalize_uncased(char):
    """NFD, drop non-spacing marks, lowercase: the uncased models' normalization."""
    decomposed = unicodedata.normalize("NFD", char)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return stripped.lower()


def _base_flags():
    flags = np.zeros(NUM_CODE_POINTS, dtype=np.uint8)
    for cp in range(NUM_CODE_POINTS):
        char = chr(cp)
        category = unicodedata.category(char)
        if char in " \t\n\r" or category == "Zs" or cp in (0x2028, 0x2029):
            flags[cp] = WHITESPACE
        elif cp in (0, 0xFFFD) or category in _DELETED_CATEGORIES:
            flags[cp] = DELETE
        elif category[0] == "P" or is_punctuation(char):
            flags[cp] = ISOLATE
    for low, high in _CJK_RANGES:
        flags[low : high + 1] |= ISOLATE
    return flags


# Part of the cache file's name: change it when what `build_tables` computes changes.
TABLES_FORMAT = 1


def cache_folder():
    """Where the tables are kept (see the module docstring)."""
    if os.environ.get("KERAS_BERT_CACHE"):
        return os.environ["KERAS_BERT_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keras_bert")


def cache_path(lowercase):
    casing = "uncased" if lowercase else "cased"
    name = f"unicode-{unicodedata.unidata_version}-{casing}-v{TABLES_FORMAT}.npz"
    return os.path.join(cache_folder(), name)


@functools.lru_cache(maxsize=2)
def tables(lowercase):
    """(flags, index, replacements) for the uncased (lowercase=True) or cased rules:
    `build_tables`'s, from the cache when it holds them.

    flags: uint8[0x110000]. index: int32[m], for code points below m the row of
    `replacements` for a CHANGED character (else -1). replacements: int32[n, width],
    the code points each CHANGED character becomes, padded with -1.
    """
    path = cache_path(lowercase)
    try:
        with np.load(path) as saved:
            return saved["flags"], saved["index"], saved["replacements"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        pass  # Not cached yet, or damaged: built again below.
    built = build_tables(lowercase)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".npz")
        with os.fdopen(handle, "wb") as f:
            np.savez(f, flags=built[0], index=built[1], replacements=built[2])
        os.replace(temporary, path)  # Atomic: a reader never sees half a file.
    except OSError:
        pass  # A read-only home: build the tables in every process instead.
    return built


def build_tables(lowercase):
    """The tables of `tables`, computed from Python's unicodedata."""
    flags = _base_flags()
    changed = {}
    if lowercase:
        candidates = np.flatnonzero(flags == 0)  # Ordinary characters only.
        for cp in candidates.tolist():
            char = chr(cp)
            if 0xD800 <= cp <= 0xDFFF:
                continue
            normalized = normalize_uncased(char)
            if normalized == char:
                continue
            if not normalized:
                flags[cp] |= DELETE
                continue
            changed[cp] = [ord(c) for c in normalized]
            flags[cp] |= CHANGED
            if len(normalized) == 1 and is_punctuation(normalized):
                flags[cp] |= ISOLATE
    index = np.full(max(changed, default=0) + 1, -1, dtype=np.int32)
    width = max((len(v) for v in changed.values()), default=1)
    replacements = np.full((max(len(changed), 1), width), -1, dtype=np.int32)
    for row, (cp, points) in enumerate(sorted(changed.items())):
        index[cp] = row
        replacements[row, : len(points)] = points
    return flags, index, replacements
