"""Video analytics at the edge, private by design: frame sources, person detection, anonymous
tracking, ground-plane calibration, zone and line counts, and blurring of any snapshot.

What leaves this package is counts as Observations (and blurred frames on request); raw frames,
boxes and track ids stay inside it. There is no face recognition and never will be.
"""
