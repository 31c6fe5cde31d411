# Gatehouse: `make run` starts a server on the embedded SQLite store;
# `make test` runs the whole suite (PostgreSQL too when
# GATEHOUSE_TEST_DATABASE_URL names a server).

GO          ?= go
BIN         := bin/gatehouse
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
ARGS        ?=

.PHONY: run test bench lint build clean

build:
	$(GO) build -o $(BIN) ./cmd/gatehouse

run: build
	./$(BIN) serve $(ARGS)

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	@if [ -z "$$GATEHOUSE_TEST_DATABASE_URL" ]; then \
		echo; \
		echo "NOTE: the PostgreSQL half of the suite was SKIPPED."; \
		echo "      Set GATEHOUSE_TEST_DATABASE_URL=postgres://USER@HOST:5432/postgres?sslmode=disable to run it."; \
	fi

# One iteration of each benchmark is a whole run (BenchmarkLoad builds a
# 10,000-member directory per dialect); compare runs with benchstat.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./...

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin
