# syntax=docker/dockerfile:1.7
#
# One image recipe for every executable of the package (SPEC.md §1, §5):
#
#   docker build --build-arg PRODUCT=auth-service     -t ecg-backend/auth-service .
#   docker build --build-arg PRODUCT=media-service    -t ecg-backend/media-service .
#   docker build --build-arg PRODUCT=analysis-service -t ecg-backend/analysis-service .
#   docker build --build-arg PRODUCT=caption-worker   -t ecg-backend/caption-worker .
#
# The three HTTP services run `serve` by default (`migrate` only migrates).
# caption-worker is the reference ML worker: a plain command with no subcommand
# and no HTTP port (options such as `--analysis none` are the container's
# command). Only its image gets ffmpeg and PocketSphinx with its US English model.
#
# Layout of the runtime image:
#   /app/service                                the executable (static Swift stdlib)
#   /app/ecg-backend_<Target>.resources/        the services' resource bundle (SQL migrations);
#                                               Bundle.module finds it next to the executable
#                                               (caption-worker has none)
#   /app/default-port                           the services' default port (none: caption-worker)
#   /app/rds-global-bundle.pem                  Amazon RDS's CA bundle (DATABASE_URL sslrootcert=)
#   /app/healthcheck                            GET /health on $PORT; caption-worker: healthy
#                                               while its process runs

ARG SWIFT_IMAGE=swift:6.3-noble
ARG RUNTIME_IMAGE=ubuntu:noble
# auth-service | media-service | analysis-service | caption-worker; also names the final stage.
ARG PRODUCT

# ---------------------------------------------------------------------------
# Build stage
# ---------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build

# librdkafka-dev: the CRDKafka system library (pkg-config rdkafka).
# libpocketsphinx-dev: the CPocketSphinx system library (pkg-config pocketsphinx, with
# sphinxbase). Package.swift declares it for the whole package, so every product's
# build installs it, although only caption-worker links it.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka-dev libpocketsphinx-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first, so that a source change does not refetch them. Every package of the
# graph at the version CI tested: direct dependencies are `exact:` in Package.swift, the
# transitive ones are pinned from Package.pins, and the build stops if the graph differs
# (infra/pin-dependencies.sh, which CI runs too; Package.resolved is not committed).
COPY Package.swift Package.pins ./
COPY infra/pin-dependencies.sh ./infra/
RUN --mount=type=cache,target=/build/.build,id=ecg-swiftpm,sharing=locked \
    infra/pin-dependencies.sh

# Package.swift names every target's path (tests included), so all three trees are needed.
COPY Shared ./Shared
COPY Services ./Services
COPY Tests ./Tests

ARG PRODUCT
# auth-service -> AuthService: the executable target. The services' resource bundle
# ecg-backend_<Target>.resources holds their SQL migrations; caption-worker has no
# database and no bundle.
RUN --mount=type=cache,target=/build/.build,id=ecg-swiftpm,sharing=locked \
    set -eu; \
    case "${PRODUCT:-}" in \
      auth-service) target=AuthService; migrations=yes ;; \
      media-service) target=MediaService; migrations=yes ;; \
      analysis-service) target=AnalysisService; migrations=yes ;; \
      caption-worker) target=CaptionWorker; migrations=no ;; \
      *) echo "PRODUCT must be auth-service, media-service, analysis-service or caption-worker (got '${PRODUCT:-}')" >&2; exit 2 ;; \
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
    if [ "$migrations" = yes ]; then test -d "/staging/ecg-backend_${target}.resources/Migrations"; fi; \
    ls -la /staging

# ---------------------------------------------------------------------------
# Runtime stage (shared by every product)
# ---------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime

ARG PRODUCT
# Every image: librdkafka1 (Kafka client), ca-certificates (TLS to RDS/MSK/S3/Google,
# and the worker's video downloads), tzdata.
# The HTTP services: curl (the health check).
# caption-worker only: ffmpeg (decodes the audio), libpocketsphinx3 (speech recognition,
# pulls libsphinxbase3) and pocketsphinx-en-us (the US English acoustic model,
# dictionary and language model in /usr/share/pocketsphinx/model/en-us, the
# default POCKETSPHINX_MODEL_DIR). ($extra is split into package names on purpose.)
# hadolint ignore=DL3008,SC2086
RUN set -eu; \
    case "${PRODUCT:-}" in \
      auth-service) port=8081; extra="curl" ;; \
      media-service) port=8082; extra="curl" ;; \
      analysis-service) port=8083; extra="curl" ;; \
      caption-worker) port=""; extra="ffmpeg libpocketsphinx3 pocketsphinx-en-us" ;; \
      *) echo "PRODUCT must be auth-service, media-service, analysis-service or caption-worker (got '${PRODUCT:-}')" >&2; exit 2 ;; \
    esac; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka1 ca-certificates tzdata $extra; \
    rm -rf /var/lib/apt/lists/*; \
    if [ "$PRODUCT" = caption-worker ]; then \
      test -f /usr/share/pocketsphinx/model/en-us/en-us/mdef; \
      test -f /usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict; \
      test -f /usr/share/pocketsphinx/model/en-us/en-us.lm.bin; \
    fi; \
    groupadd --system --gid 10001 ecg; \
    useradd --system --uid 10001 --gid ecg --home-dir /var/lib/ecg --shell /usr/sbin/nologin ecg; \
    mkdir -p /app /var/lib/ecg/keys; \
    chown -R ecg:ecg /var/lib/ecg; \
    if [ -n "$port" ]; then echo "$port" > /app/default-port; fi

COPY --from=build /staging/ /app/
# Amazon RDS's CA bundle (every region's root CAs): RDS server certificates chain to these
# private roots, which the system trust store lacks. DATABASE_URL names it in AWS
# (infra/aws/data.yaml: sslmode=verify-full&sslrootcert=/app/rds-global-bundle.pem).
# Fetched when the image is built; rebuild when AWS adds or rotates a CA.
ADD --chmod=0644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /app/rds-global-bundle.pem
COPY --chmod=0755 <<'HEALTH' /app/healthcheck
#!/bin/sh
# Container health. An HTTP service: its liveness route, GET /health.
# caption-worker has no HTTP port (and no /app/default-port): it is healthy while
# its process (/app/service, PID 1 or the child of an init) runs.
if [ ! -e /app/default-port ]; then
  for cmdline in /proc/[0-9]*/cmdline; do
    [ "$(tr '\0' '\n' <"$cmdline" 2>/dev/null | head -n 1)" = /app/service ] && exit 0
  done
  exit 1
fi
exec curl -fsS -o /dev/null --max-time 3 "http://127.0.0.1:${PORT:-$(cat /app/default-port)}/health"
HEALTH

LABEL org.opencontainers.image.title="ecg-backend ${PRODUCT}" \
      org.opencontainers.image.description="ECG Backend ${PRODUCT} (Swift, Hummingbird 2)"

# Containers listen on every interface (the development default is 127.0.0.1);
# development keys, if ever generated, go to a directory the user owns.
# (caption-worker reads none of HOST and KEYS_DIR.) An image is for deployments: ECG_ENV is
# production unless the deployment says otherwise (compose's local stack sets development), so a
# missing setting fails closed: no generated keys, no seed user, no development defaults.
ENV HOST=0.0.0.0 \
    KEYS_DIR=/var/lib/ecg/keys \
    LOG_LEVEL=info \
    ECG_ENV=production

WORKDIR /var/lib/ecg
USER 10001:10001
# Ports: auth-service 8081, media-service 8082, analysis-service 8083 (PORT overrides);
# caption-worker listens on none.

HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 CMD ["/app/healthcheck"]

# SIGTERM: the service drains and exits 0 within 10 s (SPEC.md §8); the worker
# stops taking requests and leaves an unfinished one uncommitted for the next.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/service"]

# ---------------------------------------------------------------------------
# Final stages: the runtime with each product's default command. The last
# FROM picks the one named by PRODUCT (a stage name from a build argument).
# ---------------------------------------------------------------------------
FROM runtime AS auth-service
CMD ["serve"]

FROM runtime AS media-service
CMD ["serve"]

FROM runtime AS analysis-service
CMD ["serve"]

# A plain command: `caption-worker` alone is `--analysis recognise`.
FROM runtime AS caption-worker
CMD []

FROM ${PRODUCT}
