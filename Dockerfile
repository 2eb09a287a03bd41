# Chronicle in a container: one process, embedded NATS, everything in /data.
#
#   podman build -t chronicle .
#   podman run -d -p 8080:8080 -v chronicle-data:/data \
#     -e CHRONICLE_PUBLIC_URL=https://blog.example.org chronicle
#   podman exec -i <container> chronicle user add --email you@example.org --role admin --password-stdin
#
# Base images are build arguments so that local images can stand in where
# no registry is reachable.
ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${GO_IMAGE} AS build
# libvips (through bimg, with cgo) does the image work.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libvips-dev pkg-config gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/chronicle .

FROM ${RUNTIME_IMAGE}
# git serves clones and pushes and repacks; libvips42 is the image library
# the binary links (the same Debian release as the build stage).
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates libvips42 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin chronicle \
 && mkdir -p /data && chown chronicle:chronicle /data
COPY --from=build /out/chronicle /usr/local/bin/chronicle
USER chronicle
VOLUME /data
# The daemon listens on every interface of the container, an address no
# reader can use: links in feeds, canonical links and Git LFS links are
# made from CHRONICLE_PUBLIC_URL. Its default suits `-p 8080:8080` on your
# own machine; set it to the address readers use (https://blog.example.org)
# anywhere else. Until then the daemon warns at start.
ENV CHRONICLE_DATA=/data \
    CHRONICLE_ADDR=0.0.0.0:8080 \
    CHRONICLE_PUBLIC_URL=http://localhost:8080 \
    CHRONICLE_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["chronicle", "probe", "--addr", "127.0.0.1:8080"]
ENTRYPOINT ["chronicle"]
CMD ["serve"]
