# A stand-in for nginx:stable-bookworm where registries cannot be reached
# (docker/images.sh): nginx from the release tarball in the build context,
# configured with the official image's arguments (configure.args, from
# scripts/matrix/official-image.args), laid out as that image is: user and
# group nginx (101), /etc/nginx (its modules/ linked to
# /usr/lib/nginx/modules), /var/cache/nginx, the logs linked to the
# container's stdout and stderr, NGINX_VERSION set, SIGQUIT to stop.
ARG BASE
FROM ${BASE} AS build
ARG NGINX_VERSION
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libpcre2-dev zlib1g-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
COPY nginx.tar.gz configure.args /src/
RUN cd /src && tar -xzf nginx.tar.gz && cd nginx-${NGINX_VERSION} \
 && bash -c 'mapfile -t args </src/configure.args && ./configure "${args[@]}"' \
 && make -j"$(nproc)" && make install DESTDIR=/out

FROM ${BASE}
ARG NGINX_VERSION
ENV NGINX_VERSION=${NGINX_VERSION}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcre2-8-0 zlib1g libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 101 nginx \
 && useradd --system --gid nginx --no-create-home --home /nonexistent \
        --shell /bin/false --uid 101 nginx
COPY --from=build /out/ /
RUN mkdir -p /var/cache/nginx /usr/lib/nginx/modules /var/log/nginx \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log \
 && ln -s /usr/lib/nginx/modules /etc/nginx/modules \
 && nginx -V
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
