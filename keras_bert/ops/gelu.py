"""The exact (erf) GELU's formulas in keras.ops, float32 inside: the value `x * Phi(x)`,
its slope `Phi(x) + x * phi(x)`, and erf as a polynomial for backends whose compiler
fuses it better than an erf op. The layers and the kernels share them."""

from keras import ops

_SQRT_HALF = 0.7071067811865476
_INV_SQRT_PI = 0.5641895835477563

# Abramowitz & Stegun 7.1.26: erfc(z) = t * P(t) * exp(-z * z), t = 1 / (1 + p z), z >= 0,
# with |error| <= 1.5e-7 (P's coefficients, lowest power first).
_AS_P = 0.3275911
_AS_COEFFICIENTS = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def gelu_erf_polynomial(x):
    """`x * Phi(x)` with erf as a polynomial times `exp` (Abramowitz & Stegun 7.1.26,
    |error| <= 1.5e-7), in float32 and rounded once to `x`'s dtype: within 4.3e-7 of the
    float64 GELU on [-12, 12], as exact as XLA's erf (3.9e-7 there).

    >>> float(gelu_erf_polynomial(ops.convert_to_tensor([1.0]))[0])  # doctest: +ELLIPSIS
    0.84134...
    """
    dtype = x.dtype
    x = ops.cast(x, "float32")
    z = ops.abs(x) * _SQRT_HALF
    t = 1.0 / (1.0 + _AS_P * z)
    poly = 0.0
    for coefficient in reversed(_AS_COEFFICIENTS):  # Horner: P(t)
        poly = coefficient + t * poly
    half_erfc = 0.5 * t * poly * ops.exp(-z * z)  # erfc(|x| / sqrt 2) / 2
    phi = ops.where(x >= 0, 1.0 - half_erfc, half_erfc)  # Phi(x)
    return ops.cast(x * phi, dtype)


def _cdf(x32):
    # Phi = (1 + erf(x / sqrt 2)) / 2: erf, on TensorFlow's CPU kernels 3x erfc's speed.
    return ops.erf(x32 * _SQRT_HALF) * 0.5 + 0.5


def gelu_float32(x32):
    """`x * Phi(x)` of a float32 tensor (the formula of `gelu_exact_training`)."""
    return x32 * _cdf(x32)


def gelu_slope_float32(x32):
    """`Phi(x) + x * phi(x)` of a float32 tensor, with `x * phi(x)` as
    `z * exp(-z**2) / sqrt(pi)` for `z = x / sqrt(2)`."""
    z = x32 * _SQRT_HALF
    return _cdf(x32) + z * ops.exp(-ops.square(z)) * _INV_SQRT_PI
