"""BERT's building blocks as Keras 3 layers (keras.ops only)."""

from keras_bert.layers.activations import get_activation
from keras_bert.layers.bert_embeddings import BertEmbeddings
from keras_bert.layers.masked_lm_head import MaskedLMHead
from keras_bert.layers.mean_pooling import MeanPooling
from keras_bert.layers.next_sentence_head import NextSentenceHead
from keras_bert.layers.transformer_encoder import TransformerEncoder

__all__ = [
    "BertEmbeddings",
    "MaskedLMHead",
    "MeanPooling",
    "NextSentenceHead",
    "TransformerEncoder",
    "get_activation",
]
