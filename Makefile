# Signoff. `make run` serves the demo; `make test` is what CI runs.
GO      ?= go
BIN     := bin/signoff
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run build test fuzz lint generate check-generated deps test-deps bench clean

## run: build and serve the demo school at http://localhost:8080
run: deps build
	./$(BIN) serve --demo

## build: the one static binary, bin/signoff
build:
	@[ -x $(BIN) ] || echo "Building Signoff (the first build downloads Go modules: a few minutes)..."
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/signoff

## test: formatting, vet, generated files, then every test against real PostgreSQL
test: deps test-deps lint
	@echo "Running every test against a throwaway PostgreSQL (a few minutes)..."
	$(GO) run ./internal/database/dbtest/withdb $(GO) test -race -count=1 -timeout 30m ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s

# The fuzz targets (package:FuzzName), each run on its own with its seed
# corpus and what it finds in testdata/fuzz.
FUZZ := ./internal/mis:FuzzReadTable ./internal/docimport:FuzzToMarkdown ./internal/policies:FuzzRenderHTML \
	./internal/pdf:FuzzSignedCopyMarkdown ./internal/web:FuzzReadInput
FUZZTIME ?= 60s

## fuzz: run every fuzz target for FUZZTIME each (60s; make test runs them for 3s)
fuzz:
	@for t in $(FUZZ); do pkg=$${t%%:*}; name=$${t##*:}; echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; done

## lint: file sizes, gofmt, go vet and the generated-files check
lint: check-generated
	@scripts/check-sizes.sh
	@out="$$(gofmt -l cmd internal templates web migrations)"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## generate: regenerate the templ files (commit the *_templ.go output)
generate:
	$(GO) tool templ generate

## check-generated: fail when a committed *_templ.go file differs from what its .templ makes, or has no .templ
check-generated:
	@templ=$$($(GO) tool -n templ) && tmp=$$(mktemp -d) && cp go.mod "$$tmp/" && \
	find templates -name '*.templ' -exec cp --parents {} "$$tmp/" \; && (cd "$$tmp" && "$$templ" generate >/dev/null 2>&1) && \
	for f in $$(cd "$$tmp" && find templates -name '*_templ.go'); do \
		if ! cmp -s "$$tmp/$$f" "$$f"; then \
			echo "$$f is stale: run 'make generate' and commit the result."; rm -rf "$$tmp"; exit 1; fi; \
	done; rm -rf "$$tmp"; \
	for f in $$(find templates -name '*_templ.go'); do \
		if [ ! -f "$${f%_templ.go}.templ" ]; then echo "$$f has no .templ: remove it."; exit 1; fi; \
	done

## deps: make sure the PostgreSQL server binaries are here
deps:
	@scripts/deps.sh go
	@scripts/deps.sh postgres

## test-deps: the tools the tests use (pdftotext, qpdf, chromium, caddy; Mailpit built from go.mod's tool line;
## ORY Hydra, the tests' OpenID provider, built from its own module in internal/sso/oidctest/provider)
test-deps:
	@scripts/deps.sh test
	@echo "Building Mailpit for the mail tests (the first time takes about two minutes)..."
	@$(GO) tool -n mailpit >/dev/null
	@echo "Building ORY Hydra for the single sign-on tests (the first time takes a few minutes)..."
	@$(GO) run ./internal/sso/oidctest/build

## bench: the trust-scale benchmark against real PostgreSQL (about 7 minutes on two quiet cores); writes BENCHMARKS.md
bench: deps
	$(GO) run ./internal/tracking/bench -out BENCHMARKS.md

clean:
	rm -rf bin
