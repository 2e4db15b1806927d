"""An archive's own work in the browser (issue 13): its archives and staff, the catalog and its
digitized copies, and the jobs that run them. Every page asks portal.policy (ARCHIVE_RULES); the
landing page (`/admin/`) lists the sections the viewer may use (portal.admin.sections)."""
