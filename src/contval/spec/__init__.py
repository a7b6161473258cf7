"""Suite file models, YAML loading with line numbers, units and JSON Schema export."""
