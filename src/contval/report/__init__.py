"""Reports: the results file, the console's progress line and tables. Reports only read results."""
