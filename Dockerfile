# syntax=docker/dockerfile:1
# The Callpop hub as an OCI image (docs/deploy.md, "The hub in a container"). Build from the checkout:
#   docker build -t callpop-hub:0.1.0 .
# The image holds Node 20 and the `callpop` npm package (scripts/pack-cli.mjs); it runs `callpop hub`
# as the unprivileged user `node` (uid 1000) with its data (agents, webhook secret, PBX-wide call log)
# in the volume /var/lib/callpop (the hub's folder is /var/lib/callpop/Callpop/hub).
# Ports: 8765 webhooks (HTTP, or HTTPS with --tls-cert/--tls-key), 1883 MQTT (mqtts with TLS),
# 8083 MQTT over WebSocket when --broker-ws-port 8083 is given.

FROM node:20.19-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build-cli.mjs && node scripts/pack-cli.mjs

FROM node:20.19-bookworm-slim
COPY --from=build /src/out/npm/callpop-cli-*.tgz /tmp/
RUN npm install --global --no-audit --no-fund /tmp/callpop-cli-*.tgz \
 && rm /tmp/callpop-cli-*.tgz \
 && mkdir -p /var/lib/callpop \
 && chown node:node /var/lib/callpop \
 && chmod 0700 /var/lib/callpop
# The default data folder of `callpop` is $XDG_CONFIG_HOME/Callpop: every `callpop hub …` command in
# the container (agent add, mosquitto-files) finds the hub's folder without --data-dir.
ENV XDG_CONFIG_HOME=/var/lib/callpop
USER node
VOLUME /var/lib/callpop
EXPOSE 8765 1883 8083
# SIGTERM (docker stop): stop accepting, write what was accepted, publish "offline", exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["callpop"]
CMD ["hub", "--port", "8765", "--broker-port", "1883"]
