# ngx_http_livekit_token_module
#
#   make deps     install what is missing (Debian packages, pinned npm packages)
#   make module   build build/ngx_http_livekit_token_module.so and
#                 build/ngx_http_livekit_ssm_module.so (SSM, libcurl; load it
#                 after the token module) against Debian's nginx
#                 NGINX=/usr/sbin/nginx NGINX_SRC=<tree|tarball>: against the
#                 installed nginx, with its `nginx -V` arguments; prints the
#                 load_module line; the .so is in build/nginx-x.y.z/
#                 (NGINX_SRC alone: upstream, --with-compat)
#   make test     deps + module + every suite below (scripts/test.sh), then
#                 `suites: N passed, N failed`
#   make test-nginx | test-build | test-load | test-node | e2e | test-aws |
#   make test-fuzz | e2e-browsers | test-docker
#                 one suite of `make test`
#   make test-matrix   t/*.t, the TokenVerifier check and the ACME suite
#                 (e2e/acme.sh with nginx-acme built for that version; not
#                 Angie) against every nginx version in scripts/test-matrix.sh
#                 (binaries cached in ~/.cache/ngx-livekit-token/matrix,
#                 nginx-acme in .../acme)
#   make run      deps + module + the whole front door: https://localhost:8443
#                 (PORT=), livekit-server, demo page; Ctrl-C stops it;
#                 RECORD=1: also Redis, Egress and a local S3 (moto), every
#                 room recorded
#   make e2e      deps + module + e2e/run.sh (front door end to end)
#   make deb      build/deb/libnginx-mod-http-livekit-token_*.deb (debian/,
#                 dpkg-buildpackage with nginx-dev's dh-sequence-nginx)
#   make test-deb install it into the system nginx, nginx -t, serve a token,
#                 purge, check nothing is left (t/deb/run.sh)
#   make acme     nginx's ACME module (nginx-acme, patched) and pebble, cached
#                 under ~/.cache/ngx-livekit-token/
#   make test-acme   deps + module + e2e/acme.sh (certificates from a local
#                 ACME CA, pebble: issuance, renewal, restart, CA down)
#   make run ACME=1  the front door with certificates from a local pebble
#   make e2e-multinode   two livekit-server nodes on Redis (e2e/multinode.sh)
#   make e2e-recording   Egress recordings to S3 (e2e/recording.sh; builds
#                 Egress once into ~/.cache/ngx-livekit-token/egress/)
#   make docker   docker/Dockerfile, where `docker info` works
#   make test-docker   the container deployment (e2e/docker.sh): local
#                 stand-ins of the public images, the image, the compose
#                 stack on a host of its own with token, media, webhook,
#                 recording, SSM and the operator's checks
#   make test-valgrind   t/*.t under valgrind (Test::Nginx's valgrind mode)
#   make test-asan       t/*.t with the module built with ASan + UBSan
#   make fuzz     libFuzzer harnesses for every parser (FUZZ_SECONDS=60 each)
#   make bench    deps + module + benchmark of A/B/C/D (bench/README.md);
#                 BENCH_QUICK=1: a 40 s smoke run; then bench/frontdoor.sh
#   make bench-frontdoor   LiveKit joins straight vs through the front door,
#                 then three doors: straight, nginx, Caddy + caddy-l4 (bench/doors.sh),
#                 and reloads with live calls through nginx and Caddy (bench/reloads.sh)

SHELL   := /bin/bash
MODULE  := build/ngx_http_livekit_token_module.so
SSM_MODULE := build/ngx_http_livekit_ssm_module.so
NGINX   ?= /usr/sbin/nginx
SRCS    := config $(wildcard src/*.c src/*.h)

.PHONY: all deps module test test-nginx test-node test-aws test-load \
        test-fuzz test-build test-matrix test-deb deb e2e e2e-browsers run docker test-docker bench \
        clean e2e-multinode e2e-recording bench-frontdoor \
        test-valgrind test-asan fuzz fuzz-campaign acme test-acme FORCE

all: module

deps:
	@scripts/deps.sh

# against another nginx (NGINX_SRC=), the script decides what to rebuild
ifdef NGINX_SRC
module: FORCE
	@NGINX='$(if $(filter command line environment,$(origin NGINX)),$(NGINX))' \
	    NGINX_SRC='$(NGINX_SRC)' scripts/build-module.sh
else
module: $(MODULE) $(SSM_MODULE)
endif

$(MODULE) $(SSM_MODULE) &: $(SRCS) scripts/build-module.sh scripts/lib.sh
	@NGINX= scripts/build-module.sh

test: deps module
	@scripts/test.sh

test-nginx: module
	@scripts/test.sh nginx

test-node: module
	@scripts/test.sh node

test-aws: module
	@scripts/test.sh aws

test-build:
	@scripts/test.sh build

test-load: module
	@scripts/test.sh load

test-fuzz: deps
	@scripts/test.sh fuzz

e2e: deps module
	@scripts/test.sh e2e

test-matrix: deps module
	@scripts/test-matrix.sh

deb:
	@scripts/deb.sh

test-deb: deb
	@scripts/test.sh deb

e2e-browsers: deps module
	@scripts/test.sh browsers
test-docker: deps module
	@scripts/test.sh docker

e2e-multinode: deps module
	@scripts/test.sh multinode

e2e-recording: deps module
	@scripts/test.sh recording

run: deps module
	@ACME=$(ACME) scripts/run.sh

acme: module
	@scripts/acme-build.sh module
	@scripts/acme-build.sh pebble

test-acme: deps module
	@scripts/test.sh acme

test-valgrind: deps module
	@scripts/test-valgrind.sh

test-asan: deps
	@scripts/test-asan.sh

fuzz: deps
	@scripts/fuzz.sh

# every harness 11 minutes (10 CPU-minutes), found inputs merged into
# fuzz/corpus/, coverage per harness: not in CI (see fuzz/README.md)
fuzz-campaign: deps
	@scripts/fuzz-campaign.sh

bench: deps module
	@bench/run.sh
	@bench/frontdoor.sh

bench-frontdoor: deps module
	@bench/frontdoor.sh
	@bench/doors.sh
	@bench/reloads.sh

docker:
	@if docker info >/dev/null 2>&1; then \
	    docker build -f docker/Dockerfile -t ngx-livekit-token:local . ; \
	else \
	    echo "make docker: no Docker engine here (docker info failed): skipped"; \
	fi

FORCE:

clean:
	rm -rf build t/servroot
