"""GLUE: the nine tasks and the AX diagnostic, read from the data folder as GLUE's
download script lays it out (`CoLA/`, `SST-2/`, `MRPC/`, `QQP/`, `STS-B/`, `MNLI/`,
`QNLI/`, `RTE/`, `WNLI/`, `diagnostic/`). Task names are spelled as TensorFlow Datasets
spells them (`cola`, `sst2`, ..., `ax`).

Each task's own quirks are in its `GlueTask` entry: CoLA's train/dev files have no
header (its test file has one); test files have no labels; MNLI has matched and
mismatched dev/test files; STS-B is regression (0..5). Label names are tfds's order.
Files are read by `text_table.read_examples` (no CSV quoting: GLUE's TSVs contain
unbalanced quotes; a byte-order mark is ignored; bad rows are errors naming file and
line unless on_error="skip").
"""

import dataclasses
import os

from pipelines.text_table import TextExamples, read_examples

BINARY = ("0", "1")
NLI3 = ("entailment", "neutral", "contradiction")
NLI2 = ("entailment", "not_entailment")


@dataclasses.dataclass(frozen=True)
class GlueTask:
    """How one GLUE task's files are laid out and scored."""

    folder: str
    text_columns: tuple  # Labelled files (train, dev).
    label_column: object
    label_names: tuple  # None for regression.
    metrics: tuple  # Metric names; the first is the task's main metric.
    test_text_columns: tuple = None  # When the test file's columns differ.
    header: bool = True  # Labelled files start with a header row.
    id_column: object = None  # In labelled files (test files: "index" or "id").
    test_id_column: str = "index"
    splits: tuple = ("train", "dev", "test")
    submission: dict = dataclasses.field(default_factory=dict)  # split -> leaderboard file.

    @property
    def regression(self):
        return self.label_names is None


TASKS = {
    "cola": GlueTask(
        "CoLA",
        (3,),
        1,
        BINARY,
        ("mcc", "accuracy"),
        ("sentence",),
        header=False,
        submission={"test": "CoLA.tsv"},
    ),
    "sst2": GlueTask(
        "SST-2", ("sentence",), "label", BINARY, ("accuracy",), submission={"test": "SST-2.tsv"}
    ),
    "mrpc": GlueTask(
        "MRPC",
        ("#1 String", "#2 String"),
        "Quality",
        BINARY,
        ("f1", "accuracy"),
        submission={"test": "MRPC.tsv"},
    ),
    "qqp": GlueTask(
        "QQP",
        ("question1", "question2"),
        "is_duplicate",
        BINARY,
        ("f1", "accuracy"),
        id_column="id",
        test_id_column="id",
        submission={"test": "QQP.tsv"},
    ),
    "stsb": GlueTask(
        "STS-B",
        ("sentence1", "sentence2"),
        "score",
        None,
        ("spearman", "pearson"),
        id_column="index",
        submission={"test": "STS-B.tsv"},
    ),
    "mnli": GlueTask(
        "MNLI",
        ("sentence1", "sentence2"),
        "gold_label",
        NLI3,
        ("accuracy",),
        id_column="index",
        splits=("train", "dev_matched", "dev_mismatched", "test_matched", "test_mismatched"),
        submission={"test_matched": "MNLI-m.tsv", "test_mismatched": "MNLI-mm.tsv"},
    ),
    "qnli": GlueTask(
        "QNLI",
        ("question", "sentence"),
        "label",
        NLI2,
        ("accuracy",),
        id_column="index",
        submission={"test": "QNLI.tsv"},
    ),
    "rte": GlueTask(
        "RTE",
        ("sentence1", "sentence2"),
        "label",
        NLI2,
        ("accuracy",),
        id_column="index",
        submission={"test": "RTE.tsv"},
    ),
    "wnli": GlueTask(
        "WNLI",
        ("sentence1", "sentence2"),
        "label",
        BINARY,
        ("accuracy",),
        id_column="index",
        submission={"test": "WNLI.tsv"},
    ),
    # The diagnostic set: no labels, predicted with an MNLI model (its label names).
    "ax": GlueTask(
        "diagnostic",
        ("sentence1", "sentence2"),
        None,
        NLI3,
        ("mcc",),
        splits=("test",),
        submission={"test": "AX.tsv"},
    ),
}
# tfds split names -> file names.
SPLIT_ALIASES = {
    "validation": "dev",
    "validation_matched": "dev_matched",
    "validation_mismatched": "dev_mismatched",
}


def get_task(name):
    if name not in TASKS:
        raise ValueError(f"Unknown GLUE task {name!r}; expected one of {', '.join(TASKS)}.")
    return TASKS[name]


def split_path(task_name, split, data_dir):
    """The file of one split: `data_dir/<Folder>/<split>.tsv` (AX: diagnostic.tsv)."""
    task = get_task(task_name)
    split = SPLIT_ALIASES.get(split, split)
    if split not in task.splits:
        raise ValueError(
            f"GLUE {task_name} has no split {split!r}; its splits: {', '.join(task.splits)}."
        )
    name = "diagnostic" if task_name == "ax" else split
    path = os.path.join(data_dir, task.folder, f"{name}.tsv")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path}: not found. Expected GLUE's data folder as its download script lays "
            f"it out (e.g. {os.path.join(data_dir, task.folder, 'train.tsv')})."
        )
    return path


def glue_examples(task_name, split, data_dir, on_error="raise"):
    """`TextExamples` of one GLUE split (unlabelled for test splits)."""
    task = get_task(task_name)
    split = SPLIT_ALIASES.get(split, split)
    path = split_path(task_name, split, data_dir)
    if split.startswith("test"):
        return read_examples(
            path,
            task.test_text_columns or task.text_columns,
            id_column=task.test_id_column,
            header=True,
            format="tsv",
            on_error=on_error,
            label_names=task.label_names,
        )
    return read_examples(
        path,
        task.text_columns,
        task.label_column,
        label_names=task.label_names,
        regression=task.regression,
        id_column=task.id_column,
        format="tsv",
        header=task.header,
        on_error=on_error,
    )


def tasks_in(data_dir):
    """The GLUE tasks whose training file (AX: its file) is in `data_dir`."""
    found = []
    for name, task in TASKS.items():
        first = "diagnostic.tsv" if name == "ax" else "train.tsv"
        if os.path.isfile(os.path.join(data_dir, task.folder, first)):
            found.append(name)
    return found


def write_submission(path, ids, predictions):
    """A leaderboard TSV: `index<TAB>prediction` rows under a header, written atomically."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
        f.write("index\tprediction\n")
        for example_id, prediction in zip(ids, predictions):
            value = f"{prediction:.3f}" if isinstance(prediction, float) else prediction
            f.write(f"{example_id}\t{value}\n")
    os.replace(path + ".tmp", path)
    return path


# TensorFlow Datasets' feature names for each task's texts.
TFDS_TEXT_FEATURES = {
    "cola": ("sentence",),
    "sst2": ("sentence",),
    "mrpc": ("sentence1", "sentence2"),
    "qqp": ("question1", "question2"),
    "stsb": ("sentence1", "sentence2"),
    "mnli": ("premise", "hypothesis"),
    "qnli": ("question", "sentence"),
    "rte": ("sentence1", "sentence2"),
    "wnli": ("sentence1", "sentence2"),
    "ax": ("premise", "hypothesis"),
}


def tfds_examples(task_name, split, data_dir=None):
    """`TextExamples` from a locally prepared TensorFlow Datasets `glue/<task>`.

    Nothing is downloaded: a dataset that is not prepared under `data_dir` (tfds's
    default folder when None) fails at once with a message saying where it must be.
    Splits are tfds's (`train`, `validation`, `test`, `validation_matched`, ...); test
    splits (label -1) come back unlabelled.
    """
    import tensorflow_datasets as tfds

    task = get_task(task_name)
    try:
        dataset, info = tfds.load(
            f"glue/{task_name}", split=split, data_dir=data_dir, download=False, with_info=True
        )
    except AssertionError:  # tfds's "could not find data" (raised at once, no retries).
        raise FileNotFoundError(
            f"glue/{task_name} is not prepared in {data_dir or 'tfds default data folder'}. "
            f"Prepare it once where the network is reachable (`tfds build glue/{task_name} "
            "--data_dir DIR`) and pass that folder as data_dir, or read GLUE's original "
            "files with glue_examples(..., data_dir=GLUE_DIR)."
        ) from None
    features = TFDS_TEXT_FEATURES[task_name]
    texts, labels, ids = [[] for _ in features], [], []
    for example in tfds.as_numpy(dataset):
        for segment, name in zip(texts, features):
            segment.append(example[name].decode("utf-8"))
        labels.append(example["label"])
        ids.append(str(example["idx"]))
    # The files' label values name the classes (what GLUE's leaderboard expects); tfds's
    # names differ for some tasks (MRPC: not_equivalent/equivalent) but not its ids.
    names = None if task.regression else task.label_names
    if names is not None and info.features["label"].num_classes != len(names):
        raise ValueError(
            f"glue/{task_name}: tfds has {info.features['label'].num_classes} "
            f"classes, expected {len(names)}."
        )
    unlabelled = all(label == -1 for label in labels)
    if not unlabelled:
        labels = [float(v) for v in labels] if task.regression else [int(v) for v in labels]
    return TextExamples(
        texts, None if unlabelled else labels, ids, names, f"tfds glue/{task_name} {split}"
    )
