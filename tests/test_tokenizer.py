import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from pipelines import BertTokenizer, read_vocabulary


@pytest.fixture(params=["fast", "classic"])
def tokenizer(vocab_path, request):
    return BertTokenizer(vocab_path, lowercase=True, wordpiece=request.param)


def tokens_of(tokenizer, text):
    return [tokenizer.tokens[i] for i in tokenizer.tokenize(text).numpy()]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello, World!", ["hello", ",", "world", "!"]),
        ("unwanted running", ["un", "##want", "##ed", "run", "##ning"]),
        ("Café naïve RÉSUMÉ", ["cafe", "naive", "resume"]),
        ("nai\u0308ve", ["naive"]),  # Combining mark stripped.
        ("The quick-brown fox", ["the", "quick", "-", "brown", "fox"]),
        ("日本", ["日", "本"]),  # CJK ideographs split apart.
        ("ca\u200bt\x00s dog\x07", ["cat", "##s", "dog"]),  # Controls deleted, joining "cats".
        ("ca\u200bt dog", ["cat", "dog"]),
        ("  \t\n ", []),
        ("", []),
        ("bert\u3000token\u00a0tokenizers", ["bert", "token", "token", "##izer", "##s"]),
        ("xylophone", ["[UNK]"]),  # Not in the vocabulary.
    ],
)
def test_uncased_tokens(tokenizer, text, expected):
    assert tokens_of(tokenizer, text) == expected


def test_cased_vocabulary_keeps_case_and_accents(vocab_path):
    cased = BertTokenizer(vocab_path, lowercase=False)
    assert tokens_of(cased, "Hello Café hello") == ["Hello", "Café", "hello"]
    assert tokens_of(cased, "naïve") == ["[UNK]"]


def test_offsets_are_character_spans_of_the_input(tokenizer):
    text = "Héllo, naïve wor\u0308ld! unwanted"
    ids, starts, ends = tokenizer.tokenize_with_offsets(text)
    spans = [text[s:e] for s, e in zip(starts.numpy(), ends.numpy())]
    assert [tokenizer.tokens[i] for i in ids.numpy()] == [
        "hello",
        ",",
        "naive",
        "world",
        "!",
        "un",
        "##want",
        "##ed",
    ]
    assert spans == ["Héllo", ",", "naïve", "wor\u0308ld", "!", "un", "want", "ed"]


def test_batch_is_ragged_and_rows_are_independent(tokenizer):
    ids = tokenizer.tokenize(["hello world", "", "the dog"])
    assert isinstance(ids, tf.RaggedTensor)
    assert ids.row_lengths().numpy().tolist() == [2, 0, 2]
    assert ids.dtype == tf.int32


@pytest.mark.parametrize("wordpiece", ["fast", "classic"])
def test_words_over_the_limit_become_one_unk(vocab_path, wordpiece):
    tok = BertTokenizer(vocab_path, lowercase=True, max_chars_per_word=5, wordpiece=wordpiece)
    ids, starts, ends = tok.tokenize_with_offsets("token tokenizers dog")
    assert [tok.tokens[i] for i in ids.numpy()] == ["token", "[UNK]", "dog"]
    assert (starts.numpy()[1], ends.numpy()[1]) == (6, 16)


def test_detokenize_joins_pieces_and_skips_specials(tokenizer):
    ids = tokenizer.tokenize(["unwanted running dogs", "hello"])
    assert tokenizer.detokenize(ids).numpy().tolist() == [b"unwanted running dogs", b"hello"]
    with_specials = np.array([2, 25, 26, 3, 0, 0])  # [CLS] hello world [SEP] [PAD] [PAD]
    assert tokenizer.detokenize(with_specials).numpy() == b"hello world"


def test_special_ids_come_from_the_vocabulary(tmp_path, vocab_path):
    tokens = read_vocabulary(vocab_path)
    shuffled = tokens[5:8] + tokens[:5] + tokens[8:]
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(shuffled) + "\n")
    tok = BertTokenizer(str(path), lowercase=True)
    assert (tok.pad_id, tok.unk_id, tok.cls_id, tok.sep_id, tok.mask_id) == (3, 4, 5, 6, 7)


def test_runs_in_dataset_map_and_tf_function(tokenizer):
    texts = ["Hello, World!", "the lazy dog", "unwanted"]
    expected = tokenizer.tokenize(texts)
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(3).map(tokenizer.tokenize)
    got = next(iter(dataset))
    assert got.to_list() == expected.to_list()
    fn = tf.function(
        tokenizer.tokenize_with_offsets, input_signature=[tf.TensorSpec([None], tf.string)]
    )
    assert fn(tf.constant(texts))[0].to_list() == expected.to_list()


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nhello\n",
            "vocab.txt:7: duplicate token 'hello'",
        ),
        ("[PAD]\r\n[UNK]\r\n", "vocab.txt:1: Windows line ending"),
        ("[PAD]\n\n[UNK]\n", "vocab.txt:2: empty token"),
        ("[PAD]\n[UNK]\nhello\n", "missing special token.*CLS"),
        ("", "empty"),
    ],
)
def test_bad_vocabulary_files(tmp_path, content, message):
    path = tmp_path / "vocab.txt"
    path.write_bytes(content.encode())
    with pytest.raises(ValueError, match=message):
        BertTokenizer(str(path), lowercase=True)


def test_lowercase_comes_from_the_folder_config_or_an_argument(tmp_path, vocab_path):
    folder = tmp_path / "uncased_L-2_H-128_A-2"  # The name must not decide anything.
    folder.mkdir()
    shutil.copy(vocab_path, folder / "vocab.txt")
    with pytest.raises(ValueError, match="cannot tell whether this vocabulary is cased"):
        BertTokenizer(str(folder / "vocab.txt"))
    assert BertTokenizer(str(folder / "vocab.txt"), lowercase=False).lowercase is False
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}))
    assert BertTokenizer.from_dir(str(folder)).lowercase is False
    with pytest.raises(ValueError, match="contradicts do_lower_case=False"):
        BertTokenizer.from_dir(str(folder), lowercase=True)


def test_unknown_wordpiece_kind(vocab_path):
    with pytest.raises(ValueError, match="'fast' or 'classic'"):
        BertTokenizer(vocab_path, lowercase=True, wordpiece="sentencepiece")


def test_missing_vocabulary_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.txt"):
        BertTokenizer(os.path.join(tmp_path, "nothere.txt"), lowercase=True)


def test_vocabulary_travels_with_an_exported_saved_model(tmp_path, vocab_path):
    source = tmp_path / "vocab.txt"
    shutil.copy(vocab_path, source)
    tokenizer = BertTokenizer(str(source), lowercase=True)
    module = tf.Module()
    module.tokenizer = tokenizer
    module.serve = tf.function(
        lambda texts: tokenizer.tokenize(texts).to_tensor(),
        input_signature=[tf.TensorSpec([None], tf.string)],
    )
    texts = tf.constant(["Hello, World! Café", "unwanted running 日本"])
    expected = module.serve(texts).numpy()
    export = str(tmp_path / "export")
    tf.saved_model.save(module, export)
    os.remove(source)  # The export must not need the original file.
    assert os.listdir(os.path.join(export, "assets")) == ["vocab.txt"]
    reloaded = tf.saved_model.load(export)
    np.testing.assert_array_equal(reloaded.serve(texts).numpy(), expected)


ASCII_EDGES = [
    "",
    "   ",
    "Hello, World!",
    "don't stop",
    "U.S.A. (1999)",
    "~`^_|{}[]\\",
    "tab\tsep\r\nline",
    "  leading and trailing  ",
    "a" * 200,
    "b" * 201 + " ok",
    "The Dog's   quick-brown fox.",
]
MIXED = ["naïve café", "a\x7fb", "x\x00y", "日本 and dog", "\u00a0nbsp", "Zürich!"]


@pytest.mark.parametrize("lowercase", [True, False])
def test_ascii_fast_path_equals_the_full_path(vocab_path, lowercase):
    """Printable-ASCII lines take one end-to-end op; its ids and character offsets equal
    the full (Unicode table) path's, which the classic WordPiece kind always takes, on
    edge cases interleaved with lines that need the full path."""
    fast = BertTokenizer(vocab_path, lowercase=lowercase)
    full = BertTokenizer(vocab_path, lowercase=lowercase, wordpiece="classic")
    assert fast._ascii_wordpiece is not None and full._ascii_wordpiece is None
    batch = [t for pair in zip(ASCII_EDGES, MIXED + MIXED) for t in pair]
    got = [x.to_list() for x in fast.tokenize_with_offsets(batch)]
    expected = [x.to_list() for x in full.tokenize_with_offsets(batch)]
    assert got == expected
    assert fast.tokenize(ASCII_EDGES).to_list() == full.tokenize(ASCII_EDGES).to_list()
    assert fast.tokenize(MIXED).to_list() == full.tokenize(MIXED).to_list()
    scalar = fast.tokenize("Hello, World!").numpy().tolist()
    assert scalar == full.tokenize(["Hello, World!"]).to_list()[0]
