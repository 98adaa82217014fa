"""Input pipelines: in-graph BERT tokenization and packing (tf.data + tensorflow-text)."""

from pipelines.packing import pack_segments
from pipelines.preprocessor import BertPreprocessor
from pipelines.tokenizer import BertTokenizer
from pipelines.vocabulary import SPECIAL_TOKENS, read_vocabulary

__all__ = [
    "SPECIAL_TOKENS",
    "BertPreprocessor",
    "BertTokenizer",
    "pack_segments",
    "read_vocabulary",
]
