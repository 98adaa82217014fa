"""BERT's building blocks as Keras 3 layers, written in keras.ops (no backend is imported
here); every execution choice (a backend's kernel or the portable formula) is asked of
`keras_bert.kernels.dispatch`."""

from keras_bert.layers.bert_embeddings import BertEmbeddings
from keras_bert.layers.bert_layer_norm import BertLayerNorm
from keras_bert.layers.choice_reshape import ChoiceReshape
from keras_bert.layers.frozen_features import FrozenFeatures
from keras_bert.layers.int8_dense import Int8Dense
from keras_bert.layers.mask_dropout import MaskDropout
from keras_bert.layers.masked_lm_head import MaskedLMHead
from keras_bert.layers.mean_pooling import MeanPooling
from keras_bert.layers.next_sentence_head import NextSentenceHead
from keras_bert.layers.scalar_mix import ScalarMix
from keras_bert.layers.sequence_bilstm import SequenceBiLSTM
from keras_bert.layers.transformer_encoder import TransformerEncoder
from keras_bert.ops.activations import get_activation

__all__ = [
    "BertEmbeddings",
    "BertLayerNorm",
    "ChoiceReshape",
    "FrozenFeatures",
    "Int8Dense",
    "MaskDropout",
    "MaskedLMHead",
    "MeanPooling",
    "NextSentenceHead",
    "ScalarMix",
    "SequenceBiLSTM",
    "TransformerEncoder",
    "get_activation",
]
