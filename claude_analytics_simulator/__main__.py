"""`python -m claude_analytics_simulator`: serve the simulator until Ctrl-C."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
