# A stand-in for the official rust:*-slim-bookworm image where registries
# cannot be reached (docker/images.sh): this machine's toolchain (the build
# context's toolchain/, rustup's stable without its documentation) laid out
# as that image has it, /usr/local/rustup and /usr/local/cargo/bin on PATH.
ARG BASE
FROM ${BASE}
COPY toolchain/ /usr/local/rustup/toolchains/stable/
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /usr/local/cargo/bin \
 && for b in /usr/local/rustup/toolchains/stable/bin/*; do ln -s "$b" /usr/local/cargo/bin/; done
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:$PATH
RUN cargo --version && rustc --version
