"""``python -m hepcombine``: the command line (see :mod:`hepcombine.cli`)."""

import sys

from hepcombine.cli import main

sys.exit(main())
