"""The smart office's planning service (RULES §Planning, Art 7–10, 18, 25)."""
