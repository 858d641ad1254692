# Hotline: a newcomer starts with `make demo`, then `make run` and `make test`.
GO        ?= go
BIN       := bin/hotline
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# Extra flags for `make run`, e.g. make run RUN_FLAGS="--http 127.0.0.1:9090".
RUN_FLAGS ?=
# Extra flags for `make demo`, e.g. make demo DEMO_FLAGS="--duration 5m --agents 40 --rate 1".
DEMO_FLAGS ?=
STATICCHECK := bin/staticcheck

.PHONY: build demo run test check-fmt vet tidy-check lint bench clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/hotline

# A demo call center on a temporary embedded store (no database server, no
# switch), driven for two minutes by `hotline sim` with a live view; it ends
# with the reconciliation verdict (non-zero exit on a mismatch) and stops the
# daemon.
demo: build
	./$(BIN) demo $(DEMO_FLAGS)

# The embedded default: SQLite in ./data, the native media core, a demo call center.
run: build
	./$(BIN) serve --demo --data ./data $(RUN_FLAGS)

test: check-fmt vet tidy-check
	$(GO) test -race -shuffle=on -timeout 12m ./...

check-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

tidy-check:
	$(GO) mod tidy -diff

$(STATICCHECK):
	GOBIN=$(CURDIR)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.6.1

lint: check-fmt vet $(STATICCHECK)
	$(STATICCHECK) ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
