# Signoff: a static binary in a small, non-root image. Needs DATABASE_URL
# (the private-cluster mode is for machines with PostgreSQL installed).
#   docker build -t signoff .
#   docker run -e DATABASE_URL=postgres://... -e SIGNOFF_SESSION_KEY=... -p 8080:8080 signoff

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# fpdf is our local copy (go.mod's replace): it must be there before the download.
COPY third_party ./third_party
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/signoff ./cmd/signoff

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/signoff /signoff
USER nonroot:nonroot
ENV SIGNOFF_ADDR=:8080 SIGNOFF_DATA=/tmp/signoff
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["/signoff", "health"]
ENTRYPOINT ["/signoff"]
CMD ["serve"]
