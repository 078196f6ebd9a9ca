# Sourced by scripts/start and scripts/test: a virtualenv with the pinned packages, and the
# front-end packages from npm. Safe to run again; it only installs what is missing.

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3 \
        /root/.pyenv/versions/3.13*/bin/python3 /root/.pyenv/versions/3.12*/bin/python3; do
        [ -n "$candidate" ] || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "JoinedUp needs Python 3.12 or newer; set PYTHON=/path/to/python3.12." >&2
    return 1
}

install_app() {
    local extras="${1:-}"
    if [ ! -x .venv/bin/python ]; then
        "$(find_python)" -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
    fi
    mkdir -p var
    if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check \
        -e ".${extras:+[$extras]}" >var/pip-install.log 2>&1; then
        cat var/pip-install.log >&2
        return 1
    fi
    if [ ! -d node_modules/nhsuk-frontend ] || [ package-lock.json -nt node_modules ]; then
        npm ci --no-audit --no-fund --loglevel=error
    fi
}

# The libraries WeasyPrint draws PDFs with, and gettext for the Welsh catalogue.
SYSTEM_PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 gettext"

# Compile the Welsh catalogue (joinedup/portal/welsh.py) when it changed.
compile_messages() {
    local po=joinedup/locale/cy/LC_MESSAGES/django.po
    if [ ! -f "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then
        msgfmt --check-format -o "${po%.po}.mo" "$po"
    fi
}

# Install the named Debian packages that are missing (needs root, as on CI).
install_debian() {
    local package missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing Debian packages: ${missing[*]}…"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
}
