"""Incidents: lifecycle, unit assignment, playbooks of recommended measures."""
