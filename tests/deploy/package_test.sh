#!/usr/bin/env bash
# The Debian package, as an operator gets it: builds it from BUILD_DIR with CPack (what
# `cmake --build BUILD_DIR --target package` runs, without rebuilding), checks its control
# fields (runtime libraries only: libpq5 and librdkafka1, no PostgreSQL server, JDK or Maven)
# and its files, installs it with dpkg into an empty root of its own (its own dpkg database,
# maintainer scripts run; the machine's dpkg database and /etc are not touched), runs the
# installed `pgchangeset --version` and `check-config` on the installed config, verifies the
# installed units with `systemd-analyze verify`, then removes (config kept) and purges (nothing
# left) the package.
# Usage: tests/deploy/package_test.sh BUILD_DIR VERSION
set -euo pipefail
build=$(realpath "$1")
version=$2
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
for tool in cpack dpkg dpkg-deb systemd-analyze; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (deploy/install-deps.sh)"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Build the package into a directory of its own (the build tree's package is left alone).
start=$SECONDS
cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$work/out/pgchangeset_${version}_amd64.deb
[ -f "$deb" ] || fail "no pgchangeset_${version}_amd64.deb; cpack wrote: $(ls "$work/out")"
echo "built $(basename "$deb") in $((SECONDS - start)) s, $(stat -c %s "$deb") bytes"

# 2. Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = pgchangeset ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), expected $version"
[ "$(field Architecture)" = amd64 ] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
echo "Depends: $depends"
# Package names only: alternatives split, version constraints dropped.
names=$(tr ',|' '\n\n' <<<"$depends" | sed 's/(.*)//; s/:any//; s/[[:space:]]//g' | sed '/^$/d')
for name in $names; do
  case "$name" in
    postgresql*|*openjdk*|*jdk*|*jre*|java*|maven*|libpq-dev|*-dev)
      fail "Depends names $name: a production host needs runtime libraries only" ;;
  esac
done
for needed in libpq5 librdkafka1 libsystemd0 libc6; do
  grep -qx "$needed" <<<"$names" || fail "Depends lacks $needed (the binary links it): $depends"
done

# 3. Files.
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/files"
for path in /usr/bin/pgchangeset /usr/lib/systemd/system/pgchangeset.service \
            /usr/lib/systemd/system/pgchangeset@.service /etc/pgchangeset/pgchangeset.yaml \
            /usr/share/doc/pgchangeset/README.md /usr/share/doc/pgchangeset/docs/CORRECTNESS.md \
            /usr/share/doc/pgchangeset/examples/pgchangeset.yaml; do
  grep -qx "$path" "$work/files" || fail "the package has no $path"
done
if grep -E 'devbroker|^/usr/local' "$work/files"; then
  fail "the package holds the dev broker or files under /usr/local (above)"
fi
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$work/conffiles"
grep -qx /etc/pgchangeset/pgchangeset.yaml "$work/conffiles" ||
  fail "/etc/pgchangeset/pgchangeset.yaml is not a conffile: $(cat "$work/conffiles")"

# 4. Install into an empty root with a dpkg database of its own. The maintainer scripts run
# outside a chroot (the root has no shell) with DPKG_ROOT set, as dpkg --root would give them;
# the libraries in Depends are not in that database, hence --force-depends (they are checked
# for real by running the binary below).
root=$work/root
admin=$root/var/lib/dpkg
mkdir -p "$admin/info" "$admin/updates" "$admin/triggers"
: >"$admin/status"
: >"$admin/available"
asroot=()
[ "$(id -u)" -eq 0 ] || asroot=(fakeroot)
dpkg_() {
  "${asroot[@]}" dpkg --instdir="$root" --admindir="$admin" --log=/dev/null \
    --force-script-chrootless --force-depends --force-not-root "$@" >"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log" >&2; fail "dpkg $*"; }
}
dpkg_ -i "$deb"
status=$(dpkg-query --admindir="$admin" -W -f='${db:Status-Abbrev}' pgchangeset)
[ "${status% }" = ii ] || fail "after dpkg -i the package is '$status', not installed (ii)"
echo "dpkg -i into $root: installed"

# 5. The installed binary runs (every library it links is on this Debian 12 host), and the
# installed config is one check-config accepts.
binary=$root/usr/bin/pgchangeset
if ldd "$binary" | grep 'not found'; then fail "the installed binary misses libraries (above)"; fi
out=$("$binary" --version) || fail "installed pgchangeset --version exited $?"
grep -q "$version" <<<"$out" || fail "installed pgchangeset --version printed '$out', not $version"
echo "installed pgchangeset --version: $out"
"$binary" check-config --config "$root/etc/pgchangeset/pgchangeset.yaml" >"$work/check.log" 2>&1 ||
  { cat "$work/check.log" >&2; fail "check-config refuses the installed /etc/pgchangeset/pgchangeset.yaml"; }

# 6. The installed units. Every command they run exists: in the installed root
# (/usr/bin/pgchangeset) or, for what systemd hosts have anyway (/bin/kill), on this host; the
# README their Documentation= names is installed.
# Then `systemd-analyze verify` (any output is a failure) on copies whose /usr/bin/pgchangeset
# points into the root, as deploy/systemd-verify.sh does (the root has no systemd of its own:
# no sysinit.target, no /bin/kill); the template as an instance, pgchangeset@example.service.
units=$root/usr/lib/systemd/system
grep -q '^ExecStart=/usr/bin/pgchangeset run --config /etc/pgchangeset/pgchangeset.yaml$' \
  "$units/pgchangeset.service" || fail "the installed pgchangeset.service does not run /usr/bin/pgchangeset"
for cmd in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$units"/pgchangeset*.service | sort -u); do
  [ -x "$root$cmd" ] || [ -x "$cmd" ] || fail "the installed units run $cmd, which does not exist"
done
for doc in $(sed -n 's|^Documentation=file://||p' "$units"/pgchangeset*.service | sort -u); do
  [ -f "$root$doc" ] || fail "the installed units' Documentation=file://$doc is not in the package"
done
mkdir "$work/units"
sed "s|/usr/bin/pgchangeset|$binary|g" "$units/pgchangeset.service" >"$work/units/pgchangeset.service"
sed "s|/usr/bin/pgchangeset|$binary|g" "$units/pgchangeset@.service" >"$work/units/pgchangeset@example.service"
for unit in pgchangeset.service pgchangeset@example.service; do
  out=$(cd "$work/units" &&
    SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$work/units/$unit" 2>&1) ||
    fail "systemd-analyze verify of the installed $unit: $out"
  [ -z "$out" ] || fail "systemd-analyze verify of the installed $unit: $out"
  echo "installed $unit: systemd-analyze verify: clean"
done

# 7. Remove keeps an edited config (a conffile); purge leaves nothing behind.
echo "# edited" >>"$root/etc/pgchangeset/pgchangeset.yaml"
dpkg_ -r pgchangeset
[ ! -e "$binary" ] || fail "dpkg -r left $binary"
grep -q '^# edited' "$root/etc/pgchangeset/pgchangeset.yaml" ||
  fail "dpkg -r did not keep the edited /etc/pgchangeset/pgchangeset.yaml"
dpkg_ --purge pgchangeset
left=$(cd "$root" && find . -path ./var/lib/dpkg -prune -o -type f -print)
[ -z "$left" ] || fail "dpkg --purge left: $left"
echo "dpkg -r kept the edited config; dpkg --purge left no file"
