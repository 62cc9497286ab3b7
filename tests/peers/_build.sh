# shellcheck shell=bash
# Shared by the scripts of tests/peers/* (sourced, not run): builds a peer's Java tool with
# Maven into <tool>/target/lib/ on first use and whenever its pom.xml or src/ changed (a hash of
# them is kept in target/lib/.stamp), from Maven Central through the normal ~/.m2 cache, and
# finds the java to run. target/ is git-ignored. One build at a time per tool (flock).
# Expects $prog to be set. Environment:
#   PGCS_MVN       Maven command (default: mvn)
#   PGCS_MVN_ARGS  extra Maven arguments, e.g. "-o" to stay offline
#   PGCS_JAVA      java to run (default: $JAVA_HOME/bin/java, else java on PATH; 17 or newer)

say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

# peers_build DIR [LIBDIR]: makes DIR/target/LIBDIR (default lib) current; sets PEER_LIB and
# PEER_CP (its jars, sorted, so that a class data sharing archive made with them stays valid).
peers_build() {
    local dir=$1 lib want new old mvn
    lib=$dir/target/${2:-lib}
    mkdir -p "$dir/target"
    exec 8>"$dir/target/build.lock"
    flock -w 900 8 || die "another build holds $dir/target/build.lock"
    want=$(
        cd "$dir" &&
            { sha256sum pom.xml; [ ! -d src ] || find src -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; } |
            sha256sum | cut -d' ' -f1
    )
    if [ ! -f "$lib/.stamp" ] || [ "$(cat "$lib/.stamp")" != "$want" ]; then
        mvn=${PGCS_MVN:-mvn}
        command -v "$mvn" >/dev/null || die "$mvn not found (apt-get install maven)"
        command -v java >/dev/null || [ -n "${PGCS_JAVA:-}" ] ||
            die "java not found (apt-get install openjdk-17-jdk-headless)"
        new=$dir/target/lib.new
        rm -rf "$new"
        say "building $(basename "$dir") with Maven into $lib (cache: ~/.m2) ..."
        # shellcheck disable=SC2086  # PGCS_MVN_ARGS is a list of words
        (cd "$dir" && "$mvn" -q -B -Dstyle.color=never ${PGCS_MVN_ARGS:-} -Dpgcs.lib.dir="$new" \
            package dependency:copy-dependencies) 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2 ||
            die "Maven failed (see above); $lib left as it was"
        printf '%s\n' "$want" >"$new/.stamp"
        old=$dir/target/lib.old
        rm -rf "$old" "$dir"/target/*.jsa
        mkdir -p "$(dirname "$lib")"
        [ ! -e "$lib" ] || mv "$lib" "$old"
        mv "$new" "$lib"
        rm -rf "$old"
        say "built: $(find "$lib" -name '*.jar' | wc -l) jars, $(du -sh "$lib" | cut -f1)"
    fi
    exec 8>&-
    PEER_LIB=$lib
    PEER_CP=$(find "$lib" -maxdepth 1 -name '*.jar' | LC_ALL=C sort | paste -sd:)
}

# find_java: sets JAVA (deploy/java.sh).
# shellcheck source=../../deploy/java.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/java.sh"

# peers_jvm_opts DIR NAME: sets JVM_OPTS: a small heap, C1 only, serial GC, and a dynamic
# class data sharing archive DIR/target/NAME.jsa (written at the first run's exit into a file
# of its own, which peers_cds_keep then renames into place; used by the runs after;
# PGCS_PEERS_CDS=0 turns it off). PGCS_PEERS_HEAP overrides the heap (default -Xmx256m).
peers_jvm_opts() {
    local jsa=$1/target/$2.jsa
    CDS_FINAL=$jsa CDS_NEW=
    # shellcheck disable=SC2206  # a list of words
    JVM_OPTS=(${PGCS_PEERS_HEAP:--Xmx256m} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k
        -XX:-UsePerfData -Djava.awt.headless=true)
    if [ "${PGCS_PEERS_CDS:-1}" = 1 ]; then
        if [ -s "$jsa" ]; then
            JVM_OPTS+=("-XX:SharedArchiveFile=$jsa" -Xlog:cds=off -Xlog:cds+dynamic=off)
        else
            CDS_NEW=$jsa.$$.new
            JVM_OPTS+=("-XX:ArchiveClassesAtExit=$CDS_NEW" -Xlog:cds=off -Xlog:cds+dynamic=off)
        fi
    fi
}

# peers_cds_keep: after a run that wrote a new archive, puts it in place.
peers_cds_keep() {
    if [ -n "${CDS_NEW:-}" ]; then
        if [ -s "$CDS_NEW" ]; then mv -f "$CDS_NEW" "$CDS_FINAL"; else rm -f "$CDS_NEW"; fi
    fi
}
