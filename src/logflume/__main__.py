"""``python -m logflume``: the same as the ``logflume`` command."""

import sys

from .cli import main

sys.exit(main())
