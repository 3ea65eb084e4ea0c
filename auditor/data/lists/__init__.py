"""The standard tracker lists and vendor range sources vcaudit knows (sources.toml)."""
