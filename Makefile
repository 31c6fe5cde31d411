# Gatehouse: `make run` starts a server on the embedded SQLite store;
# `make test` runs the whole suite (PostgreSQL too when
# GATEHOUSE_TEST_DATABASE_URL names a server).

GO          ?= go
# go1.26.10 carries the standard library's security fixes that
# `make lint`'s govulncheck asks for; the go command fetches it from the
# module proxy once (about 80 MB). GOTOOLCHAIN=local uses the Go at hand.
GOTOOLCHAIN ?= go1.26.10
export GOTOOLCHAIN
BIN         := bin/gatehouse
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
ARGS        ?=

.PHONY: run test fuzz bench load lint build clean go-version

build:
	$(GO) build -o $(BIN) ./cmd/gatehouse

run: build
	./$(BIN) serve $(ARGS)

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(MAKE) fuzz
	@if [ -z "$$GATEHOUSE_TEST_DATABASE_URL" ]; then \
		echo; \
		echo "NOTE: the PostgreSQL half of the suite was SKIPPED."; \
		echo "      Set GATEHOUSE_TEST_DATABASE_URL=postgres://USER@HOST:5432/postgres?sslmode=disable to run it."; \
	fi

# `make fuzz` runs every fuzz target (the seed corpora in testdata/fuzz
# first); -fuzz takes one target per package, hence a line each.
# fuzz_targets_test.go fails when a Fuzz function is missing here.
# The default budget is a count of inputs per target, sized to a few
# seconds each on two cores: a duration budget (-fuzztime 5s) can fail
# with a bare "context deadline exceeded" and no crasher on a loaded
# machine, a race in the Go 1.26 fuzzing coordinator (golang/go#75804,
# fixed in Go 1.27); a count has no deadline to race. FUZZTIME overrides
# every line: `make fuzz FUZZTIME=2000000x` for a long run.
FUZZTIME ?=

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseScope$$' -fuzztime $(or $(FUZZTIME),100000x) ./authz/
	$(GO) test -run '^$$' -fuzz '^FuzzQueryMembers$$' -fuzztime $(or $(FUZZTIME),3000x) ./directory/
	$(GO) test -run '^$$' -fuzz '^FuzzMatch$$' -fuzztime $(or $(FUZZTIME),20000x) ./oidc/
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(or $(FUZZTIME),30000x) ./oidc/
	$(GO) test -run '^$$' -fuzz '^FuzzUnverifiedIssuer$$' -fuzztime $(or $(FUZZTIME),30000x) ./oidc/
	$(GO) test -run '^$$' -fuzz '^FuzzNormalizeBody$$' -fuzztime $(or $(FUZZTIME),10000x) ./scim/
	$(GO) test -run '^$$' -fuzz '^FuzzFilter$$' -fuzztime $(or $(FUZZTIME),5000x) ./scim/
	$(GO) test -run '^$$' -fuzz '^FuzzPatch$$' -fuzztime $(or $(FUZZTIME),8000x) ./scim/
	$(GO) test -run '^$$' -fuzz '^FuzzACS$$' -fuzztime $(or $(FUZZTIME),2000x) ./saml/
	$(GO) test -run '^$$' -fuzz '^FuzzParseIdPMetadata$$' -fuzztime $(or $(FUZZTIME),8000x) ./saml/
	$(GO) test -run '^$$' -fuzz '^FuzzCEFEscaping$$' -fuzztime $(or $(FUZZTIME),20000x) ./api/

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
	GO=$(GO) .ci/vulncheck

# go-version prints the Go that make's targets run (CI logs it).
go-version:
	@$(GO) version

clean:
	rm -rf bin
