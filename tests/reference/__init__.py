"""Independent reference solvers used to validate gridc's models (not gridc code)."""
