#!/bin/sh
# Set up vcaudit in ./.venv and run it.
#   ./dev.sh demo   set up, then audit the bundled sample capture
#   ./dev.sh test   set up, then run the whole test suite
#   ./dev.sh setup  set up only
# Needs Python >= 3.12 (mitmproxy 12). Looks for one on PATH (python3.13, python3.12,
# python3, ...) and in pyenv's versions; set VCAUDIT_PYTHON=/path/to/python to choose.
set -eu

cd "$(dirname "$0")"
VENV=.venv
MIN_MINOR=12

is_suitable() {
    "$1" -c "import sys, venv; sys.exit(0 if sys.version_info >= (3, $MIN_MINOR) else 1)" \
        >/dev/null 2>&1
}

find_python() {
    for candidate in ${VCAUDIT_PYTHON:-} python3.13 python3.12 python3.14 python3 python; do
        path=$(command -v "$candidate" 2>/dev/null) || continue
        if is_suitable "$path"; then echo "$path"; return 0; fi
    done
    pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
    if command -v pyenv >/dev/null 2>&1; then pyenv_root=$(pyenv root); fi
    for path in $(ls -d "$pyenv_root"/versions/3.*/bin/python3 2>/dev/null | sort -rV); do
        if is_suitable "$path"; then echo "$path"; return 0; fi
    done
    return 1
}

setup() {
    if [ -x "$VENV/bin/python" ] && is_suitable "$VENV/bin/python"; then
        :
    else
        python=$(find_python) || {
            echo "dev.sh: no Python >= 3.$MIN_MINOR found; install one (e.g. python3.13)" \
                 "or set VCAUDIT_PYTHON" >&2
            exit 1
        }
        echo "dev.sh: creating $VENV with $python" >&2
        rm -rf "$VENV"
        "$python" -m venv "$VENV"
    fi
    stamp="$VENV/.installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "dev.sh: installing vcaudit and its test tools into $VENV" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"
        touch "$stamp"
    fi
}

case "${1:-}" in
    demo)
        setup
        shift
        exec "$VENV/bin/vcaudit" analyze captures/zoom-desktop-call.pcapng "$@"
        ;;
    test)
        setup
        shift
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    setup)
        setup
        ;;
    *)
        echo "usage: ./dev.sh demo | test | setup" >&2
        exit 2
        ;;
esac
