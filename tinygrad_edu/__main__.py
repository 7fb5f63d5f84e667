"""``python -m tinygrad_edu``: the same command line as ``tinygrad-edu`` (see :mod:`tinygrad_edu.cli`)."""

import sys

from .cli import main

sys.exit(main())
