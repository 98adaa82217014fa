"""Portable math in keras.ops that layers and kernels share (no layer, no backend)."""
