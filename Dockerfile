# kkt-exporter container image.
#   docker build -t kkt-exporter .
#   docker run -p 10054:10054 -v $PWD/kkt-exporter.yml:/etc/kkt-exporter/kkt-exporter.yml:ro kkt-exporter
#   docker run -p 10054:10054 kkt-exporter --demo --web.listen-address=0.0.0.0:10054
# The config lives at /etc/kkt-exporter/kkt-exporter.yml; secrets (*_file) can be mounted next to it.

# Build stage: compiles the TypeScript, then drops the development dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: current LTS Node, production dependencies only, non-root.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY examples/docker-config.yml /etc/kkt-exporter/kkt-exporter.yml
USER node
EXPOSE 10054
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["node", "-e", "fetch('http://127.0.0.1:10054/-/healthy').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--expose-gc", "/app/dist/cli.js"]
CMD ["--config.file=/etc/kkt-exporter/kkt-exporter.yml"]
