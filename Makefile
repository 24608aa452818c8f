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

FUZZTIME ?= 60s
fuzz:
	go test ./isa -run '^$$' -fuzz FuzzDecodeValidate -fuzztime $(FUZZTIME)
	go test ./isa -run '^$$' -fuzz FuzzAssemble -fuzztime $(FUZZTIME)
	go test ./vm/interp -run '^$$' -fuzz FuzzChecked -fuzztime $(FUZZTIME)
