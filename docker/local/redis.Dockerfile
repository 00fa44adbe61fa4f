# A stand-in for redis:7.0-alpine (docker/images.sh): Debian's redis-server,
# run by the command compose.yaml gives, as the user redis.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/*
USER redis
CMD ["redis-server"]
