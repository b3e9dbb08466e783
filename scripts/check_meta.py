#!/usr/bin/env python3
"""Checks the release metadata against the PGXN meta spec 1.0.0 and against each other.

META.json must be valid JSON with the spec's required keys and formats; its version (a SemVer, as the spec
requires) must be default_version of usage_meter.control (1.5 -> 1.5.0); its abstract the control file's
comment; the top entry of debian/changelog must carry default_version itself; and the PostgreSQL versions of
META.json's prereqs must be those of debian/pgversions. Prints what it checked, or each error; exit status 1
on any error. Python standard library only.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEMVER = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
VERSION_RANGE = re.compile(r"^((==|!=|<=|>=|<|>)\s*)?" + SEMVER + r"(,\s*((==|!=|<=|>=|<|>)\s*)?" + SEMVER + r")*$")
TERM = re.compile(r"^[^/\\\s\x00-\x1f\x7f]{2,}$")
TAG = re.compile(r"^[^/\\\x00-\x1f\x7f]{2,255}$")
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd", "gfdl_1_2", "gfdl_1_3",
    "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
    "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source", "restricted", "unrestricted", "unknown",
}
KEYS = {"name", "version", "abstract", "maintainer", "license", "provides", "meta-spec", "description",
        "generated_by", "tags", "no_index", "prereqs", "release_status", "resources"}
REQUIRED = ["name", "version", "abstract", "maintainer", "license", "provides", "meta-spec"]
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}


def control_value(text, key):
    match = re.search(r"^%s = '(.*)'$" % re.escape(key), text, re.M)
    return match.group(1) if match else None


def semver_of(version):
    """default_version as PGXN writes it: 1.5 -> 1.5.0 (missing parts are zero)."""
    parts = version.split(".")
    return ".".join(parts + ["0"] * (3 - len(parts)))


def check():
    errors = []
    control = (ROOT / "usage_meter.control").read_text()
    default_version, comment = control_value(control, "default_version"), control_value(control, "comment")
    try:
        meta = json.loads((ROOT / "META.json").read_text())
    except ValueError as e:
        return ["META.json is not valid JSON: %s" % e], None
    if not isinstance(meta, dict):
        return ["META.json is not a JSON object"], None

    errors += ["META.json: missing required key %r" % k for k in REQUIRED if k not in meta]
    errors += ["META.json: unknown key %r (the spec's keys or x_...)" % k
               for k in meta if k not in KEYS and not re.match(r"^[xX]_.", k)]
    if meta.get("meta-spec", {}).get("version") != "1.0.0":
        errors.append("META.json: meta-spec.version must be 1.0.0")
    if not TERM.match(str(meta.get("name", ""))):
        errors.append("META.json: name %r is not a term (2+ characters, no slash, backslash or space)" % meta.get("name"))
    expected = semver_of(default_version)
    if meta.get("version") != expected:
        errors.append("META.json: version %r, expected %r (default_version %r in usage_meter.control)"
                      % (meta.get("version"), expected, default_version))
    if meta.get("abstract") != comment:
        errors.append("META.json: abstract differs from the control file's comment")
    maintainer = meta.get("maintainer")
    if not (isinstance(maintainer, str) and maintainer) and not (
            isinstance(maintainer, list) and maintainer and all(isinstance(m, str) and m for m in maintainer)):
        errors.append("META.json: maintainer must be a non-empty string or list of strings")
    license_ = meta.get("license")
    if not (license_ in LICENSES if isinstance(license_, str) else
            isinstance(license_, list) and license_ and all(l in LICENSES for l in license_) or
            isinstance(license_, dict) and license_):
        errors.append("META.json: license %r is not one the spec knows" % (license_,))

    provides = meta.get("provides", {})
    if "usage_meter" not in provides:
        errors.append("META.json: provides has no usage_meter extension")
    for name, extension in provides.items():
        if not TERM.match(name):
            errors.append("META.json: provides key %r is not a term" % name)
        if not isinstance(extension, dict):
            errors.append("META.json: provides.%s is not an object" % name)
            continue
        if extension.get("version") != expected:
            errors.append("META.json: provides.%s.version %r, expected %r" % (name, extension.get("version"), expected))
        for key in ("file", "docfile"):
            if key in extension and not (ROOT / extension[key]).is_file():
                errors.append("META.json: provides.%s.%s %r is not a file of the tree" % (name, key, extension[key]))
        if "file" not in extension:
            errors.append("META.json: provides.%s has no file" % name)
        elif extension["file"].endswith(".control") and (ROOT / extension["file"]).is_file():
            # every extension of the tree is released at the same version
            other = control_value((ROOT / extension["file"]).read_text(), "default_version")
            if other != default_version:
                errors.append("META.json: provides.%s: %s has default_version %r, usage_meter.control %r"
                              % (name, extension["file"], other, default_version))

    prereqs = meta.get("prereqs", {})
    for phase, relations in prereqs.items():
        if phase not in PHASES or not isinstance(relations, dict):
            errors.append("META.json: prereqs.%s is not a phase" % phase)
            continue
        for relation, requirements in relations.items():
            if relation not in RELATIONS or not isinstance(requirements, dict):
                errors.append("META.json: prereqs.%s.%s is not a relationship" % (phase, relation))
                continue
            for prereq, version_range in requirements.items():
                if version_range != 0 and not VERSION_RANGE.match(str(version_range)):
                    errors.append("META.json: prereqs.%s.%s.%s %r is not a version range"
                                  % (phase, relation, prereq, version_range))
    pg_range = prereqs.get("runtime", {}).get("requires", {}).get("PostgreSQL")
    pgversions = (ROOT / "debian/pgversions").read_text().split()
    wanted = ">= %s.0.0, < %d.0.0" % (pgversions[0], int(pgversions[-1]) + 1) if pgversions else None
    if pg_range != wanted:
        errors.append("META.json: prereqs.runtime.requires.PostgreSQL %r, expected %r (debian/pgversions)"
                      % (pg_range, wanted))

    tags = meta.get("tags", ["ok"])
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and TAG.match(t) for t in tags):
        errors.append("META.json: tags must be a non-empty list of 2-255 character strings without slashes")

    # debian/changelog's top entry: "usage-meter (VERSION) DISTRIBUTION; urgency=..."
    top = (ROOT / "debian/changelog").read_text().splitlines()[0]
    match = re.match(r"^\S+ \(([^)]+)\) (\S+);", top)
    if not match or match.group(1) != default_version:
        errors.append("debian/changelog: top entry %r, expected version %r" % (top, default_version))
    elif (match.group(2) == "UNRELEASED") != (meta.get("release_status", "stable") != "stable"):
        errors.append("META.json: release_status %r but debian/changelog's top entry is %s"
                      % (meta.get("release_status", "stable"), match.group(2)))
    return errors, "%s %s = default_version %s = debian/changelog %s, PostgreSQL %s" % (
        meta.get("name"), meta.get("version"), default_version, match.group(1) if match else "?", pg_range)


def main():
    errors, summary = check()
    for error in errors:
        print(error)
    if errors:
        return 1
    print("META.json valid (meta-spec 1.0.0): " + summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
