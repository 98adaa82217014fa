"""Readers never crash and never guess: odd but valid input reads, bad input is one error
naming the file and line (or question), and nothing is silently turned into data."""

import json

import pytest

from keras_bert.metrics import scores
from pipelines.conll import read_conll
from pipelines.squad import read_squad
from pipelines.text_folders import folder_examples
from pipelines.text_table import label_name, read_examples


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_csv_field_longer_than_the_csv_module_default_reads(tmp_path):
    article = "word " * 40_000  # 200,000 characters; the csv module stops at 131,072.
    path = _write(tmp_path / "long.csv", f'text,label\n"{article}",pos\nshort,neg\n')
    examples = read_examples(path, ["text"], "label")
    assert examples.texts[0][0] == article and examples.labels == [1, 0]


@pytest.mark.parametrize("score", ["nan", "inf", "-Infinity"])
def test_scores_must_be_finite(tmp_path, score):
    path = _write(tmp_path / "s.tsv", f"text\tscore\nfine\t0.5\nbad\t{score}\n")
    with pytest.raises(ValueError, match=rf"s\.tsv:3: score '{score}' is not a finite number"):
        read_examples(path, ["text"], "score", regression=True)
    kept = read_examples(path, ["text"], "score", regression=True, on_error="skip")
    assert kept.labels == [0.5] and kept.skipped == 1


def test_correlations_of_nan_predictions_are_nan_as_in_scipy():
    scipy = pytest.importorskip("scipy.stats")
    gold, predicted = [0.1, 0.5, 0.9, 0.3], [0.2, float("nan"), 0.8, 0.1]
    assert str(scipy.spearmanr(gold, predicted)[0]) == "nan"
    assert str(scores.spearman(gold, predicted)) == "nan"
    assert str(scores.pearson(gold, predicted)) == "nan"
    assert scores.spearman(gold, [0.2, 0.6, 0.8, 0.1]) == pytest.approx(
        scipy.spearmanr(gold, [0.2, 0.6, 0.8, 0.1])[0]
    )


def test_an_empty_label_is_a_bad_row_not_a_class(tmp_path):
    path = _write(tmp_path / "e.tsv", "text\tlabel\na\tpos\nb\t\nc\tneg\n")
    with pytest.raises(ValueError, match=r"e\.tsv:3: empty label"):
        read_examples(path, ["text"], "label")
    kept = read_examples(path, ["text"], "label", on_error="skip")
    assert kept.label_names == ("neg", "pos") and kept.skipped == 1


def test_numbers_name_one_class_however_written(tmp_path):
    rows = [
        {"t": "a", "y": 1},
        {"t": "b", "y": "1.0"},
        {"t": "c", "y": "01"},
        {"t": "d", "y": 0},
        {"t": "e", "y": "0"},
        {"t": "f", "y": 2.0},
    ]
    path = _write(tmp_path / "n.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    examples = read_examples(path, ["t"], "y")
    assert examples.label_names == ("0", "1", "2")
    assert examples.labels == [1, 1, 1, 0, 0, 2]
    assert [label_name(v) for v in ("1e1", "-0", "2.50", True, " x ")] == [
        "10",
        "0",
        "2.5",
        "true",
        "x",
    ]


@pytest.mark.parametrize(
    "value, kind",
    [(5, "a number"), (True, "a boolean"), ({"a": 1}, "an object"), (["a"], "a list")],
)
def test_jsonl_text_that_is_not_a_string_is_a_bad_row(tmp_path, value, kind):
    rows = [{"t": "fine", "y": "a"}, {"t": value, "y": "b"}, {"t": "also fine", "y": "b"}]
    path = _write(tmp_path / "j.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ValueError, match=rf"j\.jsonl:2: column 't' holds {kind}"):
        read_examples(path, ["t"], "y")
    assert read_examples(path, ["t"], "y", on_error="skip").texts == [["fine", "also fine"]]


def test_a_header_naming_a_column_twice_is_an_error(tmp_path):
    path = _write(tmp_path / "d.csv", "text,label,text\na,pos,b\n")
    with pytest.raises(ValueError, match=r"d\.csv:1: the header names column\(s\) 'text' more"):
        read_examples(path, ["text"], "label")


def test_invalid_utf8_is_named_by_line_or_replaced_when_asked(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"text,label\nfine,pos\ncaf\xe9 au lait,neg\n")
    with pytest.raises(
        ValueError,
        match=r"latin1\.csv:3: not valid UTF-8 \(invalid byte at "
        r"offset 23\).*encoding-errors replace",
    ):
        read_examples(str(path), ["text"], "label")
    replaced = read_examples(str(path), ["text"], "label", encoding_errors="replace")
    assert replaced.texts[0][1] == "caf\ufffd au lait"
    assert "latin1.csv:3" in replaced.problems[0]


def test_folders_split_that_holds_out_nothing_or_everything_is_named(tmp_path):
    for name, count in (("a", 2), ("b", 2)):
        (tmp_path / name).mkdir()
        for n in range(count):
            (tmp_path / name / f"{n}.txt").write_text(f"text {n}")
    with pytest.raises(ValueError, match="holds out no file"):
        folder_examples(str(tmp_path), "validation", validation_split=0.2)
    assert len(folder_examples(str(tmp_path), "train", validation_split=0.2)) == 4
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "only.txt").write_text("one file")
    with pytest.raises(ValueError, match=r"c: all 1 file\(s\) go to validation"):
        folder_examples(str(tmp_path), "train", validation_split=0.6)


def test_a_conll_file_without_sentence_breaks_is_an_error(tmp_path):
    lines = "".join(f"word{n} NN O\n" for n in range(330))
    with pytest.raises(ValueError, match=r"330 words and no blank line"):
        read_conll(_write(tmp_path / "flat.txt", lines))
    with_breaks = "".join(f"word{n} NN O\n" + ("\n" if n % 30 == 29 else "") for n in range(330))
    assert len(read_conll(_write(tmp_path / "ok.txt", with_breaks))) == 11


def _squad(tmp_path, qa=None, article=None):
    qa = qa or {
        "id": "q1",
        "question": "Where?",
        "answers": [{"text": "France", "answer_start": 12}],
    }
    article = (
        article
        if article is not None
        else {"title": "t", "paragraphs": [{"context": "Paris is in France.", "qas": [qa]}]}
    )
    return _write(tmp_path / "squad.json", json.dumps({"version": "v2.0", "data": [article]}))


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"is_impossible": "false"},
            r"question q1: is_impossible should be true or false, not "
            r"\"false\"",
        ),
        ({"answers": [1]}, r"question q1, answer 0: should be a JSON object, not int"),
        ({"answers": "France"}, r"question q1: field 'answers' should be list, not str"),
    ],
)
def test_squad_fields_of_the_wrong_type_name_the_question(tmp_path, change, message):
    qa = {
        "id": "q1",
        "question": "Where?",
        "answers": [{"text": "France", "answer_start": 12}],
        **change,
    }
    with pytest.raises(ValueError, match=message):
        read_squad(_squad(tmp_path, qa))
    assert read_squad(_squad(tmp_path, qa), on_error="skip").skipped == 1


def test_a_squad_article_that_is_not_an_object_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"data\[0\]: should be a JSON object, not list"):
        read_squad(_squad(tmp_path, article=["not", "an", "article"]))
