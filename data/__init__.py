"""Scenario preparation that is not lowering: the EV travel-chain Monte Carlo and
forecast, history clustering, economics helpers (numpy/scipy only, never linopy)."""
