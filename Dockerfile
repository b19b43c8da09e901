# syntax=docker/dockerfile:1
# Static spnaudit binary on distroless, as a non-root user.
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#                --build-arg REVISION=$(git rev-parse HEAD) -t spnaudit .
#   docker run -v ./config.yml:/etc/spnaudit/config.yml:ro \
#              -v ./spnaudit.keytab:/etc/spnaudit/keytab/spnaudit.keytab:ro \
#              -v spnaudit-state:/var/lib/spnaudit -p 9688:9688 spnaudit

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so source edits do not invalidate the download layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
# CGO_ENABLED=0: a static binary (pure-Go DNS resolver and user lookup), which
# distroless/static can run.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION}" \
      -o /out/spnaudit ./cmd/spnaudit
# The state directory (history across restarts), empty and owned by nonroot.
RUN mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/spnaudit /usr/local/bin/spnaudit
COPY --from=build --chown=65532:65532 --chmod=0700 /out/state /var/lib/spnaudit
# state.dir: mount a volume there to keep first_seen and the change journal
# when the container is replaced.
ENV SPNAUDIT_STATE_DIR=/var/lib/spnaudit
VOLUME /var/lib/spnaudit
# 65532:65532, the nonroot user of distroless.
USER nonroot:nonroot
EXPOSE 9688
ENTRYPOINT ["/usr/local/bin/spnaudit"]
CMD ["serve", "--config", "/etc/spnaudit/config.yml"]
