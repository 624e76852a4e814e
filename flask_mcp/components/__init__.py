"""Tools, resources and prompts: description, arguments and results."""

__all__: list[str] = []
