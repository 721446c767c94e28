"""A recording or a batch through the model: analysis, assessment, outputs, the CLI commands."""
