"""Task models built on BertBackbone (each a BertTask: one compile recipe, heads map)."""

from keras_bert.tasks.bert_classifier import BertClassifier
from keras_bert.tasks.bert_pretrainer import BertPretrainer
from keras_bert.tasks.bert_task import FINE_TUNING, PRETRAINING, RECIPE_ARGS, BertTask
from keras_bert.tasks.bert_text_embedder import BertTextEmbedder

__all__ = [
    "FINE_TUNING",
    "PRETRAINING",
    "RECIPE_ARGS",
    "BertClassifier",
    "BertPretrainer",
    "BertTask",
    "BertTextEmbedder",
]
