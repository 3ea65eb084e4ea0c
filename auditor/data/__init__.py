"""Data files the package reads: the catalog (catalog/), the standard lists known (lists/),
and the SDK field descriptions (sdk_fields.toml). Read with importlib.resources."""
