# Developer shortcuts; scripts/ holds the real commands.
.PHONY: build test test-short example bench fuzz plugin

build:
	go build ./...

test:
	scripts/test.sh

test-short:
	scripts/test.sh -short

example:
	scripts/example.sh

plugin:
	go build -o bin/conformance-plugin ./cmd/conformance-plugin

# Interpreter speed: ns per executed instruction (see README, "Speed").
bench:
	go test ./vm/interp -run '^$$' -bench . -count 6

# Every fuzz target (scripts/fuzz.sh finds them), FUZZTIME each. The long run,
# 10 minutes per target: make fuzz FUZZTIME=10m
FUZZTIME ?= 60s
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh
