"""Operations: structured logs with secrets redacted, Prometheus metrics, the health endpoint."""
