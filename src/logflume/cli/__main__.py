"""``python -m logflume.cli``: the same as the ``logflume`` command."""

import sys

from . import main

sys.exit(main())
