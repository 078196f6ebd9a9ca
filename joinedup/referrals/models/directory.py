"""The service directory: what each service is for, who it is for and how to reach it."""

__all__: list[str] = []
