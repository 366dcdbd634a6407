# Gatehouse image: `gatehouse` as the entrypoint, run as a non-root user, with a read-only root filesystem
# (the only writable places are the volumes the Deployments in deploy/ mount: /var/lib/gatehouse and /tmp).
# The build stage runs the README's build steps; the runtime stage holds dist/ and production dependencies only.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
# git and ssh: the controller fetches sources with them; gpg: it verifies OpenPGP signatures (spec.verify);
# openssl: certificates made when none is given.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git openssh-client gpg openssl ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/gatehouse
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY examples ./examples
COPY deploy ./deploy
RUN ln -s /opt/gatehouse/bin/gatehouse.js /usr/local/bin/gatehouse \
  && mkdir -p /var/lib/gatehouse && chown 65532:65532 /var/lib/gatehouse
# Git and the CLI write only under HOME and the data directory: both are volumes in deploy/.
ENV HOME=/tmp
USER 65532:65532
WORKDIR /var/lib/gatehouse
EXPOSE 6443 8080 8081 9292
ENTRYPOINT ["gatehouse"]
CMD ["--help"]
