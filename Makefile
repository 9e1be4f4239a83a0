# seqbridge: `make run` serves on the embedded SQLite default, `make test` runs every test.
SWIFT ?= swift
DATABASE ?= ./seqbridge.sqlite
PORT ?= 8080
APT_PACKAGES = libsqlite3-dev libxml2-dev sqlite3 openssl

.PHONY: fuzz all deps build run test bench fmt lint clean

all: build

# Installs the system libraries the build links against, when they are missing and apt can.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Please install:$$missing"; exit 1; fi; \
	fi

build: deps
	$(SWIFT) build

# The service on the embedded default database, with the scheduler running.
run: build
	$(SWIFT) run seqbridge serve --database $(DATABASE) --port $(PORT)

# The test peers from PyPI: an SMTP server (aiosmtpd), in a virtual environment of its own.
TEST_VENV = .venv-test
$(TEST_VENV)/.ready:
	python3 -m venv $(TEST_VENV) || { rm -rf $(TEST_VENV); python3 -m pip install -q --user virtualenv && python3 -m virtualenv -q $(TEST_VENV); }
	$(TEST_VENV)/bin/pip install -q aiosmtpd==1.4.6
	touch $@

# Unit, store, HTTP and end-to-end tests (the end-to-end ones drive the built binary
# and a real SMTP server on loopback).
test: deps $(TEST_VENV)/.ready
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Benchmarks in release mode; each prints its figures and the ratio to a baseline run beside it.
bench: deps
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || true
	@[ -x /usr/sbin/smtp-sink ] || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null; } || true
	$(SWIFT) build -c release --product seqbridge
	$(SWIFT) build -c release --product seqbridge-bench
	.build/release/seqbridge-bench --seqbridge .build/release/seqbridge

# Fuzzing with libFuzzer: the MIME reader with the classifier, and the XML report
# parser. FUZZ_SECONDS bounds each target's run; crashes land in .build-fuzz/.
FUZZ_SECONDS ?= 120
FUZZ_MODULES = SeqbridgeCore SeqbridgeStore SeqbridgeMIME SeqbridgeInbound
FUZZ_OBJECTS = $(foreach module,$(FUZZ_MODULES),.build-fuzz/release/$(module).build/*.o)
FUZZ_FLAGS = -sanitize=fuzzer,address -parse-as-library -O -I .build-fuzz/release/Modules -I Sources/CLibXML2 \
	-Xcc -I/usr/include/libxml2 -lxml2

fuzz: deps
	$(SWIFT) build --scratch-path .build-fuzz -c release --target SeqbridgeInbound -Xswiftc -sanitize=fuzzer,address
	swiftc $(FUZZ_FLAGS) Tests/Fuzz/FuzzMIME.swift $(FUZZ_OBJECTS) -o .build-fuzz/fuzz-mime
	swiftc $(FUZZ_FLAGS) Tests/Fuzz/FuzzXML.swift $(FUZZ_OBJECTS) -o .build-fuzz/fuzz-xml
	mkdir -p .build-fuzz/corpus-mime .build-fuzz/corpus-xml
	.build-fuzz/fuzz-mime -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=5 -rss_limit_mb=2048 \
		-artifact_prefix=.build-fuzz/mime- .build-fuzz/corpus-mime Tests/Fixtures/fuzz/mime \
		$(wildcard Tests/Fixtures/email/*/)
	.build-fuzz/fuzz-xml -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=5 -rss_limit_mb=2048 \
		-artifact_prefix=.build-fuzz/xml- .build-fuzz/corpus-xml Tests/Fixtures/fuzz/xml Tests/Fixtures/dsn-xml

fmt:
	$(SWIFT) format --in-place --recursive --parallel Sources Tests Package.swift

lint:
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests Package.swift

clean:
	rm -rf .build
