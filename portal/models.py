"""Every model, imported once so metadata (migrations, tests) sees all tables."""
from portal.accounts.models import ApiToken, User
from portal.admin.models import AdminJob
from portal.appraisal.models import AppraisalBatch, AppraisalItem, AppraisalOpinion
from portal.archives.models import Archive
from portal.audit.models import AuditLog
from portal.catalog.models import Record
from portal.catalog.copies import DigitizedCopy
from portal.certificates.models import Certificate
from portal.catalog.outbox import SearchOutbox
from portal.core.sequences import NumberSequence
from portal.federation.models import FederationMessage, Peer, SeenNonce
from portal.db import Base
from portal.mail.models import MailOutbox
from portal.review.models import RequestNote, VerificationTask
from portal.stats.models import StatsMonth
from portal.requests.models import RequestEvent, RequestFile, RequestRecord, RequestSearchArchive, UtilizationRequest

__all__ = ["AdminJob", "AppraisalBatch", "AppraisalItem", "AppraisalOpinion", "ApiToken", "Archive", "AuditLog", "Base", "Certificate", "DigitizedCopy", "FederationMessage", "Peer", "SeenNonce", "MailOutbox", "NumberSequence", "Record", "RequestEvent",
           "RequestFile", "RequestRecord", "RequestSearchArchive", "SearchOutbox", "StatsMonth", "User", "UtilizationRequest", "RequestNote", "VerificationTask"]
