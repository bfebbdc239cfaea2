# ctrmig: make | make check | make asan | make install | make deps | make demo | make test
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
PKGS = libarchive jansson libcrypto
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -pthread -Wall -Wextra -D_GNU_SOURCE -Iinclude $(shell pkg-config --cflags $(PKGS))
override LDLIBS += $(shell pkg-config --libs $(PKGS)) -pthread

SRCS = $(wildcard src/*.c)
LIB_OBJS = $(patsubst src/%.c,build/%.o,$(filter-out src/main.c,$(SRCS)))
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(patsubst tests/unit/%.c,build/tests/%,$(UNIT_SRCS))
MAN_PAGES = $(wildcard man/*.1 man/*.5)

all: ctrmig

ctrmig: build/main.o $(LIB_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/%.o: src/%.c $(wildcard include/*.h) | build
	$(CC) $(CFLAGS) -c -o $@ $<

build/tests/%: tests/unit/%.c tests/unit/tap.h $(LIB_OBJS) | build
	@mkdir -p build/tests
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

build:
	@mkdir -p build

unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do echo "# $$t"; $$t || exit 1; done

# End-to-end tests need root, runc, CRIU and overlayfs; with CI=true or
# CTRMIG_STRICT=1 a test that would skip fails instead.
e2e: ctrmig
	bats tests/e2e

# Every test, ending with one line: "check: N passed, N failed, N skipped".
check: ctrmig $(UNIT_BINS)
	tests/run.sh

# The unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	$(MAKE) clean-build
	$(MAKE) unit CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined"
	$(MAKE) clean-build

deps:
	scripts/install-deps.sh

# The README's two commands.
demo: deps all
	scripts/demo.sh

test: deps all
	$(MAKE) check

install: ctrmig
	install -D -m 0755 ctrmig $(DESTDIR)$(BINDIR)/ctrmig
	for m in $(MAN_PAGES); do \
		sec=$${m##*.}; install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$sec/$$(basename $$m); \
	done

clean-build:
	rm -rf build

clean: clean-build
	rm -f ctrmig

.PHONY: all unit e2e check asan deps demo test install clean clean-build
