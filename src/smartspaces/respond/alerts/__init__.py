"""Alert policy and alert formats."""
