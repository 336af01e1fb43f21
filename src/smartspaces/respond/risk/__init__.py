"""Risk per smart space (and, later, per infrastructure asset)."""
