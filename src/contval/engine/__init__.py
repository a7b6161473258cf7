"""The load engine: the four executors' pure schedules, workers, and local and Ray runners."""
