# studybot: one image for every mode; what runs depends on the tokens in the environment (README.md#docker).
FROM python:3.11-slim

# tzdata: IANA time zones for daily posts (the tzdata wheel is a fallback; the system copy gets updates).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so editing the code does not reinstall them.
COPY pyproject.toml README.md ./
COPY bot ./bot
# `docker build --build-arg STUDYBOT_EXTRAS=anki .` adds Anki .apkg import (Anki's library, ~37 MB).
ARG STUDYBOT_EXTRAS=""
RUN pip install --no-cache-dir ".${STUDYBOT_EXTRAS:+[$STUDYBOT_EXTRAS]}"

# The package is installed into site-packages; migrations and decks stay here and are found by path.
COPY migrations ./migrations
COPY content ./content
COPY alembic.ini ./

RUN useradd --system --create-home --uid 10001 studybot \
    && mkdir -p /data \
    && chown studybot:studybot /data
USER studybot

ENV STUDYBOT_MIGRATIONS=/app/migrations \
    STUDYBOT_CONTENT=/app/content \
    STUDYBOT_DATA_DIR=/data \
    STUDYBOT_HEALTH_PORT=8080

# SQLite database (and its WAL files) live here; mount a volume to keep them.
VOLUME ["/data"]
# 3000: Slack HTTP mode (SLACK_PORT); 8080: /healthz and /metrics (STUDYBOT_HEALTH_PORT).
EXPOSE 3000 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.ops.probe"]

# Migrations run on start; SIGTERM (docker stop) stops it cleanly within 10 seconds.
STOPSIGNAL SIGTERM
CMD ["studybot", "run"]
