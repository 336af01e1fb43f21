"""Responder routing over a street graph, around hazards (crowds, blocked streets). Pure."""
