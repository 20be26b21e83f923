"""The only code that touches linopy's or highspy's internals: the hand-over of the
matrices, the solve, warm starts."""
