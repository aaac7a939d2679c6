"""The scripts behind every number of the results tables (benchmarks/README.md), run from the repository root as
``python -m benchmarks.<name>``; the tests import their yardsticks from here (``benchmarks.reference``,
``benchmarks.peer_recipe``)."""
