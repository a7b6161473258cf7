"""Server-side signal sources turned into per-second series aligned with the load.

A source is read in the controller process on its own thread, never on a load worker's event loop;
signals are observations, never judgements (thresholds judge them).
"""
