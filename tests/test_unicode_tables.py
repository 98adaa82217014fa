"""The Unicode tables' cache: what it gives back is what building gives, a damaged file
is rebuilt, and a folder that cannot be written is no error."""

import os

import numpy as np
import pytest

from pipelines import unicode_tables


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BERT_CACHE", str(tmp_path / "cache"))
    unicode_tables.tables.cache_clear()
    yield tmp_path / "cache"
    unicode_tables.tables.cache_clear()


def same(a, b):
    return all(np.array_equal(x, y) and x.dtype == y.dtype for x, y in zip(a, b))


@pytest.mark.parametrize("lowercase", [True, False])
def test_cached_tables_are_the_built_ones(cache, lowercase):
    built = unicode_tables.build_tables(lowercase)
    first = unicode_tables.tables(lowercase)  # Builds and writes the file.
    path = unicode_tables.cache_path(lowercase)
    assert os.path.dirname(path) == str(cache) and os.path.isfile(path)
    unicode_tables.tables.cache_clear()
    assert same(first, built) and same(unicode_tables.tables(lowercase), built)  # Read back.
    assert os.listdir(cache) == [os.path.basename(path)]  # No temporary file left.


def test_a_damaged_cache_file_is_rebuilt(cache):
    path = unicode_tables.cache_path(True)
    os.makedirs(cache)
    with open(path, "wb") as f:
        f.write(b"PK\x03\x04 not a whole zip file")
    assert same(unicode_tables.tables(True), unicode_tables.build_tables(True))
    unicode_tables.tables.cache_clear()
    with np.load(path) as saved:  # Replaced by a good one.
        assert saved["flags"].shape == (unicode_tables.NUM_CODE_POINTS,)


def test_an_unwritable_cache_is_no_error(cache):
    cache.parent.joinpath("cache").write_text("a file where the folder should be")
    assert same(unicode_tables.tables(False), unicode_tables.build_tables(False))
