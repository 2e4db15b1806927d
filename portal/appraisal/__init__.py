"""Open appraisal (开放鉴定): batches of records reviewed in three stages by three people, the
records that become open, and the open catalogue an archive publishes of them."""
