"""``python -m reference_impl serve ...``: the same as ``gws-reference``."""

import sys

from reference_impl.cli import main

sys.exit(main())
