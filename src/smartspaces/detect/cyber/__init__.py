"""Cyber detection: flow parsers, network attack detectors, telemetry integrity, asset map."""
