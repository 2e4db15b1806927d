"""Utilization requests (利用申请): applying, the state machine, following a request."""
