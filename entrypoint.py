"""Container entry point: run oic-build without relying on the runner's PATH, HOME or cwd.

The GitHub runner leaks host values (PATH, HOME, LD_LIBRARY_PATH) into container actions, so
the image calls this file with an absolute interpreter path and it imports the package directly.
"""

import sys

from oicaction.cli import main

if __name__ == "__main__":
    sys.exit(main())
