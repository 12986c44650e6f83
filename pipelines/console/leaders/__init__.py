"""The leaders' page: the report of each quarter (the same HTML file), and nothing else."""
