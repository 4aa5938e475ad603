"""Panoramas people shoot: a rotating camera, its focal length, bundle adjustment and a curved surface.

A planar homography chain cannot hold a wide sweep: past about 120° the corners of the outer images go
behind the camera. A panorama is instead modelled as one camera turning about its centre: every image
``i`` has a focal length f_i and a rotation R_i, and a pixel x of image i is the ray

    r = R_i K_i⁻¹ x,   K_i = [[f_i, 0, c_x], [0, f_i, c_y], [0, 0, 1]]

(R_i turns camera i's rays into the common frame, as in OpenCV), so two images are related by
H_ij = K_j R_jᵀ R_i K_i⁻¹. The stages (Brown & Lowe, "Automatic Panoramic Image Stitching using
Invariant Features", IJCV 2007; OpenCV's ``cv2.detail``, whose building blocks do the work here) are,
each with a typed result the panel can show:

1. features (ORB by default, in parallel) and the **match graph** (:mod:`.matching`: OpenCV's
   best-of-two-nearest matcher written with vectorised NumPy; which pairs connect, their inliers and
   confidence; images outside the largest connected set are dropped, with the reason);
2. **focal length** from the pairwise homographies and **rotations** from a spanning tree of the graph
   (``cv2.detail_HomographyBasedEstimator``), each made a true rotation (:func:`orthonormal`);
3. **bundle adjustment** of focal and rotations by the ray residual (OpenCV's ``BundleAdjusterRay``,
   stepped one Levenberg–Marquardt iteration at a time; between steps :func:`ray_residuals` measures
   the adjuster's own objective, so the residual curve is ours and the optimiser is OpenCV's);
4. **wave correction**, which levels the horizon;
5. **warping** onto a plane, cylinder or sphere (``cv2.PyRotationWarper``; :func:`surface_outlines`
   shows where each image lands, and why a plane fails at wide angles);
6. **exposure compensation, seams and multi-band blending** (:func:`cvexplorer.homography.blending.compose`).

Flat documents and maps are better explained by an **affine** model (OpenCV's SCANS mode), chosen
automatically when it fits the matches as well as a homography.

Why the residual curve starts low on real sets: the estimator's "rotations" are products
K⁻¹ H K of the pairwise homographies, which absorb each pair's errors and are not rotations; measured
with them the rays agree suspiciously well. Bundle adjustment starts from their nearest true
rotations, and step 0 of the curve is measured there.
"""

from .cameras import (RayMatches, SurfaceOutlines, choose_surface, face_the_middle, field_of_view_deg, orthonormal, ray_matches,
                      ray_residual_deg, ray_residuals, surface_outlines)
from .matching import FEATURES, candidate_pairs
from .model import SURFACES, Camera, MatchGraph, PairMatch, Panorama, PanoramaError
from .pipeline import STAGES, stitch_panorama
from .views import GraphSheet, graph_sheet, label_centres, label_edges, valid_rectangle

__all__ = ["PairMatch", "MatchGraph", "Camera", "Panorama", "SURFACES", "STAGES", "FEATURES", "stitch_panorama",
           "ray_residual_deg", "ray_residuals", "ray_matches", "RayMatches", "orthonormal", "field_of_view_deg",
           "choose_surface", "face_the_middle", "PanoramaError", "SurfaceOutlines", "surface_outlines", "GraphSheet", "graph_sheet",
           "valid_rectangle", "candidate_pairs", "label_edges", "label_centres"]

for _cls in (PairMatch, MatchGraph, Camera, Panorama, PanoramaError, RayMatches, SurfaceOutlines, GraphSheet):
    _cls.__module__ = __name__
del _cls
