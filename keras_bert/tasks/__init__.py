"""Task models built on BertBackbone (each a BertTask: one compile recipe, heads map),
and the one registry of their names (`registry.REGISTRY`)."""

from keras_bert.tasks.bert_classifier import BertClassifier
from keras_bert.tasks.bert_feature_tagger import BertFeatureTagger
from keras_bert.tasks.bert_multiple_choice import BertMultipleChoice
from keras_bert.tasks.bert_pretrainer import BertPretrainer
from keras_bert.tasks.bert_span_extractor import BertSpanExtractor
from keras_bert.tasks.bert_task import FINE_TUNING, PRETRAINING, RECIPE_ARGS, BertTask
from keras_bert.tasks.bert_text_embedder import BertTextEmbedder
from keras_bert.tasks.bert_token_classifier import BertTokenClassifier
from keras_bert.tasks.registry import REGISTRY

__all__ = [
    "FINE_TUNING",
    "PRETRAINING",
    "RECIPE_ARGS",
    "REGISTRY",
    "BertClassifier",
    "BertFeatureTagger",
    "BertMultipleChoice",
    "BertPretrainer",
    "BertSpanExtractor",
    "BertTask",
    "BertTextEmbedder",
    "BertTokenClassifier",
]
