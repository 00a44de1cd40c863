"""Sub-commands of ``crmemu``; see :mod:`emulator.cli`."""
