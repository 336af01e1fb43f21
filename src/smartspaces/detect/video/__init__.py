"""Video analytics at the edge, private by design: frame sources, person detection (HOG, the
SSDLite pedestrian model, any ONNX model), anonymous tracking, ground-plane calibration, zone and
line counts, behaviours (loitering, running, falls, counter-flow, sudden dispersal), unattended
objects, camera health and tampering, and blurring of any snapshot.

What leaves this package is counts as Observations, Detections whose attributes are typed
evidence (camera, zone, speed, heading, how many), and blurred, face-checked snapshots on
request; raw frames, boxes and track ids stay inside it. There is no face recognition and never
will be.

Map: ``frames`` (sources, schedule) -> ``detectors`` (+ ``ssdlite``, ``onnx_detector``) ->
``tracking`` -> ``analytics`` (counts) and ``motion`` -> ``behaviours``; ``unattended``,
``health`` beside them; ``pipeline`` joins them per camera; ``findings`` turns what they find
into Detections; ``privacy`` makes snapshots.
"""
