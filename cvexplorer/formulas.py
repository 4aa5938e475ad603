"""Closed-form arithmetic of computer vision: shapes, parameters, receptive fields, stereo, RANSAC.

Every function is pure Python/NumPy, returns exact integers where the answer is an integer and
raises :class:`ValueError` with one student-readable sentence when an argument makes no sense.

Conventions
-----------
* Sizes are one spatial side (height or width) in pixels.
* Receptive fields: pixel *centres* sit at integer coordinates, so input pixel ``i`` covers
  ``[i - 0.5, i + 0.5]`` and the first input pixel's centre is 0. ``start`` is the centre of the
  first output cell's receptive field in those coordinates (it is negative when padding pulls the
  field off the image). The receptive field of output cell ``j`` covers the input pixel indices
  ``start + j*jump - (rf-1)/2 ... start + j*jump + (rf-1)/2`` (inclusive).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "transposed_conv_output_size",
    "same_padding",
    "conv_params",
    "depthwise_separable_params",
    "linear_params",
    "conv_macs",
    "activation_bytes",
    "RFResult",
    "receptive_field",
    "anchor_count",
    "iou",
    "nms_max_comparisons",
    "disparity_from_depth",
    "depth_from_disparity",
    "depth_uncertainty",
    "disparity_search_range",
    "ransac_iterations",
    "apply_homography",
    "min_inference_ms",
]


# ----------------------------------------------------------------------------- validation helpers
def _int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise ValueError naming ``name`` when it is not a whole number >= minimum."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, not {value!r}.")
    try:
        iv = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {value!r}.") from None
    if iv != value:
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if iv < minimum:
        if minimum == 1:
            raise ValueError(f"{name} must be at least 1, got {iv}.")
        if minimum == 0:
            raise ValueError(f"{name} cannot be negative, got {iv}.")
        raise ValueError(f"{name} must be at least {minimum}, got {iv}.")
    return iv


def _pos(value, name: str) -> float:
    """Return ``value`` as a positive finite float, or raise ValueError."""
    try:
        fv = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(fv) or fv <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return fv


def _pair(value, name: str) -> tuple[int, int]:
    """An int (square) or an (h, w) pair of positive ints."""
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} must be one number or an (height, width) pair, got {value!r}.")
        return _int(value[0], name), _int(value[1], name)
    v = _int(value, name)
    return v, v


# ----------------------------------------------------------------------------- shapes
def conv_output_size(size, kernel, stride=1, padding=0, dilation=1) -> int:
    r"""Output side of a convolution.

    .. math:: O = \left\lfloor \frac{N + 2P - D(K-1) - 1}{S} \right\rfloor + 1

    which for dilation 1 is the familiar :math:`\lfloor (N - K + 2P)/S \rfloor + 1`.

    Raises ValueError when the (dilated) kernel does not fit in the padded input.

    Examples
    --------
    >>> conv_output_size(224, 3, stride=2, padding=1)
    112
    >>> conv_output_size(32, 3)
    30
    >>> conv_output_size(7, 3, dilation=2)
    3
    """
    n = _int(size, "The input size")
    k = _int(kernel, "The kernel size")
    s = _int(stride, "The stride")
    p = _int(padding, "The padding", 0)
    d = _int(dilation, "The dilation")
    k_eff = d * (k - 1) + 1
    if k_eff > n + 2 * p:
        extra = f" (a {k}×{k} kernel with dilation {d} spans {k_eff} pixels)" if d > 1 else ""
        raise ValueError(
            f"The kernel{extra} is larger than the padded input: {k_eff} > {n} + 2·{p} = {n + 2 * p}."
        )
    return (n + 2 * p - k_eff) // s + 1


def pool_output_size(size, kernel, stride=None, padding=0, ceil_mode=False) -> int:
    r"""Output side of a max/average pooling layer (stride defaults to the kernel size).

    .. math:: O = \left\lfloor \frac{N + 2P - K}{S} \right\rfloor + 1

    With ``ceil_mode`` the floor becomes a ceiling, except that (as in PyTorch) the last window
    must start inside the input or the left padding, never only in the right padding.

    Examples
    --------
    >>> pool_output_size(224, 2)
    112
    >>> pool_output_size(112, 3, stride=2, padding=1)
    56
    >>> pool_output_size(7, 2, ceil_mode=True)
    4
    """
    n = _int(size, "The input size")
    k = _int(kernel, "The pooling window")
    s = k if stride is None else _int(stride, "The stride")
    p = _int(padding, "The padding", 0)
    if 2 * p > k:
        raise ValueError(f"Pooling padding must be at most half the window: padding {p} > {k}/2.")
    if k > n + 2 * p:
        raise ValueError(f"The pooling window is larger than the padded input: {k} > {n} + 2·{p} = {n + 2 * p}.")
    span = n + 2 * p - k
    if ceil_mode:
        out = -(-span // s) + 1
        if (out - 1) * s >= n + p:  # the last window would start in the right padding
            out -= 1
        return out
    return span // s + 1


def transposed_conv_output_size(size, kernel, stride=1, padding=0, output_padding=0, dilation=1) -> int:
    r"""Output side of a transposed convolution ("deconvolution").

    .. math:: O = (N - 1)S - 2P + D(K - 1) + P_{out} + 1

    ``output_padding`` must be smaller than the stride or the dilation (as in PyTorch).

    Examples
    --------
    >>> transposed_conv_output_size(14, 4, stride=2, padding=1)
    28
    >>> transposed_conv_output_size(112, 3, stride=2, padding=1, output_padding=1)
    224
    """
    n = _int(size, "The input size")
    k = _int(kernel, "The kernel size")
    s = _int(stride, "The stride")
    p = _int(padding, "The padding", 0)
    op = _int(output_padding, "The output padding", 0)
    d = _int(dilation, "The dilation")
    if op >= max(s, d):
        raise ValueError(f"The output padding must be smaller than the stride or the dilation: {op} >= {max(s, d)}.")
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out < 1:
        raise ValueError(f"The padding {p} removes the whole output: the size would be {out}.")
    return out


def same_padding(kernel, dilation=1) -> int:
    r"""Padding that keeps the size unchanged at stride 1: :math:`P = D(K-1)/2`.

    Raises ValueError when the effective kernel :math:`D(K-1)+1` is even (no symmetric padding).

    Examples
    --------
    >>> same_padding(3)
    1
    >>> same_padding(3, dilation=2)
    2
    """
    k = _int(kernel, "The kernel size")
    d = _int(dilation, "The dilation")
    total = d * (k - 1)
    if total % 2:
        raise ValueError(
            f"An effective kernel of {total + 1} pixels is even, so no symmetric padding keeps the size "
            f"(it needs {total} pixels of padding split over two sides)."
        )
    return total // 2


# ----------------------------------------------------------------------------- parameters and cost
def conv_params(c_in, c_out, kernel, bias=True, groups=1) -> int:
    r"""Learnable parameters of a 2-D convolution.

    .. math:: \#W = K_h K_w \frac{C_{in}}{G} C_{out} + [\text{bias}]\, C_{out}

    Examples
    --------
    >>> conv_params(64, 128, 3)
    73856
    >>> conv_params(32, 32, 3, bias=False, groups=32)
    288
    """
    ci = _int(c_in, "The number of input channels")
    co = _int(c_out, "The number of output channels")
    kh, kw = _pair(kernel, "The kernel size")
    g = _int(groups, "The number of groups")
    if ci % g or co % g:
        raise ValueError(f"The groups ({g}) must divide both channel counts ({ci} in, {co} out).")
    return kh * kw * (ci // g) * co + (co if bias else 0)


def depthwise_separable_params(c_in, c_out, kernel, bias=False) -> int:
    r"""Parameters of a depthwise K×K convolution followed by a pointwise 1×1 convolution.

    .. math:: \#W = K_h K_w C_{in} + C_{in} C_{out} + [\text{bias}](C_{in} + C_{out})

    Examples
    --------
    >>> depthwise_separable_params(64, 128, 3)
    8768
    """
    ci = _int(c_in, "The number of input channels")
    co = _int(c_out, "The number of output channels")
    kh, kw = _pair(kernel, "The kernel size")
    return kh * kw * ci + ci * co + ((ci + co) if bias else 0)


def linear_params(n_in, n_out, bias=True) -> int:
    r"""Parameters of a fully connected layer: :math:`N_{in} N_{out} + [\text{bias}] N_{out}`.

    Examples
    --------
    >>> linear_params(4096, 1000)
    4097000
    """
    a = _int(n_in, "The number of inputs")
    b = _int(n_out, "The number of outputs")
    return a * b + (b if bias else 0)


def conv_macs(out_h, out_w, c_in, c_out, kernel, groups=1) -> int:
    r"""Multiply-accumulates of a convolution: one K×K×(C_in/G) dot product per output value.

    .. math:: \text{MACs} = H_{out} W_{out} C_{out} K_h K_w \frac{C_{in}}{G}

    Examples
    --------
    >>> conv_macs(112, 112, 3, 64, 7)
    118013952
    """
    h = _int(out_h, "The output height")
    w = _int(out_w, "The output width")
    ci = _int(c_in, "The number of input channels")
    co = _int(c_out, "The number of output channels")
    kh, kw = _pair(kernel, "The kernel size")
    g = _int(groups, "The number of groups")
    if ci % g or co % g:
        raise ValueError(f"The groups ({g}) must divide both channel counts ({ci} in, {co} out).")
    return h * w * co * kh * kw * (ci // g)


def activation_bytes(shape, bytes_per_element=4) -> int:
    r"""Memory of one activation tensor: the product of its shape times the bytes per element.

    Examples
    --------
    >>> activation_bytes((1, 64, 112, 112))
    3211264
    >>> activation_bytes((3, 224, 224), bytes_per_element=1)
    150528
    """
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    dims = [_int(d, "Every dimension of the shape") for d in shape]
    if not dims:
        raise ValueError("The shape needs at least one dimension.")
    b = bytes_per_element
    if isinstance(b, float) and b.is_integer():
        b = int(b)
    b = _int(b, "The bytes per element") if not isinstance(b, float) else _pos(b, "The bytes per element")
    total = math.prod(dims) * b
    if isinstance(total, float):
        if not total.is_integer():
            raise ValueError(f"The tensor would take a fractional number of bytes ({total}).")
        total = int(total)
    return total


# ----------------------------------------------------------------------------- receptive field
@dataclass(frozen=True)
class RFResult:
    """One layer's receptive field: size ``rf``, ``jump`` (input pixels between neighbouring cells),
    ``start`` (centre of cell 0's field, pixel centres at integer coordinates) and ``out_size``
    (the feature map side when an input size was given, else None)."""

    rf: int
    jump: int
    start: float
    out_size: int | None = None


def _layer_tuple(layer, i: int) -> tuple[int, int, int, int]:
    try:
        parts = tuple(layer)
    except TypeError:
        raise ValueError(f"Layer {i + 1} must be a tuple (kernel, stride[, padding[, dilation]]), got {layer!r}.") from None
    if not 2 <= len(parts) <= 4:
        raise ValueError(f"Layer {i + 1} must be a tuple (kernel, stride[, padding[, dilation]]), got {layer!r}.")
    k = _int(parts[0], f"The kernel of layer {i + 1}")
    s = _int(parts[1], f"The stride of layer {i + 1}")
    p = _int(parts[2], f"The padding of layer {i + 1}", 0) if len(parts) > 2 else 0
    d = _int(parts[3], f"The dilation of layer {i + 1}") if len(parts) > 3 else 1
    return k, s, p, d


def receptive_field(layers: Iterable[Sequence[int]], input_size=None) -> list[RFResult]:
    r"""Receptive field, jump and start of every layer of a stack (one spatial axis).

    Each layer is ``(kernel, stride[, padding[, dilation]])``. With :math:`K' = D(K-1)+1`:

    .. math::
        r_l = r_{l-1} + (K'_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1} S_l, \qquad
        s_l = s_{l-1} + \left(\tfrac{K'_l - 1}{2} - P_l\right) j_{l-1}

    starting from :math:`r_0 = 1, j_0 = 1, s_0 = 0` (pixel centres at integer coordinates).
    Given ``input_size`` each result also carries the output side ``out_size``.

    Examples
    --------
    >>> [r.rf for r in receptive_field([(3, 1), (3, 1), (2, 2)])]
    [3, 5, 6]
    >>> r = receptive_field([(7, 2, 3), (3, 2, 1)], input_size=224)[-1]
    >>> (r.rf, r.jump, r.start, r.out_size)
    (11, 4, 0.0, 56)
    """
    rf, jump, start = 1, 1, 0.0
    n = None if input_size is None else _int(input_size, "The input size")
    out: list[RFResult] = []
    for i, layer in enumerate(layers):
        k, s, p, d = _layer_tuple(layer, i)
        k_eff = d * (k - 1) + 1
        if n is not None:
            if k_eff > n + 2 * p:
                raise ValueError(
                    f"Layer {i + 1}: the kernel ({k_eff} pixels wide) is larger than its padded input "
                    f"({n} + 2·{p} = {n + 2 * p})."
                )
            n = (n + 2 * p - k_eff) // s + 1
        start = start + ((k_eff - 1) / 2 - p) * jump
        rf = rf + (k_eff - 1) * jump
        jump = jump * s
        out.append(RFResult(rf=rf, jump=jump, start=float(start), out_size=n))
    return out


# ----------------------------------------------------------------------------- detection
def anchor_count(grid_sizes, anchors_per_location) -> int:
    r"""Total anchors over feature-map levels: :math:`\sum_l H_l W_l A`.

    ``grid_sizes`` is one level or a list of levels; a level is an int (square) or an (h, w) pair.
    ``anchors_per_location`` is one int for all levels or one per level.

    Examples
    --------
    >>> anchor_count([80, 40, 20], 3)
    25200
    >>> anchor_count([(38, 50)], 9)
    17100
    """
    if isinstance(grid_sizes, (int, np.integer)):
        grid_sizes = [grid_sizes]
    levels = [_pair(g, "Every grid size") for g in grid_sizes]
    if not levels:
        raise ValueError("Give at least one feature-map level.")
    if isinstance(anchors_per_location, (int, np.integer)):
        per = [_int(anchors_per_location, "The number of anchors per location")] * len(levels)
    else:
        per = [_int(a, "The number of anchors per location") for a in anchors_per_location]
        if len(per) != len(levels):
            raise ValueError(f"Give one anchor count per level: {len(levels)} levels but {len(per)} counts.")
    return sum(h * w * a for (h, w), a in zip(levels, per))


def _box(b, name: str) -> tuple[float, float, float, float]:
    try:
        x1, y1, x2, y2 = (float(v) for v in b)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be four numbers [x1, y1, x2, y2], got {b!r}.") from None
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        raise ValueError(f"{name} has a coordinate that is not a finite number: {b!r}.")
    if x2 < x1 or y2 < y1:
        raise ValueError(f"{name} must have x2 ≥ x1 and y2 ≥ y1, got {b!r}.")
    return x1, y1, x2, y2


def iou(box_a, box_b) -> float:
    r"""Intersection over union of two ``[x1, y1, x2, y2]`` boxes (continuous coordinates).

    .. math:: \text{IoU} = \frac{|A \cap B|}{|A| + |B| - |A \cap B|}

    Two empty boxes give 0.

    Examples
    --------
    >>> iou([0, 0, 10, 10], [5, 5, 15, 15])
    0.14285714285714285
    >>> iou([0, 0, 2, 2], [0, 0, 2, 2])
    1.0
    """
    ax1, ay1, ax2, ay2 = _box(box_a, "The first box")
    bx1, by1, bx2, by2 = _box(box_b, "The second box")
    iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    ih = max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    if union <= 0:
        return 0.0
    return min(1.0, max(0.0, inter / union))


def nms_max_comparisons(n) -> int:
    r"""Worst-case IoU evaluations of greedy NMS on ``n`` boxes (nothing is ever suppressed).

    .. math:: C = \sum_{i=1}^{n-1} (n - i) = \frac{n(n-1)}{2}

    Examples
    --------
    >>> nms_max_comparisons(1000)
    499500
    """
    m = _int(n, "The number of boxes", 0)
    return m * (m - 1) // 2


# ----------------------------------------------------------------------------- stereo
def disparity_from_depth(f_px, baseline, depth) -> float:
    r"""Disparity of a point at depth Z: :math:`d = fB/Z` (pixels; B and Z in the same unit).

    Examples
    --------
    >>> disparity_from_depth(500, 0.12, 5)
    12.0
    """
    f = _pos(f_px, "The focal length")
    b = _pos(baseline, "The baseline")
    z = _pos(depth, "The depth")
    return f * b / z


def depth_from_disparity(f_px, baseline, disparity) -> float:
    r"""Depth of a point with disparity d: :math:`Z = fB/d` (in the unit of the baseline).

    Examples
    --------
    >>> depth_from_disparity(500, 0.12, 8)
    7.5
    """
    f = _pos(f_px, "The focal length")
    b = _pos(baseline, "The baseline")
    try:
        d = float(disparity)
    except (TypeError, ValueError):
        raise ValueError(f"The disparity must be a number, got {disparity!r}.") from None
    if not math.isfinite(d) or d <= 0:
        raise ValueError(f"The disparity must be positive (zero disparity means infinitely far), got {disparity!r}.")
    return f * b / d


def depth_uncertainty(f_px, baseline, depth, disparity_error=1.0) -> tuple[float, float]:
    r"""Depth interval when the disparity is off by ±Δd.

    .. math:: d = fB/Z, \quad Z_{near} = \frac{fB}{d + \Delta d}, \quad Z_{far} = \frac{fB}{d - \Delta d}

    ``z_far`` is ``inf`` when the error is as large as the disparity itself.

    Examples
    --------
    >>> z_near, z_far = depth_uncertainty(500, 0.12, 10)
    >>> round(z_near, 3), round(z_far, 3)
    (8.571, 12.0)
    """
    f = _pos(f_px, "The focal length")
    b = _pos(baseline, "The baseline")
    z = _pos(depth, "The depth")
    try:
        e = float(disparity_error)
    except (TypeError, ValueError):
        raise ValueError(f"The disparity error must be a number, got {disparity_error!r}.") from None
    if not math.isfinite(e) or e < 0:
        raise ValueError(f"The disparity error cannot be negative, got {disparity_error!r}.")
    d = f * b / z
    z_near = f * b / (d + e)
    z_far = math.inf if d - e <= 0 else f * b / (d - e)
    return z_near, z_far


def disparity_search_range(f_px, baseline, z_min, z_max) -> int:
    r"""Number of disparity values to search for depths in [z_min, z_max].

    .. math:: \lceil fB/Z_{min} \rceil - \lfloor fB/Z_{max} \rfloor

    Examples
    --------
    >>> disparity_search_range(500, 0.12, 1, 30)
    58
    """
    f = _pos(f_px, "The focal length")
    b = _pos(baseline, "The baseline")
    lo = _pos(z_min, "The nearest depth")
    hi = _pos(z_max, "The farthest depth")
    if hi < lo:
        raise ValueError(f"The farthest depth ({z_max}) must not be smaller than the nearest ({z_min}).")
    d_max = f * b / lo
    d_min = f * b / hi
    return int(math.ceil(d_max - 1e-9) - math.floor(d_min + 1e-9))


# ----------------------------------------------------------------------------- RANSAC, homography
def ransac_iterations(inlier_ratio, sample_size, confidence=0.99) -> int:
    r"""Iterations needed so that, with probability ``confidence``, one sample is all inliers.

    .. math:: N = \left\lceil \frac{\ln(1 - p)}{\ln(1 - w^s)} \right\rceil

    Examples
    --------
    >>> ransac_iterations(0.6, 4)
    34
    >>> ransac_iterations(0.5, 8)
    1177
    """
    try:
        w = float(inlier_ratio)
    except (TypeError, ValueError):
        raise ValueError(f"The inlier ratio must be a number, got {inlier_ratio!r}.") from None
    if not (0 < w <= 1):
        raise ValueError(f"The inlier ratio must be in (0, 1], got {inlier_ratio!r}.")
    s = _int(sample_size, "The sample size")
    try:
        p = float(confidence)
    except (TypeError, ValueError):
        raise ValueError(f"The confidence must be a number, got {confidence!r}.") from None
    if not (0 < p < 1):
        raise ValueError(f"The confidence must be strictly between 0 and 1, got {confidence!r}.")
    good = w**s
    if good >= 1.0:
        return 1
    if good <= 0.0:
        raise ValueError(f"With inlier ratio {w} and sample size {s} an all-inlier sample is too unlikely to compute.")
    n = math.log1p(-p) / math.log1p(-good)
    return max(1, int(math.ceil(n - 1e-9)))


def apply_homography(H, points) -> np.ndarray:
    r"""Map points through a 3×3 homography with the perspective divide.

    .. math:: [x', y', w']^T = H [x, y, 1]^T, \qquad (x'/w', y'/w')

    Examples
    --------
    >>> apply_homography([[2, 0, 1], [0, 1, 0], [0, 0, 1]], [[1, 0]])
    array([[3., 0.]])
    """
    h = np.asarray(H, dtype=np.float64)
    if h.shape != (3, 3):
        raise ValueError(f"The homography must be a 3×3 matrix, got shape {h.shape}.")
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts[None, :]
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"The points must be an N×2 array, got shape {np.shape(points)}.")
    homog = np.concatenate([pts, np.ones((len(pts), 1))], axis=1) @ h.T
    w = homog[:, 2:3]
    if np.any(np.abs(w) < 1e-12):
        raise ValueError("A point maps to infinity (w' = 0): it lies on the homography's vanishing line.")
    return homog[:, :2] / w


def min_inference_ms(gmacs, peak_tflops, utilization=0.5) -> float:
    r"""Lower bound on inference time from compute alone (1 MAC = 2 FLOPs).

    .. math:: t = \frac{2 \cdot \text{GMACs} \cdot 10^9}{\text{TFLOPS} \cdot 10^{12} \cdot u} \cdot 1000\ \text{ms}

    Examples
    --------
    >>> min_inference_ms(4.1, 10, utilization=0.5)
    1.64
    """
    g = _pos(gmacs, "The GMACs")
    t = _pos(peak_tflops, "The peak TFLOPS")
    u = _pos(utilization, "The utilization")
    if u > 1:
        raise ValueError(f"The utilization is a fraction of the peak and must be at most 1, got {utilization!r}.")
    return round(2.0 * g * 1e9 / (t * 1e12 * u) * 1000.0, 12)
