# shellcheck shell=bash
# ThreadSanitizer-instrumented CAF for the WALLET_SANITIZE=thread build (sourced by scripts/tsan).
#
# Debian's libcaf_core.so is not built with -fsanitize=thread, so the mailbox and scheduler
# synchronization inside it is invisible to TSan and every message hand-off between actors is
# reported as a race. This builds the very source Debian's package was built from (actor-framework
# 0.17.6: the orig tarball of the installed source package 0.17.6-2.1, checked against the sha256
# in Debian's .dsc) with -fsanitize=thread into $WALLET_CACHE/caf-0.17.6-tsan, once: a second call
# sees the stamp and returns at once. Only libcaf_core is built (the services use nothing else).
# Build options mirror Debian's (C++11, CAF_LOG_LEVEL QUIET, no runtime checks), so the
# headers installed there are those of /usr/include/caf: tsan_caf_build checks that they match.
#
# Requires stack.sh (WALLET_CACHE, say, die). Needs curl, cmake, ninja, g++.

TSAN_CAF_VERSION=0.17.6
TSAN_CAF_DEBIAN_VERSION=0.17.6-2.1
TSAN_CAF_TARBALL=actor-framework_${TSAN_CAF_VERSION}.orig.tar.gz
TSAN_CAF_SHA256=e2bf5bd243f08bb7d8adde197cfe3e6d71314ed3378fe0692f8932f4c3b3928c
TSAN_CAF_URL=${TSAN_CAF_URL:-http://deb.debian.org/debian/pool/main/a/actor-framework/$TSAN_CAF_TARBALL}
TSAN_CAF_PREFIX=${TSAN_CAF_PREFIX:-$WALLET_CACHE/caf-$TSAN_CAF_VERSION-tsan}
# Changing the flags changes the stamp, so the next call rebuilds. -O1 -g1 (Debian: -O2 -g) to halve
# the compile time on a shared 2-core machine: reports still name CAF's file:line (with -g1 an
# inlined CAF function is shown under its caller's name); optimization does not change the ABI.
TSAN_CAF_FLAGS="-g1 -O1 -fsanitize=thread -fno-omit-frame-pointer"
TSAN_CAF_STAMP_TEXT="actor-framework $TSAN_CAF_DEBIAN_VERSION sha256 $TSAN_CAF_SHA256 flags $TSAN_CAF_FLAGS core-only"

tsan_caf_ready() {
  [[ -f $TSAN_CAF_PREFIX/.stamp && $(cat "$TSAN_CAF_PREFIX/.stamp") == "$TSAN_CAF_STAMP_TEXT" &&
    -e $TSAN_CAF_PREFIX/lib/libcaf_core.so ]]
}

tsan_caf_build() {
  if tsan_caf_ready; then
    say "TSan CAF: $TSAN_CAF_PREFIX (already built)"
    return 0
  fi
  local installed
  installed=$(dpkg-query -W -f '${source:Version}' libcaf-dev 2>/dev/null || true)
  [[ -z $installed || $installed == "$TSAN_CAF_DEBIAN_VERSION" ]] ||
    die "libcaf-dev is $installed, this script builds $TSAN_CAF_DEBIAN_VERSION: update scripts/lib/tsan_caf.sh"
  local src_cache=$WALLET_CACHE/src tarball
  tarball=$src_cache/$TSAN_CAF_TARBALL
  mkdir -p "$src_cache"
  if ! echo "$TSAN_CAF_SHA256  $tarball" | sha256sum -c --status 2>/dev/null; then
    say "TSan CAF: downloading $TSAN_CAF_URL"
    curl -fsSL --retry 3 -o "$tarball.part" "$TSAN_CAF_URL" || die "cannot download $TSAN_CAF_URL"
    echo "$TSAN_CAF_SHA256  $tarball.part" | sha256sum -c --status ||
      die "$TSAN_CAF_TARBALL: sha256 differs from Debian's .dsc ($TSAN_CAF_SHA256)"
    mv "$tarball.part" "$tarball"
  fi
  # A fixed folder (not mktemp): ccache then serves a rebuild, whose paths are the same.
  local work=$WALLET_CACHE/.caf-tsan-build
  rm -rf "$work"
  mkdir -p "$work"
  tar -xzf "$tarball" -C "$work"
  local src=$work/actor-framework-$TSAN_CAF_VERSION
  say "TSan CAF: building libcaf_core $TSAN_CAF_VERSION with -fsanitize=thread (10-60 min, depending on the load)"
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # CMAKE_BUILD_TYPE=None and CMAKE_CXX_FLAGS without -std: CAF's CMakeLists then adds -std=c++11,
  # as in Debian's build (debhelper passes its CXXFLAGS the same way).
  cmake -S "$src" -B "$work/build" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_CXX_FLAGS="$TSAN_CAF_FLAGS" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
    -DCMAKE_INSTALL_PREFIX="$TSAN_CAF_PREFIX" -DCMAKE_INSTALL_LIBDIR=lib -DCAF_LOG_LEVEL=QUIET \
    -DCAF_NO_IO=yes -DCAF_NO_OPENSSL=yes -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_TOOLS=yes \
    -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_SUMMARY=yes -DCAF_NO_BENCHMARKS=yes \
    >"$work/configure.log" 2>&1 || { tail -n 30 "$work/configure.log" >&2; die "TSan CAF: configure failed"; }
  cmake --build "$work/build" -j "${WALLET_TSAN_JOBS:-2}" >"$work/build.log" 2>&1 ||
    { tail -n 40 "$work/build.log" >&2; die "TSan CAF: build failed (log: $work/build.log)"; }
  rm -rf "$TSAN_CAF_PREFIX"
  cmake --install "$work/build" >"$work/install.log" 2>&1 ||
    { tail -n 30 "$work/install.log" >&2; die "TSan CAF: install failed"; }
  # The headers must be Debian's (same version, same build_config.hpp), or the services would be
  # compiled against one CAF and linked against another. Debian also has libcaf_io's and
  # libcaf_openssl's headers, which this build leaves out: only those may be missing here.
  if [[ -d /usr/include/caf ]]; then
    diff -r -q /usr/include/caf "$TSAN_CAF_PREFIX/include/caf" >"$work/headers.diff"
    if grep -v '^Only in /usr/include/caf' "$work/headers.diff" >&2; then
      die "TSan CAF: installed headers differ from /usr/include/caf (see above)"
    fi
  fi
  nm -D "$TSAN_CAF_PREFIX/lib/libcaf_core.so" | grep -q ' U __tsan_func_entry' ||
    die "TSan CAF: libcaf_core.so is not instrumented"
  echo "$TSAN_CAF_STAMP_TEXT" >"$TSAN_CAF_PREFIX/.stamp"
  rm -rf "$work"
  say "TSan CAF: installed in $TSAN_CAF_PREFIX"
}
