# Brain Gateway as a container image: built with the official Swift image, run on a slim
# Debian as a non-root user. The binaries link the Swift runtime statically, so the runtime
# image needs only the C library, CA certificates, tzdata and curl (for the HEALTHCHECK).
#
#   docker build -t brain-gateway .
#   docker run -p 8001:8001 -e JWT_SECRET=... brain-gateway
#
# Configuration: /etc/brain-gateway/brain-gateway.yaml (the shipped one; mount your own over
# it), every environment variable of the README; secrets may be given as files with
# <NAME>_FILE (see deploy/docker-entrypoint.sh). The SQLite store lives in /var/lib/brain-gateway.

ARG SWIFT_IMAGE=swift:6.2-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
# Dependencies first, so a source change does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product brain-gateway \
 && swift build -c release --static-swift-stdlib --product brainctl \
 && mkdir -p /out \
 && cp "$(swift build -c release --show-bin-path)/brain-gateway" "$(swift build -c release --show-bin-path)/brainctl" /out/

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates tzdata curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 brain \
 && useradd --system --uid 10001 --gid brain --home-dir /var/lib/brain-gateway --shell /usr/sbin/nologin brain \
 && mkdir -p /etc/brain-gateway /var/lib/brain-gateway \
 && chown brain:brain /var/lib/brain-gateway
COPY --from=build /out/brain-gateway /out/brainctl /usr/local/bin/
COPY config/brain-gateway.yaml /etc/brain-gateway/brain-gateway.yaml
COPY deploy/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER 10001:10001
WORKDIR /var/lib/brain-gateway
ENV BRAIN_GATEWAY_CONFIG=/etc/brain-gateway/brain-gateway.yaml \
    BRAIN_GATEWAY_HOST=0.0.0.0 \
    BRAIN_GATEWAY_PORT=8001 \
    DATABASE_URL=sqlite:///var/lib/brain-gateway/brain-gateway.sqlite
EXPOSE 8001
VOLUME ["/var/lib/brain-gateway"]
# Liveness only: readiness (/health/ready) is for load balancers and orchestrators.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${BRAIN_GATEWAY_PORT}/health/live" >/dev/null || exit 1
# SIGTERM starts the graceful drain (BRAIN_GATEWAY_SHUTDOWN_DRAIN seconds, then +5 s at most):
# give `docker stop -t` at least that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
