# kkt-exporter container image.
#   docker build -t kkt-exporter .
#   docker run -p 10054:10054 -v $PWD/kkt-exporter.yml:/etc/kkt-exporter/kkt-exporter.yml:ro kkt-exporter
#   docker run -p 10054:10054 kkt-exporter --demo --web.listen-address=0.0.0.0:10054
#   docker run -p 9443:9443 -v $PWD/tls:/etc/kkt-exporter/tls:ro kkt-exporter \
#     --config.file=/etc/kkt-exporter/kkt-exporter.yml --web.listen-address=:9443 --web.config.file=/etc/kkt-exporter/tls/web.yml
# The config lives at /etc/kkt-exporter/kkt-exporter.yml; secrets (*_file) can be mounted next to it.
# Node: an exact release, the one in .node-version (CI runs the whole test suite on it; test/deploy.test.ts
# checks that both FROM lines match that file). Bump both together.

# Build stage: compiles the TypeScript, then drops the development dependencies.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: current LTS Node, production dependencies only, non-root.
FROM node:24.22.3-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY examples/docker-config.yml /etc/kkt-exporter/kkt-exporter.yml
# The alert thresholds the landing page judges registers by (--alerts.thresholds-file defaults to it).
COPY examples/alerts/thresholds.yml ./examples/alerts/thresholds.yml
# The rule generator of `kkt-exporter rules`.
COPY scripts/gen-alerts.mjs scripts/gen-dashboard.mjs ./scripts/
USER node
EXPOSE 10054
# The health check GETs /-/healthy. Docker runs it without the CMD arguments, so it reads the exporter's
# --web.listen-address and --web.config.file from the running exporter (/proc/1/cmdline): another port,
# TLS (https to loopback, certificate not verified) and basic auth work without repeating flags. With basic
# auth, list /-/healthy in the web config's unauthenticated_paths; otherwise the check passes on the 401
# and says so in `docker inspect`. Exit 0 healthy, 1 with one line why. Outside Docker (a Kubernetes exec
# probe, say) the same command works, or pass it the flags: node /app/dist/healthcheck.js --help.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["node", "/app/dist/healthcheck.js"]
ENTRYPOINT ["node", "--expose-gc", "/app/dist/cli.js"]
CMD ["--config.file=/etc/kkt-exporter/kkt-exporter.yml"]
