"""``python -m helpers classify|export|env|train|demo ...``: the command line the README and ``make classify`` use.

The command line is an application on top of this package and lives in :mod:`har_app.cli`; this module only keeps
its documented entry point. Nothing in ``helpers`` imports ``har_app``.
"""

import sys

from har_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
