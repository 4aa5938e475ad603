"""The words of the stitching panel's result card, per tab: counts, verdict, what is wrong, details.

Only what is true now is said: nothing about a result that is still being computed, and "N of M
images used" only for images that are in the panorama on screen.
"""

from __future__ import annotations

from cvexplorer.text import fmt_count, fmt_number

from .views import PLOT_KEY, seam_caption

__all__ = ["CardTexts"]


def _timings(t: dict) -> str:
    return "  ".join(f"{k} {fmt_number(v, 0)} ms" for k, v in t.items())


class CardTexts:
    """Fills ``panel.card`` from the panel's current results (``render`` after every change)."""

    def __init__(self, panel) -> None:
        self.panel = panel

    def render(self, error: str = "") -> None:
        p = self.panel
        tab = p.current_tab()
        if tab == "Wide panorama":
            texts = p.wide.card()
        elif tab == "Panorama":
            texts = self._panorama()
        elif tab == "Manual":
            texts = self._manual()
        else:
            texts = self._pair(tab)
        if error:
            texts = (texts[0], texts[1], error, texts[3])
        p.card.set_text(*texts)
        p.frame.card_scroll.updateGeometry()  # the card's height follows its text

    def _pair(self, tab: str) -> tuple[str, str, str, str]:
        p = self.panel
        a = p.analysis
        if a is None:
            if "pair" in p.running():
                return "matching…", "", "", ""
            return "not matched", "", "", ""
        r = a.result
        stats = f"{fmt_count(r.n_inliers)} inliers\nof {fmt_count(r.n_matches)} ({r.inlier_ratio:.0%})"
        verdict = "✔ reliable homography" if r.reliable else "✘ not reliable"
        warn = ([] if r.reliable else [r.reason]) + list(r.warnings)
        t = a.trace
        if tab == "RANSAC" and t is not None and p.tp.length:
            st = p.tp.current_step()
            verdict += (f"\nbound N = ⌈log(1−p) / log(1−w⁴)⌉\n  w = {max(st.best, 0)}/{st['n']} = "
                        f"{st['inlier_ratio']:.2f}, p = {st['confidence']:g} → N = {st.bound}")
            if st.get("degenerate"):
                warn.append("This sample is refused: three of its points lie on a line, or it mirrors the plane "
                            "(a reflection no camera can see), so no homography is fitted and RANSAC draws again.")
        details = []
        if r.matches is not None:
            details.append(f"{fmt_count(len(r.matches.kp1))} + {fmt_count(len(r.matches.kp2))} keypoints")
        if a.error_vs_truth is not None:
            details.append(f"error vs the true H: {a.error_vs_truth:.2f} px (20×20 grid)")
        details.append(_timings(r.timings))
        if tab == "Warp & blend" and p.blend_result is not None and p.controls.seams.isChecked():
            details.insert(0, seam_caption(p.controls.blend.currentData()))
        if t is not None:
            details.append(PLOT_KEY)
        return stats, verdict, "\n".join(warn), "\n".join(details)

    def _panorama(self) -> tuple[str, str, str, str]:
        p = self.panel
        res = p.stitch_result
        n = len(p.images)
        if res is None:
            return (f"stitching {n} images…", "", "", "") if "pano" in p.running() else ("not stitched", "", "", "")
        stats = f"{len(res.used)} of {n} images used"
        if res.used:
            verdict = (f"Each image is chained to the central one (image {res.reference + 1}, the reference) by "
                       f"its pairwise homographies.")
        elif res.connected:
            verdict = (f"The matches chain {len(res.connected)} of the images together, but they cannot be drawn "
                       f"as one flat panorama:")
        else:
            verdict = "No images could be chained together."
        details = [_timings(res.timings)]
        if res.used and p.controls.seams.isChecked():
            details.insert(0, seam_caption(p.controls.blend.currentData()))
        warn = list(res.warnings)
        if not res.used and res.connected:
            warn.append("A wide sweep needs a curved surface: see the Wide panorama tab.")
        return stats, verdict, "\n".join(warn), "\n".join(details)

    def _manual(self) -> tuple[str, str, str, str]:
        p = self.panel
        n = len(p.manual_points)
        if n < 4:
            return (f"click corner {n + 1} of 4", "Click the corners of a flat thing (poster, page, court) in the "
                    "order top-left, top-right, bottom-right, bottom-left.", "", "")
        if p.manual_error:
            return "4 corners → H by DLT", "", p.manual_error, ""
        rows = "\n".join("  ".join(f"{v:9.4g}" for v in row) for row in p.manual_H)
        return ("4 corners → H by DLT", "Four point pairs give 8 equations for H's 8 unknowns; the DLT solves them.",
                "", f"H =\n{rows}")
