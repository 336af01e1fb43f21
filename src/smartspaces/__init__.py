"""smartspaces: keeps crowded public spaces safe."""
