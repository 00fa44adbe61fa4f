# A stand-in for livekit/livekit-server:v1.13.5 (docker/images.sh): the
# binary scripts/livekit-server.sh builds from the Go module proxy, as the
# official image runs it (ENTRYPOINT /livekit-server, ports 7880-7882).
ARG BASE
FROM ${BASE}
COPY livekit-server /livekit-server
EXPOSE 7880 7881 7882/udp
ENTRYPOINT ["/livekit-server"]
