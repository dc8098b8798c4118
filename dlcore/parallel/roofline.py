"""Arithmetic intensity and the roofline model (Williams, Waterman and Patterson, 2009).

A kernel that does F floating-point operations and moves B bytes between memory and the
processor has arithmetic intensity I = F / B (FLOP per byte). A processor with peak rate
P (FLOP/s) and memory bandwidth W (byte/s) cannot run it faster than

    attainable(I) = min(P, I * W)  FLOP/s,   i.e.  time >= max(F / P, B / W).

Below the ridge point I* = P / W the kernel is memory-bound (faster arithmetic would not
help); above it, compute-bound. Counts here assume each operand is read from memory once
and each result written once (perfect caching), the model's usual idealisation.
"""

__all__ = ["attainable_flops", "elementwise_cost", "matmul_cost", "ridge_point",
           "roofline_seconds"]


def matmul_cost(m, k, n, bytes_per_value=4):
    """(flops, bytes) of C = A @ B with A (m, k), B (k, n): 2mkn operations (a multiply
    and an add per term), reading A and B and writing C once: (mk + kn + mn) values."""
    return 2 * m * k * n, (m * k + k * n + m * n) * bytes_per_value


def elementwise_cost(n, reads=2, writes=1, flops_per_element=1, bytes_per_value=4):
    """(flops, bytes) of an elementwise op on n values, e.g. z = x + y: reads=2, writes=1,
    one operation per element. Intensity flops_per_element / ((reads + writes) * bytes):
    a constant, whatever n is."""
    return flops_per_element * n, (reads + writes) * n * bytes_per_value


def attainable_flops(intensity, peak_flops, bandwidth):
    """min(peak, intensity * bandwidth): FLOP/s the roofline allows at this intensity."""
    return min(peak_flops, intensity * bandwidth)


def ridge_point(peak_flops, bandwidth):
    """Intensity (FLOP/byte) where the kernel stops being memory-bound: peak / bandwidth."""
    return peak_flops / bandwidth


def roofline_seconds(flops, bytes_moved, peak_flops, bandwidth):
    """Lower bound on the run time: max(flops / peak, bytes / bandwidth)."""
    return max(flops / peak_flops, bytes_moved / bandwidth)
