"""BERT's next-sentence-prediction head on the pooled output."""

import keras


@keras.saving.register_keras_serializable(package="keras_bert")
class NextSentenceHead(keras.layers.Layer):
    """Two-way logits on `pooled_output`: label 0 = IsNext, 1 = NotNext (random).

    TF1 stores it as `cls/seq_relationship/output_weights` ([2, hidden], the transpose of
    this layer's kernel) and `cls/seq_relationship/output_bias`.

    Example:
    >>> head = NextSentenceHead()
    >>> tuple(head(keras.ops.ones((3, 6))).shape)
    (3, 2)
    """

    def __init__(self, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.initializer_range = initializer_range
        self.dense = keras.layers.Dense(
            2,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
            dtype=self.dtype_policy,
            name="seq_relationship",
        )

    def build(self, inputs_shape):
        self.dense.build(inputs_shape)
        self.built = True

    def call(self, pooled_output):
        return self.dense(pooled_output)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape[:-1]) + (2,)

    def get_config(self):
        config = super().get_config()
        config.update(initializer_range=self.initializer_range)
        return config
