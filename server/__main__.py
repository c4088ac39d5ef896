"""``python -m server`` is the ``quill`` command."""

import sys

from server.cli import main

sys.exit(main())
