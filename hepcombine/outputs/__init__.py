"""Outputs of a combination; every file goes through :mod:`~hepcombine.outputs.atomic`.

* :mod:`~hepcombine.outputs.atomic`: all-or-none file output (the one place files are written);
* :mod:`~hepcombine.outputs.text`: the Convino-style ``result.txt`` and the BLUE summary;
* :mod:`~hepcombine.outputs.json`: JSON (schema ``hepcombine/schemas/result.json``);
* :mod:`~hepcombine.outputs.root`: ROOT files (TH1D, TH2D, TGraphAsymmErrors, TGraphErrors);
* :mod:`~hepcombine.outputs.hist`: ``hist.Hist`` objects;
* :mod:`~hepcombine.outputs.convino`: a specification as Convino text files;
* :mod:`~hepcombine.outputs.hepdata`: HEPData submissions (directory and ``.tar.gz``);
* :mod:`~hepcombine.outputs.yoda`: YODA text (Rivet reference data) of a combination and its inputs;
* :mod:`~hepcombine.outputs.hs3`: the combination as an HS3 statistical model (JSON);
* :mod:`~hepcombine.outputs.simplified`: the CMS simplified likelihood (moments up to the third);
* :mod:`~hepcombine.outputs.combination`: what a configuration's combination writes.
"""

from __future__ import annotations

__all__: list[str] = []


def __dir__() -> list[str]:
    return list(__all__)
