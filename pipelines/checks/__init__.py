"""Asset checks: form rules (blocking: an error stops the report, return and alerts) and data
quality (non-blocking: shown, never stops publication)."""
