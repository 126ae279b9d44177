# The image `kubectl redis schedule` runs: the plugin alone, as a non-root
# user, on a distroless base (no shell: the stream method needs none).
#   docker build -t registry.example/kubectl-redis:0.1.0 .
#   kubectl redis schedule --every 1h --image registry.example/kubectl-redis:0.1.0 --pvc backups
FROM rust:1.94-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p kubectl-redis \
 && install -D -m 755 target/release/kubectl-redis /out/kubectl-redis

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/kubectl-redis /usr/local/bin/kubectl-redis
USER nonroot
WORKDIR /backups
ENTRYPOINT ["/usr/local/bin/kubectl-redis"]
