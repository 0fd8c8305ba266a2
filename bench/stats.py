"""Percentiles of a set of measurements, as the table reports them."""

import math
import statistics
from collections.abc import Sequence

import msgspec


class Percentiles(msgspec.Struct):
    p50: float
    p95: float
    max: float
    n: int


def percentiles(values: Sequence[float]) -> Percentiles:
    """Nearest-rank p95 and the median; NaN everywhere when there are no values."""
    if not values:
        return Percentiles(p50=math.nan, p95=math.nan, max=math.nan, n=0)
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Percentiles(p50=statistics.median(ordered), p95=p95, max=ordered[-1], n=len(ordered))
