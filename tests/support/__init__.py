"""Test-only helpers: local upstream servers, certificates, a proxy process."""
