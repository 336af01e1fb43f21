"""Evacuation decision support: egress time for the current occupancy, exits ranked around a
hazard (the ACMS twin's evacuation support, under a plain name).

Pure functions over plain values: exits as metric lines (any planar frame in metres, the same
for exits and hazard), simulated egress runs as ``SimulatedEgress`` records. Where the runs come
from (``smartspaces simulate egress`` writes them) is the caller's business.
"""
