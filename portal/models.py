"""Every model, imported once so metadata (migrations, tests) sees all tables."""
from portal.accounts.models import User
from portal.archives.models import Archive
from portal.audit.models import AuditLog
from portal.catalog.models import Record
from portal.catalog.outbox import SearchOutbox
from portal.db import Base

__all__ = ["Archive", "AuditLog", "Base", "Record", "SearchOutbox", "User"]
