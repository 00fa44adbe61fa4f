# A stand-in for livekit/egress:v1.14.0 (docker/images.sh): the binary
# scripts/egress.sh builds from ../shared/egress-src with Debian's
# GStreamer, and the GStreamer run-time packages it links and plays with;
# EGRESS_CONFIG_FILE names its configuration, as in the official image.
# On PATH: each recording runs as `egress run-handler`, a process of its own.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
        gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav \
 && rm -rf /var/lib/apt/lists/*
COPY egress /usr/local/bin/egress
ENTRYPOINT ["egress"]
