"""Reading labelled text from TSV, CSV and JSONL files, with errors that name the line.

`read_examples` returns `TextExamples`: one list of strings per text segment (one or
two), the labels (class ids, or floats for regression; None for unlabelled files such
as GLUE's test sets), an id per example and the label names. Bad rows (a wrong column
count, a label outside the label set, an empty text, a score that is not a number) are
an error naming the file and line; with `on_error="skip"` they are skipped and counted
in `skipped` (and the first few reasons kept in `problems`). Nothing is dropped silently.
Texts must be strings (a JSON number, boolean or object in a text column is a bad row);
a label is a class name or number, and numbers name one class however they are written
(`1`, `1.0`, `01` and JSON `1` are the class "1"); scores must be finite.

TSV is read without quoting: GLUE's files contain unbalanced double quotes. CSV uses
standard quoting, with no limit on a field's length (a whole article is one field). A
UTF-8 byte-order mark at the start of a file is ignored; invalid UTF-8 is an error naming
the line, or with `encoding_errors="replace"` becomes U+FFFD (counted in `problems`).
A header naming one column twice is an error.
"""

import csv
import dataclasses
import json
import math
import os
import re
import sys

FORMATS = ("tsv", "csv", "jsonl")
ON_ERROR = ("raise", "skip")
ENCODING_ERRORS = ("strict", "replace")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# The csv module refuses fields over 131,072 characters unless told otherwise.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclasses.dataclass
class TextExamples:
    """Texts, labels and ids read from one file.

    Args:
        texts: list of lists of str, one list per segment, all of one length.
        labels: list of int (class ids) or float (regression), or None (unlabelled).
        ids: list of str, an id per example (an id column, else the line number).
        label_names: tuple of str, class names by id; None for regression.
        source: str, the file read.
        skipped: int, bad rows skipped with on_error="skip".
        problems: list of str, the first reasons rows were skipped.
    """

    texts: list
    labels: list
    ids: list
    label_names: tuple
    source: str
    skipped: int = 0
    problems: list = dataclasses.field(default_factory=list)

    def __len__(self):
        return len(self.ids)


def file_format(path, format=None):
    if format is None:
        format = os.path.splitext(path)[1].lstrip(".").lower()
    if format not in FORMATS:
        raise ValueError(
            f"{path}: unknown format {format!r}; expected one of {FORMATS} "
            "(from the file name, or given explicitly)."
        )
    return format


def _open_text(path, encoding_errors="strict"):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file.")
    if encoding_errors not in ENCODING_ERRORS:
        raise ValueError(
            f"encoding_errors must be one of {ENCODING_ERRORS}, not {encoding_errors!r}."
        )
    return open(path, encoding="utf-8-sig", newline="", errors=encoding_errors)


def _first_invalid_utf8(path):
    """ "FILE:LINE: not valid UTF-8 (invalid byte at offset N)..." or None when valid."""
    from pipelines.documents import check_utf8

    try:
        check_utf8([path])
    except ValueError as e:
        return str(e)
    return None


def _invalid_utf8(path):
    where = _first_invalid_utf8(path) or f"{path}: not valid UTF-8"
    return ValueError(
        f"{where} (encoding_errors='replace', --encoding-errors replace, replaces bad bytes)"
    )


def _records(path, format, header, encoding_errors="strict"):
    """Yields (line_number, row) where row is a dict (header / JSONL) or a list."""
    with _open_text(path, encoding_errors) as f:
        try:
            if format == "jsonl":
                for number, line in enumerate(f, start=1):
                    if line.strip():
                        yield number, _json_row(path, number, line)
                return
            if format == "csv":
                reader = csv.reader(f)
                rows = ((reader.line_num, row) for row in reader)
            else:
                rows = ((n, line.rstrip("\r\n").split("\t")) for n, line in enumerate(f, 1))
            names = None
            for number, row in rows:
                if header and names is None:
                    names = _header(path, number, row)
                    continue
                if row == [] or row == [""]:
                    continue  # A blank line (e.g. at the end of the file).
                yield number, (row if names is None else _named(path, number, names, row))
        except UnicodeDecodeError:
            raise _invalid_utf8(path) from None


def _header(path, number, row):
    names = [name.strip() for name in row]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(
            f"{path}:{number}: the header names column(s) "
            f"{', '.join(map(repr, repeated))} more than once"
        )
    return names


def _json_row(path, number, line):
    """A dict, or a _RowError (raised when the row is used, so it can be skipped)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        return _RowError(f"{path}:{number}: invalid JSON: {e.msg}")
    if not isinstance(row, dict):
        return _RowError(f"{path}:{number}: expected a JSON object per line")
    return row


def _named(path, number, names, row):
    if len(row) != len(names):
        return _RowError(
            f"{path}:{number}: expected {len(names)} columns ({', '.join(names)}), found {len(row)}"
        )
    return dict(zip(names, row))


class _RowError(ValueError):
    """A bad row: raised, or skipped and counted with on_error='skip'."""


def _field(path, number, row, column):
    """The value of `column` (a name, or an index for files without a header)."""
    if isinstance(row, _RowError):
        raise row
    try:
        value = row[column]
    except (KeyError, IndexError):
        have = (
            f"columns {', '.join(map(str, row))}"
            if isinstance(row, dict)
            else f"{len(row)} columns"
        )
        raise _RowError(f"{path}:{number}: no column {column!r} (the row has {have})") from None
    if value is None:
        raise _RowError(f"{path}:{number}: column {column!r} is null")
    return value


def _text(path, number, row, column):
    value = _field(path, number, row, column)
    if not isinstance(value, str):
        raise _RowError(
            f"{path}:{number}: column {column!r} holds {_json_kind(value)} "
            f"({json.dumps(value)[:40]}), not text"
        )
    if not value.strip():
        raise _RowError(f"{path}:{number}: empty text in column {column!r}")
    return value


def _json_kind(value):
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a list" if isinstance(value, list) else "an object"


def label_name(value):
    """A label's class name: numbers in one spelling ("1.0", "01", JSON 1 -> "1"),
    booleans as "true"/"false", other text stripped.

    >>> [label_name(v) for v in ("1.0", " 02", 3, "2.50", True, "pos")]
    ['1', '2', '3', '2.5', 'true', 'pos']
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise ValueError(f"{_json_kind(value)} ({json.dumps(value)[:40]}) is not a label")
    name = str(value).strip()
    if _NUMBER.fullmatch(name):
        number = float(name)
        if math.isfinite(number):
            return str(int(number)) if number.is_integer() else repr(number)
    return name


def _label(path, number, value, label_names, regression):
    if regression:
        try:
            score = float(value)
        except (TypeError, ValueError):
            raise _RowError(f"{path}:{number}: score {value!r} is not a number") from None
        if isinstance(value, bool) or not math.isfinite(score):
            raise _RowError(f"{path}:{number}: score {value!r} is not a finite number")
        return score
    try:
        name = label_name(value)
    except ValueError as e:
        raise _RowError(f"{path}:{number}: {e}") from None
    if not name:
        raise _RowError(f"{path}:{number}: empty label")
    if name not in label_names:
        raise _RowError(f"{path}:{number}: label {name!r} is not one of {', '.join(label_names)}")
    return label_names.index(name)


def read_examples(
    path,
    text_columns,
    label_column=None,
    label_names=None,
    regression=False,
    id_column=None,
    format=None,
    header=True,
    on_error="raise",
    encoding_errors="strict",
):
    """Reads one file into `TextExamples`.

    Args:
        path: str, a .tsv, .csv or .jsonl file.
        text_columns: list of column names (or indexes without a header), one or two.
        label_column: the label's column, or None for an unlabelled file.
        label_names: list of str, the classes in id order; None to collect them from
            the file (sorted; numbers in numeric order). Ignored for regression.
        regression: bool, labels are float scores.
        id_column: the column of example ids; None to use line numbers.
        format: "tsv", "csv" or "jsonl"; None to take it from the file name.
        header: bool, whether a TSV/CSV file starts with column names.
        on_error: "raise" (a bad row is an error naming file and line) or "skip".
        encoding_errors: "strict" (invalid UTF-8 is an error naming the line) or
            "replace" (bad bytes become U+FFFD; `problems` says so).
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, not {on_error!r}.")
    if not 1 <= len(text_columns) <= 3:
        raise ValueError(f"text_columns needs one to three columns, not {text_columns!r}.")
    format = file_format(path, format)
    if label_column is not None and label_names is None and not regression:
        label_names = collect_label_names(path, label_column, format, header, encoding_errors)
    label_names = (
        None if regression or label_names is None else tuple(label_name(n) for n in label_names)
    )
    texts, labels, ids = [[] for _ in text_columns], [], []
    skipped, problems = 0, []
    replaced = _first_invalid_utf8(path) if encoding_errors == "replace" else None
    if replaced:
        problems.append(f"{replaced}: bad bytes replaced by U+FFFD")
    for number, row in _records(path, format, header, encoding_errors):
        try:
            values = [_text(path, number, row, c) for c in text_columns]
            label = (
                None
                if label_column is None
                else _label(
                    path, number, _field(path, number, row, label_column), label_names, regression
                )
            )
            example_id = (
                str(number) if id_column is None else str(_field(path, number, row, id_column))
            )
        except _RowError as e:
            if on_error == "raise":
                raise ValueError(f"{e} (on_error='skip' skips bad rows)") from None
            skipped += 1
            if len(problems) < 5:
                problems.append(str(e))
            continue
        for segment, value in zip(texts, values):
            segment.append(value)
        labels.append(label)
        ids.append(example_id)
    if not ids:
        raise ValueError(
            f"{path}: no examples" + (f" ({skipped} bad rows skipped)" if skipped else "")
        )
    return TextExamples(
        texts, None if label_column is None else labels, ids, label_names, path, skipped, problems
    )


def collect_label_names(path, label_column, format=None, header=True, encoding_errors="strict"):
    """The class names of a file's labels (`label_name`), sorted (numbers in numeric
    order); empty and malformed labels are left to the row checks."""
    format = file_format(path, format)
    values = set()
    for number, row in _records(path, format, header, encoding_errors):
        try:
            values.add(label_name(_field(path, number, row, label_column)))
        except ValueError:  # _RowError too: reported when the rows are read.
            continue
    values.discard("")
    try:
        return tuple(sorted(values, key=float))
    except ValueError:
        return tuple(sorted(values))
