"""Tools, resources and prompts: description, arguments and results."""
