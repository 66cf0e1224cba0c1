"""The interpolated power table of the layout's forces against numpy's float64 powers."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from umapx.powers import float32_bits, power_table, table_power


@numba.njit
def _powers(values, table):
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        out[i] = table_power(values[i], table)
    return out


def _squared_distances():
    """The squared distances a layout meets (1e-8 to 1e6), dense in every power of two, plus
    the exact grid points of the table and their neighbours."""
    rng = np.random.default_rng(0)
    spread = 10.0 ** rng.uniform(-8, 6, 200_000)
    grid = 2.0 ** np.arange(-26, 20, 1 / 256)
    values = np.concatenate([spread, grid, grid * (1 + 2**-20), grid * (1 - 2**-20)])
    return values.astype(np.float32)


@pytest.mark.parametrize("b", [0.5, 0.6, 0.7915, 0.8951, 1.0, 1.2, 1.5, 1.9])
def test_relative_error_is_within_the_interpolation_bound(b):
    b = np.float32(b)
    values = _squared_distances()
    exact = values.astype(np.float64) ** np.float64(b)
    error = np.abs(_powers(values, power_table(b)) / exact - 1)
    # Linear interpolation over a relative step of 1/256: |b (b - 1)| / 8 / 256^2, plus a few
    # float32 roundings (the multiply-add, the stored entries).
    bound = abs(b * (b - 1)) / 8 / 256**2 + 4e-7
    assert error.max() <= bound
    if b == 1:  # exact up to rounding
        assert error.max() < 2.5e-7


def test_zero_denormal_infinite_and_nan_arguments():
    table = power_table(np.float32(0.8951))
    smallest_normal = np.finfo(np.float32).tiny
    values = np.array([0.0, -0.0, 1e-45, 1e-40, smallest_normal, np.inf, np.nan,
                       np.finfo(np.float32).max], np.float32)
    result = _powers(values, table)
    assert result[0] == 0 and result[1] == 0
    # Denormals (never met: the layout skips d^2 == 0, and a denormal d^2 clips the step):
    # finite, non-negative and below the smallest normal's power.
    tiny_power = np.float64(smallest_normal) ** 0.8951
    assert np.all(np.isfinite(result[2:4])) and np.all(result[2:4] >= 0)
    assert np.all(result[2:4] <= tiny_power * (1 + 1e-5))
    assert result[4] == pytest.approx(tiny_power, rel=1e-5)
    # inf and NaN give a finite value at least (2^128)^b (a force of 0, never a NaN).
    assert np.all(np.isfinite(result[5:7]))
    assert np.all(result[5:7] >= np.float32(2.0 ** (128 * 0.8951) * (1 - 1e-6)))
    assert result[7] == pytest.approx(np.float64(np.finfo(np.float32).max) ** 0.8951, rel=1e-5)


def test_powers_beyond_float32_are_its_largest_value():
    table = power_table(np.float32(1.9))
    assert table.dtype == np.float32 and table.shape == (2**16 + 1,)
    assert np.all(np.isfinite(table))
    assert _powers(np.array([1e30], np.float32), table)[0] == np.finfo(np.float32).max


def test_bit_cast():
    @numba.njit
    def bits(value):
        return float32_bits(value)

    for value in (1.0, -2.5, 0.0, np.inf, 1e-40):
        expected = np.array([value], np.float32).view(np.int32)[0]
        assert bits(np.float32(value)) == expected
