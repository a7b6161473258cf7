"""contval: continuous validation: flows under load and chaos, baselines, verdicts."""

__version__ = "0.1.0"
