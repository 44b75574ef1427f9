################################################################################
#
# spanrec
#
################################################################################

# The source is this repository (the BR2_EXTERNAL tree is its buildroot/
# folder): no download, Buildroot rsyncs the working tree.
SPANREC_VERSION = $(shell git -C $(BR2_EXTERNAL_SPANREC_PATH)/.. describe --tags --always --dirty 2>/dev/null || echo local)
SPANREC_COMMIT = $(shell git -C $(BR2_EXTERNAL_SPANREC_PATH)/.. rev-parse --short HEAD 2>/dev/null || echo unknown)
SPANREC_SITE = $(BR2_EXTERNAL_SPANREC_PATH)/..
SPANREC_SITE_METHOD = local
# Build outputs, data and Buildroot output folders are not sources.
SPANREC_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude /bin --exclude /var --exclude /output \
	--exclude '*.test'

# Go module path (go.mod: "module spanrec"); targets are relative to it.
SPANREC_GOMOD = spanrec
# One target: the infrastructure names the binary after it (spanrec) and
# installs it as /usr/bin/spanrec. SPANREC_INSTALL_BINS is deliberately not
# set: it defaults to the same name on older Buildroot releases and is an
# error on newer ones.
SPANREC_BUILD_TARGETS = cmd/spanrec
SPANREC_LDFLAGS = -s -w -X main.version=$(SPANREC_VERSION) -X main.commit=$(SPANREC_COMMIT)
# Pure Go: a static binary whatever the toolchain's thread support (the
# infrastructure otherwise enables cgo when the toolchain has threads).
SPANREC_GO_ENV = CGO_ENABLED=0

# Buildroot builds Go with GOFLAGS=-mod=vendor GOPROXY=off and vendors a
# package's modules at download time; a local package is never downloaded,
# so vendor its modules here (after host-go is built), through the module
# proxy (SPANREC_GOPROXY, default: the environment's GOPROXY or Go's
# default). A vendor/ folder already in the copy is kept as it is.
SPANREC_GOPROXY ?= $(or $(GOPROXY),https://proxy.golang.org$(comma)direct)
define SPANREC_VENDOR_MODULES
	if [ ! -d $(@D)/vendor ]; then \
		cd $(@D) && $(HOST_GO_COMMON_ENV) GOFLAGS="-mod=mod -modcacherw" \
			GOPROXY="$(SPANREC_GOPROXY)" $(GO_BIN) mod vendor; \
	fi
endef
SPANREC_PRE_CONFIGURE_HOOKS += SPANREC_VENDOR_MODULES

$(eval $(golang-package))
