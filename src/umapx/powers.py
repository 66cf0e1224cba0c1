"""``x ** b`` for a fixed ``b`` by interpolation in a table, for the layout's forces.

Every attraction and every negative sample of the layout needs ``d^(2b)`` of a float32 squared
distance; libm's ``powf`` took about a third of the layout's time on Fashion-MNIST (60k
points). The exponent ``b`` is fixed for a whole optimisation, so :func:`power_table` tabulates
``x ** b`` once at the float32 values whose 15 low mantissa bits are zero (256 points per
power of two, every exponent), and :func:`table_power` interpolates linearly between the two
entries around ``x``, found from the float's bits: within a power of two a float32 is linear
in its bits, so this is linear interpolation in ``x`` over a relative step of at most 1/256.
Its relative error is at most ``|b (b - 1)| / 8 / 256^2`` plus float32 rounding: under 4e-6
for the ``b`` of the usual ``min_dist`` / ``spread`` (0.5 to 1.9), exact up to rounding for
``b = 1`` (``tests/test_powers.py``).

Two table look-ups and a multiply-add replace a call to ``powf``: with this (and the overlap
of each positive sample's attraction with its repulsions, ``layout.py``) the Fashion-MNIST
layout takes 46% less CPU time. (A bit-level ``exp2(b * log2(x))`` with short polynomials,
with or without small tables, was 10-45% slower than glibc 2.36's ``powf``, which already
works that way; ``benchmarks/README.md``, Speed.) The table is 256 KiB, but a layout reads only
the few exponents its distances span, a few KiB.
"""

from __future__ import annotations

import functools

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._jit import kernel

_CELL_BITS = 15  # low mantissa bits dropped: 2^(23 - 15) = 256 cells per power of two
_CELL_SHIFT = np.int32(_CELL_BITS)
_CELL_MASK = np.int32((1 << _CELL_BITS) - 1)
_CELL_SCALE = np.float32(1.0 / (1 << _CELL_BITS))
_MAGNITUDE_MASK = np.int32(0x7FFFFFFF)
_LARGEST = np.finfo(np.float32).max


@intrinsic
def float32_bits(typingctx, value):
    """The bits of a float32 as an int32 (a bit cast, no conversion)."""
    if value != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


def power_table(b):
    """The table of :func:`table_power` for the exponent ``b`` (float32, 65537 entries; shared
    between calls with the same ``b``: do not modify it).

    Entry ``i`` is ``v ** b`` at the float32 ``v`` whose bits are ``i << 15``, so every
    non-negative float32 lies between two entries. The bit patterns of infinity and NaN
    continue the sequence as if the exponent went on (2^128 and beyond), so that the top cell
    of the finite range interpolates correctly; powers beyond the float32 range are stored as
    its largest value.
    """
    return _power_table(float(np.float32(b)))


@functools.lru_cache(maxsize=16)
def _power_table(b):
    bits = np.arange(1 + (1 << (31 - _CELL_BITS)), dtype=np.int64) << _CELL_BITS
    exponent, mantissa = bits >> 23, (bits & 0x7FFFFF).astype(np.float64)
    values = np.where(exponent == 0, np.ldexp(mantissa, -149),  # denormals
                      np.ldexp(1.0 + mantissa / 2.0**23, (exponent - 127).astype(np.int32)))
    with np.errstate(over="ignore", divide="ignore"):
        powers = values ** np.float64(b)
    return np.minimum(powers, _LARGEST).astype(np.float32)


@kernel(inline="always")
def table_power(x, table):
    """``|x| ** b`` for a float32 ``x``, from ``table = power_table(b)`` (see the module
    docstring for the error). Infinite and NaN ``x`` give ``(2^128)^b`` or more (at most
    float32's largest value): finite, so a force computed from them is 0, not NaN."""
    bits = float32_bits(x) & _MAGNITUDE_MASK
    cell = bits >> _CELL_SHIFT
    fraction = np.float32(bits & _CELL_MASK) * _CELL_SCALE
    low = table[cell]
    return low + (table[cell + 1] - low) * fraction


__all__ = ["power_table", "table_power", "float32_bits"]
