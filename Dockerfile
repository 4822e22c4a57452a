# arzti-fastpath: the proxy in front of a real legacy (set LEGACY_URL). docs/deployment.md#container-image
FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    FASTPATH_ENV=production
WORKDIR /app

COPY package.json package-lock.json ./
# --omit=dev: no tap, TypeScript or the npm `node` package (the image has its own Node 24).
# --ignore-scripts: `prepare` runs `tap build`, a dev tool; nothing the proxy runs needs an install script.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY . .

# The official image's unprivileged user (uid 1000).
USER node
EXPOSE 8080 9091

# Liveness on the admin listener (open without a token, on loopback inside the container).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9091/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# The command `npm start` runs (package.json), as PID 1 so SIGTERM reaches the proxy and it drains.
CMD ["node", "proxy/main.ts"]
