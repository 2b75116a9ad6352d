"""The data center's technical review service (RULES §Technical review, Art 10–12)."""
