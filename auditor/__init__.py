"""vcaudit: shows what a video-conferencing app really talks to, with evidence."""

__version__ = "0.1.0"
