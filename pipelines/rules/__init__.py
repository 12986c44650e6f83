"""Form rules: cell coercion, pandera schemas and cross-cell rules, all driven by rules.yaml."""
