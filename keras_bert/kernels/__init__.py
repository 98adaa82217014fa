"""Backend-specific fast paths: oneDNN and XLA kernels on TensorFlow's CPUs (softmax,
LayerNorm, kept-weights and int8 matmuls, the training GELU, dropout masks, the fused
AdamW step) and the probe that checks a kernel in a child process first. Each module
imports TensorFlow lazily and says when it may serve a call (`usable`/`available`);
where it may not, the portable keras.ops code in `layers` runs instead."""
