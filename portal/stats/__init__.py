"""利用统计: an archive's and the network's figures over a date range, counted from the request
timeline (portal.stats.figures), drawn as SVG charts (portal.stats.charts), shown on the
administration dashboard with CSV exports (portal.stats.views) and answered as JSON by
GET /api/v1/statistics (portal.api.statistics). Definitions: docs/admin-stats.md."""
