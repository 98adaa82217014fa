"""benchmarks/conll_names.py: the silver name tags of real text that docs/experiments.md's
feature-based table is scored on."""

import importlib.util
import os
import random
import sys

from pipelines.conll import read_conll

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks")


def _module():
    sys.path.insert(0, BENCHMARKS)
    try:
        spec = importlib.util.spec_from_file_location(
            "conll_names", os.path.join(BENCHMARKS, "conll_names.py")
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(BENCHMARKS)


ARTICLE = (
    "Apple results lift shares\n"
    "The chief of Apple said on Monday that sales rose.\n"
    "Apple sold more phones than Nokia in the US this year.\n"
    'He said: "The apple harvest was poor in New York and it hurt them."\n'
    "Mr Brown told the BBC that the apple trade would recover.\n"
)


def test_names_come_from_usual_spellings_away_from_sentence_starts():
    names = _module()
    sentences = names.article_sentences(ARTICLE, min_words=3)
    counts = names.usual_spellings(sentences)
    tagged = {w: t for words in sentences for w, t in zip(words, names.tags(words, counts))}
    # Capitalized at a sentence's or quotation's start, lower case elsewhere: not a name.
    assert tagged["The"] == "O"
    # "Apple" (a company, capitalized mid-sentence once) against "apple" (twice): the
    # usual spelling is lower case, so it is not tagged, wherever it stands.
    assert tagged["Apple"] == "O"
    assert tagged["Nokia"] == tagged["US"] == tagged["BBC"] == "B-NAME"
    # The title line is skipped; titles, days and the pronoun are not names.
    assert ["Apple", "results", "lift", "shares"] not in sentences
    assert tagged["Mr"] == tagged["Monday"] == "O"
    quoted = next(s for s in sentences if "harvest" in s)
    assert names.tags(quoted, counts)[quoted.index("New") :][:3] == ["B-NAME", "I-NAME", "O"]


def test_written_file_reads_back_as_conll_with_the_same_tags(tmp_path):
    names = _module()
    sentences = names.article_sentences(ARTICLE, min_words=3)
    counts = names.usual_spellings(sentences)
    path = str(tmp_path / "train.txt")
    written = names.write_conll(path, [("a/001.txt", sentences)], counts, 3, random.Random(0))
    data = read_conll(path)
    assert written[0] == len(data.words) == 3
    assert written[1] == sum(len(w) for w in data.words)
    assert all(tags == names.tags(words, counts) for words, tags in zip(data.words, data.tags))
    assert written[2] == sum(t.count("B-NAME") for t in data.tags) > 0
    assert not os.path.exists(path + ".tmp")
