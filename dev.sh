#!/bin/sh
# Set up vcaudit in ./.venv and run it.
#   ./dev.sh demo   set up, then audit the bundled sample capture
#   ./dev.sh test   set up, then run the whole test suite against the installed wheel
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
    install_wheel
}

# Build the wheel from this checkout and install it as a user would (not editable: an
# editable install would hide files missing from the wheel), with the test tools. Rebuilt only
# when something that goes into the wheel changed since the last install.
install_wheel() {
    stamp="$VENV/.installed"
    if [ -f "$stamp" ] && [ -z "$(find auditor pyproject.toml README.md LICENSE \
            -newer "$stamp" 2>/dev/null | head -n 1)" ]; then
        return 0
    fi
    echo "dev.sh: building the vcaudit wheel and installing it into $VENV" >&2
    pip="$VENV/bin/python -m pip --quiet --disable-pip-version-check"
    $pip install --upgrade pip
    wheels=$(mktemp -d)
    rm -rf build  # setuptools would package stale files left in build/
    $pip wheel --no-deps --wheel-dir "$wheels" .
    rm -rf build auditor.egg-info vcaudit.egg-info
    wheel=$(ls "$wheels"/vcaudit-*.whl)
    $pip install "$wheel[test]"
    $pip install --force-reinstall --no-deps "$wheel"
    rm -rf "$wheels"
    touch "$stamp"
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
        # -P and PYTHONSAFEPATH: never import `auditor` from this checkout, in pytest or in
        # the processes tests start, but the installed wheel (tests/conftest.py checks it).
        export PYTHONSAFEPATH=1 VCAUDIT_TEST_INSTALLED=1
        exec "$VENV/bin/python" -P -m pytest "$@"
        ;;
    setup)
        setup
        ;;
    *)
        echo "usage: ./dev.sh demo | test | setup" >&2
        exit 2
        ;;
esac
