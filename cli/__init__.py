"""The command line: one module per command (`solve`, `pso`, `studies`, `forecast`) and
the views that print a typed summary as terminal tables."""
