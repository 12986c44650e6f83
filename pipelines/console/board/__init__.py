"""The office's page: the quarter board, a return's detail, the decisions, refresh, downloads."""
