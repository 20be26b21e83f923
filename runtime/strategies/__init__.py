"""How a compiled model is solved: the strategy registry (`registry`), the topology
search, the bi-level PSO."""
