"""Readers of measurement inputs (HEPData records, ...)."""
