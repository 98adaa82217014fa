"""Backend-specific fast paths behind one door, `dispatch` (the entry points the layers
call: dense, projections, activation, attention, attention probabilities, LayerNorm,
dropout, int8, the AdamW step), each falling back to the portable `keras_bert.ops` code;
the kernels are oneDNN and XLA ones of TensorFlow's CPUs (plus the backend's fused
attention on JAX), each gated by `switches.kernel_may_run` and a probe
(`onednn_probe`). TensorFlow is imported lazily: `import keras_bert` on JAX never loads it."""
