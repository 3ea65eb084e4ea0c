"""The built-in catalog: organisations, their domains and ranges, one TOML file per group
(format: docs/catalog-format.md)."""
