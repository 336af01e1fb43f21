"""The demo's smart spaces and scripted events; one sub-package per scenario."""
