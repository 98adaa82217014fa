"""A randomly initialised BiLSTM between the encoder and a task head (the paper's
"LTR & No NSP + BiLSTM" row)."""

import keras


@keras.saving.register_keras_serializable(package="keras_bert")
class SequenceBiLSTM(keras.layers.Layer):
    """A bidirectional LSTM over the real tokens of `sequence_output`.

    Each direction has `hidden // 2` units, so its output has the encoder's width and a
    head built for the encoder reads it unchanged. With `return_sequences=True` it gives
    every position (batch, seq, hidden) (span and tag heads); otherwise one vector per
    sequence (batch, hidden): the forward LSTM at the last real token and the backward
    one at the first, concatenated (classification and multiple-choice heads).

    Example:
    >>> from keras import ops
    >>> layer = SequenceBiLSTM(return_sequences=False)
    >>> tuple(layer(ops.ones((2, 7, 6)), padding_mask=ops.ones((2, 7), "int32")).shape)
    (2, 6)

    Args:
        return_sequences: bool, every position (True) or one vector per sequence.
    """

    def __init__(self, return_sequences=True, **kwargs):
        super().__init__(**kwargs)
        self.return_sequences = return_sequences

    def build(self, inputs_shape, padding_mask_shape=None):
        hidden = inputs_shape[-1]
        if hidden % 2:
            raise ValueError(f"SequenceBiLSTM needs an even hidden size, got {hidden}.")
        self.bilstm = keras.layers.Bidirectional(
            keras.layers.LSTM(hidden // 2, return_sequences=self.return_sequences),
            dtype=self.dtype_policy,
            name="bilstm",
        )
        self.bilstm.build(inputs_shape)
        self.built = True

    def call(self, inputs, padding_mask):
        # `call`, not `__call__`: the heads take the padding mask as an input of their
        # own, so the output carries no Keras mask for layers that would drop it.
        return self.bilstm.call(inputs, mask=keras.ops.cast(padding_mask, "bool"))

    def compute_output_shape(self, inputs_shape, padding_mask_shape=None):
        if self.return_sequences:
            return tuple(inputs_shape)
        return (inputs_shape[0], inputs_shape[-1])

    def get_config(self):
        return dict(super().get_config(), return_sequences=self.return_sequences)
