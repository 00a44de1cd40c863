"""Rule-mutation testing of the engine (issue 10): does the suite notice a broken rule?

:mod:`mutation.mutants` lists single-rule mutants, each a small patch of the engine's source;
:mod:`mutation.harness` applies each one to a copy of the tracked files and runs a killing
suite and the scenario checks there; ``python -m mutation`` prints the score. See
docs/MUTATION.md.
"""
