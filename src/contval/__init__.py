"""contval: continuous validation of web systems: flows under load and chaos, baselines, verdicts."""

__version__ = "0.1.0"
