"""``python -m har_app ...``: the same command line as ``python -m helpers ...`` (:mod:`har_app.cli`)."""

import sys

from har_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
