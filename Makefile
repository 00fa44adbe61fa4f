# ngx_http_livekit_token_module
#
#   make deps     install what is missing (Debian packages, pinned npm packages)
#   make module   build build/ngx_http_livekit_token_module.so
#                 (NGINX_SRC=/path/to/nginx-x.y.z: against upstream, --with-compat)
#   make test     deps + module + every suite
#   make run      deps + module + nginx in the foreground on 127.0.0.1:8080

SHELL   := /bin/bash
MODULE  := build/ngx_http_livekit_token_module.so
NGINX   ?= /usr/sbin/nginx
SRCS    := config $(wildcard src/*.c src/*.h)

.PHONY: all deps module test test-nginx test-node run clean

all: module

deps:
	@scripts/deps.sh

module: $(MODULE)

$(MODULE): $(SRCS) scripts/build-module.sh
	@scripts/build-module.sh

test: deps module
	@scripts/test.sh

test-nginx: module
	@scripts/test.sh nginx

test-node: module
	@scripts/test.sh node

run: deps module
	@scripts/run.sh

clean:
	rm -rf build t/servroot
