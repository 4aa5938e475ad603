"""The typed results of the panorama pipeline: match graph, cameras, the panorama and its evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["SURFACES", "PanoramaError", "PairMatch", "MatchGraph", "Camera", "Panorama"]

SURFACES = ("plane", "cylindrical", "spherical", "affine")


class PanoramaError(ValueError):
    """The set cannot be stitched; the message names the image that broke the chain and why."""


@dataclass(frozen=True)
class PairMatch:
    """One edge of the match graph: images i and j, the RANSAC inliers and OpenCV's confidence
    ``inliers / (8 + 0.3 · matches)`` (Brown & Lowe's test: above 1 the pair is trusted)."""

    i: int
    j: int
    inliers: int
    confidence: float
    matches: int = 0


@dataclass(frozen=True)
class MatchGraph:
    """Which pairs connect. ``pairs`` holds every trusted edge (confidence ≥ the threshold);
    ``kept`` the images of the largest connected set; ``dropped`` (image, why) for the others."""

    n_images: int
    kept: tuple[int, ...]
    pairs: tuple[PairMatch, ...]
    dropped: tuple[tuple[int, str], ...] = ()
    keypoints: tuple[int, ...] = ()


@dataclass(frozen=True)
class Camera:
    """One image's camera: focal length (px), principal point, and rotation R (camera rays → common frame)."""

    focal: float
    ppx: float
    ppy: float
    R: np.ndarray
    aspect: float = 1.0

    def K(self) -> np.ndarray:  # noqa: N802 - the usual name
        """The intrinsic matrix.

        >>> Camera(500.0, 320.0, 240.0, np.eye(3)).K()[0].tolist()
        [500.0, 0.0, 320.0]
        """
        return np.array([[self.focal, 0, self.ppx], [0, self.focal * self.aspect, self.ppy], [0, 0, 1]], np.float64)


@dataclass(frozen=True)
class Panorama:
    """The result and the evidence of every stage (image indices refer to the input list).

    ``residuals_px``: bundle adjustment's own objective after each Levenberg–Marquardt step, the RMS of
    √(f_i f_j)·|r_i − r_j| over matched rays (step 0 is the start, the estimator's rotations made
    orthonormal); ``residuals_deg``: the mean angle between matched rays at the same steps.
    ``preview``/``labels``: the images on the surface at the seam scale and which image each pixel
    is taken from after the seam search (−1: none); ``crop``: the largest valid rectangle of
    ``image`` as (x0, y0, x1, y1).
    """

    image: np.ndarray | None
    mask: np.ndarray | None
    graph: MatchGraph
    cameras: tuple[Camera, ...]
    surface: str
    residuals_deg: tuple[float, ...]
    fov_deg: float
    gains: tuple[float, ...]
    corners: tuple[tuple[int, int], ...]
    sizes: tuple[tuple[int, int], ...]
    seams: tuple[np.ndarray, ...]
    work_scale: float
    timings: dict = field(default_factory=dict)
    residuals_px: tuple[float, ...] = ()
    preview: np.ndarray | None = None
    labels: np.ndarray | None = None
    crop: tuple[int, int, int, int] | None = None
    model: str = "rotation"

    @property
    def used(self) -> tuple[int, ...]:
        return self.graph.kept

    @property
    def focal(self) -> float:
        """The median focal length of the kept images (px at the working scale)."""
        return float(np.median([c.focal for c in self.cameras])) if self.cameras else float("nan")
