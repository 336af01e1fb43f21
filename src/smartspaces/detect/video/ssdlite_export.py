"""The SSDLite pedestrian model as an ONNX file, to run it with onnxruntime (on a GPU where
onnxruntime has CUDA) through the ``onnx`` detector.

The network is read the way the ``ssdlite`` detector reads it: structure from the generated
text graph, weights from OpenCV's import of the frozen graph (already in NCHW order). Its body
becomes ONNX Conv / BatchNormalization / Clip / Add; its head decodes the boxes against the
same SSD anchors (TF box coder, scales 10, 10, 5, 5) and gives one row per
anchor in the ``boxes`` convention: x1, y1, x2, y2 in input pixels, person score, class 0.

Needs the ``onnx`` package (a development dependency) to write the file; running the file
needs only onnxruntime. Matching ``OnnxSettings``: ``output="boxes"``, ``person_class=0``,
``mean=127.5``, ``scale=1/127.5``, ``windows=True``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from smartspaces.detect.video.errors import DetectorError
from smartspaces.detect.video.ssdlite import bundled_model, cached_text_graph
from smartspaces.detect.video.ssdlite_graph import Node, SsdConfig, parse_nodes

OPSET = 17


def anchors(config: SsdConfig) -> np.ndarray:
    """Every anchor (y centre, x centre, height, width), 0-1, in the network's output order:
    layer by layer, row by row, column by column, anchor by anchor."""
    size = math.ceil(config.image_size / 16)  # the first box predictor sees stride 16
    rows = []
    for layer in range(config.num_layers):
        widths, heights = config.anchors(layer)
        for y in range(size):
            for x in range(size):
                for w, h in zip(widths, heights, strict=True):
                    rows.append(((y + 0.5) / size, (x + 0.5) / size, h / config.image_size,
                                 w / config.image_size))  # fmt: skip
        size = math.ceil(size / 2)
    return np.asarray(rows, np.float32)


def export_onnx(
    out: Path, cache_dir: Path, model: Path | None = None, config: SsdConfig | None = None
) -> Path:
    """Write the SSDLite model (default: the installed one) as ONNX to ``out``."""
    try:
        import onnx
        import onnx.numpy_helper
        from onnx import helper
    except ModuleNotFoundError as error:  # a development dependency only
        raise DetectorError("exporting to ONNX needs the onnx package") from error
    config = config or SsdConfig()
    model = model or bundled_model()
    graph_file = cached_text_graph(model, cache_dir, config)
    net = cv2.dnn.readNetFromTensorflow(str(model), str(graph_file))
    body = _Body(net, onnx)
    for node in parse_nodes(graph_file.read_text()):
        body.add(node)
    nodes, inits = body.nodes, body.inits
    head = _Head(config, onnx, nodes, inits)
    boxes, scores = head.gather(body.alias)
    head.decode(boxes, scores)
    graph = helper.make_graph(
        nodes,
        "ssdlite-pedestrians",
        [helper.make_tensor_value_info("image", onnx.TensorProto.FLOAT,
                                       [1, 3, config.image_size, config.image_size])],
        [helper.make_tensor_value_info("detections", onnx.TensorProto.FLOAT, [None, 6])],
        inits,
    )  # fmt: skip
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(onnx_model, str(out))
    return out


class _Body:
    """ONNX nodes for the text graph's body, weights from the OpenCV network."""

    def __init__(self, net: cv2.dnn.Net, onnx: Any) -> None:
        self._net, self._h, self._onnx = net, onnx.helper, onnx
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.alias: dict[str, str] = {}  # node name -> the ONNX value holding its output

    def _value(self, name: str) -> str:
        return self.alias.get(name, name)

    def _params(self, name: str) -> list[np.ndarray]:
        # weights as OpenCV imported them: convolutions OIHW (+ bias), batch norms as
        # mean, variance, scale, shift
        layer = self._net.getLayer(self._net.getLayerId(name))
        return [np.asarray(blob, np.float32) for blob in layer.blobs]

    def _const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(self._onnx.numpy_helper.from_array(value, name))
        return name

    def add(self, node: Node) -> None:
        h, name = self._h, node.name
        inputs = [self._value(i) for i in node.inputs]
        if node.op == "Placeholder":
            self.alias[name] = "image"
        elif node.op in ("Conv2D", "DepthwiseConv2dNative"):
            params = self._params(name)
            weights = self._const(f"{name}/W", params[0])
            bias = [self._const(f"{name}/B", params[1].ravel())] if len(params) > 1 else []
            stride = [int(v) for v in re.findall(r"i: (\d+)", node.attrs.get("strides", ""))]
            pad = "SAME_UPPER" if "SAME" in node.attrs.get("padding", "") else "VALID"
            group = params[0].shape[0] if node.op == "DepthwiseConv2dNative" else 1
            self.nodes.append(h.make_node(
                "Conv", [inputs[0], weights, *bias], [name], auto_pad=pad,
                strides=stride[1:3] or [1, 1], group=group,
            ))  # fmt: skip
        elif node.op == "BiasAdd":
            self.alias[name] = inputs[0]  # OpenCV folded the bias into the convolution
        elif node.op == "FusedBatchNorm":
            mean, var, gamma, beta = (p.ravel() for p in self._params(name))
            epsilon = float(re.findall(r"f: ([0-9.e-]+)", node.attrs.get("epsilon", "f: 0.001"))[0])
            parts = [self._const(f"{name}/{k}", v) for k, v in
                     (("scale", gamma), ("bias", beta), ("mean", mean), ("var", var))]  # fmt: skip
            self.nodes.append(h.make_node(
                "BatchNormalization", [inputs[0], *parts], [name], epsilon=epsilon
            ))  # fmt: skip
        elif node.op == "Relu6":
            low = self._const(f"{name}/min", np.zeros((), np.float32))
            high = self._const(f"{name}/max", np.full((), 6.0, np.float32))
            self.nodes.append(h.make_node("Clip", [inputs[0], low, high], [name]))
        elif node.op == "Add":
            self.nodes.append(h.make_node("Add", inputs[:2], [name]))
        # the OpenCV head (Flatten, PriorBox, DetectionOutput...) is replaced by _Head


class _Head:
    """Box predictions gathered in anchor order, decoded, scored."""

    def __init__(self, config: SsdConfig, onnx: Any, nodes: list[Any], inits: list[Any]):
        self._config, self._h, self._onnx = config, onnx.helper, onnx
        self._nodes, self._inits = nodes, inits

    def _const(self, name: str, value: np.ndarray) -> str:
        self._inits.append(self._onnx.numpy_helper.from_array(value, name))
        return name

    def _node(self, op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        self._nodes.append(self._h.make_node(op, inputs, [out], **attrs))
        return out

    def gather(self, alias: dict[str, str]) -> tuple[str, str]:
        """[1, anchors, 4] encodings and [1, anchors, classes + 1] logits."""
        parts: dict[str, list[str]] = {"BoxEncodingPredictor": [], "ClassPredictor": []}
        for layer in range(self._config.num_layers):
            for label, width in (("BoxEncodingPredictor", 4),
                                 ("ClassPredictor", self._config.num_classes + 1)):  # fmt: skip
                source = alias.get(f"BoxPredictor_{layer}/{label}/BiasAdd")
                if source is None:
                    raise DetectorError(f"the graph has no BoxPredictor_{layer}/{label}")
                nhwc = self._node("Transpose", [source], f"{source}/nhwc", perm=[0, 2, 3, 1])
                shape = self._const(f"{source}/shape", np.array([1, -1, width], np.int64))
                parts[label].append(self._node("Reshape", [nhwc, shape], f"{source}/rows"))
        boxes = self._node("Concat", parts["BoxEncodingPredictor"], "encodings", axis=1)
        return boxes, self._node("Concat", parts["ClassPredictor"], "logits", axis=1)

    def _op(self, op: str, *inputs: str) -> str:
        """A node with an output name of its own."""
        self._count = getattr(self, "_count", 0) + 1
        return self._node(op, list(inputs), f"decode/{op.lower()}_{self._count}")

    def decode(self, encodings: str, logits: str) -> None:
        c = self._config
        prior = anchors(c)
        # OpenCV imports the box predictors with their y/x outputs swapped (the text graph's
        # loc_pred_transposed), so the weights taken from it give tx, ty, tw, th
        names = ["tx", "ty", "tw", "th"]
        split = self._const("split", np.array([1, 1, 1, 1], np.int64))
        self._nodes.append(self._h.make_node("Split", [encodings, split], names, axis=2))
        ya, xa, ha, wa = (
            self._const(f"anchor_{k}", prior[None, :, i : i + 1]) for i, k in enumerate("yxhw")
        )
        y_scale, x_scale, h_scale, w_scale = c.box_coder_scales
        tx, ty, tw, th = (
            self._op("Mul", n, self._const(f"coder_{n}", np.array(1 / v, np.float32)))
            for n, v in zip(names, (x_scale, y_scale, w_scale, h_scale), strict=True)
        )
        size = self._const("size", np.array(float(c.image_size), np.float32))
        half = self._const("half_size", np.array(0.5 * c.image_size, np.float32))
        # centre = t * anchor size + anchor centre; size = exp(t) * anchor size (then pixels)
        y = self._op("Mul", self._op("Add", self._op("Mul", ty, ha), ya), size)
        x = self._op("Mul", self._op("Add", self._op("Mul", tx, wa), xa), size)
        dh = self._op("Mul", self._op("Mul", self._op("Exp", th), ha), half)
        dw = self._op("Mul", self._op("Mul", self._op("Exp", tw), wa), half)
        corners = [
            self._op("Sub", x, dw),
            self._op("Sub", y, dh),
            self._op("Add", x, dw),
            self._op("Add", y, dh),
        ]
        person = self._op(
            "Slice",
            logits,
            self._const("person_from", np.array([1], np.int64)),
            self._const("person_to", np.array([2], np.int64)),
            self._const("class_axis", np.array([2], np.int64)),
        )
        score = self._op("Sigmoid", person)
        zeros = self._const("person_class", np.zeros((1, len(prior), 1), np.float32))
        rows = self._node("Concat", [*corners, score, zeros], "rows", axis=2)
        flat = self._const("flat", np.array([-1, 6], np.int64))
        self._node("Reshape", [rows, flat], "detections")
