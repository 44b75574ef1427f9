# spanrec — developer entry points. `make demo` and `make test` are the two
# set-up commands of the README.
GO       ?= go
DATA     ?= var
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BUILD    := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)'
FUZZTIME ?= 10s

.PHONY: all build demo test test-short vet fmt-check screenshots fuzz bench cross amd64 arm arm64 clean

all: build

build:
	$(BUILD) -o bin/spanrec ./cmd/spanrec

# Record the sample capture (a real sipp call) into ./var and show the result.
demo: build
	./bin/spanrec import --data $(DATA) testdata/sample_call.pcap
	./bin/spanrec list --data $(DATA)
	./bin/spanrec verify --data $(DATA) --all

# -timeout 30m: the daemon's end-to-end suite takes about 10 minutes while
# another job keeps both cores busy (go test's default is 10). The browser
# test runs after the rest, alone: Chromium abandons page loads when the
# host's interfaces change, which the lab tests beside it do.
test: vet fmt-check
	SPANREC_BROWSER=after $(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -run '^TestBrowser$$' ./firmware/web/

# The web UI's pages as the browser test sees them, into docs/screenshots.
screenshots:
	SPANREC_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run '^TestBrowser$$' ./firmware/web/

test-short:
	$(GO) test -short ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Run every fuzz target briefly (FUZZTIME each).
fuzz:
	scripts/fuzz-all.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./media/... ./firmware/...

cross: amd64 arm arm64

amd64:
	GOOS=linux GOARCH=amd64 $(BUILD) -o bin/spanrec-linux-amd64 ./cmd/spanrec

arm:
	GOOS=linux GOARCH=arm GOARM=7 $(BUILD) -o bin/spanrec-linux-armv7 ./cmd/spanrec

arm64:
	GOOS=linux GOARCH=arm64 $(BUILD) -o bin/spanrec-linux-arm64 ./cmd/spanrec

clean:
	rm -rf bin

# --- Firmware: ARM tests, Buildroot tree, qemu boot, SD card images ----------
.PHONY: test-arm check-buildroot qemu test-boot image

# go test of ./media/... and ./firmware/... for linux/arm (GOARM=7) and
# linux/arm64 under qemu-user (installs qemu-user-static when missing).
test-arm:
	scripts/test-arm.sh

# Static checks of buildroot/ and board/ (offline, seconds).
check-buildroot:
	scripts/check-buildroot.sh

# Boot the arm64 root file system under qemu-system-aarch64, serial console
# on this terminal (installs qemu and cpio, fetches Debian's arm64 kernel and
# busybox into ~/.cache/spanrec/qemu the first time).
qemu:
	scripts/qemu-boot.sh

# Boot it and check `spanrec status` over the emulated UART (firmware/boottest).
test-boot:
	scripts/qemu-boot.sh --prepare
	SPANREC_BOOT_TEST=1 $(GO) test -count=1 -v ./firmware/boottest

# SD card image of a board with Buildroot (needs a Buildroot source tree and
# its source downloads): make image BOARD=nanopi-r2s|beaglebone-black BUILDROOT=DIR
BOARD     ?= nanopi-r2s
BUILDROOT ?=
IMAGE_OUT ?= output/$(BOARD)
image:
	@test -n "$(BUILDROOT)" && test -f "$(BUILDROOT)/Makefile" || \
		{ echo "make image: set BUILDROOT=/path/to/buildroot (a Buildroot source tree)"; exit 2; }
	@test -f buildroot/configs/spanrec_$(subst -,_,$(BOARD))_defconfig || \
		{ echo "make image: unknown BOARD=$(BOARD) (nanopi-r2s or beaglebone-black)"; exit 2; }
	$(MAKE) -C "$(BUILDROOT)" O="$(CURDIR)/$(IMAGE_OUT)" BR2_EXTERNAL="$(CURDIR)/buildroot" spanrec_$(subst -,_,$(BOARD))_defconfig
	$(MAKE) -C "$(BUILDROOT)" O="$(CURDIR)/$(IMAGE_OUT)"
	@echo "SD card image: $(IMAGE_OUT)/images/sdcard.img"
