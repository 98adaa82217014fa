"""Post-training int8 quantization of a BERT model, for CPU inference."""

from keras_bert.backbone import BertBackbone


def _backbones(layer):
    if isinstance(layer, BertBackbone):
        yield layer
        return
    for child in getattr(layer, "layers", ()):
        yield from _backbones(child)


def quantize_int8(model):
    """Quantizes every BERT encoder block of `model` to int8, in place, and returns it.

    Each block's six dense layers become `layers.Int8Dense`: int8 weights with one
    scale per output column, inputs coded in uint8 with the range measured at each call
    (PyTorch's dynamic int8 quantization, with per-column weight scales: one scale per
    matrix loses too much on real BERT weights). On TensorFlow's x86 CPUs they run on
    oneDNN's int8 kernels (`benchmarks/inference.py`); embeddings, LayerNorms,
    attention scores, the pooler and task heads stay float32. The result is for
    inference (`predict`, `evaluate --int8`); it saves and reloads (`.keras`) as int8,
    but `saved_models.export` refuses it (TF Serving may lack the kernels).
    Works on a backbone or on any task model that holds one; the model must be float32.

    Example:
    >>> import keras_bert
    >>> model = keras_bert.build("tiny", num_layers=1)
    >>> model = keras_bert.quantize_int8(model)
    >>> model.get_layer("transformer_layer_0").quantization
    'int8'

    Args:
        model: keras.Model, a `BertBackbone` or a task model around one.
    """
    backbones = list(_backbones(model))
    if not backbones:
        raise ValueError(f"{model.name} holds no BertBackbone to quantize.")
    for backbone in backbones:
        backbone.quantize_int8()
    # Functions traced before hold the float layers.
    for name in ("predict_function", "test_function", "train_function"):
        if getattr(model, name, None) is not None:
            setattr(model, name, None)
    return model


__all__ = ["quantize_int8"]
