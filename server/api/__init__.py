"""The companion REST API under ``/api/v1``."""
