"""The respond stage (ACMS): risk, alerts, incidents, evacuation support."""
