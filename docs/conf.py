"""Sphinx configuration of the hepcombine documentation (``nox -s docs``: warnings are errors).

The notebooks of ``notebooks/`` are copied into ``tutorials/`` and executed by MyST-NB at every
build; the command-line reference is generated from ``hepcombine.cli.build_parser()`` and the
configuration schema from ``hepcombine/schemas/config.json`` (``_ext/hepcombine_docs.py``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

import hepcombine  # noqa: E402

# the notebooks are the tutorials: copied here (not kept in git), executed by MyST-NB
TUTORIALS = DOCS / "tutorials"
TUTORIALS.mkdir(exist_ok=True)
for nb in sorted((REPO / "notebooks").glob("*.ipynb")):
    shutil.copy2(nb, TUTORIALS / nb.name)

project = "hepcombine"
author = "hepcombine developers"
copyright = "hepcombine developers"
release = version = hepcombine.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_nb",
    "hepcombine_docs",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "jupyter_execute", ".jupyter_cache"]
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# execute every notebook at each build, from its own directory; a failing cell fails the build
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
# the docstrings name types in prose; cross-references that cannot resolve are not errors
nitpicky = False
# prose docstrings name attributes ("observables") that several classes have; such an
# ambiguous cross-reference is rendered as plain text
suppress_warnings = ["myst.header", "ref.python"]

html_theme = "furo"
html_title = f"hepcombine {release}"
html_theme_options = {
    "source_repository": "",
    "navigation_with_keys": True,
}
