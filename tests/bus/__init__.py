"""Tests of the event bus: the shared contract and each engine."""
