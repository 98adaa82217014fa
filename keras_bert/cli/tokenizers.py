"""One tokenizer per vocabulary file in a process: the commands' runs share it.

A tokenizer's traced functions (the preprocessor's packing, the pretraining example
builder) are kept for the tokenizer's life, so runs that share one trace each of them
once: `experiment` commands and GLUE sweeps run several fine-tunings of one checkpoint
in a process, and a command run from Python (`keras_bert.cli.main`) may run many. A
file is the same vocabulary while its path and contents are the same (an exported
model tracks the file by path).
"""

import collections
import hashlib
import os

_SHARED = collections.OrderedDict()  # (real path, sha256, lowercase) -> BertTokenizer
KEPT = 8  # The most recently used tokenizers kept.


def shared_tokenizer(vocabulary, lowercase=None):
    """The process's `pipelines.BertTokenizer(vocabulary, lowercase)`, made at the first
    call for this file's path and contents and this casing.

    Args:
        vocabulary: str, a vocab.txt path.
        lowercase: bool or None (None: the folder's config says, as `BertTokenizer`).

    Example:
    >>> shared_tokenizer("tests/data/vocab.txt", True) is shared_tokenizer(
    ...     "tests/data/vocab.txt", lowercase=True)
    True
    """
    from pipelines import BertTokenizer
    from pipelines.vocabulary import resolve_lowercase

    try:
        path = os.path.realpath(vocabulary)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
    except OSError:  # Unreadable: the tokenizer says so in its own words.
        return BertTokenizer(vocabulary, lowercase=lowercase)
    key = (path, digest, resolve_lowercase(vocabulary, lowercase))
    if key not in _SHARED:
        _SHARED[key] = BertTokenizer(vocabulary, lowercase=key[2])
        while len(_SHARED) > KEPT:
            _SHARED.popitem(last=False)
    _SHARED.move_to_end(key)
    return _SHARED[key]


def folder_tokenizer(directory, lowercase=None):
    """`shared_tokenizer` of a checkpoint or run folder's vocab.txt (as
    `BertTokenizer.from_dir`)."""
    from pipelines.vocabulary import vocabulary_file

    return shared_tokenizer(vocabulary_file(directory), lowercase)
