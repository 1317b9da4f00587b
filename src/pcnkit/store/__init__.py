"""The application database: a workspace's SQLite file, or PostgreSQL via PCNKIT_DATABASE_URL."""

from pcnkit.store.db import Workspace, open_workspace

__all__ = ["Workspace", "open_workspace"]
