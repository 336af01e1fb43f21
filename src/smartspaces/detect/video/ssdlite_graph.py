"""The OpenCV text graph of a TensorFlow Object Detection API SSD(Lite) MobileNet frozen graph.

OpenCV's DNN module runs the convolutional body of such a graph but not its TensorFlow pre- and
post-processing (a while-loop resizer, anchor generation and batched NMS in TensorFlow ops). It
reads the weights from the binary ``.pb`` and the network's structure from a text graph in which
those parts are replaced by its own layers: ``PriorBox`` (the anchors, computed here from the
model's anchor-generator config) and ``DetectionOutput`` (box decoding and NMS). OpenCV's sample
``tf_text_graph_ssd.py`` does this with a training config; this module does the same from the
known config of the SSDLite MobileNetV2 family (``SsdConfig``), without TensorFlow: the binary
graph is dumped to text by OpenCV itself (``cv2.dnn.writeTextGraph``) and rewritten here.

Only the node list matters to OpenCV, so the dump is handled node by node: a node's name, op,
inputs and its attribute blocks kept as text.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from smartspaces.detect.video.errors import DetectorError

KEEP_OPS = frozenset(
    {
        "Conv2D", "BiasAdd", "Add", "AddV2", "Relu", "Relu6", "Placeholder", "FusedBatchNorm",
        "FusedBatchNormV3", "DepthwiseConv2dNative", "ConcatV2", "Mul", "MaxPool", "AvgPool",
        "Sub", "Pad", "Mean",
    }
)  # fmt: skip
"""The body's ops OpenCV imports; everything else is TensorFlow-side pre/post-processing."""

DROP_PREFIXES = ("MultipleGridAnchorGenerator/", "Postprocessor/", "Preprocessor/", "Concatenate/")
UNUSED_ATTRS = frozenset(
    {"T", "Tshape", "N", "Tidx", "Tdim", "use_cudnn_on_gpu", "Index", "Tperm", "is_training"}
)


@dataclass(frozen=True)
class SsdConfig:
    """The anchor generator, box coder and NMS of an SSD pipeline config (TF OD API names).

    The defaults are those of ``ssdlite_mobilenet_v2``: 300x300 input, six feature maps with
    scales 0.2 to 0.95, aspect ratios 1, 2, 1/2, 3, 1/3 (+ one interpolated), three boxes in
    the lowest layer, box coder scales 10, 10, 5, 5, sigmoid scores, NMS at IoU 0.6."""

    num_classes: int = 1
    image_size: int = 300
    num_layers: int = 6
    min_scale: float = 0.2
    max_scale: float = 0.95
    aspect_ratios: tuple[float, ...] = (1.0, 2.0, 0.5, 3.0, 0.3333)
    reduce_boxes_in_lowest_layer: bool = True
    box_coder_scales: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0)
    nms_iou: float = 0.6
    score_min: float = 0.01
    max_detections: int = 100

    def anchors(self, layer: int) -> tuple[list[float], list[float]]:
        """Anchor widths and heights of one feature map, in input pixels."""
        n = self.num_layers
        scales = [
            self.min_scale + (self.max_scale - self.min_scale) * i / (n - 1) for i in range(n)
        ]
        scales.append(1.0)
        if layer == 0 and self.reduce_boxes_in_lowest_layer:
            widths = [0.1, self.min_scale * math.sqrt(2.0), self.min_scale * math.sqrt(0.5)]
            heights = [0.1, self.min_scale / math.sqrt(2.0), self.min_scale / math.sqrt(0.5)]
        else:
            widths = [scales[layer] * math.sqrt(a) for a in self.aspect_ratios]
            heights = [scales[layer] / math.sqrt(a) for a in self.aspect_ratios]
            between = math.sqrt(scales[layer] * scales[layer + 1])
            widths.append(between)
            heights.append(between)
        return [w * self.image_size for w in widths], [h * self.image_size for h in heights]


@dataclass
class Node:
    """One graph node; attribute values are kept as the text of their ``value { }`` block."""

    name: str
    op: str
    inputs: list[str] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        lines = ["node {", f'  name: "{self.name}"', f'  op: "{self.op}"']
        lines += [f'  input: "{i}"' for i in self.inputs]
        for key, value in self.attrs.items():
            lines += ["  attr {", f'    key: "{key}"', f"    value {{ {value} }}", "  }"]
        return "\n".join([*lines, "}"])


def parse_nodes(text: str) -> list[Node]:
    """The nodes of a GraphDef in protobuf text format (as ``writeTextGraph`` prints it)."""
    nodes: list[Node] = []
    current: Node | None = None
    attr: list[str] | None = None
    for line in text.splitlines():
        if line == "node {":
            current = Node("", "")
        elif current is None:
            continue
        elif line == "}":
            nodes.append(current)
            current = None
        elif attr is not None:
            if line == "  }":
                key = re.search(r'key: "([^"]*)"', attr[0])
                body = "\n".join(attr[1:]).strip()
                if key and body.startswith("value {") and body.endswith("}"):
                    current.attrs[key.group(1)] = body[len("value {") : -1].strip()
                attr = None
            else:
                attr.append(line)
        elif line == "  attr {":
            attr = []
        elif m := re.fullmatch(r'  (name|op|input): "(.*)"', line):
            kind, value = m.groups()
            if kind == "name":
                current.name = value
            elif kind == "op":
                current.op = value
            else:
                current.inputs.append(value)
    return nodes


def _tensor(values: list[float] | list[int]) -> str:
    if all(isinstance(v, int) for v in values):
        dtype, field_name = "DT_INT32", "int_val"
    else:
        dtype, field_name = "DT_FLOAT", "float_val"
    body = " ".join(f"{field_name}: {v}" for v in values)
    return f"tensor {{ dtype: {dtype} tensor_shape {{ dim {{ size: {len(values)} }} }} {body} }}"


def _const(name: str, values: list[int]) -> Node:
    return Node(name, "Const", attrs={"value": _tensor(values)})


def _channels(const: Node | None) -> int:
    # the last dimension of a conv's weights: its output channels (shapes survive the dump)
    sizes = re.findall(r"size: (-?\d+)", const.attrs.get("value", "")) if const else []
    if not sizes:
        raise DetectorError("the SSD graph has no box predictor weights where expected")
    return int(sizes[-1])


def check_predictors(nodes: list[Node], config: SsdConfig) -> None:
    """Refuse a graph whose box predictors do not match ``config`` (classes, anchors, layers)."""
    by_name = {n.name: n for n in nodes}
    for layer in range(config.num_layers):
        prefix = f"BoxPredictor_{layer}"
        boxes = _channels(by_name.get(f"{prefix}/BoxEncodingPredictor/weights"))
        classes = _channels(by_name.get(f"{prefix}/ClassPredictor/weights"))
        anchors = len(config.anchors(layer)[0])
        if boxes != 4 * anchors or classes != anchors * (config.num_classes + 1):
            raise DetectorError(
                f"{prefix} predicts {boxes // 4} boxes and {classes} class scores per cell; "
                f"the config says {anchors} boxes of {config.num_classes} class(es) + background"
            )


def rewrite(nodes: list[Node], config: SsdConfig) -> list[Node]:
    """The body of the graph plus OpenCV's PriorBox and DetectionOutput head."""
    check_predictors(nodes, config)
    identities = {n.name: n.inputs[0] for n in nodes if n.op == "Identity" and n.inputs}

    def resolve(name: str) -> str:
        while name in identities:
            name = identities[name]
        return name

    consts = {n.name for n in nodes if n.op == "Const"}
    kept = [
        n
        for n in nodes
        if n.op in KEEP_OPS and not n.name.startswith(DROP_PREFIXES) and n.op != "Identity"
    ]
    known = {n.name for n in kept} | consts
    for n in kept:
        # control inputs and inputs from dropped (pre-processing) nodes go; weights stay: OpenCV
        # takes every Const from the binary graph
        n.inputs = [resolve(i) for i in n.inputs if not i.startswith("^")]
        n.inputs = [i for i in n.inputs if i.split(":")[0] in known]
        n.attrs = {k: v for k, v in n.attrs.items() if k not in UNUSED_ATTRS}
    placeholder = next((n for n in kept if n.op == "Placeholder"), None)
    first = next((n for n in kept if n.op == "Conv2D"), None)
    if placeholder is None or first is None or not first.inputs:
        raise DetectorError("the SSD graph has no input placeholder followed by a convolution")
    first.inputs = [placeholder.name, first.inputs[-1]]
    head = _head(kept, config, placeholder.name)
    return _connected([placeholder, *[n for n in kept if n is not placeholder], *head])


def _head(kept: list[Node], config: SsdConfig, image: str) -> list[Node]:
    names = {n.name: n for n in kept}
    out: list[Node] = [_const("concat/axis_flatten", [-1])]
    for layer in range(config.num_layers):
        conv = names.get(f"BoxPredictor_{layer}/BoxEncodingPredictor/Conv2D")
        if conv is None:
            raise DetectorError(f"the SSD graph has no box predictor {layer}")
        conv.attrs["loc_pred_transposed"] = "b: true"
    for label in ("ClassPredictor", "BoxEncodingPredictor"):
        flats = []
        for layer in range(config.num_layers):
            source = f"BoxPredictor_{layer}/{label}/BiasAdd"
            out.append(Node(f"{source}/Flatten", "Flatten", [source]))
            flats.append(f"{source}/Flatten")
        out.append(Node(f"{label}/concat", "ConcatV2", [*flats, "concat/axis_flatten"]))
    variance = [1.0 / s for s in config.box_coder_scales]
    priors = []
    for layer in range(config.num_layers):
        widths, heights = config.anchors(layer)
        prior = Node(
            f"PriorBox_{layer}",
            "PriorBox",
            [f"BoxPredictor_{layer}/BoxEncodingPredictor/BiasAdd", image],
            {
                "flip": "b: false",
                "clip": "b: false",
                "width": _tensor(widths),
                "height": _tensor(heights),
                "variance": _tensor(variance),
            },
        )
        out.append(prior)
        priors.append(prior.name)
    out.append(Node("PriorBox/concat", "ConcatV2", [*priors, "concat/axis_flatten"]))
    out.append(_const("ClassPredictor/concat3d/shape", [0, -1, config.num_classes + 1]))
    out.append(
        Node(
            "ClassPredictor/concat3d",
            "Reshape",
            ["ClassPredictor/concat", "ClassPredictor/concat3d/shape"],
        )
    )
    out.append(Node("ClassPredictor/sigmoid", "Sigmoid", ["ClassPredictor/concat3d"]))
    out.append(Node("ClassPredictor/sigmoid/Flatten", "Flatten", ["ClassPredictor/sigmoid"]))
    detection = {
        "num_classes": f"i: {config.num_classes + 1}",
        "share_location": "b: true",
        "background_label_id": "i: 0",
        "nms_threshold": f"f: {config.nms_iou}",
        "confidence_threshold": f"f: {config.score_min}",
        "top_k": f"i: {config.max_detections}",
        "keep_top_k": f"i: {config.max_detections}",
        "code_type": 's: "CENTER_SIZE"',
    }
    inputs = ["BoxEncodingPredictor/concat", "ClassPredictor/sigmoid/Flatten", "PriorBox/concat"]
    out.append(Node("detection_out", "DetectionOutput", inputs, detection))
    return out


def _connected(nodes: list[Node]) -> list[Node]:
    # drop what no longer leads to the output (shape arithmetic of the removed reshapes, ...)
    while True:
        used = {i.split(":")[0] for n in nodes for i in n.inputs}
        dangling = {n.name for n in nodes if n.name not in used and n.name != "detection_out"}
        if not dangling:
            return nodes
        nodes = [n for n in nodes if n.name not in dangling]


def text_graph(model: Path, config: SsdConfig) -> str:
    """The OpenCV text graph for the frozen graph ``model``."""
    with tempfile.TemporaryDirectory() as folder:
        dump = Path(folder) / "graph.pbtxt"
        try:
            cv2.dnn.writeTextGraph(str(model), str(dump))
        except cv2.error as error:
            raise DetectorError(f"{model} is not a readable TensorFlow graph: {error}") from error
        nodes = parse_nodes(dump.read_text())
    if not nodes:
        raise DetectorError(f"{model} is not a readable TensorFlow graph: it has no nodes")
    return "\n".join(n.text() for n in rewrite(nodes, config)) + "\n"
