# syntax=docker/dockerfile:1
# The reko-promote container image: the release binary on Debian slim, run as a non-root user,
# with the CA certificates the AWS endpoints' TLS needs. Debian slim rather than distroless:
# CI systems that run job scripts inside the image (GitLab's `image:`) need a shell.
#
#   docker build -t reko-promote .
#   docker run --rm -v "$PWD:/work" -e AWS_REGION -e AWS_PROFILE -v "$HOME/.aws:/home/reko/.aws:ro" \
#     reko-promote plan manifests
#
# Published for amd64 and arm64 as ghcr.io/reko-promote/reko-promote by the release workflow.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=trixie

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS builder
WORKDIR /build
# The whole crate (.dockerignore leaves out target/ and .git): Cargo.toml names the benches, so
# they must be present to build.
COPY . .
# aws-lc-sys needs only the C compiler the rust image has (x86_64 and aarch64 Linux). Symbols
# stripped: 28 MB -> 21 MB.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/build/target \
    cargo build --release --locked --bin reko-promote \
    && install -m 0755 target/release/reko-promote /usr/local/bin/reko-promote

FROM debian:${DEBIAN_RELEASE}-slim
# The distribution's current ca-certificates, curl and jq (the GitLab recipe's MR note step uses
# them: jobs run their shell in this image): pinning versions would break the build at the next
# Debian security update.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl jq \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /home/reko reko
COPY --from=builder /usr/local/bin/reko-promote /usr/local/bin/reko-promote
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["reko-promote"]
CMD ["--help"]
