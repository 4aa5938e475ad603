"""Tiny SAM1-contract ONNX models built with onnx.helper (nothing binary is committed).

The encoder (16x16 average pooling + a random 1x1 convolution to 256 channels) has the official
input styles: ``image [1, 3, 1024, 1024]`` (caller normalises and pads) or samexporter's
``input_image [h, w, 3]`` (the graph normalises, transposes and pads). The decoder has the
official six inputs and three outputs and draws, in the 256x256 low-resolution frame, a disc of
radius r_c around the nearest positive point (+0.5 pixel, as the real graph does), the inside of a
box (labels 2/3), cut out by discs around negative points, plus ``has_mask_input * mask_input``.
Its masks are post-processed exactly like the official export: bilinear to 1024x1024, crop to
the resized size, bilinear to ``orig_im_size`` = (H, W). So a wrong scale, a swapped (H, W) or a
missing box label shows up as a mask in the wrong place.

Used by tests/engine/test_sam.py, tests/ui/test_sam_panel.py and benchmarks/sam.py (load by path).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OPSET = 17
#: disc radius per output channel, in the 1024 frame; and the predicted IoU per channel.
RADII = {4: (48.0, 24.0, 48.0, 96.0), 1: (48.0,)}
IOUS = {4: (0.5, 0.7, 0.9, 0.8), 1: (0.6,)}
NEG_RADIUS = 24.0


def _model(nodes, inputs, outputs, inits=(), name="g"):
    import onnx
    from onnx import helper

    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="cvexplorer-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def _const(name, arr):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.asarray(arr), name)


def encoder_model(style: str = "normalized", seed: int = 0):
    """An encoder whose output is ``image_embeddings [1, 256, 64, 64]``."""
    from onnx import TensorProto, helper

    rng = np.random.default_rng(seed)
    inits = [_const("W", (rng.standard_normal((256, 3, 1, 1)) * 0.5).astype(np.float32)),
             _const("B", (rng.standard_normal(256) * 0.1).astype(np.float32))]
    nodes = []
    if style == "normalized":
        inp = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 1024, 1024])
        src = "image"
    elif style in ("raw", "fixed"):
        # "fixed": AnyLabeling's export declares one input size, here [684, 1024, 3]
        dims = [684, 1024, 3] if style == "fixed" else ["h", "w", 3]
        inp = helper.make_tensor_value_info("input_image", TensorProto.FLOAT, dims)
        inits += [_const("mean", np.array([123.675, 116.28, 103.53], np.float32)),
                  _const("std", np.array([58.395, 57.12, 57.375], np.float32)),
                  _const("ax0", np.array([0], np.int64)), _const("s0", np.array([0], np.int64)),
                  _const("s2", np.array([2], np.int64)), _const("full", np.array([1024, 1024], np.int64)),
                  _const("zeros6", np.zeros(6, np.int64))]
        nodes += [helper.make_node("Sub", ["input_image", "mean"], ["c"]),
                  helper.make_node("Div", ["c", "std"], ["n"]),
                  helper.make_node("Transpose", ["n"], ["t"], perm=[2, 0, 1]),
                  helper.make_node("Unsqueeze", ["t", "ax0"], ["u"]),
                  helper.make_node("Shape", ["input_image"], ["shp"]),
                  helper.make_node("Slice", ["shp", "s0", "s2"], ["hw"]),
                  helper.make_node("Sub", ["full", "hw"], ["padhw"]),
                  helper.make_node("Concat", ["zeros6", "padhw"], ["pads"], axis=0),
                  helper.make_node("Pad", ["u", "pads"], ["padded"], mode="constant")]
        src = "padded"
        if style == "fixed":  # a fixed size needs no Shape arithmetic: pad with a constant block (no Pad node,
            # which onnxruntime would fold into the pooling as a pad larger than its kernel)
            inits.append(_const("padblock", np.zeros((1, 3, 1024 - 684, 1024), np.float32)))
            nodes[-5:] = [helper.make_node("Concat", ["u", "padblock"], ["padded"], axis=2)]
    else:
        raise ValueError(style)
    nodes += [helper.make_node("AveragePool", [src], ["pooled"], kernel_shape=[16, 16], strides=[16, 16]),
              helper.make_node("Conv", ["pooled", "W", "B"], ["image_embeddings"])]
    out = helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, [1, 256, 64, 64])
    return _model(nodes, [inp], [out], inits, "tiny_sam_encoder")


def _decoder_signature(c: int):
    """SAM1's decoder inputs and outputs (the official six inputs; masks of dynamic size)."""
    from onnx import TensorProto, helper

    f = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("image_embeddings", f, [1, 256, 64, 64]),
              helper.make_tensor_value_info("point_coords", f, [1, "N", 2]),
              helper.make_tensor_value_info("point_labels", f, [1, "N"]),
              helper.make_tensor_value_info("mask_input", f, [1, 1, 256, 256]),
              helper.make_tensor_value_info("has_mask_input", f, [1]),
              helper.make_tensor_value_info("orig_im_size", f, [2])]
    outputs = [helper.make_tensor_value_info("masks", f, [1, c, "H", "W"]),
               helper.make_tensor_value_info("iou_predictions", f, [1, c]),
               helper.make_tensor_value_info("low_res_masks", f, [1, c, 256, 256])]
    return inputs, outputs


def decoder_model(num_masks: int = 4):
    """A decoder with the official six inputs whose mask is a disc at the clicked point."""
    from onnx import TensorProto, helper

    c = num_masks
    inputs, outputs = _decoder_signature(c)
    centers = (np.arange(256, dtype=np.float32) * 4 + 2)
    inits = [
        _const("half", np.float32(0.5)), _const("gx", centers.reshape(1, 1, 1, 256)),
        _const("gy", centers.reshape(1, 1, 256, 1)), _const("i0", np.array(0, np.int64)),
        _const("i1", np.array(1, np.int64)), _const("ax23", np.array([2, 3], np.int64)),
        _const("ax2", np.array([2], np.int64)), _const("ax123", np.array([1, 2, 3], np.int64)),
        _const("one", np.float32(1.0)), _const("two", np.float32(2.0)), _const("three", np.float32(3.0)),
        _const("zero", np.float32(0.0)), _const("big", np.float32(1e4)),
        _const("R", np.array(RADII[c], np.float32).reshape(1, c, 1, 1)),
        _const("rneg", np.float32(NEG_RADIUS)), _const("emb_w", np.float32(1e-3)),
        _const("iou", np.array(IOUS[c], np.float32).reshape(1, c)),
        _const("up_sizes", np.array([1, c, 1024, 1024], np.int64)), _const("s1024", np.float32(1024.0)),
        _const("starts", np.array([0, 0], np.int64)), _const("bc", np.array([1, c], np.int64)),
        _const("emb_scales", np.array([1, 1, 4, 4], np.float32)),
    ]
    n = helper.make_node
    nodes = [
        n("Add", ["point_coords", "half"], ["pc"]),
        n("Gather", ["pc", "i0"], ["cx0"], axis=2), n("Gather", ["pc", "i1"], ["cy0"], axis=2),  # [1,N]
        n("Unsqueeze", ["cx0", "ax23"], ["cx"]), n("Unsqueeze", ["cy0", "ax23"], ["cy"]),  # [1,N,1,1]
        n("Sub", ["gx", "cx"], ["dx"]), n("Sub", ["gy", "cy"], ["dy"]),
        n("Mul", ["dx", "dx"], ["dx2"]), n("Mul", ["dy", "dy"], ["dy2"]), n("Add", ["dx2", "dy2"], ["d2"]),
        n("Sqrt", ["d2"], ["d"]),  # [1,N,256,256]
        n("Neg", ["d"], ["nd"]),
        n("Unsqueeze", ["point_labels", "ax23"], ["lab"]),  # [1,N,1,1]
        # nearest positive point
        n("Equal", ["lab", "one"], ["isp_b"]), n("Cast", ["isp_b"], ["isp"], to=TensorProto.FLOAT),
        n("Sub", ["isp", "one"], ["ispm"]), n("Mul", ["ispm", "big"], ["ispen"]), n("Add", ["nd", "ispen"], ["pt"]),
        n("ReduceMax", ["pt"], ["pos"], axes=[1], keepdims=1),  # [1,1,256,256] = -min positive distance
        n("Add", ["pos", "R"], ["disc"]),  # [1,C,256,256]
        # nearest negative point
        n("Equal", ["lab", "zero"], ["isn_b"]), n("Cast", ["isn_b"], ["isn"], to=TensorProto.FLOAT),
        n("Sub", ["isn", "one"], ["isnm"]), n("Mul", ["isnm", "big"], ["isnpen"]), n("Add", ["nd", "isnpen"], ["ntm"]),
        n("ReduceMax", ["ntm"], ["negd"], axes=[1], keepdims=1), n("Add", ["negd", "rneg"], ["negf"]),
        n("Neg", ["negf"], ["negcut"]),
        # box from the points labelled 2 (top-left) and 3 (bottom-right)
        n("Equal", ["point_labels", "two"], ["istl_b"]), n("Cast", ["istl_b"], ["istl"], to=TensorProto.FLOAT),
        n("Equal", ["point_labels", "three"], ["isbr_b"]), n("Cast", ["isbr_b"], ["isbr"], to=TensorProto.FLOAT),
        n("Unsqueeze", ["istl", "ax2"], ["istl3"]), n("Unsqueeze", ["isbr", "ax2"], ["isbr3"]),  # [1,N,1]
        n("Mul", ["pc", "istl3"], ["tlw"]), n("ReduceSum", ["tlw", "i1_axes"], ["tl"], keepdims=0),  # [1,2]
        n("Mul", ["pc", "isbr3"], ["brw"]), n("ReduceSum", ["brw", "i1_axes"], ["br"], keepdims=0),
        n("ReduceMax", ["istl"], ["hasbox"], axes=[1], keepdims=0),  # [1]
        n("Gather", ["tl", "i0"], ["tlx0"], axis=1), n("Gather", ["tl", "i1"], ["tly0"], axis=1),
        n("Gather", ["br", "i0"], ["brx0"], axis=1), n("Gather", ["br", "i1"], ["bry0"], axis=1),
        n("Unsqueeze", ["tlx0", "ax123"], ["tlx"]), n("Unsqueeze", ["tly0", "ax123"], ["tly"]),
        n("Unsqueeze", ["brx0", "ax123"], ["brx"]), n("Unsqueeze", ["bry0", "ax123"], ["bry"]),
        n("Sub", ["gx", "tlx"], ["bl"]), n("Sub", ["brx", "gx"], ["brr"]),
        n("Sub", ["gy", "tly"], ["bt"]), n("Sub", ["bry", "gy"], ["bb"]),
        n("Min", ["bl", "brr"], ["bx"]), n("Min", ["bt", "bb"], ["by"]), n("Min", ["bx", "by"], ["boxf0"]),
        n("Unsqueeze", ["hasbox", "ax123"], ["hb"]), n("Sub", ["hb", "one"], ["hbm"]),
        n("Mul", ["hbm", "big"], ["hbpen"]), n("Add", ["boxf0", "hbpen"], ["boxf"]),
        n("Max", ["disc", "boxf"], ["fg"]), n("Min", ["fg", "negcut"], ["shape"]),
        # a whisper of the embedding (so the decoder really depends on it), plus the previous mask
        n("ReduceMean", ["image_embeddings"], ["embm"], axes=[1], keepdims=1),
        n("Resize", ["embm", "", "emb_scales"], ["embu"], mode="nearest"),
        n("Mul", ["embu", "emb_w"], ["embs"]), n("Add", ["shape", "embs"], ["l1"]),
        n("Mul", ["mask_input", "has_mask_input"], ["prev"]), n("Add", ["l1", "prev"], ["low_res_masks"]),
        n("Identity", ["iou"], ["iou_predictions"]),
        # the official post-processing
        n("Resize", ["low_res_masks", "", "", "up_sizes"], ["up"], mode="linear",
          coordinate_transformation_mode="half_pixel"),
        n("ReduceMax", ["orig_im_size"], ["longest"], axes=[0], keepdims=1),
        n("Div", ["s1024", "longest"], ["scale"]), n("Mul", ["orig_im_size", "scale"], ["prep0"]),
        n("Add", ["prep0", "half"], ["prep1"]), n("Floor", ["prep1"], ["prep2"]),
        n("Cast", ["prep2"], ["prep"], to=TensorProto.INT64),
        n("Slice", ["up", "starts", "prep", "ax23"], ["cropped"]),
        n("Cast", ["orig_im_size"], ["osz"], to=TensorProto.INT64), n("Concat", ["bc", "osz"], ["out_sizes"], axis=0),
        n("Resize", ["cropped", "", "", "out_sizes"], ["masks"], mode="linear",
          coordinate_transformation_mode="half_pixel"),
    ]
    inits.append(_const("i1_axes", np.array([1], np.int64)))
    return _model(nodes, inputs, outputs, inits, "tiny_sam_decoder")


def giant_decoder_model(side: int, num_masks: int = 4):
    """A hostile decoder: SAM's signature with dynamic mask dims ``[1, C, "H", "W"]`` (nothing to refuse
    when it is opened), but ``masks`` ignores ``orig_im_size`` and is a ``[1, C, side, side]`` float32
    tensor computed inside ``run``: its size comes from ``orig_im_size · 0 + side``, which onnxruntime
    cannot work out before running (a constant shape would be inferred and refused at open)."""
    from onnx import TensorProto, helper

    c = num_masks
    inputs, outputs = _decoder_signature(c)
    inits = [_const("bc", np.array([1, c], np.int64)), _const("zero", np.float32(0.0)),
             _const("side", np.float32(side)), _const("low", np.array([1, c, 256, 256], np.int64)),
             _const("iou", np.full((1, c), 0.5, np.float32))]
    nodes = [helper.make_node("ReduceSum", ["has_mask_input"], ["v"], keepdims=0),
             helper.make_node("Mul", ["orig_im_size", "zero"], ["z"]),
             helper.make_node("Add", ["z", "side"], ["hw_f"]),
             helper.make_node("Cast", ["hw_f"], ["hw"], to=TensorProto.INT64),
             helper.make_node("Concat", ["bc", "hw"], ["giant"], axis=0),
             helper.make_node("Expand", ["v", "giant"], ["masks"]),
             helper.make_node("Expand", ["v", "low"], ["low_res_masks"]),
             helper.make_node("Identity", ["iou"], ["iou_predictions"])]
    return _model(nodes, inputs, outputs, inits, "giant_sam_decoder")


def dummy_model(input_specs, output_names, name="dummy"):
    """Any signature: each output is the ReduceMean of the first input (only the names matter)."""
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info(nm, TensorProto.FLOAT, shape) for nm, shape in input_specs]
    rank = len(input_specs[0][1])
    outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, [1] * rank) for o in output_names]
    nodes = [helper.make_node("ReduceMean", [input_specs[0][0]], [o], keepdims=1) for o in output_names]
    return _model(nodes, inputs, outputs, (), name)


def _emb():
    return ("image_embeddings", [1, 256, 64, 64])


FOREIGN = {
    # variant named in the error -> (encoder signature or None, decoder signature)
    "SAM 2": ((["image", [1, 3, 1024, 1024]],), ("high_res_feats_0", "high_res_feats_1", "image_embed"),
              (("image_embed", [1, 256, 64, 64]), ("high_res_feats_0", [1, 32, 256, 256]),
               ("high_res_feats_1", [1, 64, 128, 128]), ("point_coords", [1, "N", 2]), ("point_labels", [1, "N"]),
               ("mask_input", [1, 1, 256, 256]), ("has_mask_input", [1])), ("masks", "iou_predictions")),
    "SAM-HQ": ((["image", [1, 3, 1024, 1024]],), ("image_embeddings", "interm_embeddings"),
               (_emb(), ("interm_embeddings", [4, 1, 64, 64, 768]), ("point_coords", [1, "N", 2]),
                ("point_labels", [1, "N"]), ("mask_input", [1, 1, 256, 256]), ("has_mask_input", [1]),
                ("orig_im_size", [2])), ("masks", "iou_predictions", "low_res_masks")),
    "EfficientSAM": ((["batched_images", [1, 3, "h", "w"]],), ("image_embeddings",),
                     (_emb(), ("batched_point_coords", [1, 1, "N", 2]), ("batched_point_labels", [1, 1, "N"]),
                      ("orig_im_size", [2])), ("output_masks", "iou_predictions")),
    "transformers.js": ((["pixel_values", [1, 3, 1024, 1024]],), ("image_embeddings", "image_positional_embeddings"),
                        (_emb(), ("image_positional_embeddings", [1, 256, 64, 64]), ("input_points", [1, 1, "N", 2]),
                         ("input_labels", [1, 1, "N"])), ("pred_masks", "iou_scores")),
}


def write_pair(directory, *, style: str = "normalized", num_masks: int = 4, prefix: str = "tiny") -> tuple[Path, Path]:
    """Write ``<prefix>.encoder.onnx`` and ``<prefix>.decoder.onnx`` into ``directory``."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    enc, dec = d / f"{prefix}.encoder.onnx", d / f"{prefix}.decoder.onnx"
    enc.write_bytes(encoder_model(style).SerializeToString())
    dec.write_bytes(decoder_model(num_masks).SerializeToString())
    return enc, dec


def write_foreign(directory, variant: str) -> tuple[Path, Path]:
    """An encoder/decoder pair with another family's signature (see FOREIGN)."""
    enc_in, enc_out, dec_in, dec_out = FOREIGN[variant]
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    tag = variant.replace(" ", "").replace(".", "")
    enc, dec = d / f"{tag}.encoder.onnx", d / f"{tag}.decoder.onnx"
    enc.write_bytes(dummy_model([tuple(x) for x in enc_in], enc_out).SerializeToString())
    dec.write_bytes(dummy_model(list(dec_in), dec_out).SerializeToString())
    return enc, dec


# -- ground truth for the classical fallback -------------------------------------------------------------
def still_life_masks(size: tuple[int, int] = (1280, 960)) -> dict[str, np.ndarray]:
    """The exact (H, W) bool mask of each object of ``samples.still_life`` at ``size``, drawn with the same
    OpenCV calls and integer geometry as the scene (the window with its frame; the mug with its handle and
    rim; the apple without its stalk; the pencil with its tip)."""
    import cv2

    from cvexplorer.samples import still_life_objects

    w, h = size
    boxes = {o.label: tuple(int(v) for v in (o.box[0], o.box[1], o.box[2], o.box[3])) for o in still_life_objects(size)}
    # still_life computes int(fraction * w); the object boxes are fraction * w: the same after int()
    out = {}
    t = max(3, w // 160)
    for name, (x0, y0, x1, y1) in boxes.items():
        m = np.zeros((h, w), np.uint8)
        if name in ("poster", "book", "phone"):
            cv2.rectangle(m, (x0, y0), (x1, y1), 1, -1)
        elif name == "window":
            cv2.rectangle(m, (x0, y0), (x1, y1), 1, -1)
            cv2.rectangle(m, (x0, y0), (x1, y1), 1, t * 2)
        elif name == "mug":
            m[y0:y1, x0:x1] = 1
            cv2.ellipse(m, (x1, (y0 + y1) // 2), ((x1 - x0) // 4, (y1 - y0) // 5), 0, -90, 90, 1,
                        max(3, (x1 - x0) // 10))
            cv2.ellipse(m, ((x0 + x1) // 2, y0), ((x1 - x0) // 2, max(3, (y1 - y0) // 12)), 0, 0, 360, 1, -1)
        elif name == "apple":
            cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, min(x1 - x0, y1 - y0) / 2
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            m[np.hypot(xx - cx, yy - cy) <= r] = 1
        elif name == "pencil":
            cv2.rectangle(m, (x0 + (x1 - x0) // 12, y0), (x1, y1), 1, -1)
            pts = np.array([[x0, (y0 + y1) // 2], [x0 + (x1 - x0) // 12, y0], [x0 + (x1 - x0) // 12, y1]], np.int32)
            cv2.fillPoly(m, [pts], 1)
        out[name] = m > 0
    return out


def filled_shapes(mask: np.ndarray, *, min_area: int = 300) -> list[np.ndarray]:
    """The filled shapes (ellipses, polygons) of a segmentation scene's foreground, each on its own.

    An opening with a 7×7 disc erases the rings and lines (at most 3 px thick) and cuts the lines that
    join shapes; each part left, grown back by 2 px inside the foreground (its corners), is one shape.
    """
    import cv2

    m = (np.asarray(mask) > 0).astype(np.uint8)
    opened = cv2.morphologyEx(m, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    n, comp = cv2.connectedComponents(opened, connectivity=8)
    shapes = []
    for k in range(1, n):
        part = (comp == k).astype(np.uint8)
        if part.sum() >= min_area:
            shapes.append((cv2.dilate(part, np.ones((5, 5), np.uint8)) > 0) & (m > 0))
    return shapes


def inner_point(mask: np.ndarray) -> tuple[int, int]:
    """(x, y) of the distance-transform maximum: the click deepest inside the object."""
    import cv2

    d = cv2.distanceTransform((np.asarray(mask) > 0).astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(np.argmax(d)), d.shape)
    return int(x), int(y)
