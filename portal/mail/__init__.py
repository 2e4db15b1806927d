"""Email to citizens: an outbox written in the same transaction as the change, sent afterwards with retries."""
