"""BERT's formulas in keras.ops, on any backend: attention (probabilities, context, the
[CLS]-row fold), the activations and training GELU, softmax-dropout, dropout masks.
The layers call them through `keras_bert.kernels.dispatch`, whose fast paths fall back
to them; no layer and no backend is imported here."""
