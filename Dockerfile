# The migrator image for the rehearsal stack in docker-compose.yml.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libclang-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
# pg_dump must be at least the source server's major version: bookworm ships 15.
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/supamigrate /usr/local/bin/supamigrate
COPY mappings /opt/supamigrate/mappings
WORKDIR /work
ENTRYPOINT ["supamigrate"]
CMD ["plan"]
