# syntax=docker/dockerfile:1.7
#
# One image recipe for every service of the package (SPEC.md §1):
#
#   docker build --build-arg PRODUCT=auth-service     -t ecg-backend/auth-service .
#   docker build --build-arg PRODUCT=media-service    -t ecg-backend/media-service .
#   docker build --build-arg PRODUCT=analysis-service -t ecg-backend/analysis-service .
#
# The analysis-service image also runs the reference ML worker (`worker` instead
# of the default `serve`); it is the only image that gets ffmpeg.
#
# Layout of the runtime image:
#   /app/service                                the executable (static Swift stdlib)
#   /app/ecg-backend_<Target>.resources/        its resource bundle (SQL migrations);
#                                               Bundle.module finds it next to the executable
#   /app/healthcheck                            GET /health on $PORT (the worker: always healthy)

ARG SWIFT_IMAGE=swift:6.3-noble
ARG RUNTIME_IMAGE=ubuntu:noble

# ---------------------------------------------------------------------------
# Build stage
# ---------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build

# librdkafka-dev: the CRDKafka system library (pkg-config rdkafka).
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first, so that a source change does not refetch them.
# (Package.resolved is not committed; when the build context has one it pins the versions.)
COPY Package.swift Package.resolved* ./
RUN --mount=type=cache,target=/build/.build,id=ecg-swiftpm,sharing=locked \
    swift package resolve

# Package.swift names every target's path (tests included), so all three trees are needed.
COPY Shared ./Shared
COPY Services ./Services
COPY Tests ./Tests

ARG PRODUCT
# auth-service -> AuthService: the executable target, whose resource bundle is
# ecg-backend_<Target>.resources.
RUN --mount=type=cache,target=/build/.build,id=ecg-swiftpm,sharing=locked \
    set -eu; \
    case "${PRODUCT:-}" in \
      auth-service) target=AuthService ;; \
      media-service) target=MediaService ;; \
      analysis-service) target=AnalysisService ;; \
      *) echo "PRODUCT must be auth-service, media-service or analysis-service (got '${PRODUCT:-}')" >&2; exit 2 ;; \
    esac; \
    swift build -c release --static-swift-stdlib --product "$PRODUCT"; \
    bin="$(swift build -c release --static-swift-stdlib --show-bin-path)"; \
    mkdir -p /staging; \
    cp "$bin/$PRODUCT" /staging/service; \
    strip /staging/service; \
    for bundle in "$bin"/*.resources; do \
      [ -e "$bundle" ] || continue; \
      case "$(basename "$bundle")" in \
        ecg-backend_*) [ "$(basename "$bundle")" = "ecg-backend_${target}.resources" ] || continue ;; \
      esac; \
      cp -R "$bundle" /staging/; \
    done; \
    test -d "/staging/ecg-backend_${target}.resources/Migrations"; \
    ls -la /staging

# ---------------------------------------------------------------------------
# Runtime stage
# ---------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime

ARG PRODUCT
# librdkafka1: Kafka client; ca-certificates: TLS to RDS/MSK/S3/Google; tzdata;
# curl: the health check; ffmpeg: the reference worker (analysis-service only).
# hadolint ignore=DL3008
RUN set -eu; \
    extra=""; \
    if [ "${PRODUCT:-}" = "analysis-service" ]; then extra="ffmpeg"; fi; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka1 ca-certificates tzdata curl $extra; \
    rm -rf /var/lib/apt/lists/*; \
    groupadd --system --gid 10001 ecg; \
    useradd --system --uid 10001 --gid ecg --home-dir /var/lib/ecg --shell /usr/sbin/nologin ecg; \
    mkdir -p /app /var/lib/ecg/keys; \
    chown -R ecg:ecg /var/lib/ecg; \
    case "${PRODUCT:-}" in \
      auth-service) echo 8081 ;; media-service) echo 8082 ;; analysis-service) echo 8083 ;; \
      *) echo "PRODUCT must be set" >&2; exit 2 ;; \
    esac > /app/default-port

COPY --from=build /staging/ /app/
COPY --chmod=0755 <<'EOF' /app/healthcheck
#!/bin/sh
# Container health: the service's liveness route. The reference worker has no
# HTTP port; while its process runs it is healthy.
if tr '\0' ' ' </proc/1/cmdline | grep -q ' worker'; then exit 0; fi
exec curl -fsS -o /dev/null --max-time 3 "http://127.0.0.1:${PORT:-$(cat /app/default-port)}/health"
EOF

LABEL org.opencontainers.image.title="ecg-backend ${PRODUCT}" \
      org.opencontainers.image.description="ECG Backend ${PRODUCT} (Swift, Hummingbird 2)"

# Containers listen on every interface (the development default is 127.0.0.1);
# development keys, if ever generated, go to a directory the user owns.
ENV HOST=0.0.0.0 \
    KEYS_DIR=/var/lib/ecg/keys \
    LOG_LEVEL=info

WORKDIR /var/lib/ecg
USER 10001:10001
# Ports: auth-service 8081, media-service 8082, analysis-service 8083 (PORT overrides).

HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 CMD ["/app/healthcheck"]

# SIGTERM: the service drains and exits 0 within 10 s (SPEC.md §8).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/service"]
CMD ["serve"]
