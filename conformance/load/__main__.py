# ruff: noqa: I001
"""``python -m conformance.load``: the load command in a process of its own, Locust (gevent) imported first.

gevent must patch the standard library before anything else imports ssl, socket or threading; the
``gws-conformance`` command has imported half the suite by the time it knows it was asked for a load run,
so it starts this module instead (conformance.cli).
"""

import locust  # noqa: F401 - first: monkey-patches the process with gevent

import sys

from conformance.load.main import main

sys.exit(main(sys.argv[1:]))
