"""The compile path and what every family shares: the builder and its row primitives,
the index of coordinates, scenario data, the resolved study, line states."""
