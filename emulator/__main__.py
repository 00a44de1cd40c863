"""``python -m emulator`` runs the same CLI as the ``crmemu`` script."""

import sys

from emulator.cli import main

sys.exit(main())
