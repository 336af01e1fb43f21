"""Pedestrian simulation (JuPedSim) of the smart spaces: egress what-ifs and crowd build-ups.

The walkable area and its exits come from the space's real geometry (``space.py``); ``egress``
empties a space through its open exits, ``buildup`` fills it through them over time; both return
plain results (``results.py``) that evacuation support, the detect tests and the CLI read.
"""
