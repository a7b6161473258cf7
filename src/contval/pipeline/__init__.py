"""The pipeline: runs a suite's scenarios in order, collects verdicts, maps them to exit codes."""
