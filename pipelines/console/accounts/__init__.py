"""Accounts: the three roles, each user's unit, and the one access rule (access.py)."""
