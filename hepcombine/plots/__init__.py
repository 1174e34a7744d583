"""Plots of inputs and results. Each function takes plain numbers (or a result object) and
returns a matplotlib Figure; nothing here fits anything. matplotlib and mplhep are imported
only when a plot is made."""

__all__: list[str] = []


def __dir__() -> list[str]:
    return list(__all__)
