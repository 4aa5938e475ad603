"""Panoramas from a rotating camera: focal and rotations recovered, and a real wide sweep stitched."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cvexplorer import homography as hg
from cvexplorer import panorama as P
from cvexplorer.imageio import load_image
from cvexplorer.samples import get_sample

F = 700.0


def _rot_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])


def _rotating_camera(yaws, size=(640, 480)):
    """Views of one big textured image by a camera turning about its centre (known focal F, known yaws)."""
    import cv2

    w0, h0 = 2400, 900
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (h0, w0, 3)).astype(np.float32), (0, 0), 2.0)
    base = np.clip(0.6 * get_sample("still-life", (w0, h0)) + 0.4 * texture, 0, 255).astype(np.uint8)
    k0 = np.array([[F, 0, w0 / 2], [0, F, h0 / 2], [0, 0, 1]])
    w, h = size
    k = np.array([[F, 0, w / 2], [0, F, h / 2], [0, 0, 1]])
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    pix = np.stack([xs, ys, np.ones_like(xs)], -1).reshape(-1, 3)
    views = []
    for yaw in yaws:
        p = pix @ np.linalg.inv(k).T @ _rot_y(yaw).T @ k0.T
        mx = (p[:, 0] / p[:, 2]).reshape(h, w).astype(np.float32)
        my = (p[:, 1] / p[:, 2]).reshape(h, w).astype(np.float32)
        views.append(cv2.remap(base, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return views


def _angle_deg(r: np.ndarray) -> float:
    return math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(r) - 1) / 2))))


def test_a_synthetic_rotating_camera_gives_back_its_focal_and_rotations():
    yaws = [-30, -15, 0, 15, 30]
    pano = P.stitch_panorama(_rotating_camera(yaws), model="rotation")
    assert pano.used == (0, 1, 2, 3, 4)
    for cam in pano.cameras:
        assert abs(cam.focal - F) / F < 0.05, cam.focal
    for i in range(len(yaws) - 1):
        est = pano.cameras[i].R.T @ pano.cameras[i + 1].R
        true = _rot_y(yaws[i]).T @ _rot_y(yaws[i + 1])
        assert _angle_deg(est @ true.T) < 1.0
    assert pano.residuals_deg and pano.residuals_deg[-1] < 0.5  # matched rays agree to well under a degree
    assert 80 < pano.fov_deg < 130  # 60° of turning plus one 49° view
    assert pano.image is not None and pano.image.shape[1] > 2 * 640


def test_the_eleven_handheld_photos_stitch_into_one_wide_panorama(shared_data):
    paths = sorted((shared_data / "panorama" / "myself").glob("*.jpg"))
    images = [load_image(p) for p in paths]
    res = hg.stitch(images)  # the planar chain fails (corners behind the camera) and hands over
    assert res.used == list(range(11)) and res.panorama is not None
    assert res.panorama.shape[1] > 2.5 * images[0].shape[1]
    assert any("turning camera" in w for w in res.warnings)
    pano = res.camera
    assert pano.used == tuple(range(11)) and not pano.graph.dropped
    assert pano.surface in ("cylindrical", "spherical") and pano.fov_deg > 150
    # bundle adjustment's own objective falls step by step, from the estimator's start to convergence
    px = np.array(pano.residuals_px)
    assert len(px) >= 3 and np.all(np.diff(px) <= 1e-9) and px[-1] < px[0] / 5
    x0, y0, x1, y1 = pano.crop
    assert (x1 - x0) > 2.5 * images[0].shape[1] and np.all(pano.mask[y0:y1, x0:x1] > 0)
    assert pano.preview is not None and set(np.unique(pano.labels)) == set(range(-1, 11))
    assert list(pano.timings) == list(P.STAGES)
    # a plane cannot hold the sweep: the outer images' borders look away from it
    out = P.surface_outlines(pano.cameras, [(w, h) for w, h in [(images[0].shape[1], images[0].shape[0])] * 11],
                             "plane")
    assert any(out.behind) and not any(P.surface_outlines(pano.cameras, [(600, 398)] * 11, "spherical").behind)
    with pytest.raises(P.PanoramaError, match="plane cannot hold"):
        P.stitch_panorama(images, surface="plane")


def test_too_few_or_unrelated_images_name_the_problem():
    with pytest.raises(P.PanoramaError, match="at least two"):
        P.stitch_panorama([np.zeros((50, 50, 3), np.uint8)])
    flat = np.full((200, 300, 3), 128, np.uint8)
    with pytest.raises(P.PanoramaError, match="Image 1 has almost no texture"):
        P.stitch_panorama([flat, flat])
