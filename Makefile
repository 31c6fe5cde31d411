# Gatehouse: `make run` starts a server on the embedded SQLite store;
# `make test` runs the whole suite (PostgreSQL too when
# GATEHOUSE_TEST_DATABASE_URL names a server).

GO          ?= go
BIN         := bin/gatehouse
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
ARGS        ?=

.PHONY: run test bench load lint build clean

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

# `make load` starts a server on SQLite and one on a throwaway PostgreSQL
# database (created on GATEHOUSE_LOAD_DATABASE_URL's server, dropped after),
# drives each with every scenario of `gatehouse load`, and writes
# docs/benchmarks.md. LOAD_ARGS adds or overrides flags.
GATEHOUSE_LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
LOAD_ARGS ?=

load: build
	./$(BIN) load --start sqlite,postgres --load-database-url '$(GATEHOUSE_LOAD_DATABASE_URL)' \
		--scenario scim-sync,scim-churn,check,saml-acs,exchange --dialect entra,okta \
		--users 10000 --groups 1000 --memberships 100000 --member-batch 10 --large-group 50000 \
		--concurrency 8 --duration 6s --check-rate 20000 \
		--json bin/load.json --report docs/benchmarks.md $(LOAD_ARGS)

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin
