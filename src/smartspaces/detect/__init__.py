"""The detect stage (MAIDS): crowd, video, cyber and fusion detectors."""
