"""Writes a tiny GLUE data folder in the real layout, with the real files' quirks:
CoLA's headerless train/dev (and its headed test), unbalanced double quotes (MRPC),
a byte-order mark (SST-2 dev), a malformed row (QQP train), float scores (STS-B),
MNLI's matched/mismatched files, and the unlabelled test sets and AX diagnostic."""

import os

SENTENCES = [
    "The cat sat on the mat .",
    "A dog barked at the mailman !",
    'He said " no way .',
    "Stocks fell sharply on Monday .",
    "The film was a delight .",
    "It rained all day .",
    "She won the race easily .",
    "The book is on the table .",
]


def _write(path, lines, bom=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(("\ufeff" if bom else "") + "".join(line + "\n" for line in lines))


def _pairs(n, offset=0):
    return [(SENTENCES[(i + offset) % 8], SENTENCES[(i + offset + 3) % 8]) for i in range(n)]


def write_glue(root, rows=6):
    """A GLUE folder under `root` with `rows` examples per split; returns `root`."""
    j = "\t".join
    labels2 = ["0", "1"]
    nli3, nli2 = ["entailment", "neutral", "contradiction"], ["entailment", "not_entailment"]
    for split in ("train", "dev"):
        _write(
            f"{root}/CoLA/{split}.tsv",
            [
                j(["gj04", labels2[i % 2], "" if i % 2 else "*", SENTENCES[i % 8]])
                for i in range(rows)
            ],
        )
        _write(
            f"{root}/SST-2/{split}.tsv",
            [j(["sentence", "label"])]
            + [j([SENTENCES[i % 8], labels2[i % 2]]) for i in range(rows)],
            bom=split == "dev",
        )
        _write(
            f"{root}/MRPC/{split}.tsv",
            [j(["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"])]
            + [
                j([labels2[i % 2], str(100 + i), str(200 + i), a, b])
                for i, (a, b) in enumerate(_pairs(rows))
            ],
        )
        qqp = [j(["id", "qid1", "qid2", "question1", "question2", "is_duplicate"])]
        qqp += [
            j([str(i), str(2 * i), str(2 * i + 1), a, b, labels2[i % 2]])
            for i, (a, b) in enumerate(_pairs(rows, 1))
        ]
        if split == "train":
            qqp.insert(3, j(["99", "7", "8", "How do I cook rice?"]))  # Missing fields.
        _write(f"{root}/QQP/{split}.tsv", qqp)
        _write(
            f"{root}/STS-B/{split}.tsv",
            [
                j(
                    [
                        "index",
                        "genre",
                        "filename",
                        "year",
                        "old_index",
                        "source1",
                        "source2",
                        "sentence1",
                        "sentence2",
                        "score",
                    ]
                )
            ]
            + [
                j(
                    [
                        str(i),
                        "main-captions",
                        "MSRvid",
                        "2012test",
                        f"{i:04d}",
                        "none",
                        "none",
                        a,
                        b,
                        f"{(i * 0.8) % 5:.3f}",
                    ]
                )
                for i, (a, b) in enumerate(_pairs(rows))
            ],
        )
        for name, task_labels in (("QNLI", nli2), ("RTE", nli2), ("WNLI", labels2)):
            columns = ["question", "sentence"] if name == "QNLI" else ["sentence1", "sentence2"]
            _write(
                f"{root}/{name}/{split}.tsv",
                [j(["index"] + columns + ["label"])]
                + [
                    j([str(i), a, b, task_labels[i % len(task_labels)]])
                    for i, (a, b) in enumerate(_pairs(rows, 2))
                ],
            )
    mnli_header = [
        "index",
        "promptID",
        "pairID",
        "genre",
        "sentence1_binary_parse",
        "sentence2_binary_parse",
        "sentence1_parse",
        "sentence2_parse",
        "sentence1",
        "sentence2",
    ]
    for split in ("train", "dev_matched", "dev_mismatched"):
        extra = ["label1"] if split == "train" else [f"label{k}" for k in range(1, 6)]
        _write(
            f"{root}/MNLI/{split}.tsv",
            [j(mnli_header + extra + ["gold_label"])]
            + [
                j(
                    [
                        str(i),
                        "1",
                        f"{i}e",
                        "fiction",
                        "( a )",
                        "( b )",
                        "(ROOT a)",
                        "(ROOT b)",
                        a,
                        b,
                    ]
                    + [nli3[i % 3]] * (len(extra) + 1)
                )
                for i, (a, b) in enumerate(_pairs(rows, 3))
            ],
        )
    for split in ("test_matched", "test_mismatched"):
        _write(
            f"{root}/MNLI/{split}.tsv",
            [j(mnli_header)]
            + [
                j([str(i), "1", f"{i}e", "fiction", "( a )", "( b )", "(ROOT a)", "(ROOT b)", a, b])
                for i, (a, b) in enumerate(_pairs(rows, 4))
            ],
        )
    _write(
        f"{root}/CoLA/test.tsv",
        [j(["index", "sentence"])] + [j([str(i), SENTENCES[i % 8]]) for i in range(rows)],
    )
    _write(
        f"{root}/SST-2/test.tsv",
        [j(["index", "sentence"])] + [j([str(i), SENTENCES[i % 8]]) for i in range(rows)],
    )
    _write(
        f"{root}/MRPC/test.tsv",
        [j(["index", "#1 ID", "#2 ID", "#1 String", "#2 String"])]
        + [j([str(i), "1", "2", a, b]) for i, (a, b) in enumerate(_pairs(rows))],
    )
    _write(
        f"{root}/QQP/test.tsv",
        [j(["id", "question1", "question2"])]
        + [j([str(i), a, b]) for i, (a, b) in enumerate(_pairs(rows))],
    )
    _write(
        f"{root}/STS-B/test.tsv",
        [
            j(
                [
                    "index",
                    "genre",
                    "filename",
                    "year",
                    "old_index",
                    "source1",
                    "source2",
                    "sentence1",
                    "sentence2",
                ]
            )
        ]
        + [
            j([str(i), "main-news", "f", "2016", "0", "none", "none", a, b])
            for i, (a, b) in enumerate(_pairs(rows))
        ],
    )
    for name, columns in (
        ("QNLI", ["question", "sentence"]),
        ("RTE", ["sentence1", "sentence2"]),
        ("WNLI", ["sentence1", "sentence2"]),
    ):
        _write(
            f"{root}/{name}/test.tsv",
            [j(["index"] + columns)] + [j([str(i), a, b]) for i, (a, b) in enumerate(_pairs(rows))],
        )
    _write(
        f"{root}/diagnostic/diagnostic.tsv",
        [j(["index", "sentence1", "sentence2"])]
        + [j([str(i), a, b]) for i, (a, b) in enumerate(_pairs(rows, 5))],
    )
    return root
