"""``python -m cvexplorer`` is the same as the ``cvexplorer`` command."""

import sys

from cvexplorer.cli import main

sys.exit(main())
