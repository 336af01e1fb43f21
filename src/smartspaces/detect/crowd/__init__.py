"""Crowd analytics: occupancy, density, level of service and the density alert ladder."""
