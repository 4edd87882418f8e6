# syntax=docker/dockerfile:1
# One build, one image per service: `docker build --target <service> -t mais-<service> .`
# Targets: gateway, locator, matching (DfE); la-router, csc, education (an LA). Each runs as the
# unprivileged `node` user (uid 1000) and writes nothing but /tmp, so it runs with a read-only root
# filesystem (mount an emptyDir at /tmp; deploy/kubernetes does).

# ---- build: dependencies, generated clients and resolver types, the portal; then production modules only
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
ENV CI=true NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY codegen.ts tsconfig.json ./
COPY schema ./schema
COPY lib ./lib
COPY subgraphs ./subgraphs
COPY la-router ./la-router
COPY gateway ./gateway
COPY portal ./portal
COPY cli ./cli
COPY sandbox ./sandbox
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: the application as root-owned, read-only files; nothing to write but /tmp
FROM node:20.20.2-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production TSX_DISABLE_CACHE=1
COPY --from=build /app /app
USER node
# Stopping is SIGTERM: each service finishes the requests in flight first.
STOPSIGNAL SIGTERM

# ---- DfE
FROM runtime AS gateway
EXPOSE 4000
ENTRYPOINT ["node", "--import", "tsx", "gateway/main.ts", "--host", "0.0.0.0"]

FROM runtime AS locator
EXPOSE 4002
ENTRYPOINT ["node", "--import", "tsx", "subgraphs/locator/main.ts", "--host", "0.0.0.0"]

FROM runtime AS matching
EXPOSE 4001
ENTRYPOINT ["node", "--import", "tsx", "subgraphs/matching/main.ts", "--host", "0.0.0.0"]

# ---- an LA
FROM runtime AS la-router
EXPOSE 4100
ENTRYPOINT ["node", "--max-old-space-size=256", "--import", "tsx", "la-router/main.ts", "--host", "0.0.0.0"]

FROM runtime AS csc
EXPOSE 4101
ENTRYPOINT ["node", "--import", "tsx", "subgraphs/csc/main.ts", "--host", "0.0.0.0"]

FROM runtime AS education
EXPOSE 4102
ENTRYPOINT ["node", "--import", "tsx", "subgraphs/education/main.ts", "--host", "0.0.0.0"]

# ---- migrations (a Job before each release): `mais db migrate --database-url ... --kind central|local`
FROM runtime AS migrate
ENTRYPOINT ["node", "--import", "tsx", "cli/main.ts", "db", "migrate"]
