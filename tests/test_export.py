"""Exports for TF Serving: every task's signatures, called in a fresh process without our
code (vocabulary file moved away), equal the in-process model; only ops that stock TF
Serving registers; versioned, never overwritten, never half-written."""

import os
import shutil

import keras
import numpy as np
import pytest

import keras_bert
from pipelines import BertPreprocessor, BertTokenizer
from pipelines.squad import SquadExamples
from pipelines.squad_data import decode_answers, squad_windows
from pipelines.squad_windows import SquadWindower
from saved_models import export, versions
from tests.conftest import DATA
from tests.serving_checks import (
    SERVING_TF_TEXT_OPS,
    call_in_fresh_process,
    ops_outside_serving,
    signature_op_types,
)
from tests.tiny import tiny

SEQ = 16
TINY = tiny(vocabulary_size=71, num_layers=1, max_sequence_length=SEQ, dropout=0.0)
TEXTS = ["The quick brown fox.", "", "日本 straße naïve café " * 10, "dog"]
PAIRS = ["a lazy dog", "news", "the stock price fell", "good day"]

SERVING_GUIDE = os.path.join(os.path.dirname(__file__), "..", "docs", "serving.md")


def _vocabulary_copy(folder):
    """A copy of the test vocabulary under `folder`, to delete after exporting (`_moved`)."""
    path = folder / "moved" / "vocab.txt"
    path.parent.mkdir()
    shutil.copy(os.path.join(DATA, "vocab.txt"), path)
    return str(path)


@pytest.fixture
def vocabulary(tmp_path):
    """A copy of the vocabulary that each test deletes after exporting."""
    return _vocabulary_copy(tmp_path)


def _export(tmp_path, vocabulary, model, segments=1, **options):
    pre = BertPreprocessor.from_vocab(vocabulary, lowercase=True, sequence_length=SEQ)
    path = export(model, pre, str(tmp_path / "export"), segments=segments, **options)
    return pre, path


@pytest.fixture(scope="module")
def shared_exports(tmp_path_factory):
    """Exports made once for the file's tests that only call them (an export traces three
    signatures and saves them, seconds each): `get(num_classes, segments, label_names)`
    -> (model, preprocessor, path) of a classifier whose vocabulary file was removed
    right after its export, as `_moved` does."""
    made = {}

    def get(num_classes, segments, label_names=None):
        key = (num_classes, segments, tuple(label_names or ()))
        if key not in made:
            folder = tmp_path_factory.mktemp("shared_export")
            vocabulary = _vocabulary_copy(folder)
            model = keras_bert.build(
                "tiny", task="classification", num_classes=num_classes,
                label_names=label_names, **TINY,
            )  # fmt: skip
            pre, path = _export(folder, vocabulary, model, segments)
            _moved(vocabulary)
            made[key] = (model, pre, path)
        return made[key]

    return get


def _check_warmup(path):
    """Every warm-up request of an export runs against it, one row per request row."""
    import tensorflow as tf

    from saved_models.serving_files import WARMUP_FILE, read_warmup

    loaded = tf.saved_model.load(path)
    requests = read_warmup(os.path.join(path, WARMUP_FILE))
    assert {name for name, _ in requests} == set(loaded.signatures)
    for name, inputs in requests:
        outputs = loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
        assert all(v.shape[0] == 2 for v in outputs.values()), name


def _moved(vocabulary):
    shutil.rmtree(os.path.dirname(vocabulary))


def _token_ids_request(pre, texts):
    features = pre(tuple(texts))
    return {k: v.numpy().tolist() for k, v in features.items()}, features


@pytest.mark.parametrize("num_classes,segments", [(3, 1), (2, 2), (1, 2)])
def test_classifier_export_serves_raw_text_without_our_code(
    tmp_path, shared_exports, num_classes, segments
):
    names = None if num_classes == 1 else ["neg", "pos", "mixed"][:num_classes]
    model, pre, path = shared_exports(num_classes, segments, names)
    texts = [TEXTS, PAIRS][:segments]
    names = ["text", "text_pair"][:segments]
    ids_request, features = _token_ids_request(pre, texts)
    expected = np.asarray(model.predict(features, verbose=0))
    got = call_in_fresh_process(
        path,
        {
            "serving_default": dict(zip(names, texts)),
            "serve_token_ids": ids_request,
        },
        str(tmp_path),
    )
    raw = got["serve_token_ids"]["score" if num_classes == 1 else "logits"]
    np.testing.assert_allclose(raw, expected, atol=1e-5)
    answer = got["serving_default"]
    if num_classes == 1:
        np.testing.assert_allclose(answer["score"], expected, atol=1e-5)
    else:
        probabilities = np.exp(expected) / np.exp(expected).sum(-1, keepdims=True)
        np.testing.assert_allclose(answer["probabilities"], probabilities, atol=1e-5)
        assert answer["label_id"] == expected.argmax(-1).tolist()
        assert answer["label"] == [model.label_names[i] for i in expected.argmax(-1)]
    assert ops_outside_serving(path) == []
    # The token-id signature runs core TensorFlow only; the raw-text one tokenizes.
    import tensorflow as tf

    token_id_ops = signature_op_types(path, "serve_token_ids")
    assert "MatMul" in token_id_ops or "BatchMatMulV2" in token_id_ops
    assert token_id_ops <= set(dir(tf.raw_ops)), token_id_ops - set(dir(tf.raw_ops))
    assert signature_op_types(path, "serving_default") & SERVING_TF_TEXT_OPS


def test_encoder_embedder_and_multiple_choice_exports(tmp_path, vocabulary):
    backbone = keras_bert.build("tiny", **TINY)
    embedder = keras_bert.build("tiny", task="embedding", **TINY)
    chooser = keras_bert.build("tiny", task="multiple_choice", num_choices=2, **TINY)
    pre = BertPreprocessor.from_vocab(vocabulary, lowercase=True, sequence_length=SEQ)
    paths = [
        export(m, pre, str(tmp_path / name))
        for m, name in ((backbone, "encoder"), (embedder, "embedder"), (chooser, "choice"))
    ]
    features = pre(TEXTS)
    encoded = backbone.predict(features, verbose=0)
    embedded = embedder.predict(features, verbose=0)
    endings = [[a, b] for a, b in zip(PAIRS, TEXTS)]
    pairs = pre((tuple(np.repeat(PAIRS, 2)), tuple(np.ravel(endings))))
    choice_logits = chooser.predict(
        {k: v.numpy().reshape(4, 2, SEQ) for k, v in pairs.items()}, verbose=0
    )
    _moved(vocabulary)
    got = [
        call_in_fresh_process(p, {"serving_default": request}, str(tmp_path))["serving_default"]
        for p, request in zip(
            paths, ({"text": TEXTS}, {"text": TEXTS}, {"context": PAIRS, "endings": endings})
        )
    ]
    np.testing.assert_allclose(got[0]["sequence_output"], encoded["sequence_output"], atol=1e-5)
    np.testing.assert_allclose(got[0]["pooled_output"], encoded["pooled_output"], atol=1e-5)
    np.testing.assert_allclose(got[1]["embedding"], embedded, atol=1e-5)
    assert got[2]["label_id"] == choice_logits.argmax(-1).tolist()
    for path in paths:
        assert ops_outside_serving(path) == []
        _check_warmup(path)
    for model in (backbone, embedder, chooser):  # no Lambda layer in any exported model
        assert not any(isinstance(layer, keras.layers.Lambda) for layer in model._flatten_layers())


def test_pretrainer_exports_its_token_id_signature(tmp_path, vocabulary):
    model = keras_bert.build("tiny", task="pretraining", **TINY)
    pre, path = _export(tmp_path, vocabulary, model)
    features = {k: v.numpy() for k, v in pre(TEXTS).items()}
    features["mask_positions"] = np.array([[1, 2]] * 4, "int32")
    expected = model.predict(features, verbose=0)
    _moved(vocabulary)
    got = call_in_fresh_process(
        path, {"serve_token_ids": {k: v.tolist() for k, v in features.items()}}, str(tmp_path)
    )["serve_token_ids"]
    assert set(got) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, atol=1e-5)
    assert ops_outside_serving(path) == []
    _check_warmup(path)


def test_squad_export_answers_like_evaluation(tmp_path, vocabulary):
    model = keras_bert.build(
        "tiny", task="question_answering", **dict(TINY, max_sequence_length=24)
    )
    tokenizer = BertTokenizer(vocabulary, lowercase=True)
    windower = SquadWindower(tokenizer, sequence_length=24, max_query_length=4, doc_stride=5)
    pre = BertPreprocessor(tokenizer, 24)
    path = export(
        model,
        pre,
        str(tmp_path / "squad"),
        windower=windower,
        max_answer_length=5,
        null_threshold=0.0,
    )
    questions = ["who?", "what is it?", "where", "when"]
    contexts = ["Café unwanted running dog. " * 4, "the stock price fell", "日本 😀 market", ""]
    examples = SquadExamples(
        [str(i) for i in range(4)], questions, contexts, [[] for _ in range(4)], [False] * 4
    )
    windows = squad_windows(examples, windower)
    logits = model.predict(
        {k: windows[k] for k in ("token_ids", "segment_ids", "padding_mask")}, verbose=0
    )
    expected, null_odds, nbest = decode_answers(
        examples,
        windows,
        logits["start_logits"],
        logits["end_logits"],
        max_answer_length=5,
        null_score_diff_threshold=0.0,
    )
    _moved(vocabulary)
    got = call_in_fresh_process(
        path, {"serving_default": {"question": questions, "context": contexts}}, str(tmp_path)
    )["serving_default"]
    assert got["answer_text"] == [expected[str(i)] for i in range(4)]
    np.testing.assert_allclose(got["null_odds"], [null_odds[str(i)] for i in range(4)], atol=1e-4)
    _check_warmup(path)
    for i, (start, end) in enumerate(zip(got["start_char"], got["end_char"])):
        if start >= 0:
            assert contexts[i][start:end] == got["answer_text"][i]
            assert (start, end) == (nbest[str(i)][0]["start_char"], nbest[str(i)][0]["end_char"])
    assert ops_outside_serving(path) == []


def test_versions_are_numbered_never_overwritten_never_half_written(tmp_path, vocabulary):
    model = keras_bert.build("tiny", task="classification", num_classes=2, **TINY)
    pre = BertPreprocessor.from_vocab(vocabulary, lowercase=True, sequence_length=SEQ)
    base = str(tmp_path / "export")
    assert os.path.basename(export(model, pre, base)) == "1"
    assert os.path.basename(export(model, pre, base, version=5)) == "5"
    assert os.path.basename(export(model, pre, base)) == "6"
    with pytest.raises(ValueError, match=r"5 exists: versions are never overwritten"):
        export(model, pre, base, version=5)
    assert versions(base) == [1, 5, 6] and sorted(os.listdir(base)) == ["1", "5", "6"]


def test_int8_model_is_refused_before_anything_is_written(tmp_path, vocabulary):
    model = keras_bert.quantize_int8(
        keras_bert.build("tiny", task="classification", num_classes=2, **TINY)
    )
    pre = BertPreprocessor.from_vocab(vocabulary, lowercase=True, sequence_length=SEQ)
    base = tmp_path / "export"
    with pytest.raises(ValueError, match="quantized to int8.*export the float32 model"):
        export(model, pre, str(base))
    assert not base.exists()


def test_bad_requests_get_errors_or_sane_answers(shared_exports):
    import tensorflow as tf

    _, _, path = shared_exports(2, 2, ["neg", "pos"])
    served = tf.saved_model.load(path).signatures["serving_default"]
    empty = served(text=tf.constant([], tf.string), text_pair=tf.constant([], tf.string))
    assert empty["label_id"].shape == (0,)
    odd = served(
        text=tf.constant([b"\xff\xfe bad bytes", b"x" * 100000]),
        text_pair=tf.constant(["", "dog " * 5000]),
    )
    assert odd["probabilities"].shape == (2, 2)
    assert np.isfinite(odd["probabilities"].numpy()).all()
    with pytest.raises(tf.errors.InvalidArgumentError, match="must have one batch size"):
        served(text=tf.constant(["a", "b"]), text_pair=tf.constant(["c"]))


def test_warmup_requests_run_and_models_config_parses(tmp_path, shared_exports):
    import tensorflow as tf
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    from saved_models.serving_files import WARMUP_FILE, read_warmup, update_models_config

    _, _, path = shared_exports(2, 2, ["neg", "pos"])
    requests = read_warmup(os.path.join(path, WARMUP_FILE))
    assert {name for name, _ in requests} == {
        "serving_default",
        "serve_examples",
        "serve_token_ids",
    }
    loaded = tf.saved_model.load(path)
    for name, inputs in requests:
        outputs = loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
        assert all(v.shape[0] == 2 for v in outputs.values()), name
    config = str(tmp_path / "models.config")
    update_models_config(config, "topics", os.path.dirname(path))
    assert update_models_config(config, "squad", "/srv/squad") == ["topics", "squad"]
    assert update_models_config(config, "topics", "/srv/topics2") == ["topics", "squad"]
    parsed = text_format.Parse(open(config).read(), model_server_config_pb2.ModelServerConfig())
    entries = {m.name: m for m in parsed.model_config_list.config}
    assert entries["topics"].base_path == "/srv/topics2"
    assert entries["squad"].model_platform == "tensorflow"
    assert entries["squad"].model_version_policy.latest.num_versions == 1


@pytest.mark.parametrize("task", ["token_classification", "feature_tagging"])
def test_ner_export_gives_the_evaluated_tags_and_entities(tmp_path, vocabulary, task):
    from pipelines import tag_schemes
    from pipelines.token_labels import TokenLabeler
    from pipelines.word_windows import split_words

    names = tag_schemes.label_names(["LOC", "PER"], "iobes")
    options = {"lstm_units": 3} if task == "feature_tagging" else {}
    model = keras_bert.build(
        "tiny", task=task, num_classes=len(names), label_names=names, **TINY, **options
    )
    # Bias the head so that entities (of every shape) are predicted.
    dense = model.get_layer("token_logits")
    dense.bias.assign(np.random.default_rng(0).normal(0, 3, len(names)).astype("float32"))
    width = 2 if task == "feature_tagging" else 16  # 2: widened for longer rows
    pre, path = _export(tmp_path, vocabulary, model, max_entities=width)
    texts = [
        "Café market news fell in Istanbul, unwanted day.",
        "日本 😀 the quick brown fox jumps over the lazy dog " * 3,
        "",
        "dog",
    ]
    words, starts, ends = (x.to_list() for x in split_words(texts))
    words = [[w.decode() for w in s] for s in words]
    labeler = TokenLabeler(BertTokenizer(vocabulary, lowercase=True), names, SEQ)
    present = [i for i, w in enumerate(words) if w]
    windows = labeler.windows([words[i] for i in present])
    logits = model.predict(
        {k: windows[k] for k in ("token_ids", "segment_ids", "padding_mask")}, verbose=0
    )
    tags = dict(
        zip(
            present, labeler.word_tags(windows, logits.argmax(-1), [len(words[i]) for i in present])
        )
    )
    _moved(vocabulary)
    got = call_in_fresh_process(path, {"serving_default": {"text": texts}}, str(tmp_path))[
        "serving_default"
    ]
    assert ops_outside_serving(path) == []
    _check_warmup(path)
    for i, text in enumerate(texts):
        n = got["word_count"][i]
        assert got["words"][i][:n] == words[i]
        assert got["tags"][i][:n] == tags.get(i, [])
        expected = [
            (kind, starts[i][a], ends[i][b]) for kind, a, b in tag_schemes.entities(tags.get(i, []))
        ]
        k = got["entity_count"][i]
        assert (
            list(
                zip(
                    got["entity_type"][i][:k],
                    got["entity_start_char"][i][:k],
                    got["entity_end_char"][i][:k],
                )
            )
            == expected
        )
        assert got["entity_text"][i][:k] == [text[a:b] for _, a, b in expected]
    assert sum(got["entity_count"]) > 2
    width = max(width, *got["entity_count"])  # one width for every row and field
    assert {
        len(row)
        for key in ("entity_type", "entity_start_char", "entity_end_char", "entity_text")
        for row in got[key]
    } == {width}


def test_saved_model_cli_shows_and_runs_it(shared_exports):
    model, _, path = shared_exports(2, 1, ["business", "sport"])
    commands = [
        ["show", "--dir", path, "--all"],
        [
            *("run", "--dir", path, "--tag_set", "serve", "--signature_def", "serve_token_ids"),
            "--input_exprs",
            "token_ids=[[2,15,48,3]];segment_ids=[[0,0,0,0]];padding_mask=[[1,1,1,1]]",
        ],
        # The raw-text signature runs in a session too (how TF Serving's C++ loader runs it).
        [
            *("run", "--dir", path, "--tag_set", "serve", "--signature_def", "serving_default"),
            *("--input_exprs", "text=['The quick brown fox.', 'dog']"),
        ],
    ]
    shown, ran, text = _saved_model_cli(commands)
    for name in (
        "serving_default",
        "serve_token_ids",
        "serve_examples",
        "probabilities",
        "label_id",
        "token_ids",
    ):
        assert name in shown, name
    expected = model.predict(
        {
            "token_ids": np.array([[2, 15, 48, 3]]),
            "segment_ids": np.zeros((1, 4), int),
            "padding_mask": np.ones((1, 4), int),
        },
        verbose=0,
    )
    assert "logits" in ran and f"{expected[0, 0]:.4f}"[:5] in ran
    assert "label_id" in text and "probabilities" in text


def _saved_model_cli(commands):
    """The stdout of each `saved_model_cli` command, run one after another in one fresh
    process (starting TensorFlow is most of a command's time) with tensorflow-text's ops
    registered (the raw-text graphs use them; a TF Serving build registers them itself).
    Each command runs TensorFlow's own `saved_model_cli` main with its argv; a non-zero
    exit fails with the command's stderr."""
    import json
    import subprocess
    import sys

    runner = """
import json, sys
import tensorflow_text
from tensorflow.python.tools import saved_model_cli as c
for argv in json.loads(sys.argv[1]):
    sys.argv = ["saved_model_cli"] + argv
    code = 0
    try:
        c.main()
    except SystemExit as exit:
        code = exit.code or 0
    print(f"\\n=== exit {code}", flush=True)
    print(f"\\n=== exit {code}", file=sys.stderr, flush=True)
    if code:
        break
"""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    run = subprocess.run(
        [sys.executable, "-c", runner, json.dumps(commands)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    outputs = run.stdout.split("\n=== exit ")
    errors = run.stderr.split("\n=== exit ")
    assert run.returncode == 0 and len(outputs) == len(commands) + 1, run.stderr[-2000:]
    for command, output, error in zip(commands, outputs[1:], errors):
        assert output.startswith("0"), f"{command}: {error[-2000:]}"
    return [output.split("\n", 1)[-1] if i else output for i, output in enumerate(outputs[:-1])]


def test_examples_signature_and_concurrent_calls_agree(shared_exports):
    import concurrent.futures

    import tensorflow as tf

    _, _, path = shared_exports(2, 2, ["neg", "pos"])
    loaded = tf.saved_model.load(path)
    served = loaded.signatures["serving_default"]
    texts = [f"{a} {b}" for a in TEXTS for b in PAIRS]
    pairs = PAIRS * len(TEXTS)
    expected = served(text=tf.constant(texts), text_pair=tf.constant(pairs))["probabilities"]
    examples = [
        tf.train.Example(
            features=tf.train.Features(
                feature={
                    "text": tf.train.Feature(bytes_list=tf.train.BytesList(value=[a.encode()])),
                    "text_pair": tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[b.encode()])
                    ),
                }
            )
        ).SerializeToString()
        for a, b in zip(texts, pairs)
    ]
    from_examples = loaded.signatures["serve_examples"](examples=tf.constant(examples))
    np.testing.assert_allclose(from_examples["probabilities"], expected, atol=1e-6)

    def call(i):
        rows = slice(i % len(texts), i % len(texts) + 3)
        out = served(text=tf.constant(texts[rows]), text_pair=tf.constant(pairs[rows]))
        return rows, out["probabilities"].numpy()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(200)))
    for rows, probabilities in results:
        np.testing.assert_array_equal(
            probabilities,
            served(text=tf.constant(texts[rows]), text_pair=tf.constant(pairs[rows]))[
                "probabilities"
            ].numpy(),
        )


def _rest_reply(outputs, row_format):
    """A signature's outputs as TF Serving's REST API writes them: rows (`predictions`)
    or columns (`outputs`), a single output without its name, strings decoded."""

    def plain(value):
        value = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.decode("utf-8") if isinstance(value, bytes) else value

    columns = {k: plain(v.numpy()) for k, v in outputs.items()}
    if not row_format:
        return {"outputs": next(iter(columns.values())) if len(columns) == 1 else columns}
    rows = [dict(zip(columns, values)) for values in zip(*columns.values())]
    return {"predictions": [next(iter(r.values())) if len(r) == 1 else r for r in rows]}


def _assert_same_form(shown, reply, where="reply"):
    """`reply` has `shown`'s keys, list lengths and value types; a "..." in a shown list
    stands for any number of further values of the type around it."""
    if isinstance(shown, dict):
        assert isinstance(reply, dict) and set(reply) == set(shown), (where, reply)
        for key in shown:
            _assert_same_form(shown[key], reply[key], f"{where}.{key}")
    elif isinstance(shown, list):
        assert isinstance(reply, list), (where, reply)
        if "..." in shown:
            cut = shown.index("...")
            head, tail = shown[:cut], shown[cut + 1 :]
            assert len(reply) >= len(head) + len(tail), (where, len(reply))
            pairs = list(zip(head, reply)) + list(zip(tail, reply[len(reply) - len(tail) :]))
            pairs += [(head[-1], r) for r in reply[len(head) : len(reply) - len(tail)]]
        else:
            assert len(reply) == len(shown), (where, len(reply), len(shown))
            pairs = list(zip(shown, reply))
        for i, (a, b) in enumerate(pairs):
            _assert_same_form(a, b, f"{where}[{i}]")
    else:
        assert type(reply) is type(shown), (where, shown, reply)


@pytest.fixture(scope="module")
def guide_exports(tmp_path_factory):
    """One export per task of the serving guide's REST examples, name -> path, made once
    for the tests that call them (vocabulary file removed after exporting)."""
    from pipelines import tag_schemes

    tmp_path = tmp_path_factory.mktemp("guide_exports")
    vocabulary = _vocabulary_copy(tmp_path)
    topics = ["business", "entertainment", "politics", "sport", "tech"]
    tags = tag_schemes.label_names(["LOC", "ORG", "PER"], "iob2")
    pre = BertPreprocessor.from_vocab(vocabulary, lowercase=True, sequence_length=SEQ)
    windower = SquadWindower(pre.tokenizer, SEQ, max_query_length=4, doc_stride=4)
    models = {
        "classifier": (dict(task="classification", num_classes=5, label_names=topics), {}),
        "regressor": (dict(task="classification", num_classes=1), {"segments": 2}),
        "squad": (dict(task="question_answering"), {"windower": windower}),
        "ner": (
            dict(task="token_classification", num_classes=len(tags), label_names=tags),
            {"max_entities": 6},
        ),
        "swag": (dict(task="multiple_choice", num_choices=4), {}),
        "embedder": (dict(task="embedding"), {}),
    }
    built = {name: keras_bert.build("tiny", **TINY, **build) for name, (build, _) in models.items()}
    # Mostly "O": a random tagger would find more entities than the 6 columns shown
    # (widening past them is tested above).
    built["ner"].get_layer("token_logits").bias.assign(
        np.asarray([4.0] + [0.0] * (len(tags) - 1), "float32")
    )
    paths = {
        name: export(built[name], pre, str(tmp_path / name), **options)
        for name, (_, options) in models.items()
    }
    _moved(vocabulary)
    return paths


def test_serving_guides_rest_requests_and_replies_match_exports(guide_exports):
    """Every REST request in the serving guide, converted as TF Serving's REST API does (rows:
    one object per example; columns: one list per input), run against an export of its
    task; the reply, written as TF Serving writes it, has the guide reply's fields,
    types and shapes, and the deterministic parts (NER's words) equal it."""
    import json
    import re

    import tensorflow as tf

    readme = open(SERVING_GUIDE, encoding="utf-8").read()
    examples = re.findall(
        r"<!-- rest: (\w+) -->\n```json\n(.*?)\n```\s*```json\n(.*?)\n```", readme, re.S
    )
    assert len(examples) == len(re.findall(r"```json", readme)) // 2 == 7
    served = {
        name: tf.saved_model.load(path).signatures["serving_default"]
        for name, path in guide_exports.items()
    }
    assert {task for task, _, _ in examples} == set(served)
    for task, request, shown in examples:
        request, shown = json.loads(request), json.loads(shown)
        rows = "instances" in request
        if rows:
            columns = {k: [row[k] for row in request["instances"]] for k in request["instances"][0]}
        else:
            columns = request["inputs"]
        reply = _rest_reply(served[task](**{k: tf.constant(v) for k, v in columns.items()}), rows)
        _assert_same_form(shown, reply, task)
        if task == "ner":
            assert reply["predictions"][0]["words"] == shown["predictions"][0]["words"]
        if task == "squad":
            answer = reply["predictions"][0]
            start, end = answer["start_char"], answer["end_char"]
            assert answer["answer_text"] == columns["context"][0][start:end]


def test_serving_guides_grpc_client_runs_against_an_export(shared_exports, monkeypatch):
    """The serving guide's gRPC client, run as written, with the channel replaced by a stub that
    answers from the loaded export (no server can run here): its request is well formed
    and the response fields it reads exist."""
    import re

    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    readme = open(SERVING_GUIDE, encoding="utf-8").read()
    (client,) = [
        b
        for b in re.findall(r"```python\n(.*?)\n```", readme, re.S)
        if "PredictionServiceStub" in b
    ]
    _, _, path = shared_exports(2, 1, ["business", "sport"])
    loaded = tf.saved_model.load(path)
    seen = []

    class Stub:
        def __init__(self, channel):
            pass

        def Predict(self, request, timeout=None):  # noqa: N802 (the gRPC method's name)
            seen.append(request.model_spec.name)
            signature = loaded.signatures[request.model_spec.signature_name]
            inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
            reply = predict_pb2.PredictResponse()
            for name, value in signature(**inputs).items():
                reply.outputs[name].CopyFrom(tf.make_tensor_proto(value.numpy()))
            return reply

    monkeypatch.setattr(prediction_service_pb2_grpc, "PredictionServiceStub", Stub)
    monkeypatch.setattr(grpc, "insecure_channel", lambda address: None)
    exec(compile(client, SERVING_GUIDE, "exec"), {})
    assert seen == ["bbc-news"]


def test_bad_squad_and_ner_requests(tmp_path, vocabulary, guide_exports):
    import tensorflow as tf

    tagger = keras_bert.build("tiny", task="token_classification", num_classes=3, **TINY)
    pre = BertPreprocessor.from_vocab(vocabulary, lowercase=True, sequence_length=SEQ)
    with pytest.raises(ValueError, match="needs its label_names"):
        export(tagger, pre, str(tmp_path / "unnamed"))
    assert not (tmp_path / "unnamed").exists()
    # The guide's exports (the same windows and tags as any other).
    qa = tf.saved_model.load(guide_exports["squad"]).signatures["serving_default"]
    ner = tf.saved_model.load(guide_exports["ner"]).signatures["serving_default"]
    empty = qa(question=tf.constant([], tf.string), context=tf.constant([], tf.string))
    assert empty["answer_text"].shape == (0,)
    assert ner(text=tf.constant([], tf.string))["entity_count"].shape == (0,)
    odd = qa(
        question=tf.constant(["", "\xff?".encode("latin-1")]),
        context=tf.constant([b"\xff\xfe dog", "dog " * 3000]),
    )
    assert odd["answer_text"].shape == (2,)
    long = ner(text=tf.constant(["dog " * 3000, b"\xff\xfe"]))
    assert long["word_count"].numpy().tolist() == [3000, 1]  # windowed, every word tagged
    assert (long["tags"].numpy()[0] != b"").all()
    with pytest.raises(tf.errors.InvalidArgumentError, match="must have one batch size"):
        qa(question=tf.constant(["a", "b"]), context=tf.constant(["c"]))
