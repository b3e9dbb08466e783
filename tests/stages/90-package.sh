# Packages: META.json is valid and its version, the control file's default_version and the Debian package's
# version agree; the PGXN archive (make dist) builds into the Debian package with dpkg-buildpackage as Debian
# builds its PostgreSQL extensions; dpkg -i installs it, and a fresh cluster runs the pg_regress and isolation
# suite against the packaged files. The package holds exactly the files make install installs, plus its docs.
# Runs last: it replaces the system install with the package's, then purges the package and re-installs the
# tree's build (also when it fails). Needs root (dpkg). One to two minutes on 2 cores (50 s, 105 s measured); build and suite under timeouts.

UM_PACKAGE=postgresql-15-usage-meter
UM_PACKAGE_PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

package_metadata() {
    python3 "$UM_ROOT/scripts/check_meta.py"
}

package_installed() {
    dpkg-query -W -f='${Status}' "$UM_PACKAGE" 2>/dev/null | grep -q "install ok installed"
}

# package_build DIR VERSION: make dist into DIR, unpack, dpkg-buildpackage there; the .deb lands in DIR.
package_build() {
    local dir=$1 version=$2 archive deb
    make -C "$UM_ROOT" --no-print-directory dist DISTDIR="$dir" >"$dir/dist.log" 2>&1 || { cat "$dir/dist.log"; return 1; }
    archive=$(ls "$dir"/usage_meter-*.tar.gz) && tar -xzf "$archive" -C "$dir" || return 1
    # nocheck: the suite runs below against the installed package instead of at build time (same suite).
    (cd "${archive%.tar.gz}" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" timeout 900 dpkg-buildpackage -us -uc -b) \
        >"$dir/build.log" 2>&1 || { tail -40 "$dir/build.log"; return 1; }
    deb="$dir/${UM_PACKAGE}_${version}_$(dpkg --print-architecture).deb"
    [ -f "$deb" ] || { echo "dpkg-buildpackage wrote no $deb:"; ls "$dir"; return 1; }
    [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] ||
        { echo "package version $(dpkg-deb -f "$deb" Version), default_version $version"; return 1; }
    echo "built $(basename "$deb") from $(basename "$archive")"
}

# package_files DIR: the packaged files are exactly those make install installs; the docs are debian/docs,
# the changelog and the copyright.
package_files() {
    local dir=$1 doc=/usr/share/doc/$UM_PACKAGE
    make -C "$UM_ROOT" --no-print-directory install DESTDIR="$dir/destdir" PG_CONFIG="$UM_PACKAGE_PG_CONFIG" >/dev/null || return 1
    (cd "$dir/destdir" && find . ! -type d | sed 's|^\.||' | sort) >"$dir/make_install.txt"
    dpkg -L "$UM_PACKAGE" | while read -r f; do [ -d "$f" ] || echo "$f"; done | sort >"$dir/dpkg_all.txt"
    grep -v "^$doc/" "$dir/dpkg_all.txt" >"$dir/dpkg.txt"
    diff -u --label "make install" --label "dpkg -L" "$dir/make_install.txt" "$dir/dpkg.txt" || return 1
    { echo copyright; echo changelog; sed 's|.*/||' "$UM_ROOT/debian/docs"; } | sort >"$dir/docs_expected.txt"
    grep "^$doc/" "$dir/dpkg_all.txt" | sed 's|.*/||; s|\.gz$||' | sort >"$dir/docs.txt"
    diff -u --label "expected docs" --label "packaged docs" "$dir/docs_expected.txt" "$dir/docs.txt" || return 1
    echo "$(wc -l <"$dir/dpkg.txt") files as make install installs them, $(wc -l <"$dir/docs.txt") docs"
}

# package_suite VERSION: a fresh cluster (in a subshell: its own variables and exit trap) creates the extension
# from the installed package and runs the regression and isolation suite against it.
package_suite() {
    local version=$1
    (
        um_cluster_start || exit 1
        psql -X -q -At -v ON_ERROR_STOP=1 -d postgres \
             -c "CREATE EXTENSION usage_meter" \
             -c "SELECT 'created from the package: usage_meter ' || extversion FROM pg_extension WHERE extname = 'usage_meter'" \
             >"$UM_CLUSTER_DIR/created.txt" || exit 1
        cat "$UM_CLUSTER_DIR/created.txt"
        um_expect "$UM_CLUSTER_DIR/created.txt" "usage_meter $version\$" || exit 1
        timeout 600 make -C "$UM_ROOT" --no-print-directory installcheck PG_CONFIG="$UM_PACKAGE_PG_CONFIG" \
            >"$UM_CLUSTER_DIR/installcheck.log" 2>&1 ||
            { tail -20 "$UM_CLUSTER_DIR/installcheck.log"
              cat "$UM_ROOT"/build/regress/regression.diffs "$UM_ROOT"/build/isolation/regression.diffs 2>/dev/null | head -200
              exit 1; }
        grep -h "tests passed" "$UM_CLUSTER_DIR/installcheck.log"
    )
}

package_test() {
    local version dir rc=0
    version=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" "$UM_ROOT/usage_meter.control")
    if package_installed; then
        echo "$UM_PACKAGE is installed here; this stage would replace and then remove it. Remove it first: dpkg -r $UM_PACKAGE"
        return 1
    fi
    [ -z "$(git -C "$UM_ROOT" status --porcelain --untracked-files=no)" ] ||
        echo "note: make dist archives HEAD; changes not committed are not in the package"
    dir=$(mktemp -d /tmp/usage_meter_package.XXXXXX)
    if package_build "$dir" "$version"; then
        if DEBIAN_FRONTEND=noninteractive dpkg -i "$dir/${UM_PACKAGE}_${version}_$(dpkg --print-architecture).deb" \
            >"$dir/dpkg.log" 2>&1; then
            # every packaged file on disk is the package's (so the suite below runs against them)
            dpkg -V "$UM_PACKAGE" || rc=1
            package_files "$dir" || rc=1
            package_suite "$version" || rc=1
        else
            cat "$dir/dpkg.log"
            rc=1
        fi
    else
        rc=1
    fi
    # Leave the machine as it was: no package, the tree's build installed (the stages after this one use it).
    if dpkg-query -W "$UM_PACKAGE" >/dev/null 2>&1; then  # installed, or half so
        DEBIAN_FRONTEND=noninteractive dpkg -P "$UM_PACKAGE" >"$dir/purge.log" 2>&1 || { cat "$dir/purge.log"; rc=1; }
    fi
    make -C "$UM_ROOT" --no-print-directory install >/dev/null || rc=1
    rm -rf "$dir"
    return $rc
}

stage "PGXN metadata: META.json valid, same version as the control file and debian/changelog" package_metadata
stage "Debian package: dpkg-buildpackage from make dist, dpkg -i, the suite against it, same files as make install" package_test
