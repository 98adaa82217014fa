"""Task models built on BertBackbone."""

from keras_bert.tasks.bert_pretrainer import BertPretrainer

__all__ = ["BertPretrainer"]
