"""Report formatters: one module per output format, all listed in `ReportFile`."""
